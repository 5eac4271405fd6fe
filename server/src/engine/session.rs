//! One Engine.IO session: its outbound queue, its transport state, its heartbeat, and the
//! rules every transport applies to the packets a client sends.

use std::any::Any;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use ferrio_protocol::engine::{Frame, OpenPacket, Packet};
use tokio::sync::Notify;

use super::error::SendError;
use super::heartbeat::{Heartbeat, HeartbeatAction};
use super::queue::OutboundQueue;
use super::shared::Shared;
use super::{DisconnectReason, EngineSocket, HandshakeRequest, Message, Sid, TransportKind};

/// Progress of an upgrade to websocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upgrade {
    /// No upgrade under way.
    None,
    /// A websocket for this session is connected and waits for `2probe`.
    Connected,
    /// `3probe` was sent; the client pauses its old transport and then sends `5`.
    Probed,
}

/// Mutable state of a session, behind a short-lived `std` mutex never held across `.await`.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) queue: OutboundQueue,
    pub(crate) transport: TransportKind,
    /// Where a transport upgrade stands.
    pub(crate) upgrade: Upgrade,
    pub(crate) heartbeat: Heartbeat,
    pub(crate) closed: Option<DisconnectReason>,
    /// A polling GET (or a stream) is attached.
    pub(crate) receiver_attached: bool,
    /// A POST is being read.
    pub(crate) post_active: bool,
    /// Incremented by each streaming GET; only the newest stream writes.
    pub(crate) stream_generation: u64,
}

pub(crate) struct Session {
    pub(crate) sid: Sid,
    pub(crate) shared: Arc<Shared>,
    pub(crate) handshake: HandshakeRequest,
    state: Mutex<State>,
    /// Signalled when frames are queued or the session closes or changes transport.
    pub(crate) wake: Notify,
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

impl Session {
    /// Creates a session on `transport`, registers it and queues its open packet.
    pub(crate) fn open(
        shared: &Arc<Shared>,
        transport: TransportKind,
        handshake: HandshakeRequest,
    ) -> Arc<Session> {
        let config = &shared.config;
        let sid = Sid::random();
        let upgrades = if transport != TransportKind::WebSocket && config.websocket {
            vec!["websocket".to_owned()]
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
        let session = Arc::new(Session {
            sid,
            shared: shared.clone(),
            handshake,
            state: Mutex::new(State {
                queue,
                transport,
                upgrade: Upgrade::None,
                heartbeat: Heartbeat::new(
                    Instant::now(),
                    config.ping_interval,
                    config.ping_timeout,
                ),
                closed: None,
                receiver_attached: false,
                post_active: false,
                stream_generation: 0,
            }),
            wake: Notify::new(),
            closed: Notify::new(),
            overflowed: Notify::new(),
            data: OnceLock::new(),
        });
        shared.sessions.insert(session.sid.clone(), session.clone());
        tokio::spawn(drive_heartbeat(session.clone()));
        shared.handler.on_connect(EngineSocket(session.clone()));
        session
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        crate::poison::lock(&self.state)
    }

    /// Queues `frames` as one unit and wakes the transport. A full queue closes the session
    /// when `close_on_queue_full` is set.
    pub(crate) fn send_frames<I>(&self, frames: I) -> Result<(), SendError>
    where
        I: ExactSizeIterator<Item = Frame> + Clone,
    {
        let sent = self.try_send_frames(frames);
        if sent == Err(SendError::QueueFull) && self.shared.config.close_on_queue_full {
            self.overflowed.notify_one();
        }
        sent
    }

    /// Queues `frames` as one unit and wakes the transport; a full queue only fails the call.
    pub(crate) fn try_send_frames<I>(&self, frames: I) -> Result<(), SendError>
    where
        I: ExactSizeIterator<Item = Frame> + Clone,
    {
        {
            let mut state = self.lock();
            if state.closed.is_some() {
                return Err(SendError::Closed);
            }
            state.queue.push_all(frames)?;
        }
        self.wake.notify_waiters();
        Ok(())
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed.is_some()
    }

    /// Closes the session once: answers a pending poll with a close packet, unregisters it and
    /// tells the handler.
    pub(crate) fn close(self: &Arc<Self>, reason: DisconnectReason) {
        let linger = {
            let mut state = self.lock();
            if state.closed.is_some() {
                return;
            }
            state.closed = Some(reason);
            if state.transport != TransportKind::WebSocket {
                // Engine.IO ends a pending poll with a noop before the close packet when either
                // side closes on purpose; official clients rely on neither, but match it.
                if matches!(reason, DisconnectReason::ServerClose | DisconnectReason::ClientClose) {
                    state.queue.push_control(Packet::Noop.encode());
                }
                state.queue.push_control(Packet::Close.encode());
            }
            // When the server closes an HTTP-transport session between two polls (or while
            // its stream is detached), the close packet waits for the client's next request,
            // so the client learns "transport close" rather than an unknown session.
            reason == DisconnectReason::ServerClose
                && state.transport != TransportKind::WebSocket
                && (!state.receiver_attached || state.transport == TransportKind::Streaming)
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

    /// Removes the session from the engine's map (if this session is still the one there).
    pub(crate) fn forget(self: &Arc<Self>) {
        self.shared.sessions.remove_if(self.sid.as_str(), |_, s| Arc::ptr_eq(s, self));
    }

    /// Applies a packet the client sent over the session's current transport. Returns `false`
    /// when the session is closed, or closed because of it.
    pub(crate) fn on_packet(self: &Arc<Self>, packet: Packet) -> bool {
        if self.is_closed() {
            return false;
        }
        match packet {
            Packet::Message(text) => self.deliver(Message::Text(text)),
            Packet::Binary(data) => self.deliver(Message::Binary(data)),
            Packet::Pong => self.lock().heartbeat.on_pong(Instant::now()),
            Packet::Noop => {}
            Packet::Close => {
                self.close(DisconnectReason::ClientClose);
                return false;
            }
            // A client ping (heartbeats go server → client in v4), an open, an upgrade or a
            // probe outside an upgrade are protocol violations.
            Packet::Ping
            | Packet::PingProbe
            | Packet::PongProbe
            | Packet::Open(_)
            | Packet::Upgrade => {
                self.close(DisconnectReason::TransportError);
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

/// Longest time a session closed by the server waits for the client to fetch its close packet.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Drives the session's heartbeat until it closes: queues pings, closes on a missed pong (and
/// on an overflowed queue, when so configured).
pub(crate) async fn drive_heartbeat(session: Arc<Session>) {
    loop {
        let closed = session.closed.notified();
        tokio::pin!(closed);
        closed.as_mut().enable();
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
                session.close(DisconnectReason::ServerClose);
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
                session.close(DisconnectReason::PingTimeout);
                return;
            }
            None => {}
        }
    }
}
