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
    boxed_disconnect_handler, boxed_event_handler, boxed_event_middleware, run_inline,
    BoxedDisconnectHandler, BoxedEventHandler, BoxedEventMiddleware, Call, DisconnectHandler,
    EventHandler, EventMiddleware, EventParts, EventPayload, HandlerLimit, Overflow,
};
use crate::namespace::{ChildLease, Namespace};
use crate::operators::{BroadcastOperators, RoomParam};
use crate::payload::IntoPayload;
use crate::recent_calls::{CallState, RecentCalls};
use crate::recovery::Saved;
use crate::{ack, DisconnectReason, EventError, Payload};

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

/// One listener of an event (or of every event).
#[derive(Clone)]
struct Listener {
    handler: BoxedEventHandler,
    /// Removed before its first call ([`Socket::once`]).
    once: bool,
}

/// A socket's listeners and middleware. Each list is copied on write, so a dispatch takes
/// its snapshot with one reference count.
#[derive(Default)]
struct EventHandlers {
    by_event: HashMap<String, Arc<[Listener]>>,
    any: Option<Arc<[Listener]>>,
    /// Run for events without a listener of their own.
    fallback: Option<Arc<[Listener]>>,
    middleware: Option<Middleware>,
}

/// A socket's middleware, in order.
type Middleware = Arc<[BoxedEventMiddleware]>;

/// `list` with `item` appended.
fn appended<T: Clone>(list: Option<&Arc<[T]>>, item: T) -> Arc<[T]> {
    list.map(|list| list.iter())
        .into_iter()
        .flatten()
        .cloned()
        .chain(std::iter::once(item))
        .collect()
}

/// `list` without its once-listeners; `None` when nothing is left.
fn without_once(list: &[Listener]) -> Option<Arc<[Listener]>> {
    let kept: Arc<[Listener]> = list.iter().filter(|l| !l.once).cloned().collect();
    (!kept.is_empty()).then_some(kept)
}

/// Whether `list` holds a once-listener.
fn has_once(list: Option<&Arc<[Listener]>>) -> bool {
    list.is_some_and(|list| list.iter().any(|l| l.once))
}

pub(crate) struct SocketInner {
    pub(crate) id: Sid,
    pub(crate) ns: Arc<Namespace>,
    pub(crate) engine: EngineSocket,
    auth: Value,
    handlers: RwLock<EventHandlers>,
    disconnecting_handlers: Mutex<Vec<BoxedDisconnectHandler>>,
    disconnect_handlers: Mutex<Vec<BoxedDisconnectHandler>>,
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
            disconnecting_handlers: Mutex::new(Vec::new()),
            disconnect_handlers: Mutex::new(Vec::new()),
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

    /// The HTTP request that opened the connection (Socket.IO's `socket.handshake` and
    /// `socket.request`, socketioxide's `req_parts`): headers, URL and query, peer address,
    /// extensions an HTTP layer inserted, time, TLS flag. The auth payload is
    /// [`auth`](Self::auth).
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

    /// Adds a listener: `handler` runs for each `event` the client emits. As Socket.IO's
    /// `socket.on`, a second `on` for the same event **adds** a listener, it does not replace
    /// the first: the listeners run in the order they were added, each once it has a handler
    /// slot, and each gets an [`Ack`](crate::extract::Ack) — the first to send it answers the
    /// client, the others' sends do nothing. [`off`](Self::off) removes them.
    ///
    /// ```
    /// use ferrio::extract::{Ack, Data};
    /// use ferrio::{Ferrio, Socket};
    ///
    /// let (_layer, io) = Ferrio::builder().build_layer();
    /// io.ns("/", |socket: Socket| async move {
    ///     socket.on("chat", |Data(text): Data<String>| async move {
    ///         tracing::info!(text, "chat");
    ///     });
    ///     // Runs too, after the first; its ack answers the client.
    ///     socket.on("chat", |socket: Socket, Data(text): Data<String>, ack: Ack| async move {
    ///         let _ = socket.broadcast().emit("chat", &text);
    ///         let _ = ack.send("delivered");
    ///     });
    /// });
    /// ```
    pub fn on<H, T>(&self, event: impl Into<String>, handler: H)
    where
        H: EventHandler<T>,
        T: 'static,
    {
        self.add_listener(Some(event.into()), boxed_event_handler(handler), false);
    }

