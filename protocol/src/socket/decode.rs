//! [`Decoder`]: Socket.IO text (and binary attachments) → validated packets.

use bytes::Bytes;
use serde_json::Value;

use super::{placeholder, Limits, Packet, PacketKind, RESERVED_EVENTS};
use crate::DecodeError;

/// An incremental Socket.IO decoder for one connection.
///
/// Text packets are decoded and validated at once. A `BINARY_EVENT` or
/// `BINARY_ACK` header announcing attachments is held until that many binary
/// frames have been fed, and then the complete packet is returned. The
/// decoder never blocks and never loops: each call does a bounded amount of
/// work on its input and answers `Ok(None)` when it needs more frames.
///
/// What it accepts, beyond the grammar
/// `<kind>[<count>-][<nsp>,][<id>][<JSON>]`:
///
/// * the namespace is `/` when absent; it runs to the first `,` or to the
///   end of the text (`40/custom` joins `/custom`, as in the reference
///   implementation) and holds no control characters;
/// * `ACK`/`BINARY_ACK` need an ack id, `CONNECT`/`DISCONNECT`/
///   `CONNECT_ERROR` may not have one; ids fit in a `u64`;
/// * data: `CONNECT` an object or nothing, `DISCONNECT` nothing, events an
///   array starting with a string (not one of [`RESERVED_EVENTS`]) or a
///   number, acks an array, `CONNECT_ERROR` an object or a string;
/// * binary packets announce at most [`Limits::max_attachments`]
///   attachments and reference each exactly once with a placeholder whose
///   `num` is an integer below the count. The reference parser tolerates
///   attachments no placeholder references; the reference encoder never
///   produces them, and ferrio refuses to hold bytes nothing refers to.
///
/// ```
/// use bytes::Bytes;
/// use ferrio_protocol::socket::{Decoder, Limits, PacketKind};
/// use ferrio_protocol::DecodeError;
///
/// let mut decoder = Decoder::new(Limits::default());
///
/// let packet = decoder.feed_text(r#"2/chat,3["hi",{"a":1}]"#)?.unwrap();
/// assert_eq!((packet.kind, packet.nsp.as_str(), packet.id), (PacketKind::Event, "/chat", Some(3)));
/// assert_eq!(packet.event_name(), Some("hi"));
///
/// let header = r#"52-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
/// assert_eq!(decoder.feed_text(header)?, None);
/// assert!(decoder.is_reassembling());
/// assert_eq!(decoder.feed_binary(Bytes::from_static(b"a"))?, None);
/// let packet = decoder.feed_binary(Bytes::from_static(b"b"))?.unwrap();
/// assert_eq!(packet.attachments, [Bytes::from_static(b"a"), Bytes::from_static(b"b")]);
///
/// assert_eq!(decoder.feed_text(r#"2["disconnect"]"#), Err(DecodeError::ReservedEvent));
/// assert_eq!(decoder.feed_binary(Bytes::new()), Err(DecodeError::UnexpectedBinary));
/// # Ok::<(), DecodeError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    limits: Limits,
    /// A binary packet waiting for attachments, and how many it needs.
    pending: Option<(Packet, usize)>,
}

impl Decoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Decoder { limits, pending: None }
    }

    /// The limits this decoder enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Decodes one packet's text (an Engine.IO message without its `4`).
    ///
    /// Returns the packet, or `Ok(None)` for a binary packet header that
    /// now waits for its attachments.
    ///
    /// # Errors
    ///
    /// [`UnexpectedText`](DecodeError::UnexpectedText) while a binary packet
    /// is waiting for attachments (that packet is dropped), or the reason
    /// the text is not a valid packet (see [`DecodeError`]). The decoder
    /// stays usable.
    pub fn feed_text(&mut self, text: &str) -> Result<Option<Packet>, DecodeError> {
        if self.pending.take().is_some() {
            return Err(DecodeError::UnexpectedText);
        }
        let (packet, count) = parse(text, self.limits)?;
        if count == 0 {
            Ok(Some(packet))
        } else {
            self.pending = Some((packet, count));
            Ok(None)
        }
    }

    /// Adds a binary attachment to the pending binary packet.
    ///
    /// Returns the complete packet with its last attachment, `Ok(None)`
    /// before that.
    ///
    /// # Errors
    ///
    /// [`UnexpectedBinary`](DecodeError::UnexpectedBinary) when no binary
    /// packet is waiting for attachments.
    pub fn feed_binary(&mut self, data: Bytes) -> Result<Option<Packet>, DecodeError> {
        let Some((packet, count)) = &mut self.pending else {
            return Err(DecodeError::UnexpectedBinary);
        };
        packet.attachments.push(data);
        if packet.attachments.len() < *count {
            return Ok(None);
        }
        Ok(self.pending.take().map(|(packet, _)| packet))
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_reassembling(&self) -> bool {
        self.pending.is_some()
    }

    /// Drops a binary packet waiting for attachments, if any.
    pub fn reset(&mut self) {
        self.pending = None;
    }
}

