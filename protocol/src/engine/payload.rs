//! Long-polling payloads: packets joined by the record separator `\x1e`.
//!
//! A polling GET answers with every queued packet in one body, and a polling
//! (or streaming) POST carries one or more packets the same way. Text packets
//! appear in their text form; binary messages as `b` followed by standard
//! base64:
//!
//! ```
//! use bytes::Bytes;
//! use ferrio_protocol::engine::{payload, Packet};
//! use ferrio_protocol::Str;
//!
//! let packets = vec![
//!     Packet::Message(Str::from("hello")),
//!     Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])),
//! ];
//! let frames: Vec<_> = packets.iter().map(Packet::encode).collect();
//!
//! let mut body = Vec::new();
//! payload::encode(&frames, &mut body);
//! assert_eq!(body, b"4hello\x1ebAQIDBA==");
//! assert_eq!(payload::decode(Bytes::from(body), 16)?, packets);
//! # Ok::<(), ferrio_protocol::DecodeError>(())
//! ```

use bytes::Bytes;

use super::{Frame, Packet};
use crate::{b64, DecodeError, Str};

/// The record separator between two packets of a payload.
pub const SEPARATOR: u8 = 0x1e;

/// Decodes a POST body: packets joined by `\x1e`, binary ones as
/// `b<base64>`.
///
/// The whole body must be UTF-8. Text messages are zero-copy slices of
/// `body`. The body's size is the transport's business (`maxPayload`); this
/// only bounds the number of packets.
///
/// # Errors
///
/// [`InvalidUtf8`](DecodeError::InvalidUtf8) when the body is not UTF-8,
/// [`Empty`](DecodeError::Empty) for an empty body or an empty item
/// (`4a\x1e\x1e4b`, or a trailing separator),
/// [`TooManyPackets`](DecodeError::TooManyPackets) for more than
/// `max_packets` items, and any error of [`decode_one`] for an item.
pub fn decode(body: Bytes, max_packets: usize) -> Result<Vec<Packet>, DecodeError> {
    let body = Str::try_from(body).map_err(|_| DecodeError::InvalidUtf8)?;
    if body.is_empty() {
        return Err(DecodeError::Empty);
    }
    let bytes = body.as_bytes();
    let mut packets = Vec::new();
    let mut start = 0;
    loop {
        let end =
            bytes[start..].iter().position(|&b| b == SEPARATOR).map_or(bytes.len(), |i| start + i);
        if packets.len() == max_packets {
            return Err(DecodeError::TooManyPackets);
        }
        // The separator is ASCII, so both ends are char boundaries.
        packets.push(decode_one(body.slice_at_ascii(start, end))?);
        if end == bytes.len() {
            return Ok(packets);
        }
        start = end + 1;
    }
}

/// Decodes one item of a payload or of an SSE event: the text form of a
/// packet, where a binary message is `b<base64>`.
///
/// # Errors
///
/// [`InvalidBase64`](DecodeError::InvalidBase64) for a bad `b…` item, else
/// the errors of [`Packet::decode_text`].
pub fn decode_one(item: Str) -> Result<Packet, DecodeError> {
    match item.as_bytes() {
        [b'b', base64 @ ..] => Ok(Packet::Binary(Bytes::from(b64::decode(base64)?))),
        _ => Packet::decode_text(item),
    }
}

/// Appends `frames` joined by `\x1e` to `out`, binary frames as `b` +
/// standard base64 (padded).
///
/// Use [`encoded_len`] to decide how many frames fit in a response of
/// `maxPayload` bytes before encoding them.
pub fn encode<'a>(frames: impl IntoIterator<Item = &'a Frame>, out: &mut Vec<u8>) {
    for (i, frame) in frames.into_iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        match frame {
            Frame::Text(text) => out.extend_from_slice(text.as_bytes()),
            Frame::Binary(bytes) => {
                out.reserve(1 + b64::encoded_len(bytes.len()));
                out.push(b'b');
                b64::encode_into(bytes, out);
            }
        }
    }
}

/// The bytes `frame` takes in a payload, without the separator: the text's
/// length, or 1 + the base64 length for binary. Used to batch up to
/// `maxPayload`.
///
/// ```
/// use bytes::Bytes;
/// use ferrio_protocol::engine::{payload, Frame};
///
/// assert_eq!(payload::encoded_len(&Frame::Text("4hi".into())), 3);
/// assert_eq!(payload::encoded_len(&Frame::Binary(Bytes::from_static(&[1, 2, 3, 4]))), 9);
/// ```
pub fn encoded_len(frame: &Frame) -> usize {
    match frame {
        Frame::Text(text) => text.len(),
        Frame::Binary(bytes) => 1 + b64::encoded_len(bytes.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_str(body: &str, max: usize) -> Result<Vec<Packet>, DecodeError> {
        decode(Bytes::copy_from_slice(body.as_bytes()), max)
    }

    #[test]
    fn decodes_mixed_payloads() {
        assert_eq!(
            decode_str("2probe\x1e4hello\x1e1", 3).unwrap(),
            [Packet::PingProbe, Packet::Message(Str::from("hello")), Packet::Close]
        );
        assert_eq!(
            decode_str("4€€€\x1eb", 8).unwrap(),
            [Packet::Message(Str::from("€€€")), Packet::Binary(Bytes::new())]
        );
    }

    #[test]
    fn enforces_limits_and_rejects_empty_items() {
        assert_eq!(decode_str("", 8), Err(DecodeError::Empty));
        assert_eq!(decode_str("\x1e", 8), Err(DecodeError::Empty));
        assert_eq!(decode_str("4a\x1e", 8), Err(DecodeError::Empty));
        assert_eq!(decode_str("4a\x1e\x1e4b", 8), Err(DecodeError::Empty));
        assert_eq!(decode_str("4a\x1e4b", 1), Err(DecodeError::TooManyPackets));
        assert_eq!(decode_str("4a", 0), Err(DecodeError::TooManyPackets));
        assert_eq!(decode_str("4a\x1e4b", 2).unwrap().len(), 2);
        assert_eq!(decode_str("bA", 8), Err(DecodeError::InvalidBase64));
        assert_eq!(decode_str("b!!!!", 8), Err(DecodeError::InvalidBase64));
        assert_eq!(decode(Bytes::from_static(b"4\xff"), 8), Err(DecodeError::InvalidUtf8));
    }

    #[test]
    fn encodes_and_measures() {
        let frames = [
            Frame::Text(Str::from("4a")),
            Frame::Binary(Bytes::from_static(b"\x01\x02")),
            Frame::Binary(Bytes::new()),
        ];
        let mut out = b"x".to_vec();
        encode(&frames, &mut out);
        assert_eq!(out, b"x4a\x1ebAQI=\x1eb");
        let total: usize = frames.iter().map(encoded_len).sum::<usize>() + frames.len() - 1;
        assert_eq!(out.len() - 1, total);
        let mut empty = Vec::new();
        encode(&[], &mut empty);
        assert!(empty.is_empty());
    }
}
