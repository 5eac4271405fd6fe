//! ferrio's `streaming` transport: one long Server-Sent Events response carries packets down,
//! POSTs (framed as in polling) carry them up.
//!
//! The response starts with a 2 KiB comment so buffering proxies and old browsers pass the
//! stream on at once, then sends one `data:` event per packet. It ends after a byte budget so
//! the browser can free what it buffered; the client then re-attaches with its `sid` and gets
//! what was queued meanwhile, in order. A newer stream of the same session ends the older one.

use std::sync::Arc;

use bytes::Bytes;
use ferrio_protocol::engine::sse;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::{Response, StatusCode};
use tokio::sync::mpsc;

use super::receive::{self, Receive};
use crate::engine::http::body::ResponseBody;
use crate::engine::http::response::EngineResponse;
use crate::engine::session::{Receiver, Session};

/// A streaming GET: opens (or re-attaches) the session's event stream.
pub(crate) fn get<R>(session: Arc<Session>) -> EngineResponse<R> {
    let receiver = session.attach_stream();
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(write_events(session, receiver, tx));
    let mut res = Response::new(ResponseBody::channel(rx));
    *res.status_mut() = StatusCode::OK;
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, no-transform"));
    // nginx honours this and passes the stream through unbuffered.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

/// Feeds the response body until the budget is spent, the session moves on, or the client
/// goes away.
async fn write_events(session: Arc<Session>, mut receiver: Receiver, tx: mpsc::Sender<Bytes>) {
    let (budget, max_payload) = (session.config().streaming_budget, session.config().max_payload);
    if tx.send(Bytes::from_static(sse::padding())).await.is_err() {
        return;
    }
    let mut sent = 0;
    loop {
        // Never more than the rest of the budget in one go, so a stream ends near its budget.
        let room = budget.saturating_sub(sent).clamp(1, max_payload);
        let next = tokio::select! {
            next = receive::next(&session, &mut receiver, room) => next,
            // The client went away: stop before taking anything from the queue.
            () = tx.closed() => return,
        };
        let mut out = Vec::new();
        let (last, frames) = match next {
            Receive::Frames(frames) => {
                for frame in &frames {
                    sse::encode_event(frame, &mut out);
                }
                (frames.iter().any(|f| f.is_close()), frames)
            }
            Receive::End(frame) => {
                sse::encode_event(&frame, &mut out);
                (true, Vec::new())
            }
        };
        sent += out.len();
        if tx.send(Bytes::from(out)).await.is_err() {
            // Not delivered: back to the front of the queue for the next stream.
            session.requeue(frames);
            return;
        }
        if last || sent >= budget {
            if last {
                session.forget_if_drained();
            }
            return;
        }
    }
}
