//! [`Frame`]: one Engine.IO packet as a WebSocket frame.

use bytes::Bytes;

use crate::Str;

/// One Engine.IO packet as it travels on a WebSocket: text frames carry the
/// type digit, binary frames are raw bytes (EIO v4).
///
/// The same frames are what the polling and streaming transports batch up;
/// see [`payload::encode`](super::payload::encode) and
/// [`sse::encode_event`](super::sse::encode_event).
///
/// ```
/// use ferrio_protocol::engine::{Frame, Packet};
/// use ferrio_protocol::Str;
///
/// let frame = Packet::Message(Str::from("hi")).encode();
/// assert_eq!(frame, Frame::Text(Str::from("4hi")));
/// assert_eq!(frame.len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame: the packet type digit followed by the packet's data.
    Text(Str),
    /// A binary frame: the bytes of a binary message, without any prefix.
    Binary(Bytes),
}

impl Frame {
    /// The frame's length in bytes on a WebSocket.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(text) => text.len(),
            Frame::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the frame has no bytes (never true for an encoded packet's
    /// text frame, which always carries its type digit).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the frame is the close packet `1`, after which a transport
    /// carries nothing more for its session.
    ///
    /// ```
    /// use ferrio_protocol::engine::Packet;
    ///
    /// assert!(Packet::Close.encode().is_close());
    /// assert!(!Packet::Noop.encode().is_close());
    /// ```
    pub fn is_close(&self) -> bool {
        matches!(self, Frame::Text(text) if text.as_bytes() == b"1")
    }

    /// Whether the frame is the heartbeat ping `2` (not the probe `2probe`).
    ///
    /// ```
    /// use ferrio_protocol::engine::Packet;
    ///
    /// assert!(Packet::Ping.encode().is_ping());
    /// assert!(!Packet::PingProbe.encode().is_ping());
    /// ```
    pub fn is_ping(&self) -> bool {
        matches!(self, Frame::Text(text) if text.as_bytes() == b"2")
    }
}

impl From<Str> for Frame {
    fn from(text: Str) -> Frame {
        Frame::Text(text)
    }
}

impl From<Bytes> for Frame {
    fn from(bytes: Bytes) -> Frame {
        Frame::Binary(bytes)
    }
}
