//! One Engine.IO session: its outbound queue, its transport, its heartbeat and upgrade, and the
//! rules every transport applies to what a client sends.
//!
//! The state is private: transports change it only through the transitions below (attach a
//! receiver, accept a POST, begin, probe, complete or abandon an upgrade, take frames), which
//! check the rules and wake whoever waits on the session. The decisions are sync and take the
//! time as an argument where it matters, so they are unit-tested without sockets.

mod heartbeat;
pub(crate) mod queue;
mod upgrade;

use std::any::Any;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use ferrio_protocol::engine::{Frame, OpenPacket, Packet};
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use super::lock::lock;
use super::revision::Revision;
use super::shared::Shared;
use super::slots::Slot;
use super::{
    CloseReason, EngineConfig, EngineSocket, HandshakeRequest, Message, QueueError, Sid,
    TransportKind,
};
use heartbeat::{Heartbeat, HeartbeatAction};
use queue::{Numbered, OutboundQueue};
use upgrade::Upgrade;

/// Mutable state of a session, behind a short-lived `std` mutex never held across `.await`.
#[derive(Debug)]
struct State {
    queue: OutboundQueue,
    transport: TransportKind,
    upgrade: Upgrade,
    heartbeat: Heartbeat,
    closed: Option<CloseReason>,
    /// The generation of the polling GET attached, if one is: a GET that takes over from one the
    /// client gave up on gets a newer one, and the older ends.
    poll_attached: Option<u64>,
    /// A POST is being read.
    post_active: bool,
    /// The generation of the stream attached, if one is (one at a time: a second is refused
    /// while it lives, unless it takes over with `lastEventId`).
    stream_attached: Option<u64>,
    /// Incremented by each receiver (poll or stream) that attaches.
    generation: u64,
    /// The sequence number of the ping in flight to an HTTP transport: the pong that answers it
    /// confirms every frame up to it.
    ping_seq: Option<u64>,
    /// The session's place in the engine's bound on sessions, given back when it is forgotten.
    slot: Option<Slot>,
}

pub(crate) struct Session {
    pub(crate) sid: Sid,
    /// The Engine.IO revision the client speaks.
    pub(crate) revision: Revision,
    pub(crate) shared: Arc<Shared>,
    pub(crate) handshake: HandshakeRequest,
    state: Mutex<State>,
    /// Signalled when frames are queued or the session closes or changes transport.
    wake: Notify,
    /// Signalled once, when the session closes.
    closed: Notify,
    /// Signalled when the queue overflowed and `close_on_queue_full` is set: the heartbeat
    /// task closes the session (not the sender, which may hold locks a disconnect handler
    /// needs, or run outside the runtime).
    overflowed: Notify,
    pub(crate) data: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("sid", &self.sid).finish_non_exhaustive()
    }
}

/// What a receiver (a polling GET, a stream) attached to the session is, for the decisions of
/// [`Session::poll_receive`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Receiver {
    transport: TransportKind,
    /// Which attachment this is; it ends once another receiver took its place.
    generation: u64,
    /// Attached while the probe was already answered: it takes what is queued once, or waits
    /// a little before its noop, so an old client that keeps polling does not spin.
    arrived_during_upgrade: bool,
}

/// The next thing a receiver does.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReceiveStep {
    /// Send these queued frames (at most `max_bytes` once framed, at least one), numbered. A
    /// close packet among them ends the session.
    Frames(Numbered),
    /// Nothing more for this receiver: send this last frame (a noop or a close) and end.
    End(Frame),
    /// Wait for a wake-up, then ask again.
    Wait,
    /// Wait for a wake-up at most [`UPGRADE_NOOP_DELAY`], then end with a noop.
    WaitThenNoop,
}

/// How long a receiver that arrives during an upgrade waits before it is answered with a noop.
pub(crate) const UPGRADE_NOOP_DELAY: Duration = Duration::from_millis(100);

