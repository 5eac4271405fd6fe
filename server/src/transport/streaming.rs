//! ferrio's `streaming` transport: one long Server-Sent Events response carries packets down,
//! POSTs (framed as in polling) carry them up.
//!
//! The response starts with a 2 KiB comment so buffering proxies and old browsers pass the
//! stream on at once, then sends one `data:` event per packet. It ends after a byte budget so
//! the browser can free what it buffered; the client then re-attaches with its `sid` and gets
//! what was queued meanwhile, in order. A newer stream of the same session ends the older one.

use std::sync::Arc;

use bytes::Bytes;
use ferrio_protocol::engine::{sse, Frame};
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::{Response, StatusCode};
use tokio::sync::mpsc;

use super::receive::{self, Receive};
use crate::engine::session::{Session, Upgrade};
use crate::engine::TransportKind;
use crate::service::response::EngineResponse;
use crate::service::ResponseBody;

/// A streaming GET: opens (or re-attaches) the session's event stream.
pub(crate) fn get<R>(session: Arc<Session>) -> EngineResponse<R> {
    let (generation, arrived_during_upgrade) = {
        let mut state = session.lock();
        state.stream_generation += 1;
        (state.stream_generation, state.upgrade == Upgrade::Probed)
    };
    // An older stream of this session sees the new generation and ends.
    session.wake.notify_waiters();
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(write_events(session, generation, arrived_during_upgrade, tx));
    let mut res = Response::new(ResponseBody::channel(rx));
    *res.status_mut() = StatusCode::OK;
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, no-transform"));
    // nginx honours this and passes the stream through unbuffered.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

fn is_close(frame: &Frame) -> bool {
    matches!(frame, Frame::Text(t) if t.as_bytes() == b"1")
}

/// Feeds the response body until the budget is spent, the session moves on, or the client
/// goes away.
async fn write_events(
    session: Arc<Session>,
    generation: u64,
    arrived_during_upgrade: bool,
    tx: mpsc::Sender<Bytes>,
) {
    let config = &session.shared.config;
    let (budget, max_payload) = (config.streaming_budget, config.max_payload);
    if tx.send(Bytes::from_static(sse::padding())).await.is_err() {
        return;
    }
    let mut sent = 0;
    let mut during_upgrade = arrived_during_upgrade;
    loop {
        let current = |state: &crate::engine::session::State| state.stream_generation == generation;
        // Never more than the rest of the budget in one go, so a stream ends near its budget.
        let room = budget.saturating_sub(sent).clamp(1, max_payload);
        let next = tokio::select! {
            next = receive::next(&session, TransportKind::Streaming, room, during_upgrade, current) => next,
            // The client went away: stop before taking anything from the queue.
            () = tx.closed() => return,
        };
        during_upgrade = false;
        let mut out = Vec::new();
        let (last, frames) = match next {
            Receive::Frames(frames) => {
                for frame in &frames {
                    sse::encode_event(frame, &mut out);
                }
                (frames.iter().any(is_close), frames)
            }
            Receive::End(frame) => {
                sse::encode_event(&frame, &mut out);
                (true, Vec::new())
            }
        };
        sent += out.len();
        if tx.send(Bytes::from(out)).await.is_err() {
            // Not delivered: back to the front of the queue for the next stream.
            session.lock().queue.requeue(frames);
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
