//! `maxPayload` on both transports, and the one-GET-per-session rule.

use crate::support::{
    assert_pending_get_closed, assert_server_serves, assert_session_closed, server, Frame, MARGIN,
    MAX_PAYLOAD, STEP,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_over_max_payload_is_413_and_closes_the_session() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let pending = server.spawn_poll(&sid);
    let body = format!("4{}", "a".repeat(MAX_PAYLOAD));
    assert_eq!(body.len(), MAX_PAYLOAD + 1);
    let response = server.post(&sid, body).await;
    assert_eq!(response.status, 413, "{response:?}");
    // The session is closed: the pending GET is answered with a close packet...
    assert_pending_get_closed(&pending.await.expect("pending GET"), &["1"]);
    // ... and the sid is gone.
    assert_session_closed(&server, &sid).await;
    server.wait_engine_sessions(0, STEP).await;
    assert_server_serves(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_of_exactly_max_payload_is_accepted() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let body = format!("4{}", "a".repeat(MAX_PAYLOAD - 1));
    let response = server.post(&sid, body.clone()).await;
    assert_eq!((response.status, response.text()), (200, "ok"));
    let poll = server.poll(&sid).await;
    assert_eq!(poll.status, 200);
    assert!(poll.text() == body, "the {} bytes echoed differ", body.len());
    server.post(&sid, "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_message_over_max_payload_is_closed_with_1009() {
    let server = server().await;
    let (mut ws, _) = server.handshake_ws().await;
    ws.send_text(format!("4{}", "a".repeat(MAX_PAYLOAD))).await;
    assert_eq!(ws.recv_close().await, Frame::Close(Some(1009)));
    server.wait_engine_sessions(0, STEP).await;

    // Binary counts too.
    let (mut ws, _) = server.handshake_ws().await;
    ws.send_binary(vec![7u8; MAX_PAYLOAD + 1]).await;
    assert_eq!(ws.recv_close().await, Frame::Close(Some(1009)));
    server.wait_engine_sessions(0, STEP).await;

    // Others are still served, over both transports.
    let (mut ws, _) = server.handshake_ws().await;
    ws.send_text("4after").await;
    assert_eq!(ws.recv_message().await, Frame::Text("4after".into()));
    ws.close().await;
    assert_server_serves(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_message_of_exactly_max_payload_is_accepted() {
    let server = server().await;
    let (mut ws, _) = server.handshake_ws().await;
    let text = format!("4{}", "b".repeat(MAX_PAYLOAD - 1));
    ws.send_text(text.clone()).await;
    match ws.recv_message().await {
        Frame::Text(echo) => assert!(echo == text, "the {} bytes echoed differ", text.len()),
        other => panic!("expected the echo, got {other:?}"),
    }
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_concurrent_get_closes_the_session() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    // Two GETs at once: one is refused with an empty 400, the other receives the close packet.
    let (a, b) = tokio::join!(server.poll(&sid), server.poll(&sid));
    let (refused, closed) = if a.status == 400 { (a, b) } else { (b, a) };
    assert_eq!(refused.status, 400, "{refused:?}");
    assert!(refused.body.is_empty(), "{refused:?}");
    assert_eq!(closed.status, 200, "{closed:?}");
    assert_eq!(closed.text(), "1");
    assert_session_closed(&server, &sid).await;
    server.wait_engine_sessions(0, STEP + MARGIN).await;
    assert_server_serves(&server).await;
}
