//! `Io::close` with axum's graceful shutdown: every client, whatever its transport, learns at
//! once that the server is going away, disconnect handlers see `server shutting down`, and the
//! shutdown finishes instead of waiting for long-polls and streams.

use std::net::SocketAddr;

use ferrio::{DisconnectReason, Ferrio};
use tokio::sync::oneshot;

use super::{next, watched_ns, Client};
use crate::streaming::client::SseStream;
use crate::support::http::{send, Request, Response};
use crate::support::{within, Frame, STEP};

/// The sid in an open packet.
fn sid_of(open: &str) -> String {
    let json: serde_json::Value = open
        .strip_prefix('0')
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_else(|| panic!("expected the open packet, got {open:?}"));
    json["sid"].as_str().expect("sid").to_owned()
}

async fn post(addr: SocketAddr, target: &str, body: &str) {
    let request =
        Request::new("POST", target).header("Content-Type", "text/plain;charset=UTF-8").body(body);
    let response = send(addr, &request).await;
    assert_eq!((response.status, response.text()), (200, "ok"), "POST {body}");
}

async fn poll(addr: SocketAddr, target: &str) -> Response {
    send(addr, &Request::new("GET", target)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_ends_every_transport_and_lets_graceful_shutdown_finish() {
    let (layer, io) = Ferrio::builder().build_layer();
    let (mut sockets, mut reasons) = watched_ns(&io, "/");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (shutdown, signal) = oneshot::channel::<()>();
    // The graceful shutdown stops the listener once its future completes: it waits for the
    // test's go, so that a poll still on its way to the server is not refused.
    let (closed, io_closed) = oneshot::channel::<()>();
    let (proceed, go) = oneshot::channel::<()>();
    let server = tokio::spawn({
        let io = io.clone();
        let app = axum::Router::new().layer(layer);
        async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.await;
                    io.close();
                    let _ = closed.send(());
                    let _ = go.await;
                })
                .await
        }
    });

    // A WebSocket client.
    let (mut ws, _) = Client::connect(addr).await;
    next(&mut sockets).await;
    // A polling client with a poll pending (the default ping interval is 25 s away).
    let handshake = poll(addr, "/socket.io/?EIO=4&transport=polling").await;
    let polling = format!("/socket.io/?EIO=4&transport=polling&sid={}", sid_of(handshake.text()));
    post(addr, &polling, "40").await;
    assert!(poll(addr, &polling).await.text().starts_with("40{"), "the CONNECT reply");
    next(&mut sockets).await;
    let pending = tokio::spawn({
        let polling = polling.clone();
        async move { poll(addr, &polling).await }
    });
    // A streaming client, its stream open.
    let mut stream = SseStream::open(
        addr,
        "/socket.io/?EIO=4&transport=streaming",
        "HTTP/1.1",
        &[("Accept", "text/event-stream")],
    )
    .await;
    let Frame::Text(open) = stream.next().await else { panic!("expected the open packet") };
    let streaming = format!("/socket.io/?EIO=4&transport=streaming&sid={}", sid_of(&open));
    post(addr, &streaming, "40").await;
    assert!(matches!(stream.next().await, Frame::Text(t) if t.starts_with("40{")));
    next(&mut sockets).await;
    assert_eq!(io.engine().session_count(), 3);

    shutdown.send(()).expect("the server is running");
    within("io.close()", STEP, io_closed).await.expect("the shutdown future ran");
    ws.expect_closed().await;
    // The poll gets the close packet: at once if it was pending, else when it arrives.
    let last_poll = within("the pending poll", STEP, pending).await.expect("poll task");
    assert_eq!(last_poll.status, 200);
    assert!(last_poll.packets().contains(&"1".to_owned()), "the close packet: {last_poll:?}");
    assert!(stream.rest().await.contains(&Frame::Text("1".into())), "the close packet");
    // Nothing is left open: the graceful shutdown finishes.
    proceed.send(()).expect("the shutdown future waits");
    within("the graceful shutdown", STEP, server)
        .await
        .expect("server task")
        .expect("axum::serve ends cleanly");
    for _ in 0..3 {
        assert_eq!(next(&mut reasons).await, DisconnectReason::ServerShutdown);
    }
    // A closed streaming session lingers until its client fetched the close packet (done).
    let engine = io.engine();
    within("the sessions to be forgotten", STEP, async {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(10));
        while engine.session_count() > 0 {
            tick.tick().await;
        }
    })
    .await;
}