/// Detaches a polling GET when its request ends, however it ends (a client that goes away
/// drops the future).
#[derive(Debug)]
pub(crate) struct PollGuard<'a> {
    session: &'a Session,
    pub(crate) receiver: Receiver,
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.session.lock();
        if state.poll_attached == Some(self.receiver.generation) {
            state.poll_attached = None;
        }
    }
}

/// Detaches a stream when its writer ends, however it ends; owned by the writer's task.
#[derive(Debug)]
pub(crate) struct StreamGuard {
    pub(crate) session: Arc<Session>,
    pub(crate) receiver: Receiver,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut state = self.session.lock();
        if state.stream_attached == Some(self.receiver.generation) {
            state.stream_attached = None;
        }
    }
}

/// Why a receiver cannot attach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttachRefused {
    /// Another one is attached, and this request does not say what it received (overlapping
    /// polls close the session, as in Engine.IO; a second stream is refused).
    Busy,
    /// The request claims to have received frames the session never handed out.
    BadConfirmation,
}

/// Marks the end of a POST, however its request ends.
#[derive(Debug)]
pub(crate) struct PostGuard<'a> {
    session: &'a Session,
}

impl Drop for PostGuard<'_> {
    fn drop(&mut self) {
        self.session.lock().post_active = false;
    }
}

/// Why a websocket may not take over a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpgradeRefused {
    /// The session is closed, or websocket is disabled.
    NotUpgradable,
    /// The session runs on websocket already.
    Upgraded,
    /// Another websocket is upgrading this session.
    Busy,
}

impl Session {
    /// A session on `transport` with its open packet queued, not yet registered or running.
    pub(crate) fn new(
        shared: &Arc<Shared>,
        transport: TransportKind,
        handshake: HandshakeRequest,
        (slot, revision): (Slot, Revision),
    ) -> Arc<Session> {
        let config = &shared.config;
        let sid = match &config.directory {
            Some(directory) => Sid::random_tagged(directory.node_tag()),
            None => Sid::random(),
        };
        let upgrades = if transport != TransportKind::WebSocket && config.websocket {
            vec![TransportKind::WebSocket.as_str().to_owned()]
        } else {
            Vec::new()
        };
        let open = Packet::Open(OpenPacket {
            sid: sid.as_str().to_owned(),
            upgrades,
            ping_interval: millis(config.ping_interval),
            ping_timeout: millis(config.ping_timeout),
            max_payload: config.max_payload as u64,
        });
        let mut queue = OutboundQueue::new(config.queue_max_packets, config.queue_max_bytes);
        queue.push_control(open.encode());
        Arc::new(Session {
            sid,
            revision,
            shared: shared.clone(),
            handshake,
            state: Mutex::new(State {
                queue,
                transport,
                upgrade: Upgrade::idle(),
                heartbeat: match revision {
                    Revision::V4 => {
                        Heartbeat::new(Instant::now(), config.ping_interval, config.ping_timeout)
                    }
                    Revision::V3 { .. } => Heartbeat::client_driven(
                        Instant::now(),
                        config.ping_interval,
                        config.ping_timeout,
                    ),
                },
                closed: None,
                poll_attached: None,
                post_active: false,
                stream_attached: None,
                generation: 0,
                ping_seq: None,
                slot: Some(slot),
            }),
            wake: Notify::new(),
            closed: Notify::new(),
            overflowed: Notify::new(),
            data: OnceLock::new(),
        })
    }

    /// Creates a session on `transport`, registers it, starts its heartbeat and tells the
    /// handler.
    pub(crate) fn open(
        shared: &Arc<Shared>,
        transport: TransportKind,
        handshake: HandshakeRequest,
        slot: (Slot, Revision),
    ) -> Arc<Session> {
        let session = Session::new(shared, transport, handshake, slot);
        shared.sessions.insert(session.sid.clone(), session.clone());
        tokio::spawn(drive_heartbeat(session.clone()));
        shared.handler.on_connect(EngineSocket(session.clone()));
        session
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(crate) fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// A future that completes at the session's next wake-up (frames queued, closed, transport
    /// or upgrade changed). Create it, then check the state, then await it: wake-ups use
    /// `notify_waiters`, which reaches every future created before it, polled or not, so one
    /// between the check and the await is not missed.
    pub(crate) fn changed(&self) -> Notified<'_> {
        self.wake.notified()
    }

