//! The public handle on one Engine.IO session.

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;
use ferrio_protocol::engine::{Frame, Packet};
use ferrio_protocol::Str;

use super::session::Session;
use super::{CloseReason, HandshakeRequest, Message, QueueError, Sid, TransportKind};

/// A handle on one Engine.IO session; cheap to clone, usable from any task.
#[derive(Clone)]
pub struct EngineSocket(pub(crate) Arc<Session>);

impl std::fmt::Debug for EngineSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineSocket").field("sid", &self.0.sid).finish()
    }
}

impl PartialEq for EngineSocket {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for EngineSocket {}

impl EngineSocket {
    /// The session id.
    pub fn id(&self) -> &Sid {
        &self.0.sid
    }

    /// Queues a message for the client.
    pub fn send(&self, message: Message) -> Result<(), QueueError> {
        let frame = match message {
            Message::Text(text) => Packet::Message(text).encode(),
            Message::Binary(data) => Frame::Binary(data),
        };
        self.0.send_frames(std::iter::once(frame))
    }

    /// Queues a text message.
    pub fn send_text(&self, text: impl Into<Str>) -> Result<(), QueueError> {
        self.send(Message::Text(text.into()))
    }

    /// Queues a binary message.
    pub fn send_binary(&self, data: impl Into<Bytes>) -> Result<(), QueueError> {
        self.send(Message::Binary(data.into()))
    }

    /// Queues already-encoded frames as one unit: all of them or none. A text frame carries its
    /// Engine.IO type digit (`4…` for a message). Upper layers use it to send a packet encoded
    /// once to many sessions, and to keep a packet and its binary attachments together.
    pub fn send_frames(&self, frames: &[Frame]) -> Result<(), QueueError> {
        self.0.send_frames(frames.iter().cloned())
    }

    /// [`send_frames`](Self::send_frames), except that a full queue never closes the session
    /// (`close_on_queue_full`): for a send the caller has another way out of.
    pub(crate) fn try_send_frames(&self, frames: &[Frame]) -> Result<(), QueueError> {
        self.0.try_send_frames(frames.iter().cloned())
    }

    /// The Engine.IO revision the client speaks: 4, or 3 for a Socket.IO v2 client (see
    /// [`EngineConfigBuilder::allow_eio3`](super::EngineConfigBuilder::allow_eio3)).
    pub fn protocol(&self) -> u8 {
        self.0.revision.number()
    }

    /// The transport the session currently uses.
    pub fn transport(&self) -> TransportKind {
        self.0.transport()
    }

    /// Whether the session has closed.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Closes the session (`forced close`).
    pub fn close(&self) {
        self.0.close(CloseReason::ServerClose);
    }

    /// Closes the session with `reason`.
    pub(crate) fn close_with(&self, reason: CloseReason) {
        self.0.close(reason);
    }

    /// Whether nothing is waiting in the outbound queue (the client keeps up).
    pub fn is_idle(&self) -> bool {
        self.0.is_idle()
    }

    /// The HTTP request that opened the session.
    pub fn handshake(&self) -> &HandshakeRequest {
        &self.0.handshake
    }

    /// Attaches a value to the session, once; returns it back if one is already there. Upper
    /// layers keep their per-connection state here instead of in a second map.
    pub fn set_data<T: Any + Send + Sync>(&self, value: T) -> Result<(), T> {
        let mut slot = Some(value);
        self.0.data.get_or_init(|| Box::new(slot.take()));
        match slot {
            None => Ok(()),
            Some(v) => Err(v),
        }
    }

    /// The value attached with [`set_data`](Self::set_data), if it has type `T`.
    pub fn data<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0.data.get()?.downcast_ref::<Option<T>>()?.as_ref()
    }
}
