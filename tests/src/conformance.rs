//! The conformance server: a raw Engine.IO echo on `/engine.io/` (and, later, the Socket.IO
//! contract on `/socket.io/`) with short timeouts so protocol tests finish fast.

use std::sync::Arc;

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

/// Builds the conformance application (stub until the engine lands).
pub fn app() -> App {
    App { router: axum::Router::new(), engine_sessions: Arc::new(|| 0) }
}
