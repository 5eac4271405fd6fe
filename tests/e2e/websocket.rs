//! WebSocket-only sessions: text frames carry packets, binary frames carry raw bytes.

use crate::support::{server, Frame, STEP};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_echo() {
    let server = server().await;
    let (mut ws, _) = server.handshake_ws().await;
    for text in
        ["4hello", "4", "4héllo wörld €𝄞", "4{\"json\":[1,\"two\"]}", "4line\nbreak\x1eseparator"]
    {
        ws.send_text(text).await;
        assert_eq!(ws.recv_message().await, Frame::Text(text.into()));
    }
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_echo() {
    let server = server().await;
    let (mut ws, _) = server.handshake_ws().await;
    ws.send_binary(vec![1, 2, 3, 4]).await;
    assert_eq!(ws.recv_message().await, Frame::Binary(vec![1, 2, 3, 4]));
    let all: Vec<u8> = (0..=255).collect();
    ws.send_binary(all.clone()).await;
    assert_eq!(ws.recv_message().await, Frame::Binary(all));
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
    ws.send_binary(big.clone()).await;
    assert!(ws.recv_message().await == Frame::Binary(big), "200 kB binary echo differs");
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_text_and_binary_keep_their_order() {
    let server = server().await;
    let (mut ws, _) = server.handshake_ws().await;
    let mut sent = Vec::new();
    for i in 0..200u32 {
        if i % 3 == 0 {
            let bytes = i.to_be_bytes().to_vec();
            ws.send_binary(bytes.clone()).await;
            sent.push(Frame::Binary(bytes));
        } else {
            let text = format!("4message {i}");
            ws.send_text(text.clone()).await;
            sent.push(Frame::Text(text));
        }
    }
    let mut received = Vec::new();
    while received.len() < sent.len() {
        received.push(ws.recv_message().await);
    }
    assert_eq!(received, sent);
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_close_frame_closes_the_session() {
    let server = server().await;
    let (mut ws, _) = server.handshake_ws().await;
    ws.send_text("4before close").await;
    assert_eq!(ws.recv_message().await, Frame::Text("4before close".into()));
    ws.send_close().await;
    // The server completes the closing handshake: it answers the close frame (RFC 6455
    // §5.5.1), rather than only dropping the connection.
    let end = ws.recv_close().await;
    assert!(matches!(end, Frame::Close(_)), "{end:?}");
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_closes_the_session() {
    let server = server().await;
    let (mut ws, _) = server.handshake_ws().await;
    ws.send_text("4about to vanish").await;
    assert_eq!(ws.recv_message().await, Frame::Text("4about to vanish".into()));
    drop(ws);
    server.wait_engine_sessions(0, STEP).await;
    crate::support::assert_server_serves(&server).await;
}
