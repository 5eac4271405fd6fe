//! A raw Socket.IO test client over a WebSocket: it reads the open packet, answers Engine.IO
//! pings (`2` → `3`) by itself, and lets tests send and expect exact wire strings.
//!
//! Everything a test sends or expects is a whole WebSocket frame, Engine.IO digit included:
//! `42["echo","hi"]`, `40/admin,{"token":"secret"}`, binary attachments as binary frames.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use ferrio_protocol::socket::{Decoder, Limits, Packet};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::{within, STEP};

/// One thing the server sent (Engine.IO pings excluded: the client answers them itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Msg {
    /// A text frame, e.g. `42["echo","hi"]`.
    Text(String),
    /// A binary frame (a Socket.IO attachment).
    Binary(Vec<u8>),
    /// The server closed the connection (close frame or end of stream).
    Closed,
}

/// A raw Socket.IO client on one Engine.IO WebSocket session.
#[derive(Debug)]
pub(crate) struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The Engine.IO session id of the open packet.
    pub(crate) engine_sid: String,
}

/// `ws://{addr}/socket.io/?EIO=4&transport=websocket{extra_query}`.
pub(crate) fn url(addr: SocketAddr, extra_query: &str) -> String {
    format!("ws://{addr}/socket.io/?EIO=4&transport=websocket{extra_query}")
}

impl Client {
    /// Opens an Engine.IO WebSocket session (no namespace joined yet).
    pub(crate) async fn open(addr: SocketAddr) -> Client {
        Client::open_with(addr, "", &[]).await
    }

    /// Opens a session with extra query parameters (`&k=v…`) and request headers.
    pub(crate) async fn open_with(
        addr: SocketAddr,
        extra_query: &str,
        headers: &[(&'static str, &'static str)],
    ) -> Client {
        let mut request = url(addr, extra_query).into_client_request().expect("client request");
        for (name, value) in headers {
            request.headers_mut().insert(*name, HeaderValue::from_static(value));
        }
        let (ws, _) = within("websocket connect", STEP, tokio_tungstenite::connect_async(request))
            .await
            .expect("websocket handshake");
        let mut client = Client { ws, engine_sid: String::new() };
        let open = client.recv_text().await;
        let json = open.strip_prefix('0').unwrap_or_else(|| panic!("expected open, got {open:?}"));
        let open: Value = serde_json::from_str(json).expect("open packet JSON");
        client.engine_sid = open["sid"].as_str().expect("sid in the open packet").to_owned();
        client
    }

    /// Opens a session and joins `/`; returns the client and its socket id.
    pub(crate) async fn connect(addr: SocketAddr) -> (Client, String) {
        let mut client = Client::open(addr).await;
        let sid = client.join("/", None).await;
        (client, sid)
    }