/// Parses and validates one packet text; returns it with the number of
/// attachments still to come.
fn parse(text: &str, limits: Limits) -> Result<(Packet, usize), DecodeError> {
    if text.len() > limits.max_packet_len {
        return Err(DecodeError::PacketTooLarge);
    }
    let bytes = text.as_bytes();
    let (&first, _) = bytes.split_first().ok_or(DecodeError::Empty)?;
    let kind = PacketKind::from_digit(first).ok_or(DecodeError::UnknownPacketType)?;
    // Every position `i` below sits right after an ASCII byte, so slicing
    // `text` at it is on a char boundary.
    let mut i = 1;

    let mut count = 0;
    if kind.is_binary() {
        let digits = digits_at(bytes, i);
        match bytes.get(i + digits) {
            None => return Err(DecodeError::Truncated),
            Some(b'-') if digits > 0 => {}
            Some(_) => return Err(DecodeError::InvalidAttachmentCount),
        }
        // More digits than fit in a usize are certainly too many.
        count = parse_u64(&bytes[i..i + digits])
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(usize::MAX);
        if count > limits.max_attachments {
            return Err(DecodeError::TooManyAttachments);
        }
        i += digits + 1;
    }

    let mut nsp = "/";
    if bytes.get(i) == Some(&b'/') {
        let end = bytes[i..].iter().position(|&b| b == b',').map_or(bytes.len(), |p| i + p);
        nsp = &text[i..end];
        if nsp.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(DecodeError::InvalidNamespace);
        }
        i = (end + 1).min(bytes.len());
    }

    let mut id = None;
    let digits = digits_at(bytes, i);
    if digits > 0 {
        id = Some(parse_u64(&bytes[i..i + digits]).ok_or(DecodeError::InvalidAckId)?);
        i += digits;
    }

    let json = &text[i..];
    let data = if json.is_empty() {
        None
    } else {
        Some(serde_json::from_str::<Value>(json).map_err(|_| DecodeError::InvalidJson)?)
    };

    check_id(kind, id)?;
    check_data(kind, data.as_ref())?;
    if let (true, Some(data)) = (kind.is_binary(), &data) {
        placeholder::check(data, count)?;
    }
    let packet =
        Packet { kind, nsp: nsp.to_owned(), id, data, attachments: Vec::with_capacity(count) };
    Ok((packet, count))
}

/// The number of ASCII digits at `bytes[i..]`.
fn digits_at(bytes: &[u8], i: usize) -> usize {
    bytes.get(i..).map_or(0, |rest| rest.iter().take_while(|b| b.is_ascii_digit()).count())
}

/// Parses ASCII digits; `None` on overflow.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

/// Acks need an id; joins, leaves and refusals have none.
fn check_id(kind: PacketKind, id: Option<u64>) -> Result<(), DecodeError> {
    let ok = match kind {
        PacketKind::Ack | PacketKind::BinaryAck => id.is_some(),
        PacketKind::Connect | PacketKind::Disconnect | PacketKind::ConnectError => id.is_none(),
        PacketKind::Event | PacketKind::BinaryEvent => true,
    };
    if ok {
        Ok(())
    } else {
        Err(DecodeError::InvalidAckId)
    }
}

