//! The entry point: [`Ferrio::builder`] makes the tower layer and the [`Io`] handle through
//! which the application registers namespaces and reaches sockets from anywhere.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ferrio_protocol::socket::Limits;

use crate::adapter::{Adapter, BroadcastOptions, LocalAdapter};
use crate::client::SocketIoHandler;
use crate::config::EngineConfig;
use crate::engine::{EngineIo, TransportKind};
use crate::handler::{boxed_connect, boxed_middleware, ConnectHandler, ConnectMiddleware};
use crate::namespace::{Namespace, NamespaceRef, NsHandlers, SioConfig};
use crate::operators::BroadcastOperators;
use crate::poison::{read, write};
use crate::recovery::Recovery;
use crate::service::cors::Cors;
use crate::EngineLayer;

/// The tower layer serving Socket.IO; add it to an axum router with `.layer(layer)`.
pub type FerrioLayer = EngineLayer;

type AdapterFactory = Arc<dyn Fn() -> Arc<dyn Adapter> + Send + Sync>;

/// Entry point of the Socket.IO server.
#[derive(Debug, Clone, Copy)]
pub struct Ferrio;

impl Ferrio {
    /// A builder with the defaults of Socket.IO: path `/socket.io/`, ping every 25 s with 20 s
    /// to answer, 1 MB payloads, 45 s to join a namespace, acks awaited 5 s.
    pub fn builder() -> FerrioBuilder {
        FerrioBuilder {
            engine: EngineConfig::default().path("/socket.io/").serve_client(true),
            connect_timeout: Duration::from_secs(45),
            ack_timeout: Duration::from_secs(5),
            max_attachments: Limits::default().max_attachments,
            state: http::Extensions::new(),
            adapter: Arc::new(|| Arc::new(LocalAdapter::new())),
            recovery: None,
        }
    }
}

/// Configures the server; every method documents its default.
///
/// ```
/// use std::time::Duration;
/// use ferrio::{Cors, Ferrio, Socket};
///
/// let (layer, io) = Ferrio::builder()
///     .ping_interval(Duration::from_secs(10))
///     .cors(Cors::any())
///     .build_layer();
/// io.ns("/", |socket: Socket| async move {
///     let _ = socket.emit("hello", &"world");
/// });
/// let app: axum::Router = axum::Router::new().layer(layer);
/// ```
#[must_use = "call build_layer() to get the layer and the Io handle"]
pub struct FerrioBuilder {
    engine: EngineConfig,
    connect_timeout: Duration,
    ack_timeout: Duration,
    max_attachments: usize,
    state: http::Extensions,
    adapter: AdapterFactory,
    recovery: Option<Duration>,
}

impl std::fmt::Debug for FerrioBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FerrioBuilder")
            .field("engine", &self.engine)
            .field("connect_timeout", &self.connect_timeout)
            .field("ack_timeout", &self.ack_timeout)
            .field("max_attachments", &self.max_attachments)
            .finish_non_exhaustive()
    }
}

impl FerrioBuilder {
    /// Replaces the whole engine configuration (its path included).
    pub fn engine_config(mut self, config: EngineConfig) -> Self {
        self.engine = config;
        self
    }