    /// Sends CONNECT for `nsp` (with `auth` JSON, if any) and expects the server's CONNECT
    /// `40{"sid":"…"}` (`40/nsp,{"sid":"…"}`); returns the socket id.
    pub(crate) async fn join(&mut self, nsp: &str, auth: Option<&str>) -> String {
        self.send(&connect_packet(nsp, auth)).await;
        let reply = self.recv_text().await;
        let prefix = if nsp == "/" { "40".to_owned() } else { format!("40{nsp},") };
        let json = reply
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("expected CONNECT `{prefix}{{…}}` for {nsp}, got {reply:?}"));
        let data: Value = serde_json::from_str(json).expect("CONNECT data is JSON");
        let object = data.as_object().expect("CONNECT data is an object");
        assert_eq!(object.len(), 1, "CONNECT data holds only the sid: {reply:?}");
        data["sid"].as_str().expect("sid is a string").to_owned()
    }

    /// Sends a text frame as is.
    pub(crate) async fn send(&mut self, text: &str) {
        within("websocket send", STEP, self.ws.send(Message::text(text)))
            .await
            .expect("websocket send");
    }

    /// Sends a binary frame (an attachment).
    pub(crate) async fn send_binary(&mut self, bytes: &[u8]) {
        within("websocket send", STEP, self.ws.send(Message::binary(bytes.to_vec())))
            .await
            .expect("websocket send");
    }

    /// The next message, within [`STEP`].
    pub(crate) async fn recv(&mut self) -> Msg {
        within("the next message from the server", STEP, self.recv_unbounded()).await
    }

    async fn recv_unbounded(&mut self) -> Msg {
        loop {
            match self.ws.next().await {
                None => return Msg::Closed,
                Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                    // Engine.IO ping: answer and keep reading.
                    let _ = self.ws.send(Message::text("3")).await;
                }
                Some(Ok(Message::Text(text))) => return Msg::Text(text.as_str().to_owned()),
                Some(Ok(Message::Binary(bytes))) => return Msg::Binary(bytes.to_vec()),
                Some(Ok(Message::Close(_))) => return Msg::Closed,
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => {
                    return Msg::Closed
                }
                Some(Err(WsError::Io(_) | WsError::Protocol(_))) => return Msg::Closed,
                Some(Err(other)) => panic!("websocket read error: {other}"),
            }
        }
    }

    /// The next text frame; panics on anything else.
    pub(crate) async fn recv_text(&mut self) -> String {
        match self.recv().await {
            Msg::Text(text) => text,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Expects exactly this text frame next.
    pub(crate) async fn expect(&mut self, text: &str) {
        assert_eq!(self.recv().await, Msg::Text(text.to_owned()), "expected {text:?}");
    }

    /// Expects exactly this binary frame next.
    pub(crate) async fn expect_binary(&mut self, bytes: &[u8]) {
        assert_eq!(self.recv().await, Msg::Binary(bytes.to_vec()), "expected binary {bytes:?}");
    }

    /// Expects the server to close the connection next, with no message before.
    pub(crate) async fn expect_closed(&mut self) {
        assert_eq!(self.recv().await, Msg::Closed, "expected the server to close the connection");
    }

    /// Asserts nothing arrives (and the connection stays open) for `window`.
    pub(crate) async fn expect_silence(&mut self, window: Duration) {
        if let Ok(msg) = tokio::time::timeout(window, self.recv_unbounded()).await {
            panic!("expected nothing for {window:?}, got {msg:?}");
        }
    }

    /// Sends `42["echo","<token>"]` on `/` and expects the same packet back: the connection
    /// still works (the namespace must have the `echo` handler of `super::add_echo`).
    pub(crate) async fn assert_echo(&mut self, token: &str) {
        let packet = format!(r#"42["echo","{token}"]"#);
        self.send(&packet).await;
        self.expect(&packet).await;
    }

    /// The next Socket.IO packet, decoded with `ferrio_protocol` (binary attachments
    /// reassembled).
    pub(crate) async fn recv_packet(&mut self) -> Packet {
        let mut decoder = Decoder::new(Limits::default());
        let text = self.recv_text().await;
        let body = text.strip_prefix('4').unwrap_or_else(|| panic!("expected a message: {text:?}"));
        let mut packet = decoder.feed_text(body).expect("a valid Socket.IO packet");
        while packet.is_none() {
            let Msg::Binary(bytes) = self.recv().await else {
                panic!("expected an attachment of {text:?}");
            };
            packet = decoder.feed_binary(Bytes::from(bytes)).expect("a valid attachment");
        }
        packet.expect("a packet")
    }

    /// Closes from the client side (close frame) and waits until the server ends the
    /// connection, skipping what was still in flight.
    pub(crate) async fn close(mut self) {
        let frame = CloseFrame { code: CloseCode::Normal, reason: "".into() };
        let _ = within("websocket close", STEP, self.ws.send(Message::Close(Some(frame)))).await;
        within("the websocket to close", STEP, async {
            while self.recv_unbounded().await != Msg::Closed {}
        })
        .await;
    }
}

/// `40`, `40{auth}`, `40/nsp,` or `40/nsp,{auth}`.
pub(crate) fn connect_packet(nsp: &str, auth: Option<&str>) -> String {
    match (nsp, auth) {
        ("/", None) => "40".to_owned(),
        ("/", Some(auth)) => format!("40{auth}"),
        (nsp, None) => format!("40{nsp},"),
        (nsp, Some(auth)) => format!("40{nsp},{auth}"),
    }
}
