//! HTTP long-polling: a GET waits for queued frames, a POST carries packets from the client.

use std::sync::Arc;

use bytes::Bytes;
use ferrio_protocol::engine::{payload, ErrorCode};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::Request;
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::receive::{self, Receive};
use crate::engine::http::body::BoxError;
use crate::engine::http::response::{self, EngineResponse};
use crate::engine::revision::Revision;
use crate::engine::session::{AttachRefused, Session};
use crate::engine::CloseReason;

/// A polling GET: answers with every queued frame up to `max_payload`, waiting for one if the
/// queue is empty. `received` is what the client says it got (`lastEventId`).
pub(crate) async fn get<R>(session: Arc<Session>, received: Option<u64>) -> EngineResponse<R> {
    let guard = match session.attach_poll(received) {
        Ok(guard) => guard,
        Err(AttachRefused::Busy) => {
            // Engine.IO closes a session whose client overlaps its polls.
            session.close(CloseReason::TransportError);
            return response::empty_bad_request();
        }
        Err(AttachRefused::BadConfirmation) => return response::error(ErrorCode::BadRequest),
    };
    let mut receiver = guard.receiver;
    let max_payload = session.config().max_payload;
    let (frames, last_seq) = match receive::next(&session, &mut receiver, max_payload).await {
        Receive::Frames(numbered) => {
            let last = numbered.last_seq();
            (numbered.frames, Some(last))
        }
        Receive::End(last) => (vec![last], None),
    };
    drop(guard);
    session.forget_if_drained();
    let mut body = Vec::with_capacity(frames.iter().map(|f| payload::encoded_len(f) + 1).sum());
    session.revision.encode_payload(&frames, &mut body);
    response::payload(body, last_seq)
}

/// A polling POST: reads at most `max_payload` bytes and applies the packets in order.
pub(crate) async fn post<B, R>(session: Arc<Session>, req: Request<B>) -> EngineResponse<R>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let Some(_post) = session.accept_post() else {
        session.close(CloseReason::TransportError);
        return response::empty_bad_request();
    };
    let max_payload = session.config().max_payload;
    // Engine.IO v4 sends binary inside text payloads ("b<base64>"); a binary body is a v3 client
    // or a confused one.
    let binary = req
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
    if binary && session.revision == Revision::V4 {
        session.close(CloseReason::TransportError);
        return response::error(ErrorCode::BadRequest);
    }
    let declared =
        req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_payload as u64) {
        session.close(CloseReason::TransportError);
        return response::payload_too_large();
    }
    // A body that takes longer than the transfer deadline, or outlives its session, is cut off:
    // a client trickling bytes must not hold a request for ever.
    let read = tokio::time::timeout(
        session.transfer_deadline(),
        read_limited(req.into_body(), max_payload),
    );
    let read = tokio::select! {
        read = read => read.unwrap_or(Err(ReadError::TooSlow)),
        () = session.until_closed() => Err(ReadError::Aborted),
    };
    let body = match read {
        Ok(body) => body,
        Err(ReadError::TooLarge) => {
            session.close(CloseReason::TransportError);
            return response::payload_too_large();
        }
        Err(ReadError::TooSlow) => {
            session.close(CloseReason::TransportError);
            return response::error(ErrorCode::BadRequest);
        }
        Err(ReadError::Aborted) => {
            session.close(CloseReason::TransportClose);
            return response::error(ErrorCode::BadRequest);
        }
    };
    let max_packets = session.config().max_packets_per_payload;
    let packets = match session.revision.decode_payload(body, binary, max_packets) {
        Ok(packets) => packets,
        Err(err) => {
            tracing::debug!(sid = %session.sid, %err, "undecodable polling payload");
            session.close(CloseReason::ParseError);
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
    /// Over `max_payload`.
    TooLarge,
    /// Not all there within the transfer deadline.
    TooSlow,
    /// The connection broke, or the session closed meanwhile.
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
