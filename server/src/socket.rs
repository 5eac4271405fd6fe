//! A client's connection to one namespace.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ferrio_protocol::engine::Frame;
use ferrio_protocol::socket::Packet;
use serde_json::Value;

use crate::ack::PendingAck;
use crate::adapter::{BroadcastOptions, Room};
use crate::emit::{encoded_frames, send_encoded};
use crate::engine::lock::{lock, read, write};
use crate::engine::{EngineSocket, HandshakeRequest, QueueError, Sid, TransportKind};
use crate::errors::{AckError, SendError};
use crate::handler::{
    boxed_disconnect_handler, boxed_event_handler, run_inline, BoxedDisconnectHandler,
    BoxedEventHandler, Call, DisconnectHandler, EventHandler, EventParts, HandlerLimit, Overflow,
};
use crate::namespace::{ChildLease, Namespace};
use crate::operators::{BroadcastOperators, RoomParam};
use crate::payload::IntoPayload;
use crate::recent_calls::{CallState, RecentCalls};
use crate::recovery::Saved;
use crate::{ack, DisconnectReason, Payload};

/// A client connected to a namespace. Cheap to clone; every clone is the same socket.
///
/// ```
/// use ferrio::extract::{Ack, Data};
/// use ferrio::Socket;
///
/// async fn on_connect(socket: Socket) {
///     socket.join("lobby");
///     socket.on("ping", |Data(n): Data<u32>, ack: Ack| async move {
///         let _ = ack.send(&(n + 1));
///     });
///     socket.on_disconnect(|socket: Socket, reason: ferrio::DisconnectReason| async move {
///         println!("{} left: {reason}", socket.id());
///     });
///     let _ = socket.emit("welcome", &"hello");
/// }
/// ```
#[derive(Clone)]
pub struct Socket(pub(crate) Arc<SocketInner>);

/// What a socket keeps of the calls in both directions: the acknowledgements it waits for,
/// and the client's recent calls.
type Calls = (Arc<ack::PendingAcks>, Arc<Mutex<RecentCalls>>);

/// A socket's event handlers: by event name, and the one for every event (`on_any`).
#[derive(Default)]
struct EventHandlers {
    by_event: HashMap<String, BoxedEventHandler>,
    any: Option<BoxedEventHandler>,
}

pub(crate) struct SocketInner {
    pub(crate) id: Sid,
    pub(crate) ns: Arc<Namespace>,
    pub(crate) engine: EngineSocket,
    auth: Value,
    handlers: RwLock<EventHandlers>,
    disconnect_handler: Mutex<Option<BoxedDisconnectHandler>>,
    /// The acknowledgements the server waits for (kept with the socket for recovery).
    pub(crate) acks: Arc<ack::PendingAcks>,
    /// The events with acknowledgement the client sent lately, so a retry runs once.
    recent: Arc<Mutex<RecentCalls>>,
    /// The event handlers running, and the calls waiting for a slot.
    running: Arc<HandlerLimit>,
    connected: AtomicBool,
    extensions: Mutex<http::Extensions>,
    /// The private id a client presents to recover this socket (when recovery is on).
    pid: Option<Sid>,
    recovered: bool,
    /// The socket's lease on its namespace, when that is a dynamic child: taken when the
    /// socket leaves (and kept with it for recovery), or when it was never let in
    /// ([`discard`](Socket::discard)).
    child: Mutex<Option<ChildLease>>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").field("id", &self.0.id).field("ns", &self.0.ns.path).finish()
    }
}