    /// Mount path. Default `/socket.io/`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.engine = self.engine.path(path);
        self
    }

    /// Time between pings. Default 25 s.
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.engine = self.engine.ping_interval(d);
        self
    }

    /// Time allowed to answer a ping. Default 20 s.
    pub fn ping_timeout(mut self, d: Duration) -> Self {
        self.engine = self.engine.ping_timeout(d);
        self
    }

    /// Time allowed for a transport upgrade. Default 10 s.
    pub fn upgrade_timeout(mut self, d: Duration) -> Self {
        self.engine = self.engine.upgrade_timeout(d);
        self
    }

    /// Largest message or POST body, in bytes. Default 1 MB.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.engine = self.engine.max_payload(bytes);
        self
    }

    /// Whether to serve the browser client at `{path}ferrio.js`. Default on.
    pub fn serve_client(mut self, serve: bool) -> Self {
        self.engine = self.engine.serve_client(serve);
        self
    }

    /// Enabled transports. Default polling, websocket and streaming.
    pub fn transports(mut self, transports: impl IntoIterator<Item = TransportKind>) -> Self {
        self.engine = self.engine.transports(transports);
        self
    }

    /// Cross-origin policy (also checked on WebSocket upgrades). Off by default.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.engine = self.engine.cors(cors);
        self
    }

    /// Closes a connection whose outbound queue is full instead of only failing the send (see
    /// [`EngineConfig::close_on_queue_full`]): with [connection state
    /// recovery](Self::connection_state_recovery), a slow client then misses nothing. Default
    /// off.
    pub fn close_on_queue_full(mut self, close: bool) -> Self {
        self.engine = self.engine.close_on_queue_full(close);
        self
    }

    /// Bounds of each connection's outbound queue. Defaults 4096 packets, 16 MiB.
    pub fn queue_bounds(mut self, max_packets: usize, max_bytes: usize) -> Self {
        self.engine = self.engine.queue_bounds(max_packets, max_bytes);
        self
    }

    /// A hook that may refuse handshakes (403, code 4).
    pub fn allow_request<F>(mut self, hook: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Result<(), String> + Send + Sync + 'static,
    {
        self.engine = self.engine.allow_request(hook);
        self
    }

    /// Time a new connection has to join a namespace before it is closed. Default 45 s.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Default time to wait for an acknowledgement. Default 5 s.
    pub fn ack_timeout(mut self, d: Duration) -> Self {
        self.ack_timeout = d;
        self
    }

    /// Most binary attachments accepted in one packet. Default 10.
    pub fn max_attachments(mut self, n: usize) -> Self {
        self.max_attachments = n;
        self
    }

    /// Turns on connection state recovery (off by default), as Socket.IO's
    /// `connectionStateRecovery`: a client whose connection failed and that comes back within
    /// `max_disconnection` gets its socket back — same id, rooms and extensions, middleware
    /// skipped, [`Socket::recovered`](crate::Socket::recovered) true — and every event sent to
    /// it meanwhile. Each event then carries its offset as a last, extra argument, and the
    /// events of the last `max_disconnection` are kept in memory. Works with the official
    /// `socket.io-client` and with ferrio's client.
    pub fn connection_state_recovery(mut self, max_disconnection: Duration) -> Self {
        self.recovery = Some(max_disconnection);
        self
    }

    /// Application state handlers read with [`State<T>`](crate::extract::State); one value per
    /// type.
    pub fn with_state<T: Clone + Send + Sync + 'static>(mut self, state: T) -> Self {
        self.state.insert(state);
        self
    }

    /// The room adapter: `factory` makes one per namespace. Default [`LocalAdapter`].
    pub fn adapter<A, F>(mut self, factory: F) -> Self
    where
        A: Adapter,
        F: Fn() -> A + Send + Sync + 'static,
    {
        self.adapter = Arc::new(move || Arc::new(factory()));
        self
    }

    /// Builds the tower layer to mount and the [`Io`] handle.
    pub fn build_layer(self) -> (FerrioLayer, Io) {
        let mut limits = Limits::default();
        limits.max_attachments = self.max_attachments;
        limits.max_packet_len = self.engine.max_payload;
        let inner = Arc::new(IoInner {
            config: Arc::new(SioConfig {
                connect_timeout: self.connect_timeout,
                ack_timeout: self.ack_timeout,
                limits,
                recovery: self.recovery,
            }),
            state: Arc::new(self.state),
            namespaces: RwLock::new(HashMap::new()),
            dynamic: RwLock::new(Vec::new()),
            adapter: self.adapter,
            engine: std::sync::OnceLock::new(),
        });
        let (layer, engine) =
            EngineIo::with_handler(self.engine, Arc::new(SocketIoHandler(inner.clone())));
        let _ = inner.engine.set(engine);
        let io = Io(inner);
        io.ns("/", || async {});
        (layer, io)
    }
}

/// Matches the paths of a dynamic namespace.
enum Matcher {
    /// Segments; `{name}` matches any one non-empty segment.
    Pattern(Vec<String>),
    Predicate(Box<dyn Fn(&str) -> bool + Send + Sync>),
}

