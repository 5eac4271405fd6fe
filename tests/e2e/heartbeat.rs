//! The server's heartbeat: ping `2` every `pingInterval`, pong `3` expected within
//! `pingTimeout`, otherwise the session closes.

use std::time::{Duration, Instant};

use crate::support::{
    assert_pending_get_closed, assert_session_closed, server, Frame, PING_INTERVAL, PING_TIMEOUT,
    STEP,
};

/// How late a timer-driven event may be (scheduling on a busy 2-core machine, plus the
/// request carrying it).
const TIMER_SLACK: Duration = Duration::from_millis(150);

/// Checks that a timer-driven event came `elapsed` after its start, close to `nominal`: not
/// before it (less a little clock slack: the tests start their clock after the server does),
/// and not more than [`TIMER_SLACK`] after it.
fn assert_timer(what: &str, elapsed: Duration, nominal: Duration) {
    eprintln!("{what}: {elapsed:?} (nominal {nominal:?})");
    let earliest = nominal.saturating_sub(Duration::from_millis(50));
    assert!(elapsed >= earliest, "{what} after {elapsed:?}, expected {nominal:?}");
    assert!(elapsed <= nominal + TIMER_SLACK, "{what} after {elapsed:?}, expected {nominal:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_first_ping_after_ping_interval() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let opened = Instant::now();
    let poll = server.poll(&sid).await;
    assert_timer("first ping (polling)", opened.elapsed(), PING_INTERVAL);
    assert_eq!((poll.status, poll.text()), (200, "2"));
    server.post(&sid, "3\x1e1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_pongs_keep_the_session_alive() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let opened = Instant::now();
    let mut last = opened;
    for round in 0..5 {
        let poll = server.poll(&sid).await;
        // Each ping comes pingInterval after the open, then after the previous pong.
        assert_timer(&format!("ping #{round} (polling)"), last.elapsed(), PING_INTERVAL);
        assert_eq!((poll.status, poll.text()), (200, "2"), "ping #{round}");
        last = Instant::now();
        let post = server.post(&sid, "3").await;
        assert_eq!((post.status, post.text()), (200, "ok"));
    }
    let alive_for = opened.elapsed();
    assert!(alive_for > (PING_INTERVAL + PING_TIMEOUT) * 2, "{alive_for:?}");
    // Still alive: messages are echoed.
    assert_eq!(server.post(&sid, "4still here").await.text(), "ok");
    let poll = server.poll(&sid).await;
    assert_eq!((poll.status, poll.text()), (200, "4still here"));
    server.post(&sid, "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_without_pong_the_session_closes() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let opened = Instant::now();
    let poll = server.poll(&sid).await;
    assert_eq!((poll.status, poll.text()), (200, "2"));
    // No pong: the next GET is ended by the close, pingTimeout after the ping.
    let poll = server.poll(&sid).await;
    assert_timer("close without pong (polling)", opened.elapsed(), PING_INTERVAL + PING_TIMEOUT);
    assert_pending_get_closed(&poll, &["1"]);
    assert_session_closed(&server, &sid).await;
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_first_ping_after_ping_interval() {
    let server = server().await;
    let (mut ws, _) = server.handshake_ws().await;
    let opened = Instant::now();
    let ping = ws.next_frame().await;
    assert_timer("first ping (websocket)", opened.elapsed(), PING_INTERVAL);
    assert_eq!(ping, Frame::Text("2".into()));
    ws.send_text("3").await;
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_pongs_keep_the_session_alive() {
    let server = server().await;
    let (mut ws, _) = server.handshake_ws().await;
    let opened = Instant::now();
    let mut last = opened;
    for round in 0..5 {
        let ping = ws.next_frame().await;
        assert_timer(&format!("ping #{round} (websocket)"), last.elapsed(), PING_INTERVAL);
        assert_eq!(ping, Frame::Text("2".into()), "ping #{round}");
        last = Instant::now();
        ws.send_text("3").await;
        // Messages in between don't disturb the heartbeat.
        ws.send_text(format!("4round {round}")).await;
        assert_eq!(ws.next_frame().await, Frame::Text(format!("4round {round}")));
    }
    assert!(opened.elapsed() > (PING_INTERVAL + PING_TIMEOUT) * 2);
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_without_pong_the_session_closes() {
    let server = server().await;
    let (mut ws, _) = server.handshake_ws().await;
    let opened = Instant::now();
    assert_eq!(ws.next_frame().await, Frame::Text("2".into()));
    let end = ws.next_frame().await;
    assert_timer("close without pong (websocket)", opened.elapsed(), PING_INTERVAL + PING_TIMEOUT);
    // Closed without a close packet, by a close frame without status (seen as 1005).
    assert_eq!(end, Frame::Close(None));
    server.wait_engine_sessions(0, STEP).await;
}
