//! Engine configuration: every knob with its default, set on a builder by value and checked
//! once, when the builder builds.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::cluster::NodeDirectory;
use super::http::cors::Cors;
use super::transport_kind::TransportKind;

/// Decides whether a handshake request may open a session (see
/// [`EngineConfigBuilder::allow_request`]). Its future resolving to `Err(message)` answers
/// `403 {"code":4,"message":"Forbidden"}`; `message` is only logged.
pub type AllowRequest = Arc<
    dyn Fn(&http::request::Parts) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
        + Send
        + Sync,
>;

/// Shortest heartbeat, timeout or upgrade duration accepted; shorter ones are raised to it.
const MIN_DURATION: Duration = Duration::from_millis(1);
/// Longest heartbeat, timeout or upgrade duration accepted; longer ones are lowered to it, so
/// a deadline computed from one can never overflow the clock.
const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);
/// Smallest `max_payload`: room for the open packet and a short message.
const MIN_PAYLOAD: usize = 1024;
/// Smallest byte bound of a session's outbound queue.
const MIN_QUEUE_BYTES: usize = 1024;
/// Smallest read buffer of a WebSocket connection.
const MIN_WS_READ_BUFFER: usize = 256;

/// Configuration of the Engine.IO layer, as built by [`EngineConfig::builder`]; read it back
/// with the getters.
///
/// ```
/// use std::time::Duration;
/// use ferrio::engine::EngineConfig;
///
/// let config = EngineConfig::builder()
///     .path("/engine.io/")
///     .ping_interval(Duration::from_secs(10))
///     .max_payload(64 * 1024)
///     .build();
/// assert_eq!(config.ping_interval(), Duration::from_secs(10));
/// assert_eq!(config.max_payload(), 64 * 1024);
/// ```
#[derive(Clone)]
pub struct EngineConfig {
    pub(crate) path: String,
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) upgrade_timeout: Duration,
    pub(crate) max_payload: usize,
    pub(crate) max_packets_per_payload: usize,
    pub(crate) queue_max_packets: usize,
    pub(crate) queue_max_bytes: usize,
    pub(crate) close_on_queue_full: bool,
    pub(crate) polling: bool,
    pub(crate) websocket: bool,
    pub(crate) streaming: bool,
    pub(crate) ws_read_buffer_size: usize,
    pub(crate) streaming_budget: usize,
    pub(crate) serve_client: bool,
    pub(crate) serve_socket_io_js: bool,
    pub(crate) cors: Option<Cors>,
    pub(crate) allow_request: Option<AllowRequest>,
    pub(crate) max_sessions: usize,
    pub(crate) max_sessions_per_ip: Option<usize>,
    pub(crate) directory: Option<Arc<dyn NodeDirectory>>,
    pub(crate) allow_eio3: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig::builder().build()
    }
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("path", &self.path)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("upgrade_timeout", &self.upgrade_timeout)
            .field("max_payload", &self.max_payload)
            .field("queue_max_packets", &self.queue_max_packets)
            .field("queue_max_bytes", &self.queue_max_bytes)
            .field("close_on_queue_full", &self.close_on_queue_full)
            .field("transports", &self.transports())
            .field("cors", &self.cors)
            .field("allow_request", &self.allow_request.is_some())
            .field("max_sessions", &self.max_sessions)
            .field("max_sessions_per_ip", &self.max_sessions_per_ip)
            .field("allow_eio3", &self.allow_eio3)
            .field("node_tag", &self.directory.as_ref().map(|d| d.node_tag().to_owned()))
            .finish_non_exhaustive()
    }
}

impl EngineConfig {
    /// A builder holding every default.
    pub fn builder() -> EngineConfigBuilder {
        EngineConfigBuilder {
            config: EngineConfig {
                path: "/engine.io/".into(),
                ping_interval: Duration::from_millis(25_000),
                ping_timeout: Duration::from_millis(20_000),
                upgrade_timeout: Duration::from_millis(10_000),
                max_payload: 1_000_000,
                max_packets_per_payload: 10_000,
                queue_max_packets: 4096,
                queue_max_bytes: 16 << 20,
                close_on_queue_full: false,
                polling: true,
                websocket: true,
                streaming: true,
                ws_read_buffer_size: 4096,
                streaming_budget: 128 * 1024,
                serve_client: false,
                serve_socket_io_js: false,
                cors: None,
                allow_request: None,
                max_sessions: 100_000,
                max_sessions_per_ip: None,
                directory: None,
                allow_eio3: false,
            },
        }
    }