impl PartialEq for Socket {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Socket {}

impl Socket {
    /// A new socket of `ns`, which keeps `child` (its lease on `ns` if a dynamic child).
    pub(crate) fn new(
        ns: Arc<Namespace>,
        engine: EngineSocket,
        auth: Value,
        child: Option<ChildLease>,
    ) -> Socket {
        // A Socket.IO v2 client (Engine.IO v3) knows its socket by the Engine.IO id (prefixed
        // with the namespace outside `/`), and cannot recover it.
        let (id, pid) = if engine.protocol() == 3 {
            let id = match ns.path.as_str() {
                "/" => engine.id().clone(),
                path => Sid::from_wire(&format!("{path}#{}", engine.id())),
            };
            (id, None)
        } else {
            (Sid::random(), ns.recovery.as_ref().map(|_| Sid::random()))
        };
        let extensions = http::Extensions::new();
        let calls = (Arc::default(), Arc::default());
        Socket::build(ns, engine, auth, (id, pid), (extensions, calls), child, false)
    }

    /// The socket a returning client recovers: same id, rooms and extensions.
    /// (Its rooms are joined once it is admitted.)
    pub(crate) fn restored(
        ns: Arc<Namespace>,
        engine: EngineSocket,
        auth: Value,
        saved: Saved,
        child: Option<ChildLease>,
    ) -> Socket {
        let Saved { sid, pid, extensions, acks, recent, .. } = saved;
        Socket::build(ns, engine, auth, (sid, Some(pid)), (extensions, (acks, recent)), child, true)
    }

    fn build(
        ns: Arc<Namespace>,
        engine: EngineSocket,
        auth: Value,
        (id, pid): (Sid, Option<Sid>),
        (extensions, (acks, recent)): (http::Extensions, Calls),
        child: Option<ChildLease>,
        recovered: bool,
    ) -> Socket {
        let config = &ns.config;
        let (max_waiting, max_waiting_bytes) = config.handler_backlog;
        let running =
            HandlerLimit::new(config.max_concurrent_handlers, max_waiting, max_waiting_bytes);
        Socket(Arc::new(SocketInner {
            running: Arc::new(running),
            id,
            ns,
            engine,
            auth,
            handlers: RwLock::new(EventHandlers::default()),
            disconnect_handler: Mutex::new(None),
            acks,
            recent,
            connected: AtomicBool::new(false),
            extensions: Mutex::new(extensions),
            pid,
            recovered,
            child: Mutex::new(child),
        }))
    }

    /// Whether this socket is one a returning client recovered (same id, rooms and extensions;
    /// the events it missed were replayed). See
    /// [`FerrioBuilder::connection_state_recovery`](crate::FerrioBuilder::connection_state_recovery).
    pub fn recovered(&self) -> bool {
        self.0.recovered
    }

    pub(crate) fn pid(&self) -> Option<&Sid> {
        self.0.pid.as_ref()
    }

    /// The socket's id (`socket.id` on the client); distinct from the Engine.IO session id.
    pub fn id(&self) -> &Sid {
        &self.0.id
    }

    /// The namespace's path, e.g. `/` or `/admin`.
    pub fn ns(&self) -> &str {
        &self.0.ns.path
    }

    /// The auth payload the client sent when connecting (`{}` when it sent none).
    pub fn auth(&self) -> &Value {
        &self.0.auth
    }

    /// The HTTP request that opened the connection: headers, query, URI, peer address.
    pub fn handshake(&self) -> &HandshakeRequest {
        self.0.engine.handshake()
    }

    /// The transport the connection uses right now.
    pub fn transport(&self) -> TransportKind {
        self.0.engine.transport()
    }

    /// Whether the socket is still connected to its namespace.
    pub fn connected(&self) -> bool {
        self.0.connected.load(Ordering::Acquire)
    }

    /// The underlying Engine.IO session, shared by the client's sockets of every namespace.
    pub fn engine(&self) -> &EngineSocket {
        &self.0.engine
    }

    /// Calls `handler` for each `event` the client emits; replaces an earlier handler of the
    /// same event.
    pub fn on<H, T>(&self, event: impl Into<String>, handler: H)
    where
        H: EventHandler<T>,
        T: 'static,
    {
        let mut handlers = write(&self.0.handlers);
        handlers.by_event.insert(event.into(), boxed_event_handler(handler));
    }

