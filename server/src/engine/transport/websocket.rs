//! WebSocket: direct connections and upgrades from polling through the Engine.IO probe.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferrio_protocol::engine::{ErrorCode, Frame, Packet};
use ferrio_protocol::Str;
use futures_util::{SinkExt, StreamExt};
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::sync::futures::Notified;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use crate::engine::http::body::ResponseBody;
use crate::engine::http::response::{self, EngineResponse};
use crate::engine::revision::Revision;
use crate::engine::session::{Session, UpgradeRefused};
use crate::engine::shared::Shared;
use crate::engine::slots::Slot;
use crate::engine::{CloseReason, HandshakeRequest, TransportKind};

type Ws = WebSocketStream<TokioIo<Upgraded>>;

/// Bytes of frames gathered before a write to the socket (a flush writes them sooner).
const WRITE_BUFFER: usize = 32 * 1024;

/// Whether `req` asks for a WebSocket (RFC 6455 opening handshake).
pub(crate) fn is_upgrade_request<B>(req: &Request<B>) -> bool {
    let has_token = |name: header::HeaderName, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|part| part.trim().eq_ignore_ascii_case(token)))
        })
    };
    req.method() == http::Method::GET
        && has_token(header::UPGRADE, "websocket")
        && has_token(header::CONNECTION, "upgrade")
        && req.headers().contains_key(header::SEC_WEBSOCKET_KEY)
}

/// The `101 Switching Protocols` answer and the upgrade future, or an error response.
fn switch<B, R>(req: &mut Request<B>) -> Result<(EngineResponse<R>, OnUpgrade), ErrorCode> {
    let version_ok = req.headers().get(header::SEC_WEBSOCKET_VERSION).is_some_and(|v| v == "13");
    let key = req.headers().get(header::SEC_WEBSOCKET_KEY).map(|k| derive_accept_key(k.as_bytes()));
    let (Some(key), true) = (key, version_ok) else {
        return Err(ErrorCode::BadRequest);
    };
    let Some(on_upgrade) = req.extensions_mut().remove::<OnUpgrade>() else {
        // The server under us cannot hand over the connection (e.g. HTTP/2 without extended
        // CONNECT): refuse rather than leave the client hanging.
        return Err(ErrorCode::BadRequest);
    };
    let mut res = Response::new(ResponseBody::empty());
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = res.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&key) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    Ok((res, on_upgrade))
}

async fn into_websocket(on_upgrade: OnUpgrade, shared: &Shared) -> Option<Ws> {
    let upgraded = on_upgrade.await.ok()?;
    let max = shared.config.max_payload;
    let config = WebSocketConfig::default()
        .read_buffer_size(shared.config.ws_read_buffer_size)
        // Frames queued together go out in one write at the flush that follows them.
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(max.saturating_mul(2).max(4 * WRITE_BUFFER))
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    Some(WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await)
}

/// A handshake on `transport=websocket`: the session opens once the connection is upgraded.
pub(crate) fn accept_new<B, R>(
    shared: Arc<Shared>,
    mut req: Request<B>,
    handshake: HandshakeRequest,
    slot: (Slot, Revision),
) -> EngineResponse<R> {
    let (res, on_upgrade) = match switch(&mut req) {
        Ok(ok) => ok,
        Err(code) => return response::error(code),
    };
    tokio::spawn(async move {
        if let Some(ws) = into_websocket(on_upgrade, &shared).await {
            let session = Session::open(&shared, TransportKind::WebSocket, handshake, slot);
            run(session, ws).await;
        }
    });
    res
}

