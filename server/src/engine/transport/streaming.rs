//! ferrio's `streaming` transport: one long Server-Sent Events response carries packets down,
//! POSTs (framed as in polling) carry them up.
//!
//! The response starts with a 2 KiB comment so buffering proxies and old browsers pass the
//! stream on at once, then sends one `data:` event per packet. It ends after a byte budget so
//! the browser can free what it buffered; the client then re-attaches with its `sid` and gets
//! what was queued meanwhile, in order. One stream per session lives at a time.
//!
//! A client that stops reading costs nothing for long: frames leave the session's queue only
//! once the response body has room for them, and a body that has no room for longer than the
//! session's write deadline ends the stream.

use std::sync::Arc;

use bytes::Bytes;
use ferrio_protocol::engine::{sse, ErrorCode};
use http::header::{HeaderValue, CACHE_CONTROL, CONNECTION, CONTENT_TYPE};
use http::{Response, StatusCode};
use tokio::sync::mpsc;

use super::receive::{self, Receive};
use crate::engine::http::body::ResponseBody;
use crate::engine::http::response::{self, EngineResponse};
use crate::engine::session::{Session, StreamGuard};

/// A streaming GET: opens (or re-attaches) the session's event stream; refused while another
/// stream of the session is attached, unless it says what it `received` (`lastEventId`): it
/// then takes over, and gets again what followed.
pub(crate) fn get<R>(session: Arc<Session>, received: Option<u64>) -> EngineResponse<R> {
    let Ok(guard) = session.attach_stream(received) else {
        return response::error(ErrorCode::BadRequest);
    };
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        write_events(&guard, &tx).await;
        // Detached before the body ends, so a client re-attaching at once is not refused.
        drop(guard);
        drop(tx);
    });
    let mut res = Response::new(ResponseBody::channel(rx));
    *res.status_mut() = StatusCode::OK;
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, no-transform"));
    // nginx honours this and passes the stream through unbuffered.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    // A stream's connection is not kept alive after it: when the stream ends because its
    // session is over, the connection goes with it (a client that stopped reading would
    // otherwise hold it, idle, until the server's header read timeout); a client that
    // re-attaches opens a new one, which costs one handshake per stream budget.
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Feeds the response body until the budget is spent, the session moves on, the client goes
/// away, or stops reading for longer than the write deadline.
async fn write_events(guard: &StreamGuard, tx: &mpsc::Sender<Bytes>) {
    let session = &guard.session;
    let mut receiver = guard.receiver;
    let config = session.config();
    let (budget, max_payload, deadline) =
        (config.streaming_budget, config.max_payload, session.transfer_deadline());
    let mut sent = 0;
    let mut padded = false;
    loop {
        // Room first: frames leave the queue only once the body can take them.
        let permit = tokio::select! {
            biased;
            permit = tokio::time::timeout(deadline, tx.reserve()) => match permit {
                Ok(Ok(permit)) => permit,
                // The client went away, or stopped reading.
                _ => return,
            },
            () = session.until_closed() => return,
        };
        if !padded {
            padded = true;
            permit.send(Bytes::from_static(sse::padding()));
            continue;
        }
        // Never more than the rest of the budget in one go, so a stream ends near its budget.
        let room = budget.saturating_sub(sent).clamp(1, max_payload);
        let next = tokio::select! {
            next = receive::next(session, &mut receiver, room) => next,
            // The client went away: stop before taking anything from the queue.
            () = tx.closed() => return,
        };
        let mut out = Vec::new();
        let last = match &next {
            Receive::Frames(numbered) => {
                for (seq, frame) in (numbered.first_seq..).zip(&numbered.frames) {
                    sse::encode_event_with_id(seq, frame, &mut out);
                }
                numbered.frames.iter().any(|f| f.is_close())
            }
            Receive::End(frame) => {
                sse::encode_event(frame, &mut out);
                true
            }
        };
        sent += out.len();
        permit.send(Bytes::from(out));
        if last || sent >= budget {
            if last {
                session.forget_if_drained();
            }
            return;
        }
    }
}
