//! [`Packet`] and [`PacketKind`]: Socket.IO packets as values.

use bytes::Bytes;
use serde_json::{Map, Value};

/// The kind of a Socket.IO packet: the digit `'0'`–`'6'` that starts its
/// text form.
///
/// ```
/// use ferrio_protocol::socket::PacketKind;
///
/// assert_eq!(PacketKind::from_digit(b'5'), Some(PacketKind::BinaryEvent));
/// assert!(PacketKind::BinaryAck.is_binary());
/// assert_eq!(PacketKind::Ack.digit(), b'3');
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// `0`: join a namespace (client), or accept the join with `{"sid":…}` (server).
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event: `["name", args…]`.
    Event,
    /// `3`: the answer to an event that carried an ack id: `[args…]`.
    Ack,
    /// `4`: the server refuses a join: `{"message":…,"data":…}`.
    ConnectError,
    /// `5`: an event with binary attachments.
    BinaryEvent,
    /// `6`: an ack with binary attachments.
    BinaryAck,
}

impl PacketKind {
    /// The ASCII digit of the kind.
    pub const fn digit(self) -> u8 {
        match self {
            PacketKind::Connect => b'0',
            PacketKind::Disconnect => b'1',
            PacketKind::Event => b'2',
            PacketKind::Ack => b'3',
            PacketKind::ConnectError => b'4',
            PacketKind::BinaryEvent => b'5',
            PacketKind::BinaryAck => b'6',
        }
    }

    /// The kind of an ASCII digit, if it is one.
    pub const fn from_digit(digit: u8) -> Option<PacketKind> {
        Some(match digit {
            b'0' => PacketKind::Connect,
            b'1' => PacketKind::Disconnect,
            b'2' => PacketKind::Event,
            b'3' => PacketKind::Ack,
            b'4' => PacketKind::ConnectError,
            b'5' => PacketKind::BinaryEvent,
            b'6' => PacketKind::BinaryAck,
            _ => return None,
        })
    }

    /// Whether packets of this kind carry an attachment count and binary
    /// attachments (`BINARY_EVENT`, `BINARY_ACK`).
    pub const fn is_binary(self) -> bool {
        matches!(self, PacketKind::BinaryEvent | PacketKind::BinaryAck)
    }
}

/// A Socket.IO v5 packet.
///
/// Build packets with the constructors, which pick the binary kinds when
/// there are attachments; [`Packet::encode`] and
/// [`Packet::encode_message`] give the text form, and a
/// [`Decoder`](super::Decoder) reads it back.
///
/// ```
/// use bytes::Bytes;
/// use ferrio_protocol::socket::{placeholder, Packet, PacketKind};
/// use serde_json::json;
///
/// let event = Packet::event("/", json!(["hello", 1]), vec![], Some(12));
/// assert_eq!(event.kind, PacketKind::Event);
/// assert_eq!(event.event_name(), Some("hello"));
/// assert_eq!(event.encode(), r#"212["hello",1]"#);
///
/// let ack = Packet::ack("/admin", 13, json!([placeholder(0)]), vec![Bytes::from_static(b"\x01")]);
/// assert_eq!(ack.kind, PacketKind::BinaryAck);
/// assert_eq!(ack.encode(), r#"61-/admin,13[{"_placeholder":true,"num":0}]"#);
///
/// let refused = Packet::connect_error("/", "Not authorized", None);
/// assert_eq!(refused.encode(), r#"4{"message":"Not authorized"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The packet kind.
    pub kind: PacketKind,
    /// The namespace, `/` when absent on the wire. It should start with `/`
    /// and must not contain `,` (the wire has no escape for it).
    pub nsp: String,
    /// The ack id: on an event, the sender wants an ack with this id; on an
    /// ack, the event it answers.
    pub id: Option<u64>,
    /// The JSON data. In binary packets, attachments appear here as
    /// [`placeholder`](super::placeholder) objects.
    pub data: Option<Value>,
    /// The binary attachments, attachment `N` standing for placeholder
    /// `num: N`.
    pub attachments: Vec<Bytes>,
}

impl Packet {
    /// A `CONNECT`: a client joining `nsp` (with optional auth data), or the
    /// server accepting the join with `{"sid":…}`.
    pub fn connect(nsp: impl Into<String>, data: Option<Value>) -> Packet {
        Packet::new(PacketKind::Connect, nsp, None, data, Vec::new())
    }

    /// A `DISCONNECT` from `nsp`.
    pub fn disconnect(nsp: impl Into<String>) -> Packet {
        Packet::new(PacketKind::Disconnect, nsp, None, None, Vec::new())
    }

    /// An `EVENT` (or `BINARY_EVENT` when `attachments` is not empty).
    /// `data` is `["name", args…]`; `id` asks the peer for an ack.
    pub fn event(
        nsp: impl Into<String>,
        data: Value,
        attachments: Vec<Bytes>,
        id: Option<u64>,
    ) -> Packet {
        let kind = if attachments.is_empty() { PacketKind::Event } else { PacketKind::BinaryEvent };
        Packet::new(kind, nsp, id, Some(data), attachments)
    }

    /// An `ACK` (or `BINARY_ACK` when `attachments` is not empty) answering
    /// the event `id`; `data` is the array of reply arguments.
    pub fn ack(nsp: impl Into<String>, id: u64, data: Value, attachments: Vec<Bytes>) -> Packet {
        let kind = if attachments.is_empty() { PacketKind::Ack } else { PacketKind::BinaryAck };
        Packet::new(kind, nsp, Some(id), Some(data), attachments)
    }

    /// A `CONNECT_ERROR` refusing a join of `nsp`, with data
    /// `{"message":message}` plus `"data":data` when given.
    pub fn connect_error(nsp: impl Into<String>, message: &str, data: Option<Value>) -> Packet {
        let mut map = Map::new();
        map.insert("message".to_owned(), Value::from(message));
        if let Some(data) = data {
            map.insert("data".to_owned(), data);
        }
        Packet::new(PacketKind::ConnectError, nsp, None, Some(Value::Object(map)), Vec::new())
    }

    fn new(
        kind: PacketKind,
        nsp: impl Into<String>,
        id: Option<u64>,
        data: Option<Value>,
        attachments: Vec<Bytes>,
    ) -> Packet {
        Packet { kind, nsp: nsp.into(), id, data, attachments }
    }

    /// The event name of an `EVENT`/`BINARY_EVENT`: the first element of
    /// the data array when it is a string. `None` for other kinds, and for
    /// events named by a number (which the protocol allows).
    pub fn event_name(&self) -> Option<&str> {
        match (&self.kind, &self.data) {
            (PacketKind::Event | PacketKind::BinaryEvent, Some(Value::Array(items))) => {
                items.first().and_then(Value::as_str)
            }
            _ => None,
        }
    }
}