/// A websocket for an existing session: probe, then take over from polling.
pub(crate) fn accept_upgrade<B, R>(
    session: Arc<Session>,
    mut req: Request<B>,
) -> EngineResponse<R> {
    match session.begin_upgrade(Instant::now()) {
        Ok(()) => {}
        // As Engine.IO: a websocket for a session that has one (or is getting one) is accepted
        // and closed at once; the session's own websocket carries on.
        Err(UpgradeRefused::Upgraded | UpgradeRefused::Busy) => {
            return match switch(&mut req) {
                Ok((res, on_upgrade)) => {
                    let shared = session.shared.clone();
                    tokio::spawn(async move {
                        if let Some(mut ws) = into_websocket(on_upgrade, &shared).await {
                            let _ = tokio::time::timeout(CLOSING_GRACE, ws.close(None)).await;
                        }
                    });
                    res
                }
                Err(code) => response::error(code),
            };
        }
        Err(UpgradeRefused::NotUpgradable) => return response::error(ErrorCode::BadRequest),
    }
    let (res, on_upgrade) = match switch(&mut req) {
        Ok(ok) => ok,
        Err(code) => {
            session.abandon_upgrade();
            return response::error(code);
        }
    };
    tokio::spawn(async move {
        let Some(mut ws) = into_websocket(on_upgrade, &session.shared).await else {
            session.abandon_upgrade();
            return;
        };
        if probe(&session, &mut ws).await {
            run(session, ws).await;
        } else {
            session.abandon_upgrade();
            let _ = tokio::time::timeout(CLOSING_GRACE, ws.close(None)).await;
        }
    });
    res
}

/// The probe: `2probe` → `3probe`, then `5` once the client paused polling. Returns whether the
/// session now runs on this websocket. Bounded by the upgrade's deadline.
async fn probe(session: &Arc<Session>, ws: &mut Ws) -> bool {
    loop {
        let Some(deadline) = session.upgrade_deadline() else { return false };
        let next = match tokio::time::timeout_at(deadline.into(), ws.next()).await {
            Ok(Some(Ok(msg))) => msg,
            Err(_) if !session.expire_upgrade(Instant::now()) => continue,
            // Timed out, closed or broken: the upgrade is abandoned, the session stays.
            _ => return false,
        };
        let text = match next {
            WsMessage::Text(text) => text,
            WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => continue,
            WsMessage::Binary(_) | WsMessage::Close(_) => return false,
        };
        let Ok(packet) = Str::try_from(Bytes::from(text))
            .map_err(drop)
            .and_then(|t| Packet::decode_text(t).map_err(drop))
        else {
            return false;
        };
        match packet {
            Packet::PingProbe => {
                let answer = ws.send(ws_message(Packet::PongProbe.encode(), session.revision));
                if !matches!(tokio::time::timeout_at(deadline.into(), answer).await, Ok(Ok(()))) {
                    return false;
                }
                // The pending GET is answered with a noop so the client can pause polling.
                if !session.answer_probe(Instant::now()) {
                    return false;
                }
            }
            Packet::Upgrade => return session.complete_upgrade(Instant::now()),
            Packet::Noop => {}
            _ => return false,
        }
    }
}

/// `frame` as a websocket message of `revision` (a v3 binary message carries its type).
fn ws_message(frame: Frame, revision: Revision) -> WsMessage {
    let frame = match frame {
        Frame::Binary(data) => revision.binary_ws_frame(data),
        text => text,
    };
    match frame {
        Frame::Text(text) => match Utf8Bytes::try_from(text.into_bytes()) {
            Ok(text) => WsMessage::Text(text),
            // `Str` is UTF-8 by construction, so this arm is never taken.
            Err(_) => WsMessage::Text(Utf8Bytes::from_static("6")),
        },
        Frame::Binary(data) => WsMessage::Binary(data),
    }
}

/// The session's life on a websocket: writes what is queued, reads what the client sends.
pub(crate) async fn run(session: Arc<Session>, mut ws: Ws) {
    loop {
        let notified = session.changed();
        let closing = session.closed();
        tokio::pin!(notified, closing);
        let (frames, closed) = session.take_all();
        if !frames.is_empty() && !write(&session, &mut ws, frames, closing).await {
            session.close(CloseReason::TransportClose);
            return;
        }
        if closed {
            let _ = tokio::time::timeout(CLOSING_GRACE, ws.close(None)).await;
            return;
        }
        tokio::select! {
            () = &mut notified => {}
            incoming = ws.next() => {
                if !on_incoming(&session, &mut ws, incoming).await {
                    return;
                }
                // Take whatever else already arrived before writing, so replies batch up.
                while let Some(incoming) = futures_util::FutureExt::now_or_never(ws.next()) {
                    if !on_incoming(&session, &mut ws, incoming).await {
                        return;
                    }
                }
            }
        }
    }
}

/// How long writes may still take once the session closed: long enough to deliver its last
/// packets to a client that reads, short enough to let go of one that does not.
const CLOSING_GRACE: Duration = Duration::from_secs(1);

