//! [`FerrioBuilder`]: every setting of a Socket.IO server, and the layer and [`Io`] handle it
//! builds.

use std::sync::Arc;
use std::time::Duration;

use ferrio_protocol::socket::Limits;

use crate::adapter::{Adapter, LocalAdapter};
use crate::client::SocketIoHandler;
use crate::config::SioConfig;
use crate::engine::{
    Cors, EngineConfig, EngineConfigBuilder, EngineIo, EngineLayer, TransportKind,
};
use crate::namespace::{AdapterFactory, Registry};
use crate::Io;

/// The tower layer serving Socket.IO; add it to an axum router with `.layer(layer)`.
pub type FerrioLayer = EngineLayer;

/// Entry point of the Socket.IO server.
#[derive(Debug, Clone, Copy)]
pub struct Ferrio;

impl Ferrio {
    /// A builder with the defaults of Socket.IO: path `/socket.io/`, ping every 25 s with 20 s
    /// to answer, 1 MB payloads, 45 s to join a namespace, acks awaited 5 s.
    pub fn builder() -> FerrioBuilder {
        FerrioBuilder {
            engine: EngineConfig::builder().path("/socket.io/").serve_client(true),
            connect_timeout: Duration::from_secs(45),
            ack_timeout: Duration::from_secs(5),
            max_attachments: Limits::default().max_attachments,
            state: http::Extensions::new(),
            adapter: Arc::new(|| Arc::new(LocalAdapter::new())),
            recovery: None,
            max_concurrent_handlers: 64,
            handler_backlog: (1024, 16 << 20),
            cleanup_empty_children: true,
            max_namespace_len: 256,
            node_directory: None,
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
    engine: EngineConfigBuilder,
    connect_timeout: Duration,
    ack_timeout: Duration,
    max_attachments: usize,
    state: http::Extensions,
    adapter: AdapterFactory,
    recovery: Option<Duration>,
    max_concurrent_handlers: usize,
    handler_backlog: (usize, usize),
    cleanup_empty_children: bool,
    max_namespace_len: usize,
    /// Set by [`cluster`](FerrioBuilder::cluster); applied at build time so that a later
    /// [`engine_config`](FerrioBuilder::engine_config) does not drop it.
    node_directory: Option<Arc<dyn crate::engine::NodeDirectory>>,
}

impl std::fmt::Debug for FerrioBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FerrioBuilder")
            .field("engine", &self.engine)
            .field("connect_timeout", &self.connect_timeout)
            .field("ack_timeout", &self.ack_timeout)
            .field("max_attachments", &self.max_attachments)
            .field("max_concurrent_handlers", &self.max_concurrent_handlers)
            .field("handler_backlog", &self.handler_backlog)
            .field("cleanup_empty_children", &self.cleanup_empty_children)
            .field("max_namespace_len", &self.max_namespace_len)
            .finish_non_exhaustive()
    }
}