    /// Calls `handler` for every event the client emits, before the event's own handler (as
    /// Socket.IO's `onAny`); replaces an earlier one. The [`Event`](crate::extract::Event)
    /// extractor gives the name. It gets the client's acknowledgement only when the event has
    /// no handler of its own.
    ///
    /// ```
    /// use ferrio::extract::Event;
    /// use ferrio::{Ferrio, Payload, Socket};
    ///
    /// let (_layer, io) = Ferrio::builder().build_layer();
    /// io.ns("/", |socket: Socket| async move {
    ///     socket.on_any(|socket: Socket, Event(name): Event, payload: Payload| async move {
    ///         tracing::debug!(sid = %socket.id(), name, args = payload.args.len(), "event");
    ///     });
    /// });
    /// ```
    pub fn on_any<H, T>(&self, handler: H)
    where
        H: EventHandler<T>,
        T: 'static,
    {
        write(&self.0.handlers).any = Some(boxed_event_handler(handler));
    }

    /// Calls `handler` once when the socket disconnects, with the reason.
    pub fn on_disconnect<H, T>(&self, handler: H)
    where
        H: DisconnectHandler<T>,
        T: 'static,
    {
        *lock(&self.0.disconnect_handler) = Some(boxed_disconnect_handler(handler));
    }

    /// Emits `event` to this client with `data` as its argument (a [`Payload`] for several).
    /// With connection state recovery on, an event sent while the connection is closing is
    /// kept all the same: it succeeds, and a client that comes back gets it.
    /// Fails with [`SendError::Disconnected`] once the socket left its namespace.
    pub fn emit(&self, event: &str, data: impl IntoPayload) -> Result<(), SendError> {
        if !self.connected() {
            return Err(SendError::Disconnected);
        }
        let (data, attachments) = data.into_payload()?.into_event_data(event);
        self.send_event(data, attachments, None)
    }

    /// Sends the event `data` (with `attachments`, asking for ack `ack_id`) to this client;
    /// with recovery on, it is stamped and kept, so a returning client gets it again.
    fn send_event(
        &self,
        data: Value,
        attachments: Vec<bytes::Bytes>,
        ack_id: Option<u64>,
    ) -> Result<(), SendError> {
        let ns = &self.0.ns;
        if ns.recovery.is_none() {
            return self.send_packet(&Packet::event(self.ns(), data, attachments, ack_id));
        }
        let to_me =
            BroadcastOptions { rooms: vec![Room::from(self.0.id.as_str())], ..Default::default() };
        // `None`: a cluster sequences it, and delivers it here in its order.
        let sent = ns.send_event(data, attachments, (Some(&to_me), ack_id), |_, frames| {
            self.0.engine.send_frames(frames)
        });
        match sent {
            // The connection closed meanwhile: the event is kept all the same, and a client
            // that comes back for its socket gets it (its acknowledgement reaching the waiter).
            None | Some(Ok(()) | Err(QueueError::Closed)) => Ok(()),
            Some(Err(e)) => Err(e.into()),
        }
    }

    /// Emits `event` and waits for the client's acknowledgement, at most the configured ack
    /// timeout (see [`timeout`](Self::timeout) to choose another).
    ///
    /// The event is queued when this is called; the returned future only waits. Dropping it
    /// before the reply stops waiting: the acknowledgement is forgotten at once (a late reply
    /// is ignored), so abandoned waits hold nothing.
    pub fn emit_with_ack<T>(
        &self,
        event: &str,
        data: impl IntoPayload,
    ) -> impl Future<Output = Result<T, AckError>> + Send + 'static
    where
        T: crate::payload::FromPayload + Send + 'static,
    {
        self.emit_with_ack_timeout(event, data, self.0.ns.config.ack_timeout)
    }

    /// Operators on this socket with an acknowledgement timeout of `timeout`.
    pub fn timeout(&self, timeout: Duration) -> SocketWithTimeout<'_> {
        SocketWithTimeout { socket: self, timeout }
    }

