//! What one client can make the server hold, and for how long: request bodies have a deadline,
//! sessions a cap (in all and per address), pongs count only for pings the client was sent,
//! other sites cannot open WebSockets or POST into sessions, and no configuration value can
//! make the server panic.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ferrio::engine::{CloseReason, EngineConfig, EngineHandler, EngineIo, EngineSocket, Message};
use ferrio::{Cors, Ferrio, Socket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::socketio;
use crate::support::http::{send, Request};
use crate::support::{
    assert_error, server, within, MARGIN, PING_INTERVAL, PING_TIMEOUT, SESSION_ID_UNKNOWN, STEP,
};

const FORBIDDEN: &str = r#"{"code":4,"message":"Forbidden"}"#;

/// A POST whose body trickles in slower than the heartbeat allows is answered 400 and its
/// session closed, instead of holding the request (and the session) for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_sent_too_slowly_is_cut_off() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 1000\r\n\r\n4abc",
        server.target(&format!("EIO=4&transport=polling&sid={sid}")),
        server.addr
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let start = Instant::now();
    let mut answer = Vec::new();
    let limit = PING_INTERVAL + PING_TIMEOUT + MARGIN;
    within("the answer to a trickled body", limit, async {
        let mut buf = [0u8; 1024];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed without an answer");
            answer.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    eprintln!("a trickled POST body: answered after {:?}", start.elapsed());
    assert_error(&server.poll(&sid).await, 400, SESSION_ID_UNKNOWN);
}

/// A polling client that never polls but POSTs a pong every 100 ms, blindly: the pings never
/// reach it, so its pongs must not count, and its session ends with the heartbeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_pongs_do_not_keep_a_session_that_never_polls_alive() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let start = Instant::now();
    let limit = PING_INTERVAL + PING_TIMEOUT + MARGIN;
    within("the session to end", limit, async {
        loop {
            if server.post(&sid, "3").await.status != 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    eprintln!("blind pongs: the session ended after {:?}", start.elapsed());
}

struct Quiet;

impl EngineHandler for Quiet {
    fn on_connect(&self, _: EngineSocket) {}
    fn on_message(&self, _: &EngineSocket, _: Message) {}
    fn on_disconnect(&self, _: &EngineSocket, _: CloseReason) {}
}

/// Serves a raw engine with `config` through `ferrio::serve` (which gives handshakes the peer
/// address).
async fn serve_engine(config: ferrio::engine::EngineConfigBuilder) -> (SocketAddr, EngineIo) {
    let (layer, engine) = EngineIo::new(config, Quiet);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ferrio::serve(listener, axum::Router::new().layer(layer)).into_future());
    (addr, engine)
}

async fn handshake(addr: SocketAddr) -> crate::support::Response {
    send(addr, &Request::new("GET", "/engine.io/?EIO=4&transport=polling")).await
}

/// Past `max_sessions`, handshakes are refused with 503 until a session ends; the same per
/// client address with `max_sessions_per_ip`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshakes_beyond_the_session_caps_are_refused_with_503() {
    let (addr, engine) = serve_engine(EngineConfig::builder().max_sessions(2)).await;
    assert_eq!(handshake(addr).await.status, 200);
    let second = handshake(addr).await;
    assert_eq!(second.status, 200);
    let refused = handshake(addr).await;
    assert_error(&refused, 503, r#"{"code":3,"message":"Too many sessions"}"#);
    assert_eq!(engine.session_count(), 2);
    let sid: serde_json::Value = serde_json::from_str(&second.text()[1..]).unwrap();
    let close = Request::new(
        "POST",
        &format!("/engine.io/?EIO=4&transport=polling&sid={}", sid["sid"].as_str().unwrap()),
    )
    .body("1");
    assert_eq!(send(addr, &close).await.status, 200);
    assert_eq!(handshake(addr).await.status, 200, "a slot was given back");

    let (addr, _) = serve_engine(EngineConfig::builder().max_sessions_per_ip(1)).await;
    assert_eq!(handshake(addr).await.status, 200);
    assert_error(
        &handshake(addr).await,
        503,
        r#"{"code":3,"message":"Too many sessions from this address"}"#,
    );
}

/// The request head of a websocket upgrade to `/socket.io/` with `origin`.
fn upgrade(origin: Option<&str>) -> Request {
    let mut req = Request::new("GET", "/socket.io/?EIO=4&transport=websocket")
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("Sec-WebSocket-Version", "13");
    if let Some(origin) = origin {
        req = req.header("Origin", origin);
    }
    req
}

/// Without a CORS policy, another site's page cannot open a WebSocket (cross-site WebSocket
/// hijacking) nor POST into a session; the server's own pages and non-browser clients can. A
/// policy that lists the site lets it in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sites_cannot_open_websockets_or_post_unless_cors_allows_them() {
    let (server, io) = socketio::serve(Ferrio::builder()).await;
    let addr = server.addr;
    let _ = socketio::echo_ns(&io, "/");
    let own = format!("http://{addr}");
    assert_error(&send(addr, &upgrade(Some("http://evil.test"))).await, 403, FORBIDDEN);
    assert_error(&send(addr, &upgrade(Some("null"))).await, 403, FORBIDDEN);
    assert_eq!(send(addr, &upgrade(Some(&own))).await.status, 101);
    assert_eq!(send(addr, &upgrade(None)).await.status, 101);

    let open = send(addr, &Request::new("GET", "/socket.io/?EIO=4&transport=polling")).await;
    let open: serde_json::Value = serde_json::from_str(&open.text()[1..]).unwrap();
    let target =
        format!("/socket.io/?EIO=4&transport=polling&sid={}", open["sid"].as_str().unwrap());
    let cross_site = Request::new("POST", &target).header("Origin", "http://evil.test").body("40");
    assert_error(&send(addr, &cross_site).await, 403, FORBIDDEN);
    let same_site = Request::new("POST", &target).header("Origin", &own).body("40");
    assert_eq!(send(addr, &same_site).await.status, 200);

    let (server, _io) =
        socketio::serve(Ferrio::builder().cors(Cors::origins(["http://evil.test"]))).await;
    assert_eq!(send(server.addr, &upgrade(Some("http://evil.test"))).await.status, 101);
    assert_error(&send(server.addr, &upgrade(Some("http://other.test"))).await, 403, FORBIDDEN);
}

/// Values that used to overflow a deadline or leave no room for a packet are brought into
/// range when the server is built: it serves as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonsense_configuration_does_not_panic_the_server() {
    let builder = Ferrio::builder()
        .ping_interval(Duration::MAX)
        .ping_timeout(Duration::MAX)
        .upgrade_timeout(Duration::MAX)
        .connect_timeout(Duration::MAX)
        .ack_timeout(Duration::MAX)
        .max_payload(0)
        .queue_bounds(0, 0);
    let (server, io) = socketio::serve(builder).await;
    let mut sockets = socketio::echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket: Socket = within("the socket", STEP, sockets.recv()).await.unwrap();
    client.send(r#"42["echo","hi"]"#).await;
    client.expect(r#"42["echo","hi"]"#).await;
    drop(socket);
}
