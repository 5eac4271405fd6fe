//! [`OpenPacket`]: the handshake data of the Engine.IO open packet.

use serde::{Deserialize, Serialize};

use crate::Str;

/// The handshake data the server sends in the open packet (`0{…}`).
///
/// Fields serialize in wire order with camelCase names:
///
/// ```
/// use ferrio_protocol::engine::{OpenPacket, Packet, Frame};
///
/// let open = OpenPacket {
///     sid: "lv_VI97HAXpY6yYWAAAC".into(),
///     upgrades: vec!["websocket".into()],
///     ping_interval: 25000,
///     ping_timeout: 20000,
///     max_payload: 1000000,
/// };
/// let Frame::Text(text) = Packet::Open(open.clone()).encode() else { unreachable!() };
/// assert_eq!(
///     text,
///     r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
/// );
/// assert_eq!(Packet::decode_text(text)?, Packet::Open(open));
/// # Ok::<(), ferrio_protocol::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenPacket {
    /// The session id; the client sends it back as the `sid` query parameter.
    pub sid: String,
    /// The transports the client may upgrade to (`["websocket"]` on polling
    /// and streaming when WebSocket is enabled, `[]` on WebSocket).
    pub upgrades: Vec<String>,
    /// Milliseconds between two server pings.
    pub ping_interval: u64,
    /// Milliseconds the server waits for a pong before closing the session.
    pub ping_timeout: u64,
    /// Maximum bytes of a polling/streaming POST body or a WebSocket message.
    pub max_payload: u64,
}

impl OpenPacket {
    /// The text frame `0{…}`.
    pub(crate) fn encode(&self) -> Str {
        let mut out = Vec::with_capacity(112 + self.sid.len());
        out.push(b'0');
        // Serializing plain strings and integers into a Vec cannot fail.
        if serde_json::to_writer(&mut out, self).is_err() {
            out.truncate(1);
        }
        Str::from_utf8_vec(out)
    }
}
