//! The Engine.IO v4 layer: sessions, transports, upgrade and heartbeat.
//!
//! It hands whole messages to an [`EngineHandler`]: the Socket.IO layer at the crate root, or
//! an application that wants raw Engine.IO. Nothing in here knows about Socket.IO (a check in
//! the test command keeps it so):
//!
//! - [`EngineConfig`] (a leaf) and the public handles [`EngineIo`], [`EngineSocket`];
//! - `session/`: one session's state (queue, heartbeat, upgrade) as sync state machines that
//!   take the time as an argument, and the transitions the transports call;
//! - `http/`: leaf helpers for bodies, responses, query parameters and CORS;
//! - `transport/`: polling, streaming and websocket, which move frames between a session and
//!   its client;
//! - `service/`: the tower layer and service that route each request.

mod channel;
mod close_reason;
mod cluster;
mod config;
mod error;
mod handler;
mod handshake;
mod http;
pub(crate) mod lock;
mod revision;
mod service;
mod session;
mod shared;
mod sid;
mod slots;
mod socket;
#[cfg(test)]
mod task_size;
mod transport;
mod transport_kind;

use std::sync::Arc;

pub use self::http::body::{BoxError, ResponseBody};
pub use self::http::cors::Cors;
pub use channel::Connection;
pub use close_reason::CloseReason;
pub use cluster::NodeDirectory;
pub use config::{AllowRequest, EngineConfig, EngineConfigBuilder};
pub use error::QueueError;
pub use handler::{EngineHandler, Message};
pub use handshake::HandshakeRequest;
pub use service::{EngineLayer, EngineService, ResponseFuture};
pub use sid::{Sid, NODE_TAG_LEN};
pub use socket::EngineSocket;
pub use transport_kind::TransportKind;

use shared::Shared;

/// A running engine: look up and count its sessions from anywhere.
///
/// ```
/// use ferrio::engine::{CloseReason, EngineConfig, EngineHandler, EngineIo, EngineSocket, Message};
///
/// struct Echo;
/// impl EngineHandler for Echo {
///     fn on_connect(&self, _: EngineSocket) {}
///     fn on_message(&self, socket: &EngineSocket, message: Message) {
///         let _ = socket.send(message);
///     }
///     fn on_disconnect(&self, _: &EngineSocket, _: CloseReason) {}
/// }
///
/// let (layer, engine) = EngineIo::new(EngineConfig::default(), Echo);
/// let app: axum::Router = axum::Router::new().layer(layer);
/// assert_eq!(engine.session_count(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct EngineIo {
    shared: Arc<Shared>,
}

impl EngineIo {
    /// Creates an engine with `config` (an [`EngineConfig`] or its builder) that reports to
    /// `handler`, and the tower layer that serves it.
    pub fn new<H: EngineHandler>(
        config: impl Into<EngineConfig>,
        handler: H,
    ) -> (EngineLayer, EngineIo) {
        Self::with_handler(config.into(), Arc::new(handler))
    }

    pub(crate) fn with_handler(
        config: EngineConfig,
        handler: Arc<dyn EngineHandler>,
    ) -> (EngineLayer, EngineIo) {
        let shared = Arc::new(Shared::new(config, handler));
        (EngineLayer::new(shared.clone()), EngineIo { shared })
    }

    /// Creates an engine with `config` whose sessions arrive on a channel, each with the stream
    /// of its messages. A session whose application falls 1024 messages behind is closed.
    ///
    /// ```
    /// use ferrio::engine::{Connection, EngineConfig, EngineIo};
    ///
    /// # async fn serve() {
    /// let (layer, _engine, mut connections) = EngineIo::channels(EngineConfig::default());
    /// let app: axum::Router = axum::Router::new().layer(layer);
    /// # drop(app);
    /// while let Some(Connection { socket, mut messages }) = connections.recv().await {
    ///     tokio::spawn(async move {
    ///         while let Some(message) = messages.recv().await {
    ///             let _ = socket.send(message); // echo
    ///         }
    ///     });
    /// }
    /// # }
    /// ```
    pub fn channels(
        config: impl Into<EngineConfig>,
    ) -> (EngineLayer, EngineIo, tokio::sync::mpsc::UnboundedReceiver<Connection>) {
        let (handler, connections) = channel::ChannelHandler::new();
        let (layer, engine) = Self::new(config, handler);
        (layer, engine, connections)
    }

    /// Number of open sessions.
    pub fn session_count(&self) -> usize {
        self.shared.sessions.len()
    }

    /// The session with id `sid`, if open.
    pub fn get(&self, sid: &str) -> Option<EngineSocket> {
        self.shared.sessions.get(sid).map(|s| EngineSocket(s.value().clone()))
    }

    /// Every open session.
    pub fn sockets(&self) -> Vec<EngineSocket> {
        self.shared.sessions.iter().map(|s| EngineSocket(s.value().clone())).collect()
    }

    /// The configuration in force.
    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// Closes every open session (`forced close`), as for a server that shuts down: each
    /// WebSocket gets a close frame, each pending poll or open stream its close packet, so
    /// clients learn at once (and reconnect) and axum's graceful shutdown, which waits for
    /// open requests, can finish. New sessions are still accepted: stop the listener first,
    /// as `axum::serve(..).with_graceful_shutdown(..)` does.
    pub fn close(&self) {
        for socket in self.sockets() {
            socket.close();
        }
    }
}
