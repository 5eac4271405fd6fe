//! Engine configuration: every knob with its default, set builder-style by value.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::TransportKind;
use crate::service::cors::Cors;

/// Decides whether a handshake request may open a session. Returning `Err(message)` answers
/// `403 {"code":4,"message":"Forbidden"}`; `message` is only logged.
pub type AllowRequest = Arc<dyn Fn(&http::request::Parts) -> Result<(), String> + Send + Sync>;

/// Configuration of the Engine.IO layer.
///
/// ```
/// use std::time::Duration;
/// use ferrio::EngineConfig;
///
/// let config = EngineConfig::default()
///     .path("/engine.io/")
///     .ping_interval(Duration::from_secs(10))
///     .max_payload(64 * 1024);
/// assert_eq!(config.get_ping_interval(), Duration::from_secs(10));
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
    pub(crate) cors: Option<Cors>,
    pub(crate) allow_request: Option<AllowRequest>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
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
            cors: None,
            allow_request: None,
        }
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
            .field("transports", &self.get_transports())
            .field("cors", &self.cors)
            .field("allow_request", &self.allow_request.is_some())
            .finish_non_exhaustive()
    }
}

impl EngineConfig {
    /// Mount path the layer answers under. Default `/engine.io/` for a raw engine
    /// (`/socket.io/` when the Socket.IO layer sits on top). A trailing `/` is added if missing.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let mut path = path.into();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if !path.ends_with('/') {
            path.push('/');
        }
        self.path = path;
        self
    }

    /// Time between the server's pings. Default 25 s.
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval;
        self
    }

    /// How long the client may take to answer a ping before the session closes. Default 20 s.
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = timeout;
        self
    }

    /// How long a transport upgrade may take before it is abandoned (the session stays on its
    /// transport). Default 10 s.
    pub fn upgrade_timeout(mut self, timeout: Duration) -> Self {
        self.upgrade_timeout = timeout;
        self
    }

    /// Largest POST body or WebSocket message accepted, in bytes; also the batch size of a
    /// polling response. Default 1 MB (1 000 000 bytes), as Engine.IO.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// Most packets accepted in one POST body. Default 10 000.
    pub fn max_packets_per_payload(mut self, packets: usize) -> Self {
        self.max_packets_per_payload = packets;
        self
    }

    /// Bounds of each session's outbound queue: beyond them a send fails with
    /// [`SendError::QueueFull`](crate::engine::SendError::QueueFull). Defaults 4096 packets
    /// and 16 MiB.
    pub fn queue_bounds(mut self, max_packets: usize, max_bytes: usize) -> Self {
        self.queue_max_packets = max_packets;
        self.queue_max_bytes = max_bytes;
        self
    }

    /// What happens to a slow consumer, a session whose outbound queue is full: with `false`
    /// (the default) the send fails with
    /// [`SendError::QueueFull`](crate::engine::SendError::QueueFull) and the session stays,
    /// having missed that message; with `true` the send fails the same way and the session is
    /// also closed (`forced close`), so its client knows: it reconnects, and with connection
    /// state recovery gets what it missed, the message that did not fit included.
    pub fn close_on_queue_full(mut self, close: bool) -> Self {
        self.close_on_queue_full = close;
        self
    }

    /// The transports clients may use. Default: all of polling, websocket and streaming.
    pub fn transports(mut self, transports: impl IntoIterator<Item = TransportKind>) -> Self {
        self.polling = false;
        self.websocket = false;
        self.streaming = false;
        for t in transports {
            match t {
                TransportKind::Polling => self.polling = true,
                TransportKind::WebSocket => self.websocket = true,
                TransportKind::Streaming => self.streaming = true,
            }
        }
        self
    }

    /// Read buffer of each WebSocket connection, in bytes. Small keeps idle connections cheap;
    /// large helps big messages. Default 4 KiB.
    pub fn ws_read_buffer_size(mut self, bytes: usize) -> Self {
        self.ws_read_buffer_size = bytes.max(256);
        self
    }

    /// Bytes a `streaming` response carries before the server ends it and the client
    /// re-attaches, so a browser can free what the response buffered. Default 128 KiB.
    pub fn streaming_budget(mut self, bytes: usize) -> Self {
        self.streaming_budget = bytes.max(1);
        self
    }

    /// Whether to serve the bundled browser client at `{path}ferrio.js` (and the modules it
    /// imports). Default off for a raw engine; on for [`Ferrio`](crate::Ferrio).
    pub fn serve_client(mut self, serve: bool) -> Self {
        self.serve_client = serve;
        self
    }

    /// Cross-origin policy. Off by default. It also guards WebSocket upgrades, which browsers
    /// do not protect with CORS.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = Some(cors);
        self
    }

    /// A hook that sees each handshake request and may reject it (403, code 4).
    pub fn allow_request<F>(mut self, hook: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Result<(), String> + Send + Sync + 'static,
    {
        self.allow_request = Some(Arc::new(hook));
        self
    }

    /// The configured ping interval.
    pub fn get_ping_interval(&self) -> Duration {
        self.ping_interval
    }

    /// The configured mount path (always with leading and trailing `/`).
    pub fn get_path(&self) -> &str {
        &self.path
    }

    /// The enabled transports, in ladder order from the lowest.
    pub fn get_transports(&self) -> Vec<TransportKind> {
        let mut v = Vec::new();
        if self.polling {
            v.push(TransportKind::Polling);
        }
        if self.websocket {
            v.push(TransportKind::WebSocket);
        }
        if self.streaming {
            v.push(TransportKind::Streaming);
        }
        v
    }

    pub(crate) fn is_enabled(&self, t: TransportKind) -> bool {
        match t {
            TransportKind::Polling => self.polling,
            TransportKind::WebSocket => self.websocket,
            TransportKind::Streaming => self.streaming,
        }
    }
}