    /// A builder starting from this configuration.
    pub fn to_builder(&self) -> EngineConfigBuilder {
        EngineConfigBuilder { config: self.clone() }
    }

    /// The mount path, always with a leading and a trailing `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Time between the server's pings.
    pub fn ping_interval(&self) -> Duration {
        self.ping_interval
    }

    /// How long the client may take to answer a ping.
    pub fn ping_timeout(&self) -> Duration {
        self.ping_timeout
    }

    /// How long a transport upgrade may take.
    pub fn upgrade_timeout(&self) -> Duration {
        self.upgrade_timeout
    }

    /// Largest POST body or WebSocket message accepted, in bytes.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// The enabled transports, in ladder order from the lowest.
    pub fn transports(&self) -> Vec<TransportKind> {
        [TransportKind::Polling, TransportKind::WebSocket, TransportKind::Streaming]
            .into_iter()
            .filter(|t| self.is_enabled(*t))
            .collect()
    }

    /// Whether the bundled browser client is served under the mount path.
    pub fn serves_client(&self) -> bool {
        self.serve_client
    }

    pub(crate) fn is_enabled(&self, t: TransportKind) -> bool {
        match t {
            TransportKind::Polling => self.polling,
            TransportKind::WebSocket => self.websocket,
            TransportKind::Streaming => self.streaming,
        }
    }
}

/// Sets the [`EngineConfig`] builder-style; [`build`](Self::build) checks the values: those out
/// of range are brought to the nearest accepted one (each setter says which), so no value can
/// make the server panic later.
///
/// ```
/// use std::time::Duration;
/// use ferrio::engine::EngineConfig;
///
/// let config = EngineConfig::builder()
///     .max_payload(0)
///     .ping_interval(Duration::MAX)
///     .build();
/// assert_eq!(config.max_payload(), 1024);
/// assert_eq!(config.ping_interval(), Duration::from_secs(24 * 60 * 60));
/// ```
#[derive(Clone, Debug)]
#[must_use = "call build() to get the configuration"]
pub struct EngineConfigBuilder {
    config: EngineConfig,
}

impl Default for EngineConfigBuilder {
    fn default() -> Self {
        EngineConfig::builder()
    }
}

impl From<EngineConfigBuilder> for EngineConfig {
    fn from(builder: EngineConfigBuilder) -> Self {
        builder.build()
    }
}