    /// Adds a listener that runs for the next `event` only (Socket.IO's `socket.once`): it is
    /// removed before it runs.
    ///
    /// ```
    /// use ferrio::extract::Data;
    /// use ferrio::Socket;
    ///
    /// fn register(socket: &Socket) {
    ///     socket.once("hello", |socket: Socket, Data(name): Data<String>| async move {
    ///         socket.insert_extension(name);
    ///     });
    /// }
    /// ```
    pub fn once<H, T>(&self, event: impl Into<String>, handler: H)
    where
        H: EventHandler<T>,
        T: 'static,
    {
        self.add_listener(Some(event.into()), boxed_event_handler(handler), true);
    }

    /// Removes every listener of `event` (Socket.IO's `socket.off(event)` or
    /// `removeAllListeners(event)`); returns whether there was one. Listeners added with
    /// [`on_any`](Self::on_any) stay: see [`off_any`](Self::off_any).
    ///
    /// ```
    /// use ferrio::Socket;
    ///
    /// fn stop_listening(socket: &Socket) {
    ///     socket.on("typing", || async {});
    ///     assert!(socket.off("typing"));
    ///     assert!(!socket.off("typing"));
    /// }
    /// ```
    pub fn off(&self, event: &str) -> bool {
        let removed = write(&self.0.handlers).by_event.remove(event);
        removed.is_some()
    }