    fn emit_with_ack_timeout<T>(
        &self,
        event: &str,
        data: impl IntoPayload,
        timeout: Duration,
    ) -> impl Future<Output = Result<T, AckError>> + Send + 'static
    where
        T: crate::payload::FromPayload + Send + 'static,
    {
        let connected = if self.connected() { Ok(()) } else { Err(SendError::Disconnected) };
        let sent = connected.and_then(|()| data.into_payload().map_err(SendError::from)).and_then(
            |payload| {
                let (data, attachments) = payload.into_event_data(event);
                self.send_asking_ack(&mut Packet::event(self.ns(), data, attachments, None))
            },
        );
        async move { ack::wait(sent?, timeout).await }
    }

    /// Joins `rooms` (a name, or a list of names).
    pub fn join(&self, rooms: impl RoomParam) {
        self.0.ns.adapter.join(&self.0.id, &rooms.into_rooms());
    }

    /// Leaves `rooms`.
    pub fn leave(&self, rooms: impl RoomParam) {
        self.0.ns.adapter.leave(&self.0.id, &rooms.into_rooms());
    }

    /// Leaves every room.
    pub fn leave_all(&self) {
        let rooms = self.rooms();
        self.0.ns.adapter.leave(&self.0.id, &rooms);
    }

    /// The rooms this socket is in.
    pub fn rooms(&self) -> Vec<Room> {
        self.0.ns.adapter.socket_rooms(&self.0.id)
    }

    fn operators(&self) -> BroadcastOperators {
        BroadcastOperators::new(
            self.0.ns.clone(),
            BroadcastOptions { except_socket: Some(self.0.id.clone()), ..Default::default() },
        )
    }

    /// Everyone in `rooms` but this socket.
    pub fn to(&self, rooms: impl RoomParam) -> BroadcastOperators {
        self.operators().to(rooms)
    }

    /// Every socket of the namespace but this one and those in `rooms`.
    pub fn except(&self, rooms: impl RoomParam) -> BroadcastOperators {
        self.operators().except(rooms)
    }

    /// Every socket of the namespace but this one.
    pub fn broadcast(&self) -> BroadcastOperators {
        self.operators()
    }

    /// Leaves the namespace: the client receives a DISCONNECT for it (reason `io server
    /// disconnect`, so it does not reconnect). The connection itself stays open for the
    /// client's other namespaces.
    pub fn disconnect(&self) {
        if self.connected() {
            let _ = self.send_packet(&Packet::disconnect(self.ns()));
            self.close(DisconnectReason::ServerNamespaceDisconnect);
        }
    }