impl FerrioBuilder {
    /// Replaces the whole engine configuration (its path included), for settings this builder
    /// does not forward.
    pub fn engine_config(mut self, config: impl Into<EngineConfig>) -> Self {
        self.engine = config.into().to_builder();
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

    /// Lets Socket.IO v2 clients (`socket.io-client` 2.x, Engine.IO v3) connect, as Node's
    /// `allowEIO3`. Off by default. Their sockets are named after the Engine.IO session
    /// (`/admin#<sid>` outside `/`), join `/` on their own, send their auth as the
    /// namespace's query, and cannot use connection state recovery (the v2 protocol has no
    /// private id). See [`EngineConfigBuilder::allow_eio3`].
    pub fn allow_eio3(mut self, allow: bool) -> Self {
        self.engine = self.engine.allow_eio3(allow);
        self
    }

    /// Closes a connection whose outbound queue is full instead of only failing the send (see
    /// [`EngineConfigBuilder::close_on_queue_full`]): with [connection state
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

    /// A hook that may refuse handshakes (403, code 4) before any session exists, as
    /// Socket.IO's `allowRequest`: it reads what it needs from the request (headers, cookies,
    /// extensions a layer in front inserted) and returns a future, which may await. See
    /// [`EngineConfigBuilder::allow_request`].
    ///
    /// ```
    /// use ferrio::Ferrio;
    ///
    /// # async fn origin_is_known(_: Option<String>) -> bool { true }
    /// let (_layer, _io) = Ferrio::builder()
    ///     .allow_request(|parts| {
    ///         let origin = parts.headers.get("origin").and_then(|v| v.to_str().ok()).map(str::to_owned);
    ///         async move { if origin_is_known(origin).await { Ok(()) } else { Err("unknown origin".into()) } }
    ///     })
    ///     .build_layer();
    /// ```
    pub fn allow_request<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
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

    /// Most event handlers of one socket running at once. Default 64.
    ///
    /// A handler that finishes without awaiting runs at once on the connection's task (so
    /// replies keep the order of requests) and gives its slot back at once; one that awaits
    /// keeps its slot until it finishes. When every slot of a socket is taken, its next events
    /// wait, in order, in a backlog (see [`handler_backlog`](Self::handler_backlog)) and
    /// start as slots free up: none is dropped, and neither the socket's acknowledgements nor
    /// the connection's other namespaces wait behind them. A client that keeps sending while
    /// its backlog is full is disconnected: the whole connection closes (its sockets see
    /// [`DisconnectReason::ForcedClose`](crate::DisconnectReason::ForcedClose)). So a client
    /// never makes the server hold more than this many of its handlers, plus a bounded
    /// backlog, per socket.
    ///
    /// A handler that runs for the socket's whole life (a subscription loop, say) holds its
    /// slot all along: spawn such loops with `tokio::spawn` instead. A handler that waits for
    /// another event of the same socket may wait in vain while every slot is taken.
    /// Values below 1 count as 1.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ferrio::extract::Data;
    /// use ferrio::{Ferrio, Socket};
    ///
    /// let (_layer, io) = Ferrio::builder()
    ///     .max_concurrent_handlers(16)
    ///     .handler_backlog(256, 1 << 20)
    ///     .build_layer();
    /// io.ns("/", |socket: Socket| async move {
    ///     // At most 16 of one client's `slow` events wait on the timer at once.
    ///     socket.on("slow", |Data(ms): Data<u64>| async move {
    ///         tokio::time::sleep(Duration::from_millis(ms.min(1_000))).await;
    ///     });
    /// });
    /// ```
    pub fn max_concurrent_handlers(mut self, n: usize) -> Self {
        self.max_concurrent_handlers = n;
        self
    }

    /// Bounds of the backlog of one socket's events waiting for a handler slot (see
    /// [`max_concurrent_handlers`](Self::max_concurrent_handlers)): at most `max_calls`
    /// handler calls (one per listener: an event with an [`on_any`](crate::Socket::on_any)
    /// listener and one of its own makes two; socket middleware make one) and `max_bytes` of
    /// events as received. An event past either bound closes the
    /// connection; one event alone is always let in. Defaults 1024 calls, 16 MiB.
    pub fn handler_backlog(mut self, max_calls: usize, max_bytes: usize) -> Self {
        self.handler_backlog = (max_calls, max_bytes);
        self
    }

    /// Whether a child of a dynamic namespace (see [`Io::dyn_ns`]) is removed, with its rooms
    /// and its recovery state, when its last socket leaves, as Socket.IO's
    /// `cleanupEmptyChildNamespaces`. Default on: children then exist only while sockets use
    /// them, however many paths clients try. Off, a child stays once a socket joined it.
    ///
    /// Either way a child is made only once the middleware let a socket in: connects the
    /// middleware refused leave nothing behind. With [connection state
    /// recovery](Self::connection_state_recovery), a socket kept for its client's return keeps
    /// its child until it is recovered or its window passes; a [`NamespaceRef`] to a child
    /// removed meanwhile reaches no socket (the next client to connect makes a new child).
    ///
    /// ```
    /// use ferrio::{Ferrio, Socket};
    ///
    /// let (_layer, io) = Ferrio::builder().cleanup_empty_child_namespaces(false).build_layer();
    /// io.dyn_ns("/rooms/{id}", |socket: Socket| async move {
    ///     let _ = socket.emit("joined", socket.ns());
    /// });
    /// ```
    ///
    /// [`NamespaceRef`]: crate::NamespaceRef
    pub fn cleanup_empty_child_namespaces(mut self, cleanup: bool) -> Self {
        self.cleanup_empty_children = cleanup;
        self
    }

    /// Longest namespace name a client may connect to, in bytes, its leading `/` included.
    /// Default 256.
    ///
    /// A CONNECT naming a longer one closes the connection (as an invalid packet does) instead
    /// of getting a CONNECT_ERROR: the reply would have to echo the whole name back, as the
    /// reference server does for any unknown namespace. Names within the limit are answered
    /// as Socket.IO does. Keep the limit above the names of the application's namespaces,
    /// dynamic children included: a client cannot join a longer one.
    ///
    /// ```
    /// use ferrio::Ferrio;
    ///
    /// let (_layer, io) = Ferrio::builder().max_namespace_len(64).build_layer();
    /// io.ns("/chat", || async {});
    /// ```
    pub fn max_namespace_len(mut self, bytes: usize) -> Self {
        self.max_namespace_len = bytes;
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

    /// Joins a Redis cluster (cargo feature `redis`): every namespace gets a
    /// [`RedisAdapter`](crate::adapter::redis::RedisAdapter), and the engine tags its
    /// session ids with this node's id and forwards requests for other nodes' sessions to
    /// them (addresses from the cluster's registry), so no sticky sessions are needed.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use ferrio::adapter::redis::{RedisCluster, RedisConfig};
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// let cluster = RedisCluster::connect(RedisConfig::new("redis://127.0.0.1/", listener.local_addr()?)).await?;
    /// let (layer, io) = ferrio::Ferrio::builder().cluster(&cluster).build_layer();
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "redis")]
    pub fn cluster(mut self, cluster: &crate::adapter::redis::RedisCluster) -> Self {
        self.node_directory = Some(Arc::new(cluster.clone()));
        let cluster = cluster.clone();
        self.adapter = Arc::new(move || Arc::new(cluster.adapter()));
        self
    }

    /// Builds the tower layer to mount and the [`Io`] handle. Configuration values out of
    /// range are brought into it (see [`EngineConfigBuilder::build`]).
    pub fn build_layer(self) -> (FerrioLayer, Io) {
        let engine = match self.node_directory {
            Some(directory) => self.engine.node_directory(directory).build(),
            None => self.engine.build(),
        };
        let mut limits = Limits::default();
        limits.max_attachments = self.max_attachments;
        limits.max_packet_len = engine.max_payload();
        let config = SioConfig {
            connect_timeout: self.connect_timeout,
            ack_timeout: self.ack_timeout,
            limits,
            recovery: self.recovery,
            max_concurrent_handlers: self.max_concurrent_handlers,
            handler_backlog: self.handler_backlog,
            cleanup_empty_children: self.cleanup_empty_children,
            max_namespace_len: self.max_namespace_len.max(1),
        };
        let registry = Registry::new(config, self.state, self.adapter);
        let (layer, engine) =
            EngineIo::with_handler(engine, Arc::new(SocketIoHandler(registry.clone())));
        let _ = registry.engine.set(engine.clone());
        let io = Io::new(registry, engine);
        io.ns("/", || async {});
        (layer, io)
    }
}