impl Matcher {
    fn matches(&self, path: &str) -> bool {
        match self {
            Matcher::Pattern(segments) => {
                let parts: Vec<&str> = path.split('/').collect();
                parts.len() == segments.len()
                    && segments.iter().zip(parts).all(|(seg, part)| {
                        if seg.starts_with('{') && seg.ends_with('}') {
                            !part.is_empty()
                        } else {
                            seg == part
                        }
                    })
            }
            Matcher::Predicate(f) => f(path),
        }
    }
}

pub(crate) struct IoInner {
    pub(crate) config: Arc<SioConfig>,
    state: Arc<http::Extensions>,
    namespaces: RwLock<HashMap<String, Arc<Namespace>>>,
    dynamic: RwLock<Vec<(Matcher, Arc<NsHandlers>)>>,
    adapter: AdapterFactory,
    engine: std::sync::OnceLock<EngineIo>,
}

impl IoInner {
    fn new_namespace(&self, path: &str, handlers: Arc<NsHandlers>) -> Arc<Namespace> {
        Arc::new(Namespace {
            path: path.to_owned(),
            sockets: dashmap::DashMap::new(),
            adapter: (self.adapter)(),
            handlers,
            config: self.config.clone(),
            state: self.state.clone(),
            recovery: self.config.recovery.map(Recovery::new),
        })
    }

    /// The namespace a CONNECT for `path` joins: a registered one, or a new child of the first
    /// dynamic namespace that matches.
    pub(crate) fn namespace(&self, path: &str) -> Option<Arc<Namespace>> {
        if let Some(ns) = read(&self.namespaces).get(path) {
            return Some(ns.clone());
        }
        let handlers = {
            let dynamic = read(&self.dynamic);
            dynamic.iter().find(|(m, _)| m.matches(path)).map(|(_, h)| h.clone())?
        };
        let mut namespaces = write(&self.namespaces);
        let ns =
            namespaces.entry(path.to_owned()).or_insert_with(|| self.new_namespace(path, handlers));
        Some(ns.clone())
    }
}

/// The handle on a running Socket.IO server: register namespaces, and emit, list or move
/// sockets from anywhere in Rust code. Cheap to clone.
///
/// Operators called on `Io` itself act on the main namespace `/`.
#[derive(Clone)]
pub struct Io(Arc<IoInner>);

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = read(&self.0.namespaces).keys().cloned().collect();
        f.debug_struct("Io").field("namespaces", &names).finish_non_exhaustive()
    }
}

