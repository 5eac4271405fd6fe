//! A raw client of the `streaming` transport: an HTTP/1.1 (or HTTP/1.0) GET whose body is read
//! incrementally (de-chunked, or until the server closes), kept as raw bytes for exact
//! assertions and parsed with `ferrio_protocol::engine::sse::Parser` into frames.

use std::net::SocketAddr;

use ferrio_protocol::engine::{sse, Frame as WireFrame, Packet};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::support::{within, Frame, STEP};

/// The largest event the tests expect (a few hundred KiB of text at most).
const MAX_EVENT: usize = 2 << 20;

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Transfer-Encoding: chunked` (HTTP/1.1).
    Chunked,
    /// No length: the body ends when the server closes the connection (HTTP/1.0).
    Close,
    /// `Content-Length` (error answers).
    Length(usize),
}

/// One streaming response, read as it comes.
#[derive(Debug)]
pub(crate) struct SseStream {
    /// `HTTP/1.1` or `HTTP/1.0`, from the status line.
    pub(crate) version: String,
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) framing: Framing,
    reader: BufReader<TcpStream>,
    /// Every body byte received so far (de-chunked).
    raw: Vec<u8>,
    parser: sse::Parser,
    ended: bool,
}

fn invalid(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

async fn read_line(reader: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line).await? == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    let line = String::from_utf8(line).map_err(|e| invalid(e.to_string()))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// The frame a packet travels as (what a WebSocket would carry).
pub(crate) fn to_frame(packet: &Packet) -> Frame {
    match packet.encode() {
        WireFrame::Text(text) => Frame::Text(text.as_str().to_owned()),
        WireFrame::Binary(bytes) => Frame::Binary(bytes.to_vec()),
    }
}

/// Splits SSE text into its complete events (each without its final `\n\n`).
pub(crate) fn events(raw: &[u8]) -> Vec<String> {
    numbered_events(raw).into_iter().map(|(_, event)| event).collect()
}

/// The complete events in `raw`, each with its `id:` (the packet's sequence number; `None`
/// for events the server does not number: a noop or close that ends a stream) and the rest
/// of its lines.
pub(crate) fn numbered_events(raw: &[u8]) -> Vec<(Option<u64>, String)> {
    let text = String::from_utf8(raw.to_vec()).expect("the event stream is UTF-8");
    let mut events: Vec<&str> = text.split("\n\n").collect();
    events.pop(); // what follows the last `\n\n`: an incomplete event, or nothing
    events
        .into_iter()
        .map(|event| match event.strip_prefix("id: ").and_then(|rest| rest.split_once('\n')) {
            Some((id, rest)) => (Some(id.parse().expect("a numeric id")), rest.to_owned()),
            None => (None, event.to_owned()),
        })
        .collect()
}

impl SseStream {
    /// Sends `GET {target}` as `version` (`"HTTP/1.1"` or `"HTTP/1.0"`) with `extra` headers
    /// and reads the response head.
    pub(crate) async fn open(
        addr: SocketAddr,
        target: &str,
        version: &str,
        extra: &[(&str, &str)],
    ) -> Self {
        within(&format!("streaming GET {target}"), STEP, async {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).ok();
            let mut head = format!("GET {target} {version}\r\nHost: {addr}\r\n");
            for (name, value) in extra {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes()).await.expect("write request");
            let mut reader = BufReader::new(stream);
            let status_line = read_line(&mut reader).await.expect("status line");
            let mut parts = status_line.splitn(3, ' ');
            let version = parts.next().unwrap_or_default().to_owned();
            let status = parts
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
            let mut headers = Vec::new();
            loop {
                let line = read_line(&mut reader).await.expect("header line");
                if line.is_empty() {
                    break;
                }
                let (name, value) =
                    line.split_once(':').unwrap_or_else(|| panic!("bad header {line:?}"));
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            let find = |name: &str| {
                headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
            };
            let framing = if find("transfer-encoding")
                .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"))
            {
                Framing::Chunked
            } else if let Some(length) = find("content-length") {
                Framing::Length(length.parse().expect("content-length"))
            } else {
                Framing::Close
            };
            Self {
                version,
                status,
                headers,
                framing,
                reader,
                raw: Vec::new(),
                parser: sse::Parser::new(MAX_EVENT),
                ended: false,
            }
        })
        .await
    }

    /// The first header with that name (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body bytes received so far.
    pub(crate) fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The complete events received after body offset `from`.
    pub(crate) fn events_since(&self, from: usize) -> Vec<String> {
        events(&self.raw[from..])
    }

    /// The number of the last packet read (its SSE `id`), as a client re-attaching reports it.
    pub(crate) fn last_event_id(&self) -> Option<u64> {
        self.parser.last_event_id()
    }

    /// Whether the body has ended.
    pub(crate) fn ended(&self) -> bool {
        self.ended
    }

    /// Reads the next piece of the body (one chunk, or what one read returns); `false` at its
    /// end.
    async fn read_piece(&mut self) -> std::io::Result<bool> {
        let piece = match self.framing {
            Framing::Chunked => {
                let size_line = read_line(&mut self.reader).await?;
                let size = size_line.split(';').next().unwrap_or_default().trim();
                let size = usize::from_str_radix(size, 16)
                    .map_err(|_| invalid(format!("bad chunk size {size_line:?}")))?;
                if size == 0 {
                    while !read_line(&mut self.reader).await?.is_empty() {}
                    return Ok(false);
                }
                let mut piece = vec![0; size];
                self.reader.read_exact(&mut piece).await?;
                let end = read_line(&mut self.reader).await?;
                if !end.is_empty() {
                    return Err(invalid(format!("chunk not followed by CRLF: {end:?}")));
                }
                piece
            }
            Framing::Close | Framing::Length(_) => {
                let left = match self.framing {
                    Framing::Length(length) => length - self.raw.len(),
                    _ => 64 * 1024,
                };
                if left == 0 {
                    return Ok(false);
                }
                let mut piece = vec![0; left.min(64 * 1024)];
                let n = self.reader.read(&mut piece).await?;
                if n == 0 {
                    if let Framing::Length(length) = self.framing {
                        return Err(invalid(format!(
                            "body ended after {} of {length} bytes",
                            self.raw.len()
                        )));
                    }
                    return Ok(false);
                }
                piece.truncate(n);
                piece
            }
        };
        self.raw.extend_from_slice(&piece);
        self.parser.push(&piece);
        Ok(true)
    }

    /// Reads until at least `len` body bytes arrived (or the body ended); bounded by [`STEP`].
    /// What was read is still parsed by the next [`SseStream::next`].
    pub(crate) async fn fill(&mut self, len: usize) {
        within(&format!("{len} body bytes"), STEP, async {
            while self.raw.len() < len && !self.ended {
                match self.read_piece().await {
                    Ok(true) => {}
                    Ok(false) => self.ended = true,
                    Err(err) => panic!("reading the stream: {err}"),
                }
            }
        })
        .await;
    }

    /// The next packet of the stream as a frame, or [`Frame::End`] once the body ended
    /// (cleanly: between two events). Not cancel-safe; not bounded.
    pub(crate) async fn next_unbounded(&mut self) -> Frame {
        loop {
            match self.parser.next_packet() {
                Ok(Some(packet)) => return to_frame(&packet),
                Ok(None) if self.ended => {
                    assert_eq!(self.parser.finish(), Ok(()), "the stream ended inside an event");
                    return Frame::End;
                }
                Ok(None) => {}
                Err(err) => panic!("undecodable event in the stream: {err}"),
            }
            match self.read_piece().await {
                Ok(true) => {}
                Ok(false) => {
                    self.ended = true;
                    assert_eq!(
                        self.parser.finish(),
                        Ok(()),
                        "the stream ended inside an event: {:?}",
                        String::from_utf8_lossy(&self.raw[self.raw.len().saturating_sub(200)..])
                    );
                    return Frame::End;
                }
                Err(err) => panic!("reading the stream: {err}"),
            }
        }
    }

    /// The next frame, or [`Frame::End`]; bounded by [`STEP`].
    pub(crate) async fn next(&mut self) -> Frame {
        within("next streaming event", STEP, self.next_unbounded()).await
    }

    /// Every frame until the body ends, bounded by [`STEP`].
    pub(crate) async fn rest(&mut self) -> Vec<Frame> {
        within("the stream to end", STEP, async {
            let mut frames = Vec::new();
            loop {
                match self.next_unbounded().await {
                    Frame::End => return frames,
                    frame => frames.push(frame),
                }
            }
        })
        .await
    }

    /// Reads the stream in a background task: frames arrive on the channel, then
    /// [`Frame::End`]; the task returns the stream.
    pub(crate) fn spawn_reader(mut self) -> (mpsc::UnboundedReceiver<Frame>, JoinHandle<Self>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let frame = self.next_unbounded().await;
                let end = frame == Frame::End;
                let _ = tx.send(frame);
                if end {
                    return self;
                }
            }
        });
        (rx, task)
    }
}