    /// A future that completes when the session closes (created before checking, as
    /// [`changed`](Self::changed)).
    pub(crate) fn closed(&self) -> Notified<'_> {
        self.closed.notified()
    }

    /// Completes once the session is closed (at once if it is).
    pub(crate) async fn until_closed(&self) {
        let closed = self.closed();
        if !self.is_closed() {
            closed.await;
        }
    }

    /// The transport the session runs on.
    pub(crate) fn transport(&self) -> TransportKind {
        self.lock().transport
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed.is_some()
    }

    /// Whether nothing waits in the outbound queue.
    pub(crate) fn is_idle(&self) -> bool {
        self.lock().queue.is_empty()
    }

    // ===== sending =====

    /// Queues `frames` as one unit and wakes the transport. A full queue closes the session
    /// when `close_on_queue_full` is set.
    pub(crate) fn send_frames<I>(&self, frames: I) -> Result<(), QueueError>
    where
        I: ExactSizeIterator<Item = Frame> + Clone,
    {
        let sent = self.try_send_frames(frames);
        if sent == Err(QueueError::Full) && self.shared.config.close_on_queue_full {
            self.overflowed.notify_one();
        }
        sent
    }

    /// Queues `frames` as one unit and wakes the transport; a full queue only fails the call.
    pub(crate) fn try_send_frames<I>(&self, frames: I) -> Result<(), QueueError>
    where
        I: ExactSizeIterator<Item = Frame> + Clone,
    {
        {
            let mut state = self.lock();
            if state.closed.is_some() {
                return Err(QueueError::Closed);
            }
            state.queue.push_all(frames)?;
        }
        self.wake.notify_waiters();
        Ok(())
    }

    /// Everything queued, for a websocket that writes it all at once, and whether the session
    /// closed (after those frames, the websocket closes too).
    pub(crate) fn take_all(&self) -> (VecDeque<Frame>, bool) {
        let mut state = self.lock();
        (state.queue.take_all(), state.closed.is_some())
    }

    /// Records that the pending heartbeat ping was handed to the client's transport.
    pub(crate) fn ping_delivered(&self) {
        self.lock().heartbeat.on_ping_delivered();
    }

    /// How long a write to the client, or the read of a request body, may take: a client that
    /// has not taken a write (or sent its body) within this time has also failed to answer a
    /// ping, and its session is over.
    pub(crate) fn transfer_deadline(&self) -> Duration {
        let config = self.config();
        config.ping_interval + config.ping_timeout
    }

    // ===== closing =====

    /// Closes the session once: answers a pending poll with a close packet, unregisters it and
    /// tells the handler.
    pub(crate) fn close(self: &Arc<Self>, reason: CloseReason) {
        let linger = {
            let mut state = self.lock();
            if state.closed.is_some() {
                return;
            }
            state.closed = Some(reason);
            if state.transport != TransportKind::WebSocket {
                // Engine.IO ends a pending poll with a noop before the close packet when either
                // side closes on purpose; official clients rely on neither, but match it.
                if matches!(reason, CloseReason::ServerClose | CloseReason::ClientClose) {
                    state.queue.push_control(Packet::Noop.encode());
                }
                // A client that closed knows; its pending poll gets the noop alone.
                if reason != CloseReason::ClientClose {
                    state.queue.push_control(Packet::Close.encode());
                }
            }
            // When the server closes an HTTP-transport session between two polls (or while
            // its stream is detached), the close packet waits for the client's next request,
            // so the client learns "transport close" rather than an unknown session.
            reason == CloseReason::ServerClose
                && state.transport != TransportKind::WebSocket
                && (state.poll_attached.is_none() || state.transport == TransportKind::Streaming)
        };
        if linger {
            let session = self.clone();
            let grace =
                self.shared.config.ping_timeout.clamp(Duration::from_millis(100), CLOSE_GRACE);
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                session.forget();
            });
        } else {
            self.forget();
        }
        self.wake.notify_waiters();
        self.closed.notify_waiters();
        self.shared.handler.on_disconnect(&EngineSocket(self.clone()), reason);
    }

    /// A closed session lingers only until its last packets are fetched: forgets it once its
    /// queue is drained.
    pub(crate) fn forget_if_drained(self: &Arc<Self>) {
        let drained = {
            let state = self.lock();
            state.closed.is_some() && state.queue.is_empty()
        };
        if drained {
            self.forget();
        }
    }

    /// Removes the session from the engine's map (if this session is still the one there), and
    /// gives its slot back.
    fn forget(self: &Arc<Self>) {
        self.shared.sessions.remove_if(self.sid.as_str(), |_, s| Arc::ptr_eq(s, self));
        let slot = self.lock().slot.take();
        drop(slot);
    }

    // ===== receivers: polling GETs and streams =====

    /// Attaches a polling GET. `received` is what the client says it got (`lastEventId`, sent
    /// by ferrio's client): frames after it that were handed out are sent again, and a GET the
    /// server still thinks attached is taken over (it was lost with its connection). Without
    /// it, a GET while another is attached is refused: the caller closes the session, as
    /// Engine.IO does with overlapping polls.
    pub(crate) fn attach_poll(
        &self,
        received: Option<u64>,
    ) -> Result<PollGuard<'_>, AttachRefused> {
        let mut state = self.lock();
        if state.poll_attached.is_some() && received.is_none() {
            return Err(AttachRefused::Busy);
        }
        let receiver = self.attach(&mut state, TransportKind::Polling, received)?;
        state.poll_attached = Some(receiver.generation);
        drop(state);
        // A poll taken over sees the newer generation and ends.
        self.wake.notify_waiters();
        Ok(PollGuard { session: self, receiver })
    }

    /// Attaches a stream. As [`attach_poll`](Self::attach_poll), a stream that says what it
    /// received takes over from one still attached; one that does not is refused while another
    /// lives (it can neither take its place nor alternate with it).
    pub(crate) fn attach_stream(
        self: &Arc<Self>,
        received: Option<u64>,
    ) -> Result<StreamGuard, AttachRefused> {
        let mut state = self.lock();
        if state.stream_attached.is_some() && received.is_none() {
            return Err(AttachRefused::Busy);
        }
        let receiver = self.attach(&mut state, TransportKind::Streaming, received)?;
        state.stream_attached = Some(receiver.generation);
        drop(state);
        self.wake.notify_waiters();
        Ok(StreamGuard { session: self.clone(), receiver })
    }

    /// The common part of attaching: resumes after what the client `received` and gives the
    /// receiver its generation.
    fn attach(
        &self,
        state: &mut State,
        transport: TransportKind,
        received: Option<u64>,
    ) -> Result<Receiver, AttachRefused> {
        if let Some(received) = received {
            state.queue.retain();
            state.queue.resume_after(received).map_err(|_| AttachRefused::BadConfirmation)?;
        }
        state.generation += 1;
        Ok(Receiver {
            transport,
            generation: state.generation,
            arrived_during_upgrade: state.upgrade.is_probed(),
        })
    }

    /// What `receiver` does next, taking at most `max_bytes` of frames (once framed).
    pub(crate) fn poll_receive(&self, receiver: &mut Receiver, max_bytes: usize) -> ReceiveStep {
        let mut state = self.lock();
        let during_upgrade = std::mem::take(&mut receiver.arrived_during_upgrade);
        // Checked before the queue: after an upgrade the frames belong to the websocket, and
        // after a takeover to the newer receiver.
        let attached = match receiver.transport {
            TransportKind::Polling => state.poll_attached,
            _ => state.stream_attached,
        };
        if state.transport != receiver.transport || attached != Some(receiver.generation) {
            return ReceiveStep::End(Packet::Noop.encode());
        }
        let probed = state.upgrade.is_probed();
        // A stream would keep delivering while traffic flows and never let the client pause:
        // once the probe is answered it ends, and what is queued waits for the websocket (or,
        // if the upgrade fails, for the next stream). A stream attached during the probe takes
        // what is queued once (pings included, so the session lives on if the upgrade is
        // abandoned), then ends.
        if receiver.transport == TransportKind::Streaming && probed {
            if during_upgrade && !state.queue.is_empty() {
                return ReceiveStep::Frames(take(&mut state, max_bytes));
            }
            return ReceiveStep::End(Packet::Noop.encode());
        }
        if !state.queue.is_empty() {
            return ReceiveStep::Frames(take(&mut state, max_bytes));
        }
        if state.closed.is_some() {
            return ReceiveStep::End(Packet::Close.encode());
        }
        match (probed, during_upgrade) {
            // The probe succeeded: answer so the client can pause this transport.
            (true, false) => ReceiveStep::End(Packet::Noop.encode()),
            (true, true) => {
                // Keep the flag for the next call: this receiver still waits as one that came
                // during the upgrade.
                receiver.arrived_during_upgrade = true;
                ReceiveStep::WaitThenNoop
            }
            (false, _) => ReceiveStep::Wait,
        }
    }

    // ===== POSTs =====

    /// Starts reading a POST; `None` when one is being read already (overlapping POSTs close
    /// the session).
    pub(crate) fn accept_post(&self) -> Option<PostGuard<'_>> {
        let mut state = self.lock();
        if state.post_active {
            return None;
        }
        state.post_active = true;
        Some(PostGuard { session: self })
    }

    // ===== upgrade to websocket =====

    /// A websocket connected for this session at `now` and starts the probe.
    pub(crate) fn begin_upgrade(&self, now: Instant) -> Result<(), UpgradeRefused> {
        let mut state = self.lock();
        if state.closed.is_some() || !self.shared.config.websocket {
            return Err(UpgradeRefused::NotUpgradable);
        }
        if state.transport == TransportKind::WebSocket {
            return Err(UpgradeRefused::Upgraded);
        }
        let timeout = self.shared.config.upgrade_timeout;
        if state.upgrade.begin(now, timeout) {
            Ok(())
        } else {
            Err(UpgradeRefused::Busy)
        }
    }

    /// When the upgrade under way must be done by.
    pub(crate) fn upgrade_deadline(&self) -> Option<Instant> {
        self.lock().upgrade.poll_timeout()
    }

    /// The upgrade's deadline was reached at `now`: `true` when the upgrade is given up (the
    /// session stays where it was).
    pub(crate) fn expire_upgrade(&self, now: Instant) -> bool {
        let expired = self.lock().upgrade.handle_timeout(now);
        if expired {
            self.wake.notify_waiters();
        }
        expired
    }

    /// The client sent `2probe` at `now`: `true` when the server answers `3probe`; the old
    /// transport's receiver is woken to answer with a noop so the client can pause it.
    pub(crate) fn answer_probe(&self, now: Instant) -> bool {
        let probed = {
            let mut state = self.lock();
            state.closed.is_none() && state.upgrade.probe(now)
        };
        self.wake.notify_waiters();
        probed
    }

    /// The client sent `5` at `now`: `true` when the session now runs on websocket (what is
    /// queued goes out there); receivers of the old transport are woken and end.
    pub(crate) fn complete_upgrade(self: &Arc<Self>, now: Instant) -> bool {
        let upgraded = {
            let mut state = self.lock();
            let upgraded = state.upgrade.complete(now) && state.closed.is_none();
            if upgraded {
                state.transport = TransportKind::WebSocket;
            }
            if upgraded {
                // The client paused the old transport after it got the noop that followed
                // everything handed out there: it has it all.
                state.queue.confirm_all();
            }
            upgraded
        };
        self.wake.notify_waiters();
        if upgraded {
            self.shared.handler.on_upgrade(&EngineSocket(self.clone()));
        }
        upgraded
    }

    /// Gives the upgrade up (the websocket failed or timed out); the session stays where it
    /// was, and its receivers carry on.
    pub(crate) fn abandon_upgrade(&self) {
        self.lock().upgrade.abandon();
        self.wake.notify_waiters();
    }

    // ===== what the client sends =====

    /// Applies a packet the client sent over the session's current transport. Returns `false`
    /// when the session is closed, or closed because of it.
    pub(crate) fn on_packet(self: &Arc<Self>, packet: Packet) -> bool {
        if self.is_closed() {
            return false;
        }
        match packet {
            Packet::Message(text) => self.deliver(Message::Text(text)),
            Packet::Binary(data) => self.deliver(Message::Binary(data)),
            // Engine.IO v3: the client pings, the server answers.
            Packet::Ping if matches!(self.revision, Revision::V3 { .. }) => {
                let mut state = self.lock();
                state.heartbeat.on_client_ping(Instant::now());
                state.queue.push_control(Packet::Pong.encode());
                drop(state);
                self.wake.notify_waiters();
            }
            Packet::Pong if matches!(self.revision, Revision::V4) => {
                let mut state = self.lock();
                if state.heartbeat.on_pong(Instant::now()) {
                    // The client read the ping, and so everything handed out before it.
                    if let Some(seq) = state.ping_seq.take() {
                        state.queue.confirm(seq);
                    }
                }
            }
            Packet::Noop => {}
            Packet::Close => {
                self.close(CloseReason::ClientClose);
                return false;
            }
            // A client ping (heartbeats go server → client in v4), an open, an upgrade or a
            // probe outside an upgrade are protocol violations.
            Packet::Ping
            | Packet::Pong
            | Packet::PingProbe
            | Packet::PongProbe
            | Packet::Open(_)
            | Packet::Upgrade => {
                self.close(CloseReason::TransportError);
                return false;
            }
        }
        !self.is_closed()
    }

    fn deliver(self: &Arc<Self>, message: Message) {
        let socket = EngineSocket(self.clone());
        self.shared.handler.on_message(&socket, message);
    }
}