impl EngineConfigBuilder {
    /// Mount path the layer answers under. Default `/engine.io/` for a raw engine
    /// (`/socket.io/` when the Socket.IO layer sits on top). A leading and a trailing `/` are
    /// added if missing.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let mut path = path.into();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if !path.ends_with('/') {
            path.push('/');
        }
        self.config.path = path;
        self
    }

    /// Time between the server's pings. Default 25 s; kept between 1 ms and 24 h.
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.config.ping_interval = interval;
        self
    }

    /// How long the client may take to answer a ping before the session closes. Default 20 s;
    /// kept between 1 ms and 24 h.
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.config.ping_timeout = timeout;
        self
    }

    /// How long a transport upgrade may take before it is abandoned (the session stays on its
    /// transport). Default 10 s; kept between 1 ms and 24 h.
    pub fn upgrade_timeout(mut self, timeout: Duration) -> Self {
        self.config.upgrade_timeout = timeout;
        self
    }

    /// Largest POST body or WebSocket message accepted, in bytes; also the batch size of a
    /// polling response. Default 1 MB (1 000 000 bytes), as Engine.IO; at least 1 KiB.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.config.max_payload = bytes;
        self
    }

    /// Most packets accepted in one POST body. Default 10 000; at least 1.
    pub fn max_packets_per_payload(mut self, packets: usize) -> Self {
        self.config.max_packets_per_payload = packets;
        self
    }

    /// Bounds of each session's outbound queue: beyond them a send fails with
    /// [`QueueError::Full`](crate::engine::QueueError::Full). Defaults 4096 packets and
    /// 16 MiB; at least 1 packet and 1 KiB.
    pub fn queue_bounds(mut self, max_packets: usize, max_bytes: usize) -> Self {
        self.config.queue_max_packets = max_packets;
        self.config.queue_max_bytes = max_bytes;
        self
    }

    /// What happens to a slow consumer, a session whose outbound queue is full: with `false`
    /// (the default) the send fails with
    /// [`QueueError::Full`](crate::engine::QueueError::Full) and the session stays, having
    /// missed that message; with `true` the send fails the same way and the session is also
    /// closed (`forced close`), so its client knows: it reconnects, and with connection state
    /// recovery gets what it missed, the message that did not fit included.
    pub fn close_on_queue_full(mut self, close: bool) -> Self {
        self.config.close_on_queue_full = close;
        self
    }

    /// The transports clients may use. Default: all of polling, websocket and streaming.
    pub fn transports(mut self, transports: impl IntoIterator<Item = TransportKind>) -> Self {
        let config = &mut self.config;
        (config.polling, config.websocket, config.streaming) = (false, false, false);
        for t in transports {
            match t {
                TransportKind::Polling => config.polling = true,
                TransportKind::WebSocket => config.websocket = true,
                TransportKind::Streaming => config.streaming = true,
            }
        }
        self
    }

    /// Read buffer of each WebSocket connection, in bytes. Small keeps idle connections cheap;
    /// large helps big messages. Default 4 KiB; at least 256 bytes.
    pub fn ws_read_buffer_size(mut self, bytes: usize) -> Self {
        self.config.ws_read_buffer_size = bytes;
        self
    }

    /// Bytes a `streaming` response carries before the server ends it and the client
    /// re-attaches, so a browser can free what the response buffered. Default 128 KiB; at
    /// least 1.
    pub fn streaming_budget(mut self, bytes: usize) -> Self {
        self.config.streaming_budget = bytes;
        self
    }

    /// Whether to serve the bundled browser client at `{path}ferrio.js` (and the modules it
    /// imports) and the classic script at `{path}ferrio.min.js`. Default off for a raw engine;
    /// the Socket.IO builder turns it on.
    pub fn serve_client(mut self, serve: bool) -> Self {
        self.config.serve_client = serve;
        self
    }

    /// Whether to serve the classic-script client (`{path}ferrio.min.js`, global `io`) at
    /// `{path}socket.io.js` too, for pages written for Socket.IO's
    /// `<script src="/socket.io/socket.io.js">`. Default off; needs
    /// [`serve_client`](Self::serve_client).
    pub fn serve_socket_io_js(mut self, serve: bool) -> Self {
        self.config.serve_socket_io_js = serve;
        self
    }

    /// Cross-origin policy. Off by default. It also guards WebSocket upgrades, which browsers
    /// do not protect with CORS.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.config.cors = Some(cors);
        self
    }

    /// A hook that sees each handshake request and may reject it (403, code 4), as
    /// Engine.IO's `allowRequest`. It reads what it needs from the request at once and returns
    /// a future, which may await (a database, a session store): the handshake waits for it.
    /// Other requests of the session (polls, POSTs, upgrades) are not checked again.
    ///
    /// ```
    /// use ferrio::engine::EngineConfig;
    ///
    /// # async fn session_is_valid(_: Option<String>) -> bool { true }
    /// let config = EngineConfig::builder().allow_request(|parts| {
    ///     let cookie = parts.headers.get("cookie").and_then(|v| v.to_str().ok()).map(str::to_owned);
    ///     async move {
    ///         if session_is_valid(cookie).await {
    ///             Ok(())
    ///         } else {
    ///             Err("no valid session".to_owned())
    ///         }
    ///     }
    /// });
    /// # let _ = config.build();
    /// ```
    pub fn allow_request<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.config.allow_request = Some(Arc::new(move |parts| Box::pin(hook(parts))));
        self
    }

    /// Most sessions open at once; a handshake beyond it is answered `503` with
    /// `{"code":3,"message":"Too many sessions"}` (clients retry with their backoff). Default
    /// 100 000; at least 1.
    pub fn max_sessions(mut self, sessions: usize) -> Self {
        self.config.max_sessions = sessions;
        self
    }

    /// Most sessions open at once from one client address (503 beyond it, as
    /// [`max_sessions`](Self::max_sessions)). Off by default: behind a reverse proxy every
    /// client has the proxy's address. Needs the peer address in the request, which
    /// `ferrio::serve` always gives (with `axum::serve`, use
    /// `into_make_service_with_connect_info::<SocketAddr>()`); at least 1.
    pub fn max_sessions_per_ip(mut self, sessions: usize) -> Self {
        self.config.max_sessions_per_ip = Some(sessions);
        self
    }

    /// Whether Engine.IO v3 clients (Socket.IO v2 clients, `EIO=3`) may connect, as Node's
    /// `allowEIO3`. Off by default: such a handshake is answered
    /// `400 {"code":5,"message":"Unsupported protocol version"}`. They poll (text payloads
    /// with length headers, binary as `b4<base64>`, binary POST bodies too) or use websocket;
    /// the streaming transport stays v4 only; JSONP polling is not served.
    pub fn allow_eio3(mut self, allow: bool) -> Self {
        self.config.allow_eio3 = allow;
        self
    }

    /// Joins a cluster: session ids carry this node's tag, and requests for another node's
    /// session are forwarded to it (see [`NodeDirectory`]). Cluster adapters set it; a tag
    /// that is not [`NODE_TAG_LEN`](super::NODE_TAG_LEN) base64url characters is ignored.
    pub fn node_directory(mut self, directory: Arc<dyn NodeDirectory>) -> Self {
        if super::Sid::is_node_tag(directory.node_tag()) {
            self.config.directory = Some(directory);
        } else {
            tracing::warn!(tag = directory.node_tag(), "not a node tag; the engine runs alone");
        }
        self
    }

    /// The configuration, with every value brought into its accepted range.
    pub fn build(self) -> EngineConfig {
        let mut c = self.config;
        let clamp = |d: Duration| d.clamp(MIN_DURATION, MAX_DURATION);
        c.ping_interval = clamp(c.ping_interval);
        c.ping_timeout = clamp(c.ping_timeout);
        c.upgrade_timeout = clamp(c.upgrade_timeout);
        c.max_payload = c.max_payload.max(MIN_PAYLOAD);
        c.max_packets_per_payload = c.max_packets_per_payload.max(1);
        c.queue_max_packets = c.queue_max_packets.max(1);
        c.queue_max_bytes = c.queue_max_bytes.max(MIN_QUEUE_BYTES);
        c.ws_read_buffer_size = c.ws_read_buffer_size.max(MIN_WS_READ_BUFFER);
        c.streaming_budget = c.streaming_budget.max(1);
        c.max_sessions = c.max_sessions.max(1);
        c.max_sessions_per_ip = c.max_sessions_per_ip.map(|n| n.max(1));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_values_are_brought_into_range() {
        let c = EngineConfig::builder()
            .max_payload(0)
            .max_packets_per_payload(0)
            .queue_bounds(0, 0)
            .ping_interval(Duration::MAX)
            .ping_timeout(Duration::ZERO)
            .upgrade_timeout(Duration::MAX)
            .ws_read_buffer_size(0)
            .streaming_budget(0)
            .build();
        assert_eq!(c.max_payload, MIN_PAYLOAD);
        assert_eq!(c.max_packets_per_payload, 1);
        assert_eq!((c.queue_max_packets, c.queue_max_bytes), (1, MIN_QUEUE_BYTES));
        assert_eq!(c.ping_interval, MAX_DURATION);
        assert_eq!(c.ping_timeout, MIN_DURATION);
        assert_eq!(c.upgrade_timeout, MAX_DURATION);
        assert_eq!(c.ws_read_buffer_size, MIN_WS_READ_BUFFER);
        assert_eq!(c.streaming_budget, 1);
    }

    #[test]
    fn paths_get_their_slashes() {
        assert_eq!(EngineConfig::builder().path("io").build().path(), "/io/");
        assert_eq!(EngineConfig::builder().path("/io/").build().path(), "/io/");
    }

    #[test]
    fn transports_are_listed_in_ladder_order() {
        let c = EngineConfig::builder()
            .transports([TransportKind::Streaming, TransportKind::Polling])
            .build();
        assert_eq!(c.transports(), vec![TransportKind::Polling, TransportKind::Streaming]);
        assert!(!c.is_enabled(TransportKind::WebSocket));
    }
}