    /// Stores a value on the socket, replacing one of the same type.
    pub fn insert_extension<T: Clone + Send + Sync + 'static>(&self, value: T) -> Option<T> {
        lock(&self.0.extensions).insert(value)
    }

    /// A clone of the value of type `T` stored on the socket.
    pub fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        lock(&self.0.extensions).get::<T>().cloned()
    }

    /// Removes the value of type `T` stored on the socket.
    pub fn remove_extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        lock(&self.0.extensions).remove::<T>()
    }

    pub(crate) fn io_state<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.0.ns.state.get::<T>().cloned()
    }

    // ===== crate-internal =====

    /// Lets go of a socket that was never let in: its lease on its namespace goes (a dynamic
    /// child nobody joined is removed), and the handlers a middleware may have added with it
    /// (which may hold clones of it) are dropped.
    pub(crate) fn discard(&self) {
        let child = lock(&self.0.child).take();
        drop(child);
        self.0.running.close();
        *write(&self.0.handlers) = EventHandlers::default();
        lock(&self.0.disconnect_handler).take();
    }

    /// The socket was let in: its dynamic child namespace, if any, is shown from now on.
    pub(crate) fn show_child(&self) {
        if let Some(child) = &*lock(&self.0.child) {
            child.show();
        }
    }

    pub(crate) fn mark_connected(&self) {
        self.0.connected.store(true, Ordering::Release);
    }

    /// Queues an encoded packet and its attachments as one unit.
    pub(crate) fn send_packet(&self, packet: &Packet) -> Result<(), SendError> {
        Ok(send_encoded(&self.0.engine, packet)?)
    }

    /// Queues `packet` with a new acknowledgement id; returns the pending acknowledgement,
    /// which forgets the id when dropped (at once, when the packet cannot be queued).
    /// With recovery on, the event is kept like any other: a client that comes back gets it
    /// again, with the same id, and its answer still reaches the waiter.
    pub(crate) fn send_asking_ack(&self, packet: &mut Packet) -> Result<PendingAck, SendError> {
        let (id, reply) = self.0.acks.register();
        let pending = PendingAck::new(self.clone(), id, reply);
        if self.0.ns.recovery.is_some() {
            let data = packet.data.clone().unwrap_or(Value::Array(Vec::new()));
            self.send_event(data, packet.attachments.clone(), Some(id))?;
        } else {
            packet.id = Some(id);
            self.send_packet(packet)?;
        }
        Ok(pending)
    }

    /// Queues `packet` with a new acknowledgement id at once, not kept for recovery: the
    /// per-socket part of a broadcast with acknowledgements in a cluster that sequences
    /// events (going through the cluster, each socket's copy would cost a trip of its own).
    pub(crate) fn send_asking_ack_now(&self, packet: &mut Packet) -> Result<PendingAck, SendError> {
        if !self.0.ns.adapter.sequences_events() {
            return self.send_asking_ack(packet);
        }
        let (id, reply) = self.0.acks.register();
        let pending = PendingAck::new(self.clone(), id, reply);
        packet.id = Some(id);
        self.send_packet(packet)?;
        Ok(pending)
    }

    /// Answers the client's call `id`, and remembers the answer for a retry of that call.
    pub(crate) fn send_ack(&self, id: u64, payload: Payload) -> Result<(), SendError> {
        let Payload { args, attachments } = payload;
        let frames: Arc<[Frame]> =
            encoded_frames(&Packet::ack(self.ns(), id, Value::Array(args), attachments)).into();
        lock(&self.0.recent).answered(id, &frames);
        Ok(self.0.engine.send_frames(&frames)?)
    }

    /// Runs the handlers of `event` (`bytes` long as received): the [`on_any`](Self::on_any)
    /// one, then the event's own, each once it has a handler slot (see
    /// [`FerrioBuilder::max_concurrent_handlers`](crate::FerrioBuilder::max_concurrent_handlers)).
    pub(crate) fn on_event(
        &self,
        event: String,
        payload: Payload,
        ack_id: Option<u64>,
        bytes: usize,
    ) {
        // A retried call runs once: a repeat is dropped, or answered again.
        if let Some(id) = ack_id {
            match lock(&self.0.recent).begin(id) {
                CallState::New => {}
                CallState::Running => return,
                CallState::Answered(answer) => {
                    let _ = self.0.engine.send_frames(&answer);
                    return;
                }
            }
        }
        let (any, handler) = {
            let handlers = read(&self.0.handlers);
            (handlers.any.clone(), handlers.by_event.get(&event).cloned())
        };
        let socket = self.clone();
        let submitted = match (any, handler) {
            (None, None) => {
                tracing::trace!(sid = %self.0.id, event, "no handler for event");
                Ok(())
            }
            (Some(only), None) | (None, Some(only)) => {
                self.submit(only, EventParts { socket, event, payload, ack_id }, bytes)
            }
            (Some(any), Some(handler)) => {
                let parts = EventParts {
                    socket: socket.clone(),
                    event: event.clone(),
                    payload: payload.clone(),
                    ack_id: None,
                };
                self.submit(any, parts, bytes).and_then(|()| {
                    self.submit(handler, EventParts { socket, event, payload, ack_id }, 0)
                })
            }
        };
        if submitted.is_err() {
            tracing::warn!(
                sid = %self.0.id,
                ns = %self.0.ns.path,
                "the client sends events faster than its handlers finish and its backlog is full; closing the connection"
            );
            self.0.engine.close();
        }
    }

    fn submit(
        &self,
        handler: BoxedEventHandler,
        parts: EventParts,
        bytes: usize,
    ) -> Result<(), Overflow> {
        let sid = self.0.id.clone();
        let call: Call = Box::new(move || match handler.call(parts) {
            Ok(future) => Some(future),
            Err(err) => {
                tracing::debug!(%sid, %err, "event handler not called");
                None
            }
        });
        self.0.running.submit(call, bytes)
    }

    pub(crate) fn on_ack(&self, id: u64, payload: Payload) {
        self.0.acks.resolve(id, payload);
    }

    /// Leaves the namespace once: unregisters, drops pending acks and handlers (which may hold
    /// clones of this socket), then runs the disconnect handler.
    pub(crate) fn close(&self, reason: DisconnectReason) {
        if !self.0.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        let ns = &self.0.ns;
        let mut child = lock(&self.0.child).take();
        let mut kept = false;
        if let (Some(recovery), Some(pid)) = (&ns.recovery, &self.0.pid) {
            recovery.untrack_live(pid);
            if reason.is_recoverable() {
                let rooms =
                    self.rooms().into_iter().filter(|r| **r != *self.0.id.as_str()).collect();
                let extensions = lock(&self.0.extensions).clone();
                let saved = Saved::new(self.0.id.clone(), pid.clone(), rooms, extensions)
                    .with_calls(self.0.acks.clone(), self.0.recent.clone());
                kept = true;
                let keeps_child = child.is_some();
                recovery.save(saved.holding(child.take()));
                if keeps_child {
                    expire_saved_later(ns, recovery.max_disconnection());
                }
            }
        }
        ns.sockets.remove(&self.0.id);
        ns.adapter.remove_socket(&self.0.id);
        if let Some(client) = self.0.engine.data::<crate::client::Client>() {
            client.forget(&ns.path, self);
        }
        // Kept for recovery, the pending acknowledgements wait for the client's return (each
        // waiter still has its timeout); otherwise they fail at once.
        if !kept {
            self.0.acks.clear();
        }
        self.0.running.close();
        *write(&self.0.handlers) = EventHandlers::default();
        // A dynamic child namespace goes with its last socket (before the disconnect handler
        // runs, so the handler sees it gone).
        drop(child);
        let handler = lock(&self.0.disconnect_handler).take();
        if let Some(handler) = handler {
            run_inline(handler.call(self.clone(), reason));
        }
    }
}

