//! Connection state recovery, in Socket.IO's wire format: a client that lost its connection
//! comes back with its private id (`pid`) and the offset of the last event it received, and
//! gets its socket id, rooms and extensions back, plus every event it missed meanwhile.
//!
//! Each event sent while recovery is on carries its offset as a last, extra argument (as
//! Socket.IO does); the namespace keeps the encoded events for `max_disconnection` (at most
//! 32 MiB of them) so a returning client can be given those after its offset. Only the sockets
//! that left because their connection failed are kept for recovery, for `max_disconnection`.
//!
//! "The events after its offset" are exactly the ones a client missed only if every socket
//! receives kept events in the order of the log. Emits run on many threads at once, so an
//! event is stamped, kept and queued to its recipients under the log's lock, and a returning
//! socket is given its missed events and registered again under that same lock.
//!
//! In a cluster whose adapter sequences events (Redis), offsets are the cluster's stream ids
//! (`ms-seq`, see [`Offset`]) and no node stamps an event itself: every node, the sender's
//! included, reads the events from the stream in its order and hands each to
//! [`Recovery::keep_and_send_at`], which stamps, keeps and queues it under the same lock (and
//! skips an id not past the last one, so a stream read again delivers nothing twice). So every
//! client of every node receives the namespace's kept events in the one stream order, and "the
//! events after its offset" means the same on any node. A client that comes back to another
//! node gets its socket's session from the cluster and the events after its offset read back
//! from the stream, up to what that node's reader had applied, then the rest from this log,
//! all under the lock ([`Recovery::restore_fetched`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferrio_protocol::engine::Frame;

use crate::ack::PendingAcks;
use crate::adapter::{BroadcastOptions, Room};
use crate::engine::lock::lock;
use crate::engine::Sid;
use crate::namespace::ChildLease;
use crate::recent_calls::RecentCalls;

/// Where an event stands in its namespace's log: `(0, n)` for the `n`th event of a single
/// node (written `n`), the stream id `ms-seq` of an event a cluster sequenced (written so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Offset(pub(crate) u64, pub(crate) u64);

impl Offset {
    /// Reads an offset as a client sends it back; `None` when it is not one.
    pub(crate) fn parse(s: &str) -> Option<Offset> {
        match s.split_once('-') {
            Some((ms, seq)) => Some(Offset(ms.parse().ok()?, seq.parse().ok()?)),
            None => Some(Offset(0, s.parse().ok()?)),
        }
    }
}

impl std::fmt::Display for Offset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == 0 {
            write!(f, "{}", self.1)
        } else {
            write!(f, "{}-{}", self.0, self.1)
        }
    }
}

/// An event as it was sent: who it was for, and its encoded frames.
pub(crate) struct Logged {
    pub(crate) offset: Offset,
    at: Instant,
    pub(crate) opts: BroadcastOptions,
    pub(crate) frames: Arc<[Frame]>,
}

/// A socket that left because its connection failed, kept for its client's return.
#[derive(Debug)]
pub(crate) struct Saved {
    pub(crate) sid: Sid,
    /// The private id, kept: a client knows it recovered when the same one comes back.
    pub(crate) pid: Sid,
    pub(crate) rooms: Vec<Room>,
    pub(crate) extensions: http::Extensions,
    /// The acknowledgements the server still waits for: the emits that asked for them are
    /// replayed with the same ids, and the answers reach the original waiters.
    pub(crate) acks: Arc<PendingAcks>,
    /// The client's recent calls, so its retries across the reconnect still run once.
    pub(crate) recent: Arc<Mutex<RecentCalls>>,
    at: Instant,
    /// Keeps the socket's dynamic child namespace while the socket may come back.
    _child: Option<ChildLease>,
}

impl Saved {
    pub(crate) fn new(sid: Sid, pid: Sid, rooms: Vec<Room>, extensions: http::Extensions) -> Self {
        Saved {
            sid,
            pid,
            rooms,
            extensions,
            acks: Arc::default(),
            recent: Arc::default(),
            at: Instant::now(),
            _child: None,
        }
    }

    /// The same, with the socket's pending acknowledgements and recent calls.
    pub(crate) fn with_calls(
        self,
        acks: Arc<PendingAcks>,
        recent: Arc<Mutex<RecentCalls>>,
    ) -> Self {
        Saved { acks, recent, ..self }
    }

    /// The same, keeping its dynamic child namespace with `lease` until recovered or expired.
    pub(crate) fn holding(self, lease: Option<ChildLease>) -> Self {
        Saved { _child: lease, ..self }
    }

