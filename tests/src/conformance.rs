//! The conformance server: a raw Engine.IO echo on `/engine.io/` (and, later, the Socket.IO
//! contract on `/socket.io/`) with short timeouts so protocol tests finish fast.

use std::sync::Arc;
use std::time::Duration;

use ferrio::engine::{DisconnectReason, EngineHandler, EngineIo, EngineSocket, Message};
use ferrio::{Cors, EngineConfig};

/// The conformance application and the handles tests use to look inside it.
#[derive(Clone)]
pub struct App {
    /// The axum router to serve.
    pub router: axum::Router,
    /// Number of live Engine.IO sessions on `/engine.io/`.
    pub engine_sessions: Arc<dyn Fn() -> usize + Send + Sync>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

/// Sends every message back to its sender, text as text and binary as binary.
#[derive(Debug)]
struct Echo;

impl EngineHandler for Echo {
    fn on_connect(&self, _socket: EngineSocket) {}

    fn on_message(&self, socket: &EngineSocket, message: Message) {
        let _ = socket.send(message);
    }

    fn on_disconnect(&self, _socket: &EngineSocket, _reason: DisconnectReason) {}
}

/// The engine settings of the contract: pings every 300 ms, 200 ms to answer, 1 s upgrades,
/// 1 MB payloads, CORS for every origin.
pub fn engine_config() -> EngineConfig {
    EngineConfig::default()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .upgrade_timeout(Duration::from_millis(1000))
        .max_payload(1_000_000)
        .cors(Cors::any())
}

/// Builds the conformance application.
pub fn app() -> App {
    let (engine_layer, engine) = EngineIo::new(engine_config().path("/engine.io/"), Echo);
    let router = axum::Router::new().layer(engine_layer);
    App { router, engine_sessions: Arc::new(move || engine.session_count()) }
}
