//! Sessions are reclaimed: many opened and closed leave none behind.

use futures_util::StreamExt;

use crate::support::{assert_session_closed, server, TestServer, STEP};

/// Opens one session and closes it the way `n` selects: POST `1`, a websocket close frame,
/// or a websocket connection dropped without closing handshake.
async fn open_and_close(server: &TestServer, n: usize) {
    match n % 5 {
        0..=2 => {
            let (sid, _) = server.handshake_polling().await;
            let post = server.post(&sid, "1").await;
            assert_eq!((post.status, post.text()), (200, "ok"), "session {n}");
            assert_session_closed(server, &sid).await;
        }
        3 => {
            let (ws, _) = server.handshake_ws().await;
            ws.close().await;
        }
        _ => {
            // Gone without a goodbye: the TCP connection just ends.
            let (ws, _) = server.handshake_ws().await;
            drop(ws);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_sessions_opened_and_closed_leave_none() {
    let server = server().await;
    server.wait_engine_sessions(0, STEP).await;
    futures_util::stream::iter(0..1000)
        .map(|n| open_and_close(&server, n))
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sessions_are_counted() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let (ws, _) = server.handshake_ws().await;
    if let Some(count) = server.engine_sessions() {
        assert_eq!(count, 2);
    }
    server.post(&sid, "1").await;
    server.wait_engine_sessions(1, STEP).await;
    ws.close().await;
    server.wait_engine_sessions(0, STEP).await;
}
