//! Engine.IO v3 framing, for Socket.IO v2 clients (`EIO=3`).
//!
//! The packets are those of v4 (a type digit and data); what differs is how they travel:
//!
//! - a polling **text payload** prefixes each packet with its length and a colon,
//!   `<length>:<packet>`, the length counted in UTF-16 code units (JavaScript's
//!   `string.length`), and a binary message is `b4<base64>`;
//! - a polling **binary payload** (`application/octet-stream`, sent by clients that support
//!   binary) is a sequence of `<0 text | 1 binary><length as decimal digits, one per byte>
//!   <255><packet>`, the length counted in bytes, a binary packet starting with its type byte;
//! - a binary **WebSocket** frame starts with the packet's type byte (`4` for a message).
//!
//! ```
//! use bytes::Bytes;
//! use ferrio_protocol::engine::{v3, Frame, Packet};
//!
//! let packets = v3::decode_text("6:4héllo2:4a".into(), 10)?;
//! assert_eq!(packets, [Packet::Message("héllo".into()), Packet::Message("a".into())]);
//!
//! let mut out = Vec::new();
//! v3::encode([&Frame::Text("4é".into()), &Frame::Binary(Bytes::from_static(&[1, 2]))], &mut out);
//! assert_eq!(out, "2:4é6:b4AQI=".as_bytes());
//! # Ok::<(), ferrio_protocol::DecodeError>(())
//! ```

use bytes::Bytes;

use super::{Frame, Packet};
use crate::decimal::push_decimal;
use crate::{b64, DecodeError, Str};

/// The packet type byte of a binary message.
const MESSAGE: u8 = 4;

/// The number of UTF-16 code units of `text` (what JavaScript counts).
fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Decodes one packet in v3 text form (an item of a text payload, or a text WebSocket frame of
/// a client without binary support): the v4 text form, where a binary message is
/// `b4<base64>`.
///
/// # Errors
///
/// [`UnknownPacketType`](DecodeError::UnknownPacketType) for a `b` not followed by `4`,
/// [`InvalidBase64`](DecodeError::InvalidBase64), and the errors of [`Packet::decode_text`].
pub fn decode_item(item: Str) -> Result<Packet, DecodeError> {
    match item.as_bytes() {
        [b'b', b'4', base64 @ ..] => Ok(Packet::Binary(Bytes::from(b64::decode(base64)?))),
        [b'b', ..] => Err(DecodeError::UnknownPacketType),
        _ => Packet::decode_text(item),
    }
}

/// Decodes a v3 text payload (`<length>:<packet>…`), at most `max_packets` packets.
///
/// # Errors
///
/// [`Empty`](DecodeError::Empty) for an empty body,
/// [`InvalidLength`](DecodeError::InvalidLength) for a length that is not a number or does not
/// match what follows, [`TooManyPackets`](DecodeError::TooManyPackets), and the errors of the
/// packets.
pub fn decode_text(body: Str, max_packets: usize) -> Result<Vec<Packet>, DecodeError> {
    if body.is_empty() {
        return Err(DecodeError::Empty);
    }
    let text = body.as_str();
    let mut packets = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let colon = text[at..].find(':').ok_or(DecodeError::InvalidLength)? + at;
        let digits = &text[at..colon];
        if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DecodeError::InvalidLength);
        }
        let units: usize = digits.parse().map_err(|_| DecodeError::InvalidLength)?;
        // Walk `units` UTF-16 code units from after the colon.
        let start = colon + 1;
        let mut end = start;
        let mut counted = 0;
        for c in text[start..].chars() {
            if counted == units {
                break;
            }
            counted += c.len_utf16();
            end += c.len_utf8();
        }
        if counted != units {
            return Err(DecodeError::InvalidLength);
        }
        if packets.len() == max_packets {
            return Err(DecodeError::TooManyPackets);
        }
        let item = body.slice(start..end).ok_or(DecodeError::InvalidLength)?;
        packets.push(decode_item(item)?);
        at = end;
    }
    Ok(packets)
}

/// Decodes a v3 binary payload (`application/octet-stream`), at most `max_packets` packets.
///
/// # Errors
///
/// [`Empty`](DecodeError::Empty) for an empty body or a binary packet without its type,
/// [`InvalidLength`](DecodeError::InvalidLength) for a bad length header,
/// [`UnknownPacketType`](DecodeError::UnknownPacketType) for a binary packet that is not a
/// message, [`InvalidUtf8`](DecodeError::InvalidUtf8) for text that is not UTF-8,
/// [`TooManyPackets`](DecodeError::TooManyPackets), and the errors of the text packets.
pub fn decode_binary(body: Bytes, max_packets: usize) -> Result<Vec<Packet>, DecodeError> {
    if body.is_empty() {
        return Err(DecodeError::Empty);
    }
    let mut packets = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let is_text = match body[at] {
            0 => true,
            1 => false,
            _ => return Err(DecodeError::InvalidLength),
        };
        let mut len: usize = 0;
        let mut digits = 0;
        let mut i = at + 1;
        loop {
            match body.get(i) {
                Some(255) => break,
                Some(&d) if d <= 9 && digits < 10 => {
                    len = len * 10 + usize::from(d);
                    digits += 1;
                }
                _ => return Err(DecodeError::InvalidLength),
            }
            i += 1;
        }
        if digits == 0 {
            return Err(DecodeError::InvalidLength);
        }
        let start = i + 1;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= body.len())
            .ok_or(DecodeError::InvalidLength)?;
        if packets.len() == max_packets {
            return Err(DecodeError::TooManyPackets);
        }
        let data = body.slice(start..end);
        packets.push(if is_text {
            decode_item(Str::try_from(data).map_err(|_| DecodeError::InvalidUtf8)?)?
        } else {
            decode_binary_frame(data)?
        });
        at = end;
    }
    Ok(packets)
}

