//! Which revision of Engine.IO a session speaks: v4, or v3 for Socket.IO v2 clients (when the
//! application allows it), which frames payloads and binary differently and has the client
//! ping.

use bytes::Bytes;
use ferrio_protocol::engine::{payload, v3, Frame, Packet};
use ferrio_protocol::{DecodeError, Str};

/// The Engine.IO revision of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revision {
    /// Engine.IO v3 (`EIO=3`); `binary` unless the client asked for base64 (`b64=1`).
    V3 { binary: bool },
    /// Engine.IO v4 (`EIO=4`).
    V4,
}

impl Revision {
    /// The protocol number, as in the `EIO` query parameter.
    pub(crate) fn number(self) -> u8 {
        match self {
            Revision::V3 { .. } => 3,
            Revision::V4 => 4,
        }
    }

    /// Appends the polling payload of `frames` to `out`.
    pub(crate) fn encode_payload(self, frames: &[Frame], out: &mut Vec<u8>) {
        match self {
            Revision::V3 { .. } => v3::encode(frames.iter(), out),
            Revision::V4 => payload::encode(frames.iter(), out),
        }
    }

    /// Decodes a POST body; `binary` when its content type is `application/octet-stream`
    /// (a v3 binary payload; refused in v4, where binary travels as base64 text).
    pub(crate) fn decode_payload(
        self,
        body: Bytes,
        binary: bool,
        max_packets: usize,
    ) -> Result<Vec<Packet>, DecodeError> {
        match (self, binary) {
            (Revision::V3 { .. }, true) => v3::decode_binary(body, max_packets),
            (Revision::V3 { .. }, false) => {
                let text = Str::try_from(body).map_err(|_| DecodeError::InvalidUtf8)?;
                v3::decode_text(text, max_packets)
            }
            (Revision::V4, true) => Err(DecodeError::UnknownPacketType),
            (Revision::V4, false) => payload::decode(body, max_packets),
        }
    }

    /// Decodes a text WebSocket frame (v3 clients without binary support send binary messages
    /// as `b4<base64>` text).
    pub(crate) fn decode_text_frame(self, text: Str) -> Result<Packet, DecodeError> {
        match self {
            Revision::V3 { .. } => v3::decode_item(text),
            Revision::V4 => Packet::decode_text(text),
        }
    }

    /// Decodes a binary WebSocket frame.
    pub(crate) fn decode_binary_frame(self, data: Bytes) -> Result<Packet, DecodeError> {
        match self {
            Revision::V3 { .. } => v3::decode_binary_frame(data),
            Revision::V4 => Ok(Packet::Binary(data)),
        }
    }

    /// A binary message as this revision's WebSocket frame: raw in v4; in v3 prefixed with its
    /// type, or as `b4<base64>` text for a client without binary support.
    pub(crate) fn binary_ws_frame(self, data: Bytes) -> Frame {
        match self {
            Revision::V4 => Frame::Binary(data),
            Revision::V3 { binary: true } => Frame::Binary(v3::encode_binary_frame(&data)),
            Revision::V3 { binary: false } => Frame::Text(v3::text_item(&Frame::Binary(data))),
        }
    }
}