/// The data shapes each kind allows.
fn check_data(kind: PacketKind, data: Option<&Value>) -> Result<(), DecodeError> {
    match (kind, data) {
        (PacketKind::Connect, None | Some(Value::Object(_)))
        | (PacketKind::Disconnect, None)
        | (PacketKind::ConnectError, Some(Value::Object(_) | Value::String(_)))
        | (PacketKind::Ack | PacketKind::BinaryAck, Some(Value::Array(_))) => Ok(()),
        (PacketKind::Event | PacketKind::BinaryEvent, Some(Value::Array(items))) => {
            match items.first() {
                Some(Value::String(name)) if RESERVED_EVENTS.contains(&name.as_str()) => {
                    Err(DecodeError::ReservedEvent)
                }
                Some(Value::String(_) | Value::Number(_)) => Ok(()),
                _ => Err(DecodeError::InvalidData),
            }
        }
        _ => Err(DecodeError::InvalidData),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn decode(text: &str) -> Result<Option<Packet>, DecodeError> {
        Decoder::new(Limits::default()).feed_text(text)
    }

    #[test]
    fn lenient_where_the_reference_is() {
        let packet = decode("0/custom").unwrap();
        assert_eq!(packet, Some(Packet::connect("/custom", None)));
        assert_eq!(decode("0/,").unwrap(), Some(Packet::connect("/", None)));
        assert_eq!(
            decode("2007[\"a\"]").unwrap(),
            Some(Packet::event("/", json!(["a"]), vec![], Some(7)))
        );
        assert_eq!(
            decode("2 [\"a\"] ").unwrap(),
            Some(Packet::event("/", json!(["a"]), vec![], None))
        );
        assert_eq!(decode("2[1]").unwrap(), Some(Packet::event("/", json!([1]), vec![], None)));
        assert_eq!(decode("4\"nope\"").unwrap().map(|p| p.data), Some(Some(json!("nope"))));
        // Binary packets with no attachments are complete at once.
        let packet = decode("50-[\"a\"]").unwrap().unwrap();
        assert_eq!(packet.kind, PacketKind::BinaryEvent);
    }

    #[test]
    fn rejects_each_fault_with_its_error() {
        use DecodeError::*;
        for (text, error) in [
            ("", Empty),
            ("7", UnknownPacketType),
            ("é", UnknownPacketType),
            ("5", Truncated),
            ("51", Truncated),
            ("5-[\"a\"]", InvalidAttachmentCount),
            ("5-1-[\"a\"]", InvalidAttachmentCount),
            ("5abc-[\"a\"]", InvalidAttachmentCount),
            ("51[\"a\"]", InvalidAttachmentCount),
            ("511-[\"a\"]", TooManyAttachments),
            ("599999999999999999999999999-[\"a\"]", TooManyAttachments),
            ("2/a\u{1},[\"a\"]", InvalidNamespace),
            ("218446744073709551616[\"a\"]", InvalidAckId),
            ("3[\"a\"]", InvalidAckId),
            ("01{}", InvalidAckId),
            ("11", InvalidAckId),
            ("2[\"a\"", InvalidJson),
            ("2/chat,x", InvalidJson),
            ("2", InvalidData),
            ("2[]", InvalidData),
            ("2[null]", InvalidData),
            ("2{\"a\":1}", InvalidData),
            ("0[]", InvalidData),
            ("1{}", InvalidData),
            ("31", InvalidData),
            ("31{}", InvalidData),
            ("4", InvalidData),
            ("4[]", InvalidData),
            ("2[\"connect\"]", ReservedEvent),
            ("5/a,0-[]", InvalidAttachmentCount),
            ("51-[\"a\"]", AttachmentMismatch),
            ("51-[\"a\",{\"_placeholder\":true,\"num\":-1}]", InvalidPlaceholder),
            ("51-[\"a\",{\"_placeholder\":true,\"num\":0.0}]", InvalidPlaceholder),
            ("51-[\"a\",{\"_placeholder\":true,\"num\":\"0\"}]", InvalidPlaceholder),
            ("51-[\"a\",{\"_placeholder\":true,\"num\":1}]", InvalidPlaceholder),
        ] {
            assert_eq!(decode(text), Err(error), "{text:?}");
        }
    }

    #[test]
    fn enforces_the_text_limit() {
        let mut decoder = Decoder::new(Limits::default().with_max_packet_len(8));
        assert!(decoder.feed_text("2[\"abc\"]").is_ok());
        assert_eq!(decoder.feed_text("2[\"abcd\"]"), Err(DecodeError::PacketTooLarge));
    }

    #[test]
    fn reassembly_errors_leave_the_decoder_usable() {
        let mut decoder = Decoder::default();
        assert_eq!(decoder.feed_binary(Bytes::new()), Err(DecodeError::UnexpectedBinary));
        let header = "61-4[{\"_placeholder\":true,\"num\":0}]";
        assert_eq!(decoder.feed_text(header), Ok(None));
        assert_eq!(decoder.feed_text("2[\"a\"]"), Err(DecodeError::UnexpectedText));
        assert!(!decoder.is_reassembling());
        assert_eq!(decoder.feed_text(header), Ok(None));
        decoder.reset();
        assert!(!decoder.is_reassembling());
        assert_eq!(decoder.feed_text(header), Ok(None));
        let packet = decoder.feed_binary(Bytes::from_static(b"x")).unwrap().unwrap();
        assert_eq!(
            packet,
            Packet::ack(
                "/",
                4,
                json!([super::super::placeholder(0)]),
                vec![Bytes::from_static(b"x")]
            )
        );
        assert!(decoder.feed_text("2[\"a\"]").unwrap().is_some());
    }
}