    /// Whether an event sent to `opts` reached (or would have reached) this socket.
    pub(crate) fn selected_by(&self, opts: &BroadcastOptions) -> bool {
        let member = |room: &Room| &**room == self.sid.as_str() || self.rooms.contains(room);
        opts.except_socket.as_ref() != Some(&self.sid)
            && (opts.rooms.is_empty() || opts.rooms.iter().any(member))
            && !opts.except.iter().any(member)
    }
}

/// Most bytes of events a namespace keeps for recovery; older ones are dropped first (a client
/// whose offset was dropped gets a fresh socket instead of a recovered one).
const LOG_MAX_BYTES: usize = 32 << 20;

fn frames_len(frames: &[Frame]) -> usize {
    frames.iter().map(Frame::len).sum()
}

/// The events kept for recovery, oldest first, their size, and the next offset.
struct Log {
    events: VecDeque<Logged>,
    bytes: usize,
    next_offset: u64,
    /// The last offset kept.
    last: Option<Offset>,
}

/// The sockets kept for recovery by private id, and their ids in the order they were kept
/// (with when), so expired ones are forgotten oldest first without a scan of them all.
#[derive(Default)]
struct SavedSockets {
    by_pid: HashMap<String, Saved>,
    order: VecDeque<(Instant, Sid)>,
}

impl SavedSockets {
    /// Forgets the sockets kept longer than `max` before `now`; returns them, to be dropped
    /// outside the lock (they may hold a [`ChildLease`]).
    #[must_use = "drop the expired sockets outside the lock"]
    fn expire(&mut self, now: Instant, max: Duration) -> Vec<Saved> {
        let mut expired = Vec::new();
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) <= max {
                break;
            }
            if let Some((at, pid)) = self.order.pop_front() {
                // A socket recovered and then saved again is kept under the same pid, newer.
                if self.by_pid.get(pid.as_str()).is_some_and(|s| s.at == at) {
                    expired.extend(self.by_pid.remove(pid.as_str()));
                }
            }
        }
        expired
    }
}

/// The recovery state of one namespace.
pub(crate) struct Recovery {
    max_disconnection: Duration,
    max_log_bytes: usize,
    log: Mutex<Log>,
    saved: Mutex<SavedSockets>,
    /// The connected sockets by private id, for a client that comes back before its old
    /// session was noticed dead.
    live: Mutex<HashMap<String, Sid>>,
}

impl std::fmt::Debug for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recovery")
            .field("max_disconnection", &self.max_disconnection)
            .finish_non_exhaustive()
    }
}

impl Recovery {
    pub(crate) fn new(max_disconnection: Duration) -> Self {
        Recovery {
            max_disconnection,
            max_log_bytes: LOG_MAX_BYTES,
            log: Mutex::new(Log { events: VecDeque::new(), bytes: 0, next_offset: 1, last: None }),
            saved: Mutex::new(SavedSockets::default()),
            live: Mutex::new(HashMap::new()),
        }
    }

    /// Records that the connected socket `sid` holds private id `pid`.
    pub(crate) fn track_live(&self, pid: &Sid, sid: &Sid) {
        lock(&self.live).insert(pid.as_str().to_owned(), sid.clone());
    }

    /// Forgets that a socket holding `pid` is connected.
    pub(crate) fn untrack_live(&self, pid: &Sid) {
        lock(&self.live).remove(pid.as_str());
    }

    /// The connected socket holding `pid`, if there is one.
    pub(crate) fn live_socket(&self, pid: &str) -> Option<Sid> {
        lock(&self.live).get(pid).cloned()
    }

    /// Gives the next event its offset, has `encode` make it (a packet and its frames), keeps
    /// the frames for clients that may come back (forgetting expired events) and hands both to
    /// `send` to queue for the recipients `opts` selects, all under the log's lock (see the
    /// module docs).
    pub(crate) fn keep_and_send<P, R>(
        &self,
        opts: &BroadcastOptions,
        encode: impl FnOnce(Offset) -> (P, Vec<Frame>),
        send: impl FnOnce(&P, &[Frame]) -> R,
    ) -> R {
        let mut log = lock(&self.log);
        let offset = Offset(0, log.next_offset);
        log.next_offset += 1;
        let (packet, frames) = encode(offset);
        let frames: Arc<[Frame]> = frames.into();
        let sent = send(&packet, &frames);
        self.append(&mut log, offset, opts, frames);
        sent
    }