/// Takes the frames a receiver sends next; a ping among them is now handed to the client, so
/// its pong counts, and confirms what came before it.
fn take(state: &mut State, max_bytes: usize) -> Numbered {
    let numbered = state.queue.drain_payload(max_bytes);
    if let Some(i) = numbered.frames.iter().rposition(Frame::is_ping) {
        state.heartbeat.on_ping_delivered();
        state.ping_seq = Some(numbered.first_seq + i as u64);
    }
    numbered
}

/// Longest time a session closed by the server waits for the client to fetch its close packet.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Drives the session's heartbeat until it closes: queues pings, closes on a missed pong (and
/// on an overflowed queue, when so configured).
pub(crate) async fn drive_heartbeat(session: Arc<Session>) {
    loop {
        let closed = session.closed();
        tokio::pin!(closed);
        let deadline = {
            let state = session.lock();
            if state.closed.is_some() {
                return;
            }
            state.heartbeat.poll_timeout()
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline.into()) => {}
            () = &mut closed => return,
            () = session.overflowed.notified() => {
                session.close(CloseReason::ServerClose);
                return;
            }
        }
        let action = session.lock().heartbeat.handle_timeout(Instant::now());
        match action {
            Some(HeartbeatAction::SendPing) => {
                session.lock().queue.push_control(Packet::Ping.encode());
                session.wake.notify_waiters();
            }
            Some(HeartbeatAction::TimedOut) => {
                session.close(CloseReason::PingTimeout);
                return;
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests;
