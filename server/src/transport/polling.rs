//! HTTP long-polling: a GET waits for queued frames, a POST carries packets from the client.

use std::sync::Arc;

use bytes::Bytes;
use ferrio_protocol::engine::{payload, ErrorCode};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::Request;
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::receive::{self, Receive};
use crate::engine::session::{Session, Upgrade};
use crate::engine::{DisconnectReason, TransportKind};
use crate::service::response::{self, EngineResponse};
use crate::service::BoxError;

/// Resets a per-session request flag when the request ends, however it ends (a client that
/// goes away drops the future).
pub(crate) struct Attached<'a> {
    pub(crate) session: &'a Session,
    pub(crate) post: bool,
}

impl Drop for Attached<'_> {
    fn drop(&mut self) {
        let mut state = self.session.lock();
        if self.post {
            state.post_active = false;
        } else {
            state.receiver_attached = false;
        }
    }
}

/// A polling GET: answers with every queued frame up to `max_payload`, waiting for one if the
/// queue is empty.
pub(crate) async fn get<R>(session: Arc<Session>) -> EngineResponse<R> {
    let arrived_during_upgrade = {
        let mut state = session.lock();
        if state.receiver_attached {
            drop(state);
            // Engine.IO closes a session whose client overlaps its polls.
            session.close(DisconnectReason::TransportError);
            return response::empty_bad_request();
        }
        state.receiver_attached = true;
        state.upgrade == Upgrade::Probed
    };
    let _attached = Attached { session: &session, post: false };
    let max_payload = session.shared.config.max_payload;
    let frames = match receive::next(
        &session,
        TransportKind::Polling,
        max_payload,
        arrived_during_upgrade,
        |_| true,
    )
    .await
    {
        Receive::Frames(frames) => frames,
        Receive::End(last) => vec![last],
    };
    session.forget_if_drained();
    let mut body = Vec::with_capacity(frames.iter().map(|f| payload::encoded_len(f) + 1).sum());
    payload::encode(frames.iter(), &mut body);
    response::payload(body)
}

/// A polling POST: reads at most `max_payload` bytes and applies the packets in order.
pub(crate) async fn post<B, R>(session: Arc<Session>, req: Request<B>) -> EngineResponse<R>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    {
        let mut state = session.lock();
        if state.post_active {
            drop(state);
            session.close(DisconnectReason::TransportError);
            return response::empty_bad_request();
        }
        state.post_active = true;
    }
    let _attached = Attached { session: &session, post: true };
    let max_payload = session.shared.config.max_payload;
    // Engine.IO v4 sends binary inside text payloads ("b<base64>"); a binary body is a v3 client
    // or a confused one.
    if req
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"))
    {
        session.close(DisconnectReason::TransportError);
        return response::error(ErrorCode::BadRequest);
    }
    let declared =
        req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_payload as u64) {
        session.close(DisconnectReason::TransportError);
        return response::payload_too_large();
    }
    let body = match read_limited(req.into_body(), max_payload).await {
        Ok(body) => body,
        Err(ReadError::TooLarge) => {
            session.close(DisconnectReason::TransportError);
            return response::payload_too_large();
        }
        Err(ReadError::Aborted) => {
            session.close(DisconnectReason::TransportClose);
            return response::error(ErrorCode::BadRequest);
        }
    };
    let packets = match payload::decode(body, session.shared.config.max_packets_per_payload) {
        Ok(packets) => packets,
        Err(err) => {
            tracing::debug!(sid = %session.sid, %err, "undecodable polling payload");
            session.close(DisconnectReason::ParseError);
            return response::error(ErrorCode::BadRequest);
        }
    };
    for packet in packets {
        if !session.on_packet(packet) {
            break;
        }
    }
    response::ok()
}

enum ReadError {
    TooLarge,
    Aborted,
}

/// Reads a body while counting it, so an oversized one is refused before it is buffered.
async fn read_limited<B>(body: B, limit: usize) -> Result<Bytes, ReadError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() => Err(ReadError::TooLarge),
        Err(_) => Err(ReadError::Aborted),
    }
}