/// Writes and flushes `frames`. `false` when the connection failed, or the write made no
/// progress within the session's write deadline (a client that stopped reading), or the
/// session closed (`closing`) and the write did not finish within [`CLOSING_GRACE`]: the
/// connection is then dropped, with everything it held.
async fn write(
    session: &Session,
    ws: &mut Ws,
    frames: VecDeque<Frame>,
    closing: Pin<&mut Notified<'_>>,
) -> bool {
    let ping = frames.iter().any(Frame::is_ping);
    let write = async { feed_all(ws, frames, session.revision).await && ws.flush().await.is_ok() };
    tokio::pin!(write);
    let written = tokio::select! {
        written = tokio::time::timeout(session.transfer_deadline(), &mut write) => {
            written.unwrap_or(false)
        }
        () = closing => tokio::time::timeout(CLOSING_GRACE, &mut write).await.unwrap_or(false),
    };
    if written && ping {
        session.ping_delivered();
    }
    written
}

/// Applies one websocket read; returns `false` when the connection is done.
async fn on_incoming(
    session: &Arc<Session>,
    ws: &mut Ws,
    incoming: Option<Result<WsMessage, WsError>>,
) -> bool {
    let packet = match incoming {
        Some(Ok(WsMessage::Text(text))) => match Str::try_from(Bytes::from(text)) {
            Ok(text) => session.revision.decode_text_frame(text),
            Err(_) => {
                session.close(CloseReason::ParseError);
                return false;
            }
        },
        Some(Ok(WsMessage::Binary(data))) => session.revision.decode_binary_frame(data),
        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => return true,
        Some(Ok(WsMessage::Close(_))) => {
            session.close(CloseReason::TransportClose);
            // The reply to the client's close frame is queued: send it (RFC 6455 §5.5.1).
            let _ = tokio::time::timeout(CLOSING_GRACE, ws.flush()).await;
            return false;
        }
        None => {
            session.close(CloseReason::TransportClose);
            return false;
        }
        Some(Err(WsError::Capacity(CapacityError::MessageTooLong { .. }))) => {
            session.close(CloseReason::TransportError);
            let frame = CloseFrame {
                code: CloseCode::Size,
                reason: Utf8Bytes::from_static("message too big"),
            };
            let _ = tokio::time::timeout(CLOSING_GRACE, ws.close(Some(frame))).await;
            linger(ws).await;
            return false;
        }
        Some(Err(_)) => {
            session.close(CloseReason::TransportClose);
            return false;
        }
    };
    match packet {
        Ok(packet) => session.on_packet(packet) || drain_and_close(session, ws).await,
        Err(err) => {
            tracing::debug!(sid = %session.sid, %err, "undecodable websocket frame");
            session.close(CloseReason::ParseError);
            let frame = CloseFrame {
                code: CloseCode::Protocol,
                reason: Utf8Bytes::from_static("parse error"),
            };
            let _ = tokio::time::timeout(CLOSING_GRACE, ws.close(Some(frame))).await;
            false
        }
    }
}

/// The session closed because of what the client sent: flush what is queued, then close.
async fn drain_and_close(session: &Arc<Session>, ws: &mut Ws) -> bool {
    let (frames, _) = session.take_all();
    let closed = async {
        if feed_all(ws, frames, session.revision).await {
            let _ = ws.close(None).await;
        }
    };
    let _ = tokio::time::timeout(CLOSING_GRACE, closed).await;
    false
}

/// Reads and discards what the client is still sending (the rest of a message that was too
/// big), for at most a second, before the connection is dropped: dropping it with unread bytes
/// would reset it, and the reset can destroy the close frame (code 1009) before the client
/// reads it.
async fn linger(ws: &mut Ws) {
    use tokio::io::AsyncReadExt;
    // On the heap: an array here would sit in the state of every connection's task, which
    // awaits this function somewhere (8 KiB more per idle session).
    let mut sink = vec![0u8; 8192];
    let drain = async {
        while let Ok(n) = ws.get_mut().read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// How long [`linger`] waits for the client to finish sending.
const LINGER: Duration = Duration::from_secs(1);

/// Buffers `frames` for the next flush; `false` when the connection failed.
async fn feed_all(
    ws: &mut Ws,
    frames: impl IntoIterator<Item = Frame>,
    revision: Revision,
) -> bool {
    for frame in frames {
        if ws.feed(ws_message(frame, revision)).await.is_err() {
            return false;
        }
    }
    true
}
