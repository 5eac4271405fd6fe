//! HTTP long-polling: payload framing, text and binary echo, long-poll wake-up, closing.

use crate::support::{
    assert_error, assert_pending_get_closed, assert_session_closed, b64, server, unb64,
    PollingClient, STEP,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_of_messages_is_echoed_in_one_get() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let post = server.post(&sid, "4one\x1e4two\x1e4three").await;
    assert_eq!((post.status, post.text()), (200, "ok"));
    let poll = server.poll(&sid).await;
    assert_eq!(poll.status, 200);
    assert_eq!(poll.text(), "4one\x1e4two\x1e4three");
    server.post(&sid, "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_binary_echo() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    // Binary travels base64-encoded as `b…` in polling payloads.
    assert_eq!(b64(&[1, 2, 3, 4]), "AQIDBA==");
    let post = server.post(&sid, "4hello\x1ebAQIDBA==").await;
    assert_eq!((post.status, post.text()), (200, "ok"));
    let poll = server.poll(&sid).await;
    assert_eq!((poll.status, poll.text()), (200, "4hello\x1ebAQIDBA=="));

    // All 256 byte values, and an empty binary message.
    let all: Vec<u8> = (0..=255).collect();
    let body = format!("b{}\x1eb", b64(&all));
    assert_eq!(server.post(&sid, body.clone()).await.text(), "ok");
    let poll = server.poll(&sid).await;
    assert_eq!(poll.text(), body);
    assert_eq!(unb64(&poll.packets()[0][1..]), all);
    server.post(&sid, "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf8_text_echo() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let body = "4héllo wörld €𝄞\x1e4\x1e4{\"json\":[1,\"two\"]}";
    let post = server.post(&sid, body).await;
    assert_eq!((post.status, post.text()), (200, "ok"));
    let poll = server.poll(&sid).await;
    assert_eq!((poll.status, poll.text()), (200, body));
    assert_eq!(poll.header("content-type"), Some("text/plain; charset=UTF-8"));
    server.post(&sid, "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_get_is_answered_when_a_message_arrives() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let mut client = PollingClient::attach(&server, &sid).await;
    client.send("4wake up");
    assert_eq!(client.recv_message().await, "4wake up");
    // A steady stream of single messages keeps flowing through the long-poll.
    for i in 0..20 {
        client.send(format!("4m{i}"));
        assert_eq!(client.recv_message().await, format!("4m{i}"));
    }
    client.pause().await;
    server.post(&sid, "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_messages_keep_their_order() {
    let server = server().await;
    let (mut client, _) = PollingClient::open(&server).await;
    let sent: Vec<String> = (0..300).map(|i| format!("4message {i}")).collect();
    for packet in &sent {
        client.send(packet.clone());
    }
    let mut received = Vec::new();
    while received.len() < sent.len() {
        received.push(client.recv_message().await);
    }
    assert_eq!(received, sent);
    client.pause().await;
    server.post(&client.sid, "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_packet_closes_the_session() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let pending = server.spawn_poll(&sid);
    let post = server.post(&sid, "1").await;
    assert_eq!((post.status, post.text()), (200, "ok"));
    // The pending GET is ended with a noop (a close packet may follow it).
    assert_pending_get_closed(&pending.await.expect("pending GET"), &["6", "6\x1e1"]);
    assert_session_closed(&server, &sid).await;
    assert_error(&server.post(&sid, "4too late").await, 400, crate::support::SESSION_ID_UNKNOWN);
    server.wait_engine_sessions(0, STEP).await;

    // Without a pending GET.
    let (sid, _) = server.handshake_polling().await;
    let post = server.post(&sid, "1").await;
    assert_eq!((post.status, post.text()), (200, "ok"));
    assert_session_closed(&server, &sid).await;
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ping_over_polling_closes_the_session() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    // In Engine.IO v4 only the server pings; a client ping is a protocol error.
    let post = server.post(&sid, "2").await;
    assert!(post.status == 200 || post.status == 400, "{post:?}");
    if post.status == 200 {
        assert_eq!(post.text(), "ok");
    }
    assert_session_closed(&server, &sid).await;
    server.wait_engine_sessions(0, STEP).await;
}