    /// Adds a listener for every event the client emits (as Socket.IO's `onAny`), run before
    /// the event's own listeners and before the [socket middleware](Self::use_middleware).
    /// The [`Event`](crate::extract::Event) extractor gives the name. Like every listener it
    /// gets the [`Ack`](crate::extract::Ack) too: the first listener to send it answers.
    /// [`off_any`](Self::off_any) removes these listeners.
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
        self.add_listener(None, boxed_event_handler(handler), false);
    }

    /// Removes every listener added with [`on_any`](Self::on_any) (Socket.IO's `offAny()`);
    /// returns whether there was one.
    ///
    /// ```
    /// use ferrio::extract::Event;
    /// use ferrio::Socket;
    ///
    /// fn trace_until_login(socket: &Socket) {
    ///     socket.on_any(|Event(name): Event| async move { tracing::debug!(name, "event") });
    ///     socket.once("login", |socket: Socket| async move {
    ///         socket.off_any();
    ///     });
    /// }
    /// ```
    pub fn off_any(&self) -> bool {
        let removed = write(&self.0.handlers).any.take();
        removed.is_some()
    }

    /// Adds a listener for the events that have no listener of their own (socketioxide's
    /// `on_fallback`, a "404 handler"), run after the [middleware](Self::use_middleware) as an
    /// event's own listener would be; it gets the [`Ack`](crate::extract::Ack), and the
    /// [`Event`](crate::extract::Event) extractor gives the name. Several run in the order
    /// they were added.
    ///
    /// ```
    /// use ferrio::extract::{Ack, Event};
    /// use ferrio::Socket;
    ///
    /// fn register(socket: &Socket) {
    ///     socket.on("known", || async {});
    ///     socket.on_fallback(|Event(name): Event, ack: Ack| async move {
    ///         let _ = ack.send(&format!("unknown event {name}"));
    ///     });
    /// }
    /// ```
    pub fn on_fallback<H, T>(&self, handler: H)
    where
        H: EventHandler<T>,
        T: 'static,
    {
        let listener = Listener { handler: boxed_event_handler(handler), once: false };
        let mut handlers = write(&self.0.handlers);
        handlers.fallback = Some(appended(handlers.fallback.as_ref(), listener));
    }

    /// Adds a socket middleware (Socket.IO's `socket.use`): an async function run for every
    /// event the client emits, before the event's listeners (and after the
    /// [`on_any`](Self::on_any) ones, as in Socket.IO). Middleware run in the order they were
    /// added; each takes [`FromEvent`](crate::handler::FromEvent) extractors
    /// ([`Event`](crate::extract::Event), [`Data`](crate::extract::Data),
    /// [`Payload`](crate::Payload), [`Socket`], [`State`](crate::extract::State)…) and returns
    /// `Result<(), E>` with `E: Into<`[`EventError`]`>`.
    ///
    /// An `Err` refuses the event: its listeners do not run, the next middleware neither, and
    /// when the client asked for an acknowledgement it is answered with the error,
    /// `{"message": …, "data": …}` (Socket.IO would leave the client waiting and emit `error`
    /// on the server's socket instead). A middleware whose extractors fail refuses the event
    /// the same way. A middleware that awaits lets later events of the socket overtake the
    /// one it holds, as in Socket.IO.
    ///
    /// ```
    /// use ferrio::extract::{Event, MaybeExtension};
    /// use ferrio::{EventError, Ferrio, Socket};
    ///
    /// #[derive(Clone)]
    /// struct Admin;
    ///
    /// let (_layer, io) = Ferrio::builder().build_layer();
    /// io.ns("/", |socket: Socket| async move {
    ///     socket.use_middleware(|Event(name): Event, MaybeExtension(admin): MaybeExtension<Admin>| async move {
    ///         if name.starts_with("admin:") && admin.is_none() {
    ///             return Err(EventError::new("forbidden"));
    ///         }
    ///         Ok(())
    ///     });
    ///     socket.on("admin:reset", || async { /* only admins get here */ });
    /// });
    /// ```
    pub fn use_middleware<M, T>(&self, middleware: M)
    where
        M: EventMiddleware<T>,
        T: 'static,
    {
        let middleware = boxed_event_middleware(middleware);
        let mut handlers = write(&self.0.handlers);
        handlers.middleware = Some(appended(handlers.middleware.as_ref(), middleware));
    }

    fn add_listener(&self, event: Option<String>, handler: BoxedEventHandler, once: bool) {
        let mut handlers = write(&self.0.handlers);
        let listener = Listener { handler, once };
        match event {
            Some(event) => {
                let list = appended(handlers.by_event.get(&event), listener);
                handlers.by_event.insert(event, list);
            }
            None => handlers.any = Some(appended(handlers.any.as_ref(), listener)),
        }
    }

    /// Adds a handler run once when the socket disconnects, after it left its rooms (as
    /// Socket.IO's `socket.on("disconnect")`); handlers run in the order they were added. Its
    /// arguments are [`FromDisconnect`](crate::handler::FromDisconnect) extractors:
    /// [`Socket`], [`DisconnectReason`], [`State`](crate::extract::State),
    /// [`Extension`](crate::extract::Extension)… To tell the socket's rooms it left, use
    /// [`on_disconnecting`](Self::on_disconnecting).
    ///
    /// ```
    /// use ferrio::extract::{Extension, State};
    /// use ferrio::{DisconnectReason, Socket};
    ///
    /// #[derive(Clone)]
    /// struct Username(String);
    /// #[derive(Clone)]
    /// struct Presence;
    ///
    /// fn register(socket: &Socket) {
    ///     // Not called for a socket without a `Username` extension.
    ///     socket.on_disconnect(
    ///         |socket: Socket, Extension(Username(name)): Extension<Username>, reason: DisconnectReason, State(_presence): State<Presence>| async move {
    ///             let _ = socket.broadcast().emit("user left", &(name, reason.as_str()));
    ///         },
    ///     );
    /// }
    /// ```
    pub fn on_disconnect<H, T>(&self, handler: H)
    where
        H: DisconnectHandler<T>,
        T: 'static,
    {
        lock(&self.0.disconnect_handlers).push(boxed_disconnect_handler(handler));
    }

    /// Adds a handler run once when the socket is about to disconnect, while it is still in
    /// its rooms (Socket.IO's `socket.on("disconnecting")`): what it does before its first
    /// `.await` sees [`rooms`](Self::rooms) as they were, and its broadcasts to them
    /// (`socket.to(room)`) reach the others. The client itself is gone by then:
    /// [`connected`](Self::connected) is already false and emits to it fail. Handlers run in
    /// the order they were added, before the [disconnect](Self::on_disconnect) ones, with the
    /// same extractors.
    ///
    /// ```
    /// use ferrio::{DisconnectReason, Socket};
    ///
    /// fn register(socket: &Socket) {
    ///     socket.on_disconnecting(|socket: Socket, reason: DisconnectReason| async move {
    ///         for room in socket.rooms() {
    ///             let _ = socket.to(room).emit("user left", &(socket.id().as_str(), reason.as_str()));
    ///         }
    ///     });
    /// }
    /// ```
    pub fn on_disconnecting<H, T>(&self, handler: H)
    where
        H: DisconnectHandler<T>,
        T: 'static,
    {
        lock(&self.0.disconnecting_handlers).push(boxed_disconnect_handler(handler));
    }

    /// Emits `event` to this client with `data` as its arguments: a tuple (or fixed-size
    /// array) is several, anything else one (see [`Payload`] for the rule and for building
    /// arguments at run time). Fails with [`SendError::Disconnected`] once the socket left
    /// its namespace. With connection state recovery on, an event sent while the connection
    /// is closing is kept all the same: it succeeds, and a client that comes back gets it.
    ///
    /// ```
    /// use ferrio::{Payload, SendError, Socket};
    ///
    /// fn greet(socket: &Socket) -> Result<(), SendError> {
    ///     socket.emit("hello", "world")?; // ["hello","world"]
    ///     socket.emit("point", &(3, 4))?; // ["point",3,4]
    ///     socket.emit("list", &vec![3, 4])?; // ["list",[3,4]]
    ///     socket.emit("ping", Payload::new()) // ["ping"]
    /// }
    /// ```
    pub fn emit(&self, event: &str, data: impl IntoPayload) -> Result<(), SendError> {
        self.emit_as(event, data, false)
    }

    /// [`emit`](Self::emit), dropping the event instead when `volatile` and the client is not
    /// ready to take it now.
    fn emit_as(
        &self,
        event: &str,
        data: impl IntoPayload,
        volatile: bool,
    ) -> Result<(), SendError> {
        if !self.connected() {
            return Err(SendError::Disconnected);
        }
        let (data, attachments) = data.into_payload()?.into_event_data(event);
        if let Some(observer) = self.0.ns.observer.get() {
            observer.event_sent(self, &data, &attachments);
        }
        if volatile {
            // Not kept for recovery either: it may be lost anyway.
            if self.0.engine.is_idle() {
                let _ = self.send_packet(&Packet::event(self.ns(), data, attachments, None));
            }
            return Ok(());
        }
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

    /// Operators on this socket with an acknowledgement timeout of `timeout` (Socket.IO's
    /// `socket.timeout(ms)`).
    pub fn timeout(&self, timeout: Duration) -> SocketOperators<'_> {
        SocketOperators { socket: self, timeout: None, volatile: false }.timeout(timeout)
    }

    /// Operators on this socket whose events may be dropped (Socket.IO's `socket.volatile`):
    /// an event is sent only if the client keeps up — nothing waits in its outbound queue —
    /// and is otherwise dropped without an error, and it is not kept for [connection state
    /// recovery](crate::FerrioBuilder::connection_state_recovery). For data where only the
    /// latest value matters (positions, progress).
    ///
    /// ```
    /// use ferrio::Socket;
    ///
    /// fn report(socket: &Socket, x: f32, y: f32) {
    ///     let _ = socket.volatile().emit("position", &(x, y));
    /// }
    /// ```
    pub fn volatile(&self) -> SocketOperators<'_> {
        SocketOperators { socket: self, timeout: None, volatile: false }.volatile()
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
                if let Some(observer) = self.0.ns.observer.get() {
                    observer.event_sent(self, &data, &attachments);
                }
                self.send_asking_ack(&mut Packet::event(self.ns(), data, attachments, None))
            },
        );
        async move { ack::wait(sent?, timeout).await }
    }

    /// Joins `rooms` (a name, or a list of names).
    pub fn join(&self, rooms: impl RoomParam) {
        self.0.ns.join_rooms(&self.0.id, &rooms.into_rooms());
    }

    /// Leaves `rooms`.
    pub fn leave(&self, rooms: impl RoomParam) {
        self.0.ns.leave_rooms(&self.0.id, &rooms.into_rooms());
    }

    /// Leaves every room.
    pub fn leave_all(&self) {
        let rooms = self.rooms();
        self.0.ns.leave_rooms(&self.0.id, &rooms);
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

    /// The server's handle, while it runs.
    pub(crate) fn io(&self) -> Option<crate::Io> {
        let registry = self.0.ns.registry.upgrade()?;
        let engine = registry.engine.get()?.clone();
        Some(crate::Io::new(registry, engine))
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
        lock(&self.0.disconnecting_handlers).clear();
        lock(&self.0.disconnect_handlers).clear();
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

    /// Runs the listeners of `event` (`bytes` long as received): the [`on_any`](Self::on_any)
    /// ones, then the [middleware](Self::use_middleware), then the event's own listeners, each
    /// call once it has a handler slot (see
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
        if let Some(observer) = self.0.ns.observer.get() {
            observer.event_received(self, &event, &payload);
        }
        // The common case, in one look under the lock: one listener, nothing before it.
        let (only, any, middleware) = {
            let handlers = read(&self.0.handlers);
            let plain = handlers.any.is_none() && handlers.middleware.is_none();
            let only = match handlers.by_event.get(&event).map(|list| &**list) {
                Some([only]) if plain && !only.once => Some(only.handler.clone()),
                _ => None,
            };
            (only, handlers.any.clone(), handlers.middleware.clone())
        };
        let submitted = match only {
            Some(handler) => {
                let payload = EventPayload::Owned(payload);
                let parts =
                    EventParts { socket: self.clone(), event, payload, ack_id, ack_sent: None };
                self.submit(handler, parts, bytes)
            }
            None if any.is_none() && middleware.is_none() => {
                self.dispatch(event, EventPayload::Owned(payload), ack_id, None, bytes)
            }
            None => self.dispatch_through(event, payload, ack_id, (any, middleware), bytes),
        };
        if submitted.is_err() {
            self.overflowed();
        }
    }

    /// [`on_event`](Self::on_event) with `on_any` listeners or middleware.
    fn dispatch_through(
        &self,
        event: String,
        payload: Payload,
        ack_id: Option<u64>,
        (any, middleware): (Option<Arc<[Listener]>>, Option<Middleware>),
        mut bytes: usize,
    ) -> Result<(), Overflow> {
        let payload = Arc::new(payload);
        let sent = ack_id.map(|_| Arc::new(AtomicBool::new(false)));
        if any.is_some() {
            for listener in self.snapshot(None).iter() {
                let parts = EventParts {
                    socket: self.clone(),
                    event: event.clone(),
                    payload: EventPayload::Shared(payload.clone()),
                    ack_id,
                    ack_sent: sent.clone(),
                };
                self.submit(listener.handler.clone(), parts, std::mem::take(&mut bytes))?;
            }
        }
        let Some(middleware) = middleware else {
            return self.dispatch(event, EventPayload::Shared(payload), ack_id, sent, bytes);
        };
        let socket = self.clone();
        let chain: Call = Box::new(move || {
            Some(Box::pin(async move {
                for mw in middleware.iter() {
                    let parts = EventParts {
                        socket: socket.clone(),
                        event: event.clone(),
                        payload: EventPayload::Shared(payload.clone()),
                        ack_id: None,
                        ack_sent: None,
                    };
                    let verdict = match mw.call(parts) {
                        Ok(future) => future.await,
                        Err(err) => Err(EventError::new(err.0)),
                    };
                    if let Err(err) = verdict {
                        tracing::debug!(sid = %socket.0.id, event, %err, "event refused by a socket middleware");
                        let unanswered =
                            sent.as_ref().is_some_and(|s| !s.swap(true, Ordering::AcqRel));
                        if let (Some(id), true) = (ack_id, unanswered) {
                            let _ = socket.send_ack(id, err.to_payload());
                        }
                        return;
                    }
                }
                if !socket.connected() {
                    return;
                }
                let payload = EventPayload::Shared(payload);
                if socket.dispatch(event, payload, ack_id, sent, 0).is_err() {
                    socket.overflowed();
                }
            }) as crate::handler::BoxFuture)
        });
        self.0.running.submit(chain, bytes)
    }

    /// Submits a call of each listener of `event`: with the arguments moved in when there is
    /// one, shared otherwise (and then the acknowledgement too).
    fn dispatch(
        &self,
        event: String,
        payload: EventPayload,
        ack_id: Option<u64>,
        sent: Option<Arc<AtomicBool>>,
        bytes: usize,
    ) -> Result<(), Overflow> {
        let mut listeners = self.snapshot(Some(&event));
        if listeners.is_empty() {
            if let Some(fallback) = read(&self.0.handlers).fallback.clone() {
                listeners = fallback;
            }
        }
        match &*listeners {
            [] => {
                tracing::trace!(sid = %self.0.id, event, "no listener for event");
                Ok(())
            }
            [only] => {
                let parts =
                    EventParts { socket: self.clone(), event, payload, ack_id, ack_sent: sent };
                self.submit(only.handler.clone(), parts, bytes)
            }
            many => {
                let payload = payload.into_shared();
                let sent = sent.or_else(|| ack_id.map(|_| Arc::new(AtomicBool::new(false))));
                let mut bytes = bytes;
                for listener in many {
                    let parts = EventParts {
                        socket: self.clone(),
                        event: event.clone(),
                        payload: EventPayload::Shared(payload.clone()),
                        ack_id,
                        ack_sent: sent.clone(),
                    };
                    self.submit(listener.handler.clone(), parts, std::mem::take(&mut bytes))?;
                }
                Ok(())
            }
        }
    }

    /// The listeners of `event` (of every event for `None`) to call now. Once-listeners among
    /// them are removed first, under the write lock, so each runs once.
    fn snapshot(&self, event: Option<&str>) -> Arc<[Listener]> {
        let current = {
            let handlers = read(&self.0.handlers);
            match event {
                Some(event) => handlers.by_event.get(event).cloned(),
                None => handlers.any.clone(),
            }
        };
        if !has_once(current.as_ref()) {
            return current.unwrap_or_else(|| Arc::new([]));
        }
        let mut handlers = write(&self.0.handlers);
        let slot = match event {
            Some(event) => handlers.by_event.get_mut(event).map(|list| {
                let all = list.clone();
                (all, without_once(list))
            }),
            None => handlers.any.as_ref().map(|list| (list.clone(), without_once(list))),
        };
        let Some((all, kept)) = slot else { return Arc::new([]) };
        match (event, kept) {
            (Some(event), Some(kept)) => {
                handlers.by_event.insert(event.to_owned(), kept);
            }
            (Some(event), None) => {
                handlers.by_event.remove(event);
            }
            (None, kept) => handlers.any = kept,
        }
        all
    }

    /// The client sends events faster than its handlers finish: its connection closes.
    fn overflowed(&self) {
        tracing::warn!(
            sid = %self.0.id,
            ns = %self.0.ns.path,
            "the client sends events faster than its handlers finish and its backlog is full; closing the connection"
        );
        self.0.engine.close();
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

    /// Leaves the namespace once: runs the disconnecting handlers (still in its rooms), then
    /// unregisters, drops pending acks and listeners (which may hold clones of this socket),
    /// then runs the disconnect handlers.
    pub(crate) fn close(&self, reason: DisconnectReason) {
        if !self.0.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        let disconnecting = std::mem::take(&mut *lock(&self.0.disconnecting_handlers));
        self.run_disconnect_handlers(disconnecting, reason);
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
        let observed = ns.observer.get().map(|observer| (observer, self.rooms()));
        ns.sockets.remove(&self.0.id);
        ns.adapter.remove_socket(&self.0.id);
        if let Some((observer, rooms)) = observed {
            observer.disconnected(self, reason, &rooms);
        }
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
        let disconnect = std::mem::take(&mut *lock(&self.0.disconnect_handlers));
        self.run_disconnect_handlers(disconnect, reason);
    }

    /// Runs `handlers` in order, each polled once here and spawned if it awaits.
    fn run_disconnect_handlers(
        &self,
        handlers: Vec<BoxedDisconnectHandler>,
        reason: DisconnectReason,
    ) {
        for handler in handlers {
            match handler.call(self, reason) {
                Ok(future) => run_inline(future),
                Err(err) => {
                    tracing::debug!(sid = %self.0.id, %err, "disconnect handler not called")
                }
            }
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

/// Emit options for one socket, chained from [`Socket::timeout`] or [`Socket::volatile`]:
/// an acknowledgement timeout, and whether events may be dropped.
///
/// ```
/// use std::time::Duration;
/// use ferrio::Socket;
///
/// async fn ask(socket: &Socket) {
///     let _ = socket.volatile().emit("tick", &1);
///     let name = socket.timeout(Duration::from_secs(2)).emit_with_ack::<String>("name?", &()).await;
///     println!("{name:?}");
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SocketOperators<'a> {
    socket: &'a Socket,
    timeout: Option<Duration>,
    volatile: bool,
}

/// The former name of [`SocketOperators`].
pub type SocketWithTimeout<'a> = SocketOperators<'a>;

impl SocketOperators<'_> {
    /// Waits at most `timeout` for acknowledgements.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Events may be dropped (see [`Socket::volatile`]).
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Emits `event` (see [`Socket::emit`]); a volatile one is dropped, without an error,
    /// when the client is not ready to take it.
    pub fn emit(&self, event: &str, data: impl IntoPayload) -> Result<(), SendError> {
        self.socket.emit_as(event, data, self.volatile)
    }

    /// Emits `event` and waits for the acknowledgement at most the chosen timeout (else the
    /// configured one). An event whose reply is awaited is always sent: `volatile` does not
    /// apply to it.
    pub fn emit_with_ack<T>(
        &self,
        event: &str,
        data: impl IntoPayload,
    ) -> impl Future<Output = Result<T, AckError>> + Send + 'static
    where
        T: crate::payload::FromPayload + Send + 'static,
    {
        let timeout = self.timeout.unwrap_or(self.socket.0.ns.config.ack_timeout);
        self.socket.emit_with_ack_timeout(event, data, timeout)
    }
}
