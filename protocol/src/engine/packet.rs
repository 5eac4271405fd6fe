//! [`Packet`] and [`PacketType`]: Engine.IO packets and their WebSocket frames.

use bytes::Bytes;

use super::{Frame, OpenPacket};
use crate::{DecodeError, Str};

/// The type of an Engine.IO packet: the digit `'0'`–`'6'` that starts its
/// text form.
///
/// ```
/// use ferrio_protocol::engine::PacketType;
///
/// assert_eq!(PacketType::from_digit(b'4'), Some(PacketType::Message));
/// assert_eq!(PacketType::Noop.digit(), b'6');
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: the handshake, server to client.
    Open,
    /// `1`: close the session.
    Close,
    /// `2`: heartbeat from the server, or the upgrade probe `2probe`.
    Ping,
    /// `3`: heartbeat answer, or the probe answer `3probe`.
    Pong,
    /// `4`: a text or binary message.
    Message,
    /// `5`: switch to the probed transport.
    Upgrade,
    /// `6`: nothing; ends a pending poll during an upgrade.
    Noop,
}

impl PacketType {
    /// The ASCII digit of the type.
    pub const fn digit(self) -> u8 {
        match self {
            PacketType::Open => b'0',
            PacketType::Close => b'1',
            PacketType::Ping => b'2',
            PacketType::Pong => b'3',
            PacketType::Message => b'4',
            PacketType::Upgrade => b'5',
            PacketType::Noop => b'6',
        }
    }

    /// The type of an ASCII digit, if it is one.
    pub const fn from_digit(digit: u8) -> Option<PacketType> {
        Some(match digit {
            b'0' => PacketType::Open,
            b'1' => PacketType::Close,
            b'2' => PacketType::Ping,
            b'3' => PacketType::Pong,
            b'4' => PacketType::Message,
            b'5' => PacketType::Upgrade,
            b'6' => PacketType::Noop,
            _ => return None,
        })
    }
}

/// An Engine.IO v4 packet.
///
/// On a WebSocket every packet is one [`Frame`]; polling and streaming batch
/// the same frames (see [`payload`](super::payload) and [`sse`](super::sse)).
///
/// ```
/// use ferrio_protocol::engine::{Frame, Packet};
/// use ferrio_protocol::Str;
///
/// let frame = Frame::Text(Str::from("4hello"));
/// let packet = Packet::decode(frame.clone())?;
/// assert_eq!(packet, Packet::Message(Str::from("hello")));
/// assert_eq!(packet.encode(), frame);
///
/// assert_eq!(Packet::decode_text(Str::from("2probe"))?, Packet::PingProbe);
/// # Ok::<(), ferrio_protocol::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// `0{…}`: the handshake.
    Open(OpenPacket),
    /// `1`: close the session.
    Close,
    /// `2`: heartbeat ping.
    Ping,
    /// `3`: heartbeat pong.
    Pong,
    /// `2probe`: the client probes a new transport before upgrading.
    PingProbe,
    /// `3probe`: the server's answer to the probe.
    PongProbe,
    /// `4…`: a text message; the payload WITHOUT the leading `4`.
    Message(Str),
    /// A binary message: a binary WebSocket frame, or `b<base64>` in a
    /// polling or streaming payload.
    Binary(Bytes),
    /// `5`: complete the upgrade to the probed transport.
    Upgrade,
    /// `6`: no operation.
    Noop,
}

impl Packet {
    /// The packet as a WebSocket frame.
    ///
    /// Control packets use static strings (no allocation); a message
    /// allocates exactly once for `4` + payload; a binary message shares its
    /// bytes.
    pub fn encode(&self) -> Frame {
        let text = match self {
            Packet::Open(open) => open.encode(),
            Packet::Close => Str::from_static("1"),
            Packet::Ping => Str::from_static("2"),
            Packet::Pong => Str::from_static("3"),
            Packet::PingProbe => Str::from_static("2probe"),
            Packet::PongProbe => Str::from_static("3probe"),
            Packet::Message(payload) => {
                let mut out = Vec::with_capacity(1 + payload.len());
                out.push(b'4');
                out.extend_from_slice(payload.as_bytes());
                Str::from_utf8_vec(out)
            }
            Packet::Binary(bytes) => return Frame::Binary(bytes.clone()),
            Packet::Upgrade => Str::from_static("5"),
            Packet::Noop => Str::from_static("6"),
        };
        Frame::Text(text)
    }

    /// Decodes a WebSocket frame.
    ///
    /// A text frame goes through [`Packet::decode_text`]; a binary frame is a
    /// binary message (an empty one included).
    ///
    /// # Errors
    ///
    /// See [`Packet::decode_text`].
    pub fn decode(frame: Frame) -> Result<Packet, DecodeError> {
        match frame {
            Frame::Text(text) => Packet::decode_text(text),
            Frame::Binary(bytes) => Ok(Packet::Binary(bytes)),
        }
    }

