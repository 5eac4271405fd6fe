//! A Socket.IO packet encoded once into Engine.IO frames, and queued on a session as one unit.

use ferrio_protocol::engine::Frame;
use ferrio_protocol::socket::Packet;

use crate::engine::{EngineSocket, QueueError};

/// `packet` encoded: its text frame, then its attachments.
pub(crate) fn encoded_frames(packet: &Packet) -> Vec<Frame> {
    let mut frames = Vec::with_capacity(1 + packet.attachments.len());
    frames.push(Frame::Text(packet.encode_message()));
    frames.extend(packet.attachments.iter().cloned().map(Frame::Binary));
    frames
}

/// The `CONNECT_ERROR` refusing `engine`'s client namespace `nsp`: `{"message":…,"data":…}`,
/// or, to a Socket.IO v2 client (Engine.IO v3), the data or else the message alone, as
/// Socket.IO answers those.
pub(crate) fn connect_error(
    engine: &EngineSocket,
    nsp: &str,
    message: &str,
    data: Option<serde_json::Value>,
) -> Packet {
    if engine.protocol() == 3 {
        let mut packet = Packet::connect(nsp, None);
        packet.kind = ferrio_protocol::socket::PacketKind::ConnectError;
        packet.data = Some(data.unwrap_or_else(|| serde_json::Value::from(message)));
        return packet;
    }
    Packet::connect_error(nsp, message, data)
}

/// Encodes `packet` once and queues it with its attachments on `engine`, all or nothing.
pub(crate) fn send_encoded(engine: &EngineSocket, packet: &Packet) -> Result<(), QueueError> {
    if packet.attachments.is_empty() {
        engine.send_frames(&[Frame::Text(packet.encode_message())])
    } else {
        engine.send_frames(&encoded_frames(packet))
    }
}