/// Decodes a v3 binary WebSocket frame (or binary payload packet): the packet's type byte,
/// then its data; only messages are binary.
///
/// # Errors
///
/// [`Empty`](DecodeError::Empty) for an empty frame,
/// [`UnknownPacketType`](DecodeError::UnknownPacketType) when the type is not a message.
pub fn decode_binary_frame(frame: Bytes) -> Result<Packet, DecodeError> {
    match frame.first() {
        None => Err(DecodeError::Empty),
        Some(&MESSAGE) => Ok(Packet::Binary(frame.slice(1..))),
        Some(_) => Err(DecodeError::UnknownPacketType),
    }
}

/// A binary message as a v3 WebSocket frame: its type byte, then the data.
pub fn encode_binary_frame(data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(1 + data.len());
    out.push(MESSAGE);
    out.extend_from_slice(data);
    Bytes::from(out)
}

/// `frame` in v3 text form: a text frame as is, a binary message as `b4<base64>` (what a text
/// WebSocket frame carries to a client without binary support).
pub fn text_item(frame: &Frame) -> Str {
    match frame {
        Frame::Text(text) => text.clone(),
        Frame::Binary(bytes) => {
            let mut out = Vec::with_capacity(2 + b64::encoded_len(bytes.len()));
            out.extend_from_slice(b"b4");
            b64::encode_into(bytes, &mut out);
            Str::from_utf8_vec(out)
        }
    }
}

/// Appends `frames` as a v3 text payload to `out`: each `<length>:<packet>`, binary ones as
/// `b4<base64>`.
pub fn encode<'a>(frames: impl IntoIterator<Item = &'a Frame>, out: &mut Vec<u8>) {
    for frame in frames {
        match frame {
            Frame::Text(text) => {
                push_decimal(out, utf16_len(text.as_str()) as u64);
                out.push(b':');
                out.extend_from_slice(text.as_bytes());
            }
            Frame::Binary(bytes) => {
                push_decimal(out, (2 + b64::encoded_len(bytes.len())) as u64);
                out.extend_from_slice(b":b4");
                b64::encode_into(bytes, out);
            }
        }
    }
}

/// The bytes `frame` takes in a v3 text payload (to batch up to `maxPayload`).
pub fn encoded_len(frame: &Frame) -> usize {
    let item = match frame {
        Frame::Text(text) => utf16_len(text.as_str()),
        Frame::Binary(bytes) => 2 + b64::encoded_len(bytes.len()),
    };
    let body = match frame {
        Frame::Text(text) => text.len(),
        Frame::Binary(_) => item,
    };
    item.to_string().len() + 1 + body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_payload_lengths_count_utf16_units() {
        // "🦀" is 2 UTF-16 units, 4 UTF-8 bytes.
        let packets = decode_text("3:4🦀1:2".into(), 10).unwrap();
        assert_eq!(packets, [Packet::Message("🦀".into()), Packet::Ping]);
        let mut out = Vec::new();
        encode([&Frame::Text("4🦀".into())], &mut out);
        assert_eq!(out, "3:4🦀".as_bytes());
        assert_eq!(encoded_len(&Frame::Text("4🦀".into())), out.len());
    }

    #[test]
    fn bad_text_payloads_are_refused() {
        for bad in ["4hi", ":4hi", "x:4hi", "5:4hi", "2:4hi9", "99999999999:4"] {
            assert_eq!(decode_text(bad.into(), 10), Err(DecodeError::InvalidLength), "{bad}");
        }
        assert_eq!(decode_text("1:21:2".into(), 1), Err(DecodeError::TooManyPackets));
        assert_eq!(decode_text("6:b1AQI=".into(), 10), Err(DecodeError::UnknownPacketType));
    }

    #[test]
    fn binary_payloads_carry_text_and_binary_packets() {
        let mut body = vec![0, 3, 255];
        body.extend_from_slice(b"4hi");
        body.extend_from_slice(&[1, 3, 255, 4, 9, 8]);
        let packets = decode_binary(Bytes::from(body), 10).unwrap();
        assert_eq!(
            packets,
            [Packet::Message("hi".into()), Packet::Binary(Bytes::from_static(&[9, 8]))]
        );
        for bad in [&[0u8, 3, 255, b'4'][..], &[2, 1, 255, 0], &[0, 255, 1], &[1, 1, 255, 2]] {
            assert!(decode_binary(Bytes::copy_from_slice(bad), 10).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn binary_websocket_frames_start_with_the_type() {
        let frame = encode_binary_frame(&[1, 2]);
        assert_eq!(&frame[..], &[4, 1, 2]);
        assert_eq!(decode_binary_frame(frame), Ok(Packet::Binary(Bytes::from_static(&[1, 2]))));
        assert_eq!(
            decode_binary_frame(Bytes::from_static(&[2])),
            Err(DecodeError::UnknownPacketType)
        );
    }
}