    /// Decodes a packet's text form, as in a WebSocket text frame.
    ///
    /// A message's payload is a zero-copy slice of `text`. The `b<base64>`
    /// form of binary messages belongs to payloads and is rejected here (see
    /// [`payload::decode_one`](super::payload::decode_one)).
    ///
    /// # Errors
    ///
    /// [`Empty`](DecodeError::Empty) for `""`,
    /// [`UnknownPacketType`](DecodeError::UnknownPacketType) when the first
    /// byte is not `0`–`6`, [`UnexpectedData`](DecodeError::UnexpectedData)
    /// for data after a control packet (other than `probe` after a ping or
    /// pong), [`Truncated`](DecodeError::Truncated) for an open packet
    /// without JSON and [`InvalidJson`](DecodeError::InvalidJson) for a bad
    /// one.
    pub fn decode_text(text: Str) -> Result<Packet, DecodeError> {
        let bytes = text.as_bytes();
        let (&first, rest) = bytes.split_first().ok_or(DecodeError::Empty)?;
        let kind = PacketType::from_digit(first).ok_or(DecodeError::UnknownPacketType)?;
        let packet = match (kind, rest) {
            (PacketType::Message, _) => Packet::Message(text.slice_at_ascii(1, bytes.len())),
            (PacketType::Open, []) => return Err(DecodeError::Truncated),
            (PacketType::Open, json) => {
                Packet::Open(serde_json::from_slice(json).map_err(|_| DecodeError::InvalidJson)?)
            }
            (PacketType::Close, []) => Packet::Close,
            (PacketType::Ping, []) => Packet::Ping,
            (PacketType::Pong, []) => Packet::Pong,
            (PacketType::Ping, b"probe") => Packet::PingProbe,
            (PacketType::Pong, b"probe") => Packet::PongProbe,
            (PacketType::Upgrade, []) => Packet::Upgrade,
            (PacketType::Noop, []) => Packet::Noop,
            (
                PacketType::Close
                | PacketType::Ping
                | PacketType::Pong
                | PacketType::Upgrade
                | PacketType::Noop,
                _,
            ) => return Err(DecodeError::UnexpectedData),
        };
        Ok(packet)
    }

    /// The packet's type: probes are pings and pongs, binary messages are
    /// messages.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Open(_) => PacketType::Open,
            Packet::Close => PacketType::Close,
            Packet::Ping | Packet::PingProbe => PacketType::Ping,
            Packet::Pong | Packet::PongProbe => PacketType::Pong,
            Packet::Message(_) | Packet::Binary(_) => PacketType::Message,
            Packet::Upgrade => PacketType::Upgrade,
            Packet::Noop => PacketType::Noop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Result<Packet, DecodeError> {
        Packet::decode_text(Str::from(s))
    }

    #[test]
    fn control_packets_round_trip() {
        for (wire, packet) in [
            ("1", Packet::Close),
            ("2", Packet::Ping),
            ("3", Packet::Pong),
            ("2probe", Packet::PingProbe),
            ("3probe", Packet::PongProbe),
            ("5", Packet::Upgrade),
            ("6", Packet::Noop),
            ("4", Packet::Message(Str::default())),
        ] {
            assert_eq!(text(wire).unwrap(), packet);
            assert_eq!(packet.encode(), Frame::Text(Str::from(wire)));
        }
    }

    #[test]
    fn message_payload_is_a_zero_copy_slice() {
        let frame = Str::from("4héllo");
        let Packet::Message(payload) = Packet::decode_text(frame.clone()).unwrap() else {
            panic!("not a message");
        };
        assert_eq!(payload, "héllo");
        assert_eq!(payload.as_bytes().as_ptr(), frame.as_bytes()[1..].as_ptr());
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(text(""), Err(DecodeError::Empty));
        assert_eq!(text("7"), Err(DecodeError::UnknownPacketType));
        assert_eq!(text("bAQID"), Err(DecodeError::UnknownPacketType));
        assert_eq!(text("é"), Err(DecodeError::UnknownPacketType));
        assert_eq!(text("1x"), Err(DecodeError::UnexpectedData));
        assert_eq!(text("2probe "), Err(DecodeError::UnexpectedData));
        assert_eq!(text("0"), Err(DecodeError::Truncated));
        assert_eq!(text("0{"), Err(DecodeError::InvalidJson));
        assert_eq!(text("0{\"sid\":\"x\"}"), Err(DecodeError::InvalidJson));
    }

    #[test]
    fn binary_frames_are_binary_messages() {
        let bytes = Bytes::from_static(&[1, 2, 3]);
        let packet = Packet::decode(Frame::Binary(bytes.clone())).unwrap();
        assert_eq!(packet, Packet::Binary(bytes.clone()));
        assert_eq!(packet.encode(), Frame::Binary(bytes));
        assert_eq!(packet.packet_type(), PacketType::Message);
    }

    #[test]
    fn digits_round_trip() {
        for d in b'0'..=b'6' {
            assert_eq!(PacketType::from_digit(d).unwrap().digit(), d);
        }
        assert_eq!(PacketType::from_digit(b'7'), None);
    }
}