fn normalize(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

impl Io {
    /// Registers namespace `path`: `handler` runs for each socket that joins it. Registering a
    /// path again replaces its handler for new connections.
    pub fn ns<H, T>(&self, path: &str, handler: H) -> NamespaceRef
    where
        H: ConnectHandler<T>,
        T: 'static,
    {
        let path = normalize(path);
        let handlers = Arc::new(NsHandlers {
            connect: boxed_connect(handler),
            middlewares: RwLock::new(Vec::new()),
        });
        let ns = self.0.new_namespace(&path, handlers);
        write(&self.0.namespaces).insert(path, ns.clone());
        NamespaceRef(ns)
    }

    /// Registers a dynamic namespace: every path matching `pattern` (segments, where `{name}`
    /// stands for any one segment, e.g. `/rooms/{id}`) becomes a namespace with this handler
    /// when a client first connects to it.
    pub fn dyn_ns<H, T>(&self, pattern: &str, handler: H) -> DynNamespace
    where
        H: ConnectHandler<T>,
        T: 'static,
    {
        let segments = normalize(pattern).split('/').map(str::to_owned).collect();
        self.add_dynamic(Matcher::Pattern(segments), boxed_connect(handler))
    }

    /// Registers a dynamic namespace whose paths are those for which `predicate` is true.
    pub fn dyn_ns_fn<P, H, T>(&self, predicate: P, handler: H) -> DynNamespace
    where
        P: Fn(&str) -> bool + Send + Sync + 'static,
        H: ConnectHandler<T>,
        T: 'static,
    {
        self.add_dynamic(Matcher::Predicate(Box::new(predicate)), boxed_connect(handler))
    }

    fn add_dynamic(
        &self,
        matcher: Matcher,
        connect: crate::handler::BoxedConnectHandler,
    ) -> DynNamespace {
        let handlers = Arc::new(NsHandlers { connect, middlewares: RwLock::new(Vec::new()) });
        write(&self.0.dynamic).push((matcher, handlers.clone()));
        DynNamespace(handlers)
    }

    /// The namespace at `path`, if it exists (registered, or a dynamic child already joined).
    pub fn of(&self, path: &str) -> Option<NamespaceRef> {
        read(&self.0.namespaces).get(&normalize(path)).cloned().map(NamespaceRef)
    }

    /// Paths of the existing namespaces.
    pub fn namespaces(&self) -> Vec<String> {
        read(&self.0.namespaces).keys().cloned().collect()
    }

    /// The Engine.IO layer underneath: session counts, raw sessions.
    pub fn engine(&self) -> Option<&EngineIo> {
        self.0.engine.get()
    }

    /// Shuts the server down: every socket of every namespace disconnects (its disconnect
    /// handler sees [`DisconnectReason::ServerShutdown`](crate::DisconnectReason)), then every
    /// Engine.IO session closes (see [`EngineIo::close`]). Clients see `transport close` and
    /// reconnect: to another node, in a rolling deploy. Call it when axum's graceful shutdown
    /// begins, which otherwise waits for long-polls and streams that do not end by themselves:
    ///
    /// ```
    /// use ferrio::{Ferrio, Socket};
    ///
    /// # async fn serve(signal: tokio::sync::oneshot::Receiver<()>) -> std::io::Result<()> {
    /// let (layer, io) = Ferrio::builder().build_layer();
    /// io.ns("/", |_socket: Socket| async {});
    /// let app = axum::Router::new().layer(layer);
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// axum::serve(listener, app)
    ///     .with_graceful_shutdown(async move {
    ///         let _ = signal.await; // Ctrl-C, SIGTERM…
    ///         io.close();
    ///     })
    ///     .await
    /// # }
    /// ```
    pub fn close(&self) {
        let namespaces: Vec<Arc<Namespace>> = read(&self.0.namespaces).values().cloned().collect();
        for ns in namespaces {
            let sockets: Vec<crate::Socket> =
                ns.sockets.iter().map(|s| s.value().clone()).collect();
            for socket in sockets {
                socket.close(crate::DisconnectReason::ServerShutdown);
            }
        }
        if let Some(engine) = self.engine() {
            engine.close();
        }
    }

    fn operators(&self) -> BroadcastOperators {
        let ns = self.0.namespace("/").unwrap_or_else(|| {
            self.0.new_namespace(
                "/",
                Arc::new(NsHandlers {
                    connect: boxed_connect(|| async {}),
                    middlewares: RwLock::new(Vec::new()),
                }),
            )
        });
        BroadcastOperators::new(ns, BroadcastOptions::default())
    }
}

crate::operators::delegate_operators!(Io);

/// A handle on a dynamic namespace, to add middleware shared by all its children.
#[derive(Clone)]
pub struct DynNamespace(Arc<NsHandlers>);

impl std::fmt::Debug for DynNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynNamespace").finish_non_exhaustive()
    }
}

impl DynNamespace {
    /// Adds a connect middleware to every child namespace (see [`NamespaceRef::middleware`]).
    pub fn middleware<M, T>(&self, middleware: M) -> &Self
    where
        M: ConnectMiddleware<T>,
        T: 'static,
    {
        write(&self.0.middlewares).push(boxed_middleware(middleware));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::Matcher;

    #[test]
    fn patterns_match_whole_segments() {
        let m = Matcher::Pattern("/rooms/{id}".split('/').map(str::to_owned).collect());
        assert!(m.matches("/rooms/42"));
        assert!(!m.matches("/rooms/"));
        assert!(!m.matches("/rooms/42/x"));
        assert!(!m.matches("/other/42"));
    }
}
