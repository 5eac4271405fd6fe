//! The raw engine as channels (`EngineIo::channels`): sessions arrive with the stream of their
//! messages, and the stream ends when the session closes.

use std::time::Duration;

use ferrio::engine::{Connection, EngineConfig, EngineIo, Message};

use crate::support::{within, ws, Frame, STEP};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_arrive_with_their_message_stream_which_ends_on_close() {
    let config = EngineConfig::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200));
    let (layer, engine, mut connections) = EngineIo::channels(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().layer(layer)).await });

    let mut client =
        ws::connect(&format!("ws://{addr}/engine.io/?EIO=4&transport=websocket")).await.unwrap();
    client.recv_open().await;
    let Connection { socket, mut messages } =
        within("a connection", STEP, connections.recv()).await.unwrap();
    assert_eq!(engine.session_count(), 1);

    client.send_text("4hello").await;
    client.send_binary(vec![1, 2, 3]).await;
    let first = within("first message", STEP, messages.recv()).await.unwrap();
    assert_eq!(first, Message::Text("hello".into()));
    let second = within("second message", STEP, messages.recv()).await.unwrap();
    assert_eq!(second, Message::Binary(vec![1u8, 2, 3].into()));
    socket.send(first).unwrap();
    assert_eq!(client.recv_message().await, Frame::Text("4hello".into()));

    // The client goes away: the stream ends even though this test still holds the socket.
    client.close().await;
    assert!(within("the end of the stream", STEP, messages.recv()).await.is_none());
    assert!(socket.is_closed());
}
