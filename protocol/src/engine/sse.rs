//! Framing of ferrio's `streaming` transport: Server-Sent Events downstream.
//!
//! `GET {path}?EIO=4&transport=streaming` answers `text/event-stream`: first
//! [`padding`] (a 2 KiB comment that defeats buffering proxies), then one
//! event per Engine.IO packet, the open packet first. Upstream packets travel
//! by POST, framed like polling (see [`payload`](super::payload)).
//!
//! Each event carries one packet in its payload text form ([`encode_event`]):
//!
//! | frame | event |
//! |---|---|
//! | text `4hello` | `data: 4hello\n\n` |
//! | text `4a\nb` | `data: 4a\ndata: b\n\n` (SSE joins `data` lines with `\n`) |
//! | text `4a\rb` | `event: b64\ndata: NGENYg==\n\n` (a lone `\r` would end an SSE line) |
//! | binary `01 02 03` | `data: bAQID\n\n` |
//!
//! A client reads the stream with a [`Parser`]:
//!
//! ```
//! use ferrio_protocol::engine::{sse, Frame, Packet};
//! use ferrio_protocol::Str;
//!
//! let mut stream = sse::padding().to_vec();
//! sse::encode_event(&Frame::Text(Str::from("4a\r\nb")), &mut stream);
//! sse::encode_event(&Packet::Ping.encode(), &mut stream);
//!
//! let mut parser = sse::Parser::new(64 * 1024);
//! for chunk in stream.chunks(7) {
//!     parser.push(chunk);
//! }
//! assert_eq!(parser.next_packet()?, Some(Packet::Message(Str::from("a\r\nb"))));
//! assert_eq!(parser.next_packet()?, Some(Packet::Ping));
//! assert_eq!(parser.next_packet()?, None);
//! # Ok::<(), ferrio_protocol::DecodeError>(())
//! ```

mod parser;

pub use parser::Parser;

use super::Frame;
use crate::b64;

/// Spaces in the padding comment.
const PADDING_SPACES: usize = 2048;

/// `:` + 2048 spaces + `\n\n`.
static PADDING: [u8; PADDING_SPACES + 3] = {
    let mut padding = [b' '; PADDING_SPACES + 3];
    padding[0] = b':';
    padding[PADDING_SPACES + 1] = b'\n';
    padding[PADDING_SPACES + 2] = b'\n';
    padding
};

/// The SSE comment sent first: `:` followed by 2048 spaces then `\n\n`
/// (2 KiB of padding that makes buffering proxies and old browsers pass the
/// stream on at once).
///
/// ```
/// let padding = ferrio_protocol::engine::sse::padding();
/// assert_eq!(padding.len(), 2051);
/// assert!(padding.starts_with(b":  ") && padding.ends_with(b" \n\n"));
/// ```
pub fn padding() -> &'static [u8] {
    &PADDING
}

/// The name of the event that carries a text frame containing `\r` as the
/// base64 of its UTF-8 bytes.
pub(crate) const B64_EVENT: &[u8] = b"b64";

/// Appends one SSE event for `frame` to `out`.
///
/// A text frame becomes `data: <text>\n\n`, split on `\n` into several
/// `data:` lines (SSE joins them back with `\n`). SSE treats a lone `\r` as a
/// line end, so a text containing `\r` is sent as
/// `event: b64\ndata: <standard base64 of the UTF-8 text>\n\n` instead; the
/// [`Parser`] maps it back to the text frame. A binary frame becomes
/// `data: b<base64>\n\n`, as in a polling payload.
pub fn encode_event(frame: &Frame, out: &mut Vec<u8>) {
    const DATA: &[u8] = b"data: ";
    match frame {
        Frame::Binary(bytes) => {
            out.reserve(DATA.len() + 1 + b64::encoded_len(bytes.len()) + 2);
            out.extend_from_slice(DATA);
            out.push(b'b');
            b64::encode_into(bytes, out);
        }
        Frame::Text(text) if text.as_bytes().contains(&b'\r') => {
            out.reserve(20 + b64::encoded_len(text.len()));
            out.extend_from_slice(b"event: ");
            out.extend_from_slice(B64_EVENT);
            out.push(b'\n');
            out.extend_from_slice(DATA);
            b64::encode_into(text.as_bytes(), out);
        }
        Frame::Text(text) => {
            let text = text.as_bytes();
            let lines = 1 + text.iter().filter(|&&b| b == b'\n').count();
            out.reserve(text.len() + lines * (DATA.len() + 1) + 1);
            for (i, line) in text.split(|&b| b == b'\n').enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                out.extend_from_slice(DATA);
                out.extend_from_slice(line);
            }
        }
    }
    out.extend_from_slice(b"\n\n");
}

/// Appends one SSE event for `frame` numbered `id` (an `id: <id>` line first): a client that
/// loses the stream names the last number it got when it re-attaches, and the server resends
/// what followed. See [`encode_event`] for the rest.
///
/// ```
/// use ferrio_protocol::engine::{sse, Frame};
/// use ferrio_protocol::Str;
///
/// let mut out = Vec::new();
/// sse::encode_event_with_id(42, &Frame::Text(Str::from("4hi")), &mut out);
/// assert_eq!(out, b"id: 42\ndata: 4hi\n\n");
/// ```
pub fn encode_event_with_id(id: u64, frame: &Frame, out: &mut Vec<u8>) {
    out.extend_from_slice(b"id: ");
    crate::decimal::push_decimal(out, id);
    out.push(b'\n');
    encode_event(frame, out);
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::Str;

    fn event(frame: Frame) -> String {
        let mut out = Vec::new();
        encode_event(&frame, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_events() {
        assert_eq!(event(Frame::Text(Str::from("4hello"))), "data: 4hello\n\n");
        assert_eq!(event(Frame::Text(Str::from("4a\nb\n"))), "data: 4a\ndata: b\ndata: \n\n");
        assert_eq!(event(Frame::Text(Str::from("4a\rb"))), "event: b64\ndata: NGENYg==\n\n");
        assert_eq!(event(Frame::Binary(Bytes::from_static(&[1, 2, 3]))), "data: bAQID\n\n");
        assert_eq!(event(Frame::Binary(Bytes::new())), "data: b\n\n");
    }

    #[test]
    fn padding_is_a_comment() {
        let p = padding();
        assert_eq!(p[0], b':');
        assert!(p[1..2049].iter().all(|&b| b == b' '));
        assert_eq!(&p[2049..], b"\n\n");
    }
}