    /// Keeps and sends, under the log's lock, an event a cluster sequenced at `offset`, the
    /// frames already stamped with it. An offset not past the last one kept was delivered
    /// already (a stream read again after a reconnect): it is skipped, so each event reaches
    /// a socket once.
    pub(crate) fn keep_and_send_at(
        &self,
        offset: Offset,
        opts: &BroadcastOptions,
        frames: Vec<Frame>,
        send: impl FnOnce(&[Frame]),
    ) {
        let mut log = lock(&self.log);
        if log.last.is_some_and(|last| offset <= last) {
            return;
        }
        let frames: Arc<[Frame]> = frames.into();
        send(&frames);
        self.append(&mut log, offset, opts, frames);
    }

    fn append(&self, log: &mut Log, offset: Offset, opts: &BroadcastOptions, frames: Arc<[Frame]>) {
        let now = Instant::now();
        log.last = Some(offset);
        log.bytes += frames_len(&frames);
        log.events.push_back(Logged { offset, at: now, opts: opts.clone(), frames });
        while let Some(oldest) = log.events.front() {
            if now.duration_since(oldest.at) <= self.max_disconnection
                && log.bytes <= self.max_log_bytes
            {
                break;
            }
            let size = frames_len(&oldest.frames);
            log.bytes -= size;
            log.events.pop_front();
        }
    }

    /// How long a socket is kept for its client's return.
    pub(crate) fn max_disconnection(&self) -> Duration {
        self.max_disconnection
    }

    /// Keeps a socket whose connection failed, under its private id.
    pub(crate) fn save(&self, saved: Saved) {
        let expired = {
            let mut all = lock(&self.saved);
            let expired = all.expire(saved.at, self.max_disconnection);
            all.order.push_back((saved.at, saved.pid.clone()));
            all.by_pid.insert(saved.pid.as_str().to_owned(), saved);
            expired
        };
        drop(expired);
    }

    /// Whether a socket is kept under `pid`.
    #[cfg(feature = "redis")]
    pub(crate) fn is_saved(&self, pid: &str) -> bool {
        lock(&self.saved).by_pid.contains_key(pid)
    }

    /// Forgets the sockets kept longer than the recovery window.
    pub(crate) fn expire(&self) {
        let expired = lock(&self.saved).expire(Instant::now(), self.max_disconnection);
        drop(expired);
    }

    /// Takes back the socket saved under `pid` and hands it to `admit` with the events it
    /// missed after `offset`, under the log's lock: an event sent meanwhile waits for `admit`
    /// to register the socket again, so it is neither missed nor sent twice. `None` when the
    /// socket expired or is unknown, or the events after `offset` are no longer all known.
    pub(crate) fn restore<R>(
        &self,
        pid: &str,
        offset: &str,
        admit: impl FnOnce(Saved, Vec<Arc<[Frame]>>) -> R,
    ) -> Option<R> {
        let (saved, expired) = {
            let mut all = lock(&self.saved);
            let expired = all.expire(Instant::now(), self.max_disconnection);
            (all.by_pid.remove(pid), expired)
        };
        drop(expired);
        let saved = saved?;
        let offset = Offset::parse(offset)?;
        let log = lock(&self.log);
        // The offset must still be in the log, or older events may have been dropped. Offsets
        // are given under the lock in log order, so the log is sorted by them.
        let start = log.events.binary_search_by_key(&offset, |e| e.offset).ok()?;
        let missed = log
            .events
            .iter()
            .skip(start + 1)
            .filter(|e| saved.selected_by(&e.opts))
            .map(|e| e.frames.clone())
            .collect();
        Some(admit(saved, missed))
    }
}