/// Has `ns` forget, once `window` passed, the sockets it kept for recovery: a dynamic child
/// kept for one of them is then removed, unless used otherwise. (Expiry otherwise happens
/// only when another socket of `ns` is saved or recovered.)
fn expire_saved_later(ns: &Arc<Namespace>, window: Duration) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let ns = Arc::downgrade(ns);
    runtime.spawn(async move {
        tokio::time::sleep(window + Duration::from_millis(1)).await;
        if let Some(recovery) = ns.upgrade().as_ref().and_then(|ns| ns.recovery.as_ref()) {
            recovery.expire();
        }
    });
}

/// A socket with a chosen acknowledgement timeout; from [`Socket::timeout`].
#[derive(Debug)]
pub struct SocketWithTimeout<'a> {
    socket: &'a Socket,
    timeout: Duration,
}

impl SocketWithTimeout<'_> {
    /// Emits `event` and waits for the acknowledgement at most the chosen timeout.
    pub fn emit_with_ack<T>(
        &self,
        event: &str,
        data: impl IntoPayload,
    ) -> impl Future<Output = Result<T, AckError>> + Send + 'static
    where
        T: crate::payload::FromPayload + Send + 'static,
    {
        self.socket.emit_with_ack_timeout(event, data, self.timeout)
    }
}
