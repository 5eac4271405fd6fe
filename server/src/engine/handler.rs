//! The interface between the Engine.IO layer and whatever sits above it.

use bytes::Bytes;
use ferrio_protocol::Str;

use super::{CloseReason, EngineSocket};

/// One whole Engine.IO message from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(Str),
    /// A binary message.
    Binary(Bytes),
}

/// Receives the events of every Engine.IO session. Methods are called from the session's
/// transport task, in order, and must not block: hand long work to a spawned task.
///
/// ```
/// use ferrio::engine::{CloseReason, EngineHandler, EngineSocket, Message};
///
/// /// Sends every message back to its sender.
/// struct Echo;
///
/// impl EngineHandler for Echo {
///     fn on_connect(&self, _socket: EngineSocket) {}
///     fn on_message(&self, socket: &EngineSocket, message: Message) {
///         let _ = socket.send(message);
///     }
///     fn on_disconnect(&self, _socket: &EngineSocket, _reason: CloseReason) {}
/// }
/// ```
pub trait EngineHandler: Send + Sync + 'static {
    /// A session opened (its open packet is queued first).
    fn on_connect(&self, socket: EngineSocket);
    /// A message arrived on `socket`.
    fn on_message(&self, socket: &EngineSocket, message: Message);
    /// The session closed; called exactly once per session.
    fn on_disconnect(&self, socket: &EngineSocket, reason: CloseReason);
    /// The session moved to another transport: an upgrade to websocket completed, and
    /// [`EngineSocket::transport`] now says so. Does nothing by default.
    fn on_upgrade(&self, socket: &EngineSocket) {
        let _ = socket;
    }
}