impl Recovery {
    /// Restores `saved`, a socket whose session a cluster kept (its node died, say), with the
    /// events `fetched` from the cluster after the client's offset, then those this node's
    /// log holds after the last of them (the cluster's reader may have passed it meanwhile),
    /// and hands it to `admit` under the log's lock, as [`restore`](Self::restore) does.
    pub(crate) fn restore_fetched<R>(
        &self,
        saved: Saved,
        after: Offset,
        fetched: Vec<(Offset, BroadcastOptions, Arc<[Frame]>)>,
        admit: impl FnOnce(Saved, Vec<Arc<[Frame]>>) -> R,
    ) -> R {
        let last = fetched.last().map_or(after, |(o, _, _)| (*o).max(after));
        let log = lock(&self.log);
        let mut missed: Vec<Arc<[Frame]>> = fetched
            .into_iter()
            .filter(|(_, opts, _)| saved.selected_by(opts))
            .map(|(_, _, frames)| frames)
            .collect();
        missed.extend(
            log.events
                .iter()
                .filter(|e| e.offset > last && saved.selected_by(&e.opts))
                .map(|e| e.frames.clone()),
        );
        admit(saved, missed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrio_protocol::Str;

    fn frame(s: &'static str) -> Vec<Frame> {
        vec![Frame::Text(Str::from_static(s))]
    }

    /// Keeps the one-frame event `text` for `opts`; returns its offset.
    fn keep(r: &Recovery, opts: &BroadcastOptions, text: &'static str) -> Offset {
        let mut offset = Offset(0, 0);
        r.keep_and_send(
            opts,
            |o| {
                offset = o;
                ((), frame(text))
            },
            |_, _| (),
        );
        offset
    }

    #[test]
    fn restores_only_what_the_socket_missed_and_was_meant_to_get() {
        let r = Recovery::new(Duration::from_secs(60));
        let sid = Sid::random();
        let all = BroadcastOptions::default();
        let other_room =
            BroadcastOptions { rooms: vec![Room::from("other")], ..Default::default() };
        let mine = BroadcastOptions { rooms: vec![Room::from("mine")], ..Default::default() };
        let o1 = keep(&r, &all, "a");
        keep(&r, &other_room, "b");
        keep(&r, &mine, "c");
        let pid = Sid::random();
        r.save(Saved::new(
            sid.clone(),
            pid.clone(),
            vec![Room::from("mine")],
            http::Extensions::new(),
        ));
        let (saved, missed) =
            r.restore(pid.as_str(), &o1.to_string(), |s, m| (s, m)).expect("restorable");
        assert_eq!(saved.sid, sid);
        assert_eq!(missed.len(), 1);
        assert_eq!(&*missed[0], &frame("c")[..]);
        assert!(
            r.restore(pid.as_str(), &o1.to_string(), |_, _| ()).is_none(),
            "a pid is used once"
        );
    }

    #[test]
    fn the_log_drops_its_oldest_events_past_its_byte_bound() {
        let mut r = Recovery::new(Duration::from_secs(60));
        r.max_log_bytes = 2;
        let pid = Sid::random();
        r.save(Saved::new(Sid::random(), pid.clone(), vec![], http::Extensions::new()));
        let first = keep(&r, &BroadcastOptions::default(), "a");
        for _ in 0..2 {
            keep(&r, &BroadcastOptions::default(), "b");
        }
        assert_eq!(lock(&r.log).bytes, 2);
        // The first event is gone: what came after it can no longer be vouched for.
        assert!(r.restore(pid.as_str(), &first.to_string(), |_, _| ()).is_none());
    }

    #[test]
    fn an_unknown_offset_is_not_restorable() {
        let r = Recovery::new(Duration::from_secs(60));
        let pid = Sid::random();
        r.save(Saved::new(Sid::random(), pid.clone(), vec![], http::Extensions::new()));
        assert!(r.restore(pid.as_str(), "999", |_, _| ()).is_none());
    }

    #[test]
    fn expired_sockets_are_forgotten_but_not_a_newer_save_under_the_same_pid() {
        let r = Recovery::new(Duration::from_secs(10));
        let now = Instant::now();
        let saved_at = |pid: &Sid, at: Instant| Saved {
            at,
            ..Saved::new(Sid::random(), pid.clone(), vec![], http::Extensions::new())
        };
        let earlier = now.checked_sub(Duration::from_secs(9)).expect("an instant 9 s ago");
        let (gone, back, later) = (Sid::random(), Sid::random(), Sid::random());
        r.save(saved_at(&gone, earlier));
        r.save(saved_at(&back, earlier));
        // `back` was recovered and dropped again: saved anew under the same pid.
        lock(&r.saved).by_pid.remove(back.as_str());
        r.save(saved_at(&back, now));
        // 14 s after the first two saves: `gone` and the stale entry of `back` expire.
        r.save(saved_at(&later, now + Duration::from_secs(5)));
        let all = lock(&r.saved);
        assert!(!all.by_pid.contains_key(gone.as_str()));
        assert!(all.by_pid.contains_key(back.as_str()), "the newer save is kept");
        assert!(all.by_pid.contains_key(later.as_str()));
        assert_eq!(all.order.len(), 2);
    }
}
