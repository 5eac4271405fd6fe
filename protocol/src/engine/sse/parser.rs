//! [`Parser`]: an incremental SSE reader yielding Engine.IO packets.

use bytes::Bytes;

use super::B64_EVENT;
use crate::engine::{payload, Packet};
use crate::{b64, DecodeError, Str};

/// Bytes a line may have beyond `max_event_len`: its field name and colon.
const LINE_OVERHEAD: usize = 8;

/// The UTF-8 byte order mark, skipped once at the start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// An incremental parser of an SSE byte stream, as a client of the
/// `streaming` transport reads it.
///
/// Chunk boundaries may fall anywhere, inside UTF-8 sequences or between the
/// `\r` and `\n` of a line end. The parser follows the WHATWG rules for
/// event streams: lines end with `\n`, `\r` or `\r\n`; a leading BOM is
/// skipped; lines starting with `:` are comments; `data` lines accumulate
/// (joined with `\n`), `event` names the event, one space after the colon is
/// dropped, other fields (`id`, `retry`, …) are ignored, and an empty line
/// dispatches the event. Each event is decoded with
/// [`payload::decode_one`](crate::engine::payload::decode_one); an event
/// named `b64` carries the standard base64 of a text frame (see
/// [`encode_event`](super::encode_event)); events with other names are
/// skipped, as an `EventSource` without a listener for them would.
///
/// Unlike a browser, the parser rejects invalid UTF-8 in an event's data
/// instead of replacing it.
///
/// Comments are discarded as they stream in, so the 2 KiB padding costs no
/// buffer. The data of one event may be at most `max_event_len` bytes, and
/// any other line at most `max_event_len` + 8 (room for `data: ` or
/// `event: `).
///
/// ```
/// use ferrio_protocol::engine::{sse::Parser, Packet};
/// use ferrio_protocol::{DecodeError, Str};
///
/// let mut parser = Parser::new(1024);
/// parser.push(b": hi\r\ndata: 4one\r\n\r\ndata:2\r");
/// assert_eq!(parser.next_packet()?, Some(Packet::Message(Str::from("one"))));
/// assert_eq!(parser.next_packet()?, None); // the event is not complete yet
/// parser.push(b"\n\r\n");
/// assert_eq!(parser.next_packet()?, Some(Packet::Ping));
///
/// parser.push(b"data: nope\n\n");
/// assert_eq!(parser.next_packet(), Err(DecodeError::UnknownPacketType));
/// assert_eq!(parser.next_packet()?, None); // a bad event does not stop the stream
/// # Ok::<(), DecodeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Parser {
    /// Limit for one event's data (lines may have [`LINE_OVERHEAD`] more).
    max_event_len: usize,
    /// Received bytes; `buf[..pos]` is consumed.
    buf: Vec<u8>,
    /// Start of the current, not yet terminated, line.
    pos: usize,
    /// `buf[pos..scanned]` holds no line terminator.
    scanned: usize,
    /// The start of the stream has been checked for a BOM.
    started: bool,
    /// The last line ended with `\r`; a `\n` right after it belongs to it.
    after_cr: bool,
    /// The current line is a comment whose bytes are dropped as they come.
    in_comment: bool,
    /// The data buffer of the event being read (each line followed by `\n`).
    data: Vec<u8>,
    /// The event type buffer of the event being read.
    event: Vec<u8>,
    /// A limit was exceeded; the stream cannot be resynchronised.
    failed: bool,
    /// The last `id` field that was a sequence number (what a client re-attaching reports).
    last_id: Option<u64>,
}

/// What a complete line asks for.
enum Line {
    /// Nothing to do yet.
    Continue,
    /// An empty line: dispatch the event.
    Dispatch,
}

impl Parser {
    /// A parser accepting lines and events of at most `max_event_len` bytes.
    ///
    /// Pick the limit comfortably above the largest packet expected: a
    /// binary packet travels as base64 (4/3 of its size, plus `data: b`).
    pub fn new(max_event_len: usize) -> Self {
        Parser {
            max_event_len,
            buf: Vec::new(),
            pos: 0,
            scanned: 0,
            started: false,
            after_cr: false,
            in_comment: false,
            data: Vec::new(),
            event: Vec::new(),
            failed: false,
            last_id: None,
        }
    }

    /// The last event id received that is a number: ferrio numbers the packets of a stream
    /// (`id: <seq>`), and a client that re-attaches names the last one it got.
    ///
    /// ```
    /// use ferrio_protocol::engine::sse::Parser;
    ///
    /// let mut parser = Parser::new(1024);
    /// parser.push(b"id: 7\ndata: 4hi\n\n");
    /// assert!(parser.next_packet()?.is_some());
    /// assert_eq!(parser.last_event_id(), Some(7));
    /// # Ok::<(), ferrio_protocol::DecodeError>(())
    /// ```
    pub fn last_event_id(&self) -> Option<u64> {
        self.last_id
    }

