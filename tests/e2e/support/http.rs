//! A deliberately small HTTP/1.1 client over a raw `TcpStream`, so tests see the exact status,
//! headers and body bytes the server wrote, and can run as many requests concurrently as they
//! like (one connection each, or a kept-alive [`HttpConn`]).

use std::net::SocketAddr;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use super::{within, STEP};

/// A request to send: method, request target (path and query) and extra headers.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn new(method: &str, target: &str) -> Self {
        Self {
            method: method.to_owned(),
            target: target.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The request head, with `Host` and (for a body, or any POST/PUT) `Content-Length`.
    fn head(&self, host: &str, close: bool) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\nHost: {host}\r\n", self.method, self.target);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.body.is_empty() || matches!(self.method.as_str(), "POST" | "PUT") {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }
}

/// A response as it came off the wire (chunked bodies are de-chunked).
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The first header with that name (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 (panics otherwise: Engine.IO polling bodies are text).
    pub(crate) fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("response body is not UTF-8")
    }

    /// The body split into Engine.IO packets (`\x1e` separated).
    pub(crate) fn packets(&self) -> Vec<String> {
        self.text().split('\x1e').map(str::to_owned).collect()
    }
}

/// Sends one request on a fresh connection (`Connection: close`). The body is written
/// concurrently with reading the response, so a server that answers early (413) and stops
/// reading is observed as such.
pub(crate) async fn send(addr: SocketAddr, req: &Request) -> Response {
    within(&format!("{} {}", req.method, req.target), STEP, async {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).ok();
        let (read, mut write) = stream.into_split();
        let mut bytes = req.head(&addr.to_string(), true);
        bytes.extend_from_slice(&req.body);
        let writer = tokio::spawn(async move {
            // The server may answer and close before reading everything; that is fine.
            let _ = write.write_all(&bytes).await;
            let _ = write.flush().await;
            write
        });
        let mut reader = BufReader::new(read);
        let response = read_response(&mut reader, &req.method).await.expect("read response");
        drop(writer.await);
        response
    })
    .await
}

/// A kept-alive HTTP/1.1 connection carrying one request at a time, like a browser's.
#[derive(Debug)]
pub(crate) struct HttpConn {
    addr: SocketAddr,
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl HttpConn {
    pub(crate) async fn connect(addr: SocketAddr) -> Self {
        let stream = within("connect", STEP, TcpStream::connect(addr)).await.expect("connect");
        stream.set_nodelay(true).ok();
        let (read, writer) = stream.into_split();
        Self { addr, reader: BufReader::new(read), writer }
    }

    /// Sends a request and reads its response, without a timeout (long-polls may wait; callers
    /// bound the wait). Reconnects afterwards if the server announced `Connection: close`.
    pub(crate) async fn send(&mut self, req: &Request) -> std::io::Result<Response> {
        let mut bytes = req.head(&self.addr.to_string(), false);
        bytes.extend_from_slice(&req.body);
        self.writer.write_all(&bytes).await?;
        self.writer.flush().await?;
        let response = read_response(&mut self.reader, &req.method).await?;
        if response.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close")) {
            *self = Self::connect(self.addr).await;
        }
        Ok(response)
    }
}

async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<String> {
    let mut line = Vec::new();
    let n = reader.read_until(b'\n', &mut line).await?;
    if n == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    let line = String::from_utf8(line)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn read_response<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    method: &str,
) -> std::io::Result<Response> {
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let status_line = read_line(reader).await?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(bad(format!("bad status line {status_line:?}")));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader).await?;
        if line.is_empty() {
            break;
        }
        let (name, value) =
            line.split_once(':').ok_or_else(|| bad(format!("bad header {line:?}")))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut response = Response { status, headers, body: Vec::new() };
    if method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(response);
    }
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let size_line = read_line(reader).await?;
            let size = size_line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| bad(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers, then the final empty line.
                while !read_line(reader).await?.is_empty() {}
                break;
            }
            let start = response.body.len();
            response.body.resize(start + size, 0);
            reader.read_exact(&mut response.body[start..]).await?;
            read_line(reader).await?;
        }
    } else if let Some(length) = response.header("content-length") {
        let length: usize =
            length.parse().map_err(|_| bad(format!("bad content-length {length:?}")))?;
        response.body.resize(length, 0);
        reader.read_exact(&mut response.body).await?;
    } else {
        reader.read_to_end(&mut response.body).await?;
    }
    Ok(response)
}
