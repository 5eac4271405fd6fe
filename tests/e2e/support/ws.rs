//! A raw WebSocket client (tokio-tungstenite) that reports every frame as it arrived.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{within, STEP};

/// One thing read from the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    Text(String),
    Binary(Vec<u8>),
    /// A close frame: `Some(code)`, or `None` when it carried no status (seen as 1005).
    Close(Option<u16>),
    /// The connection ended without (further) close frame.
    End,
}

/// A connected raw WebSocket.
#[derive(Debug)]
pub(crate) struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Answer Engine.IO pings (`2`) with `3` inside [`Ws::recv_message`].
    pub(crate) auto_pong: bool,
}

/// Opens a WebSocket; `Err` carries the HTTP status of a refused handshake (0 for other errors).
pub(crate) async fn connect(url: &str) -> Result<Ws, (u16, String)> {
    match within(&format!("websocket connect {url}"), STEP, tokio_tungstenite::connect_async(url))
        .await
    {
        Ok((stream, _response)) => Ok(Ws { stream, auto_pong: true }),
        Err(WsError::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
                .into_owned();
            Err((response.status().as_u16(), body))
        }
        Err(other) => Err((0, other.to_string())),
    }
}

impl Ws {
    pub(crate) async fn send_text(&mut self, text: impl Into<String>) {
        let text: String = text.into();
        within("websocket send", STEP, self.stream.send(Message::text(text)))
            .await
            .expect("websocket send");
    }

    pub(crate) async fn send_binary(&mut self, bytes: impl Into<Vec<u8>>) {
        let bytes: Vec<u8> = bytes.into();
        within("websocket send", STEP, self.stream.send(Message::binary(bytes)))
            .await
            .expect("websocket send");
    }

    /// Sends a close frame with a normal (1000) status.
    pub(crate) async fn send_close(&mut self) {
        let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        within("websocket close", STEP, self.stream.send(Message::Close(Some(frame)))).await.ok();
    }

    /// Closes from the client side (close frame) and waits for the server to end the
    /// connection, skipping whatever was still in flight.
    pub(crate) async fn close(mut self) {
        self.send_close().await;
        within("the websocket to close", STEP, async {
            loop {
                match self.next_frame_unbounded().await {
                    Frame::Close(_) | Frame::End => break,
                    _ => continue,
                }
            }
        })
        .await;
    }

    /// The next data or close frame (WebSocket-level ping/pong frames are skipped).
    pub(crate) async fn next_frame(&mut self) -> Frame {
        within("next websocket frame", STEP, self.next_frame_unbounded()).await
    }

    async fn next_frame_unbounded(&mut self) -> Frame {
        loop {
            match self.stream.next().await {
                None => return Frame::End,
                Some(Ok(Message::Text(text))) => return Frame::Text(text.as_str().to_owned()),
                Some(Ok(Message::Binary(bytes))) => return Frame::Binary(bytes.to_vec()),
                Some(Ok(Message::Close(frame))) => {
                    return Frame::Close(frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => return Frame::End,
                Some(Err(WsError::Io(_) | WsError::Protocol(_))) => return Frame::End,
                Some(Err(other)) => panic!("websocket read error: {other}"),
            }
        }
    }

    /// The next text frame; panics on anything else.
    pub(crate) async fn recv_text(&mut self) -> String {
        match self.next_frame().await {
            Frame::Text(text) => text,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Reads the open packet and returns its JSON.
    pub(crate) async fn recv_open(&mut self) -> serde_json::Value {
        let open = self.recv_text().await;
        let json = open
            .strip_prefix('0')
            .unwrap_or_else(|| panic!("expected an open packet, got {open:?}"));
        serde_json::from_str(json).expect("open packet JSON")
    }

    /// The next frame that is not an Engine.IO ping (`2`, answered with `3` when `auto_pong`)
    /// nor a noop (`6`).
    pub(crate) async fn recv_message(&mut self) -> Frame {
        within("next websocket message", STEP, self.recv_message_unbounded()).await
    }

    async fn recv_message_unbounded(&mut self) -> Frame {
        loop {
            match self.next_frame().await {
                Frame::Text(text) if text == "2" => {
                    if self.auto_pong {
                        self.send_text("3").await;
                    }
                }
                Frame::Text(text) if text == "6" => {}
                other => return other,
            }
        }
    }

    /// Reads until the server ends the connection, skipping pings and noops, and returns how it
    /// ended (`Close(..)` or `End`). Panics on a message in between.
    pub(crate) async fn recv_close(&mut self) -> Frame {
        let frame = self.recv_message().await;
        match frame {
            Frame::Close(_) | Frame::End => frame,
            other => panic!("expected the websocket to close, got {other:?}"),
        }
    }
}