    /// Appends bytes read from the stream. Call [`Parser::next_packet`]
    /// until it returns `Ok(None)` to drain them.
    ///
    /// After [`DecodeError::PayloadTooLarge`] the bytes are dropped.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.failed {
            return;
        }
        self.compact();
        self.buf.extend_from_slice(chunk);
    }

    /// The next packet of the stream, or `Ok(None)` when more bytes are
    /// needed.
    ///
    /// # Errors
    ///
    /// An event that does not decode yields its error
    /// ([`InvalidUtf8`](DecodeError::InvalidUtf8),
    /// [`InvalidBase64`](DecodeError::InvalidBase64), or any error of
    /// [`payload::decode_one`]) and is consumed: the next call goes on with
    /// the next event. A line or event longer than the limit yields
    /// [`PayloadTooLarge`](DecodeError::PayloadTooLarge), and every call
    /// after it does too.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, DecodeError> {
        if self.failed {
            return Err(DecodeError::PayloadTooLarge);
        }
        loop {
            if !self.started {
                let head = &self.buf[self.pos..];
                if head.len() < BOM.len() && BOM.starts_with(head) {
                    return Ok(None); // maybe a BOM split across chunks
                }
                if head.starts_with(BOM) {
                    self.pos += BOM.len();
                }
                self.started = true;
            }
            if self.after_cr {
                match self.buf.get(self.pos) {
                    Some(b'\n') => {
                        self.pos += 1;
                        self.after_cr = false;
                    }
                    Some(_) => self.after_cr = false,
                    None => {}
                }
            }
            let from = self.scanned.max(self.pos);
            let Some(offset) = self.buf[from..].iter().position(|&b| b == b'\n' || b == b'\r')
            else {
                return self.need_more();
            };
            let (start, end) = (self.pos, from + offset);
            self.after_cr = self.buf[end] == b'\r';
            self.pos = end + 1;
            self.scanned = self.pos;
            if std::mem::take(&mut self.in_comment) {
                continue; // the rest of a comment already dropped
            }
            match self.line(start, end)? {
                Line::Continue => {}
                Line::Dispatch => {
                    if let Some(result) = self.dispatch() {
                        return result.map(Some);
                    }
                }
            }
        }
    }

    /// Checks that the stream ended cleanly, between two events.
    ///
    /// Call it at the end of the stream, after [`Parser::next_packet`]
    /// returned `Ok(None)`. The WHATWG rules drop an unfinished event
    /// silently; this reports it.
    ///
    /// # Errors
    ///
    /// [`Truncated`](DecodeError::Truncated) when the stream stopped in the
    /// middle of a line or an event,
    /// [`PayloadTooLarge`](DecodeError::PayloadTooLarge) after that error.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.failed {
            Err(DecodeError::PayloadTooLarge)
        } else if self.pos < self.buf.len()
            || self.in_comment
            || !self.data.is_empty()
            || !self.event.is_empty()
        {
            Err(DecodeError::Truncated)
        } else {
            Ok(())
        }
    }

    /// No terminator in the buffer: drop comment bytes, enforce the line
    /// limit, and ask for more.
    fn need_more(&mut self) -> Result<Option<Packet>, DecodeError> {
        if self.in_comment || self.buf.get(self.pos) == Some(&b':') {
            self.in_comment = true;
            self.buf.truncate(self.pos);
        } else if self.buf.len() - self.pos > self.line_limit() {
            return Err(self.fail());
        }
        self.scanned = self.buf.len();
        self.compact();
        Ok(None)
    }

    /// Interprets the complete line `buf[start..end]`.
    fn line(&mut self, start: usize, end: usize) -> Result<Line, DecodeError> {
        let line = &self.buf[start..end];
        if line.is_empty() {
            return Ok(Line::Dispatch);
        }
        if line[0] == b':' {
            return Ok(Line::Continue);
        }
        if line.len() > self.line_limit() {
            return Err(self.fail());
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
                if self.data.len() - 1 > self.max_event_len {
                    return Err(self.fail());
                }
            }
            b"event" => {
                self.event.clear();
                self.event.extend_from_slice(value);
            }
            b"id" => {
                if let Some(id) = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                    self.last_id = Some(id);
                }
            }
            _ => {} // retry, and unknown fields
        }
        Ok(Line::Continue)
    }

    /// Dispatches the event read so far; `None` when there is nothing to
    /// dispatch (no data) or the event's name is not ours.
    fn dispatch(&mut self) -> Option<Result<Packet, DecodeError>> {
        let event = std::mem::take(&mut self.event);
        if self.data.is_empty() {
            return None;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the `\n` after the last data line
        match event.as_slice() {
            b"" | b"message" => Some(
                Str::try_from(Bytes::from(data))
                    .map_err(|_| DecodeError::InvalidUtf8)
                    .and_then(payload::decode_one),
            ),
            B64_EVENT => Some(b64::decode(&data).and_then(|text| {
                Str::try_from(Bytes::from(text))
                    .map_err(|_| DecodeError::InvalidUtf8)
                    .and_then(Packet::decode_text)
            })),
            _ => None,
        }
    }

    /// The longest line accepted.
    fn line_limit(&self) -> usize {
        self.max_event_len.saturating_add(LINE_OVERHEAD)
    }

    /// Enters the failed state, dropping everything buffered.
    fn fail(&mut self) -> DecodeError {
        self.failed = true;
        self.buf = Vec::new();
        self.data = Vec::new();
        self.pos = 0;
        self.scanned = 0;
        DecodeError::PayloadTooLarge
    }

    /// Drops consumed bytes once they make up half the buffer (amortised
    /// O(1) per byte).
    fn compact(&mut self) {
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.scanned -= self.pos.min(self.scanned);
            self.pos = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sse::{encode_event, padding};
    use crate::engine::Frame;

    /// Drains every packet (or error) of `stream` fed in chunks of `size`.
    fn parse_chunked(stream: &[u8], size: usize, max: usize) -> Vec<Result<Packet, DecodeError>> {
        let mut parser = Parser::new(max);
        let mut out = Vec::new();
        for chunk in stream.chunks(size.max(1)) {
            parser.push(chunk);
            loop {
                match parser.next_packet() {
                    Ok(Some(packet)) => out.push(Ok(packet)),
                    Ok(None) => break,
                    Err(e) => {
                        out.push(Err(e.clone()));
                        if e == DecodeError::PayloadTooLarge {
                            return out;
                        }
                    }
                }
            }
        }
        out
    }

    fn sample_stream() -> (Vec<u8>, Vec<Packet>) {
        let packets = vec![
            Packet::Message(Str::from("héllo ☃ 😀")),
            Packet::Message(Str::from("multi\nline\n\ntext\n")),
            Packet::Message(Str::from("cr\rlf\r\nmix")),
            Packet::Binary(Bytes::from_static(&[0, 1, 2, 0xff, 0xfe])),
            Packet::Ping,
            Packet::Message(Str::from("")),
            Packet::Noop,
        ];
        let mut stream = b"\xEF\xBB\xBF".to_vec();
        stream.extend_from_slice(padding());
        for packet in &packets {
            encode_event(&packet.encode(), &mut stream);
        }
        (stream, packets)
    }

    #[test]
    fn every_split_position_yields_the_same_packets() {
        let (stream, packets) = sample_stream();
        let expected: Vec<_> = packets.into_iter().map(Ok).collect();
        // Split once at every position…
        for split in 0..=stream.len() {
            let mut parser = Parser::new(4096);
            let mut got = Vec::new();
            for chunk in [&stream[..split], &stream[split..]] {
                parser.push(chunk);
                while let Some(packet) = parser.next_packet().transpose() {
                    got.push(packet);
                }
            }
            assert_eq!(got, expected, "split at {split}");
            assert_eq!(parser.finish(), Ok(()));
        }
        // …and feed byte by byte and in odd chunks.
        for size in [1, 2, 3, 5, 7, 64] {
            assert_eq!(parse_chunked(&stream, size, 4096), expected, "chunks of {size}");
        }
    }

    #[test]
    fn line_endings_split_between_cr_and_lf() {
        let stream = b"data: 4a\r\n\r\ndata: 4b\r\rdata: 4c\n\n";
        let expected = vec![
            Ok(Packet::Message(Str::from("a"))),
            Ok(Packet::Message(Str::from("b"))),
            Ok(Packet::Message(Str::from("c"))),
        ];
        for split in 0..=stream.len() {
            for size in [1, 2, stream.len()] {
                let mut parser = Parser::new(64);
                let mut got = Vec::new();
                for part in [&stream[..split], &stream[split..]] {
                    for chunk in part.chunks(size) {
                        parser.push(chunk);
                        while let Some(p) = parser.next_packet().transpose() {
                            got.push(p);
                        }
                    }
                }
                assert_eq!(got, expected, "split {split} size {size}");
            }
        }
    }

    #[test]
    fn follows_the_field_rules() {
        let stream = b"data:4nospace\n\n\
            data: 4a\ndata:  b\n\n\
            id: 7\nretry: 10\nfoo: bar\ndata: 4x\n\n\
            event: other\ndata: 4skipped\n\n\
            event: message\ndata: 4named\n\n\
            data\ndata: 4\n\n\
            event: b64\n\n\
            data: 2\n\n";
        let got = parse_chunked(stream, 1, 64);
        assert_eq!(
            got,
            vec![
                Ok(Packet::Message(Str::from("nospace"))),
                Ok(Packet::Message(Str::from("a\n b"))),
                Ok(Packet::Message(Str::from("x"))),
                Ok(Packet::Message(Str::from("named"))),
                Err(DecodeError::UnknownPacketType), // "\n4"
                Ok(Packet::Ping),
            ]
        );
    }

    #[test]
    fn bom_only_at_the_start() {
        let got = parse_chunked(b"\xEF\xBB\xBFdata: 2\n\n\xEF\xBB\xBFdata: 3\n\n", 1, 64);
        assert_eq!(got, vec![Ok(Packet::Ping)]); // the second BOM is part of a field name
        let got = parse_chunked(b"\xEF\xBBdata: 2\n\n", 1, 64);
        assert_eq!(got, vec![]); // a broken BOM is part of the first field name
    }

    #[test]
    fn limits_lines_and_events_but_not_comments() {
        let mut stream = vec![b':'];
        stream.extend(std::iter::repeat_n(b'x', 10_000));
        stream.extend_from_slice(b"\ndata: 4ok\n\n");
        for size in [1, 100, stream.len()] {
            assert_eq!(
                parse_chunked(&stream, size, 16),
                vec![Ok(Packet::Message(Str::from("ok")))]
            );
        }
        for size in [1, 5, 100] {
            let got = parse_chunked(b"data: 4aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\n", size, 16);
            assert_eq!(got, vec![Err(DecodeError::PayloadTooLarge)]);
            let got = parse_chunked(b"data: 4aaaaaaa\ndata: 4aaaaaaa\ndata: 4aa\n\n", size, 16);
            assert_eq!(got, vec![Err(DecodeError::PayloadTooLarge)]);
        }
        let mut parser = Parser::new(4);
        parser.push(b"data: 4abcdef");
        assert_eq!(parser.next_packet(), Err(DecodeError::PayloadTooLarge));
        parser.push(b"\n\ndata: 2\n\n");
        assert_eq!(parser.next_packet(), Err(DecodeError::PayloadTooLarge));
        assert_eq!(parser.finish(), Err(DecodeError::PayloadTooLarge));
        // Exactly at the limit is fine.
        assert_eq!(
            parse_chunked(b"data: 4abc\n\n", 1, 4),
            vec![Ok(Packet::Message(Str::from("abc")))]
        );
    }

    #[test]
    fn bad_events_are_skipped() {
        let got = parse_chunked(
            b"data: 4\xff\n\nevent: b64\ndata: !!\n\nevent: b64\ndata: /w==\n\ndata: b!\n\ndata: 2\n\n",
            3,
            64,
        );
        assert_eq!(
            got,
            vec![
                Err(DecodeError::InvalidUtf8),
                Err(DecodeError::InvalidBase64),
                Err(DecodeError::InvalidUtf8),
                Err(DecodeError::InvalidBase64),
                Ok(Packet::Ping),
            ]
        );
    }

    #[test]
    fn finish_reports_truncation() {
        for (stream, expected) in [
            (&b""[..], Ok(())),
            (b"data: 2\n\n", Ok(())),
            (b"data: 2\n\n\r", Ok(())),
            (b"data: 2\n", Err(DecodeError::Truncated)),
            (b"data: 2", Err(DecodeError::Truncated)),
            (b"event: b64\n", Err(DecodeError::Truncated)),
            (b": comment", Err(DecodeError::Truncated)),
        ] {
            let mut parser = Parser::new(64);
            parser.push(stream);
            while let Ok(Some(_)) = parser.next_packet() {}
            assert_eq!(parser.finish(), expected, "{stream:?}");
        }
    }

    #[test]
    fn binary_frames_round_trip() {
        let mut stream = Vec::new();
        encode_event(&Frame::Binary(Bytes::from_static(b"\r\n\x1e")), &mut stream);
        assert_eq!(
            parse_chunked(&stream, 1, 64),
            vec![Ok(Packet::Binary(Bytes::from_static(b"\r\n\x1e")))]
        );
    }
}
