//! Test support: the server under test, a raw HTTP/1.1 client, a raw WebSocket client, a
//! driven long-polling client, and timeouts around every wait.
//!
//! By default each test starts its own conformance app in-process on `127.0.0.1:0`. With
//! `FERRIO_E2E_URL=http://127.0.0.1:PORT` the tests target that server instead (used to check the
//! tests against the Node reference, `tests/js/reference/engine-server.js`); assertions that need
//! in-process state (the live session count) are then skipped, the wire checks never are.

#![allow(dead_code)]

pub(crate) mod http;
pub(crate) mod polling;
pub(crate) mod process;
pub(crate) mod upgrade;
pub(crate) mod ws;

use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

pub(crate) use self::http::{Request, Response};
pub(crate) use self::polling::PollingClient;
pub(crate) use self::ws::{Frame, Ws};

/// The bound on any single step that should be quick (a request, a frame).
pub(crate) const STEP: Duration = Duration::from_secs(5);

/// The conformance server's timing and limits (tests/src/conformance.rs).
pub(crate) const PING_INTERVAL: Duration = Duration::from_millis(300);
pub(crate) const PING_TIMEOUT: Duration = Duration::from_millis(200);
pub(crate) const UPGRADE_TIMEOUT: Duration = Duration::from_millis(1000);
pub(crate) const MAX_PAYLOAD: usize = 1_000_000;

/// Slack allowed on timer-driven events on a busy 2-core machine.
pub(crate) const MARGIN: Duration = Duration::from_millis(700);

/// Awaits `fut`, panicking with `what` if it takes longer than `limit`.
pub(crate) async fn within<F: Future>(what: &str, limit: Duration, fut: F) -> F::Output {
    match tokio::time::timeout(limit, fut).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {limit:?} waiting for {what}"),
    }
}

/// The server the tests talk to.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    sessions: Option<Arc<dyn Fn() -> usize + Send + Sync>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .field("in_process", &self.task.is_some())
            .finish()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Starts the conformance app in-process, or points at `FERRIO_E2E_URL`.
pub(crate) async fn server() -> TestServer {
    if let Some(url) = std::env::var("FERRIO_E2E_URL").ok().filter(|u| !u.is_empty()) {
        let authority = url.trim_start_matches("http://").trim_end_matches('/');
        let addr = authority
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.find(SocketAddr::is_ipv4))
            .unwrap_or_else(|| {
                panic!("FERRIO_E2E_URL must look like http://127.0.0.1:3000, got {url:?}")
            });
        assert!(addr.ip().is_loopback(), "FERRIO_E2E_URL must be a loopback address, got {url:?}");
        return TestServer { addr, sessions: None, task: None };
    }
    let app = ferrio_tests::conformance::app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let task = tokio::spawn(async move {
        ferrio_tests::conformance::serve(listener, app.router).await.expect("serve");
    });
    TestServer { addr, sessions: Some(app.engine_sessions), task: Some(task) }
}

impl TestServer {
    /// A server a test started itself at `addr` (serving until `task` is aborted), with an
    /// engine on `/engine.io/`.
    pub(crate) fn external(addr: SocketAddr, task: JoinHandle<()>) -> TestServer {
        TestServer { addr, sessions: None, task: Some(task) }
    }

    /// `/engine.io/?{query}`.
    pub(crate) fn target(&self, query: &str) -> String {
        format!("/engine.io/?{query}")
    }

    /// `ws://…/engine.io/?{query}`.
    pub(crate) fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/engine.io/?{query}", self.addr)
    }

    /// Sends `req` on a fresh connection.
    pub(crate) async fn send(&self, req: Request) -> Response {
        http::send(self.addr, &req).await
    }

    /// `GET /engine.io/?{query}`.
    pub(crate) async fn get(&self, query: &str) -> Response {
        self.send(Request::new("GET", &self.target(query))).await
    }

    /// Opens a polling session; returns the sid and the open packet's JSON, after checking the
    /// response is a 200 holding exactly one open packet.
    pub(crate) async fn handshake_polling(&self) -> (String, serde_json::Value) {
        let response = self.get("EIO=4&transport=polling").await;
        assert_eq!(response.status, 200, "handshake: {response:?}");
        let text = response.text();
        let json = text
            .strip_prefix('0')
            .unwrap_or_else(|| panic!("expected an open packet, got {text:?}"));
        assert!(!json.contains('\x1e'), "the handshake response holds one packet: {text:?}");
        let open: serde_json::Value = serde_json::from_str(json).expect("open packet JSON");
        let sid = open["sid"].as_str().expect("sid is a string").to_owned();
        (sid, open)
    }

    /// `GET` on a polling session (long-poll: bounded by [`STEP`]).
    pub(crate) async fn poll(&self, sid: &str) -> Response {
        self.get(&format!("EIO=4&transport=polling&sid={sid}")).await
    }

    /// A `GET` on a polling session sent from its own task, to be pending while the test goes
    /// on.
    pub(crate) fn spawn_poll(&self, sid: &str) -> JoinHandle<Response> {
        let (addr, request) = (
            self.addr,
            Request::new("GET", &self.target(&format!("EIO=4&transport=polling&sid={sid}"))),
        );
        tokio::spawn(async move { http::send(addr, &request).await })
    }

    /// `POST` of a raw payload on a polling session.
    pub(crate) async fn post(&self, sid: &str, body: impl Into<Vec<u8>>) -> Response {
        let target = self.target(&format!("EIO=4&transport=polling&sid={sid}"));
        self.send(
            Request::new("POST", &target)
                .header("Content-Type", "text/plain;charset=UTF-8")
                .body(body),
        )
        .await
    }

    /// Opens a WebSocket on `/engine.io/?{query}`.
    pub(crate) async fn ws(&self, query: &str) -> Result<Ws, (u16, String)> {
        ws::connect(&self.ws_url(query)).await
    }

    /// Opens a websocket-only session; returns it and the open packet's JSON.
    pub(crate) async fn handshake_ws(&self) -> (Ws, serde_json::Value) {
        let mut ws = self.ws("EIO=4&transport=websocket").await.expect("websocket handshake");
        let open = ws.recv_open().await;
        (ws, open)
    }

    /// Live Engine.IO sessions, when the server runs in-process.
    pub(crate) fn engine_sessions(&self) -> Option<usize> {
        self.sessions.as_ref().map(|count| count())
    }

    /// Waits (bounded) until the in-process session count is `expected`; a no-op against an
    /// external server.
    pub(crate) async fn wait_engine_sessions(&self, expected: usize, limit: Duration) {
        let Some(count) = &self.sessions else {
            eprintln!("(external server: engine_sessions() == {expected} not checked)");
            return;
        };
        let deadline = Instant::now() + limit;
        let mut interval = tokio::time::interval(Duration::from_millis(10));
        loop {
            let now = count();
            if now == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "engine_sessions() is {now}, expected {expected} within {limit:?}"
            );
            interval.tick().await;
        }
    }
}

/// Asserts an Engine.IO error response: status, exact JSON body, JSON content type.
pub(crate) fn assert_error(response: &Response, status: u16, body: &str) {
    assert_eq!(response.status, status, "status of {response:?}");
    assert_eq!(response.text(), body, "body of {response:?}");
    assert_eq!(
        response.header("content-type"),
        Some("application/json"),
        "content-type of {response:?}"
    );
}

/// `{"code":1,"message":"Session ID unknown"}`
pub(crate) const SESSION_ID_UNKNOWN: &str = r#"{"code":1,"message":"Session ID unknown"}"#;
/// `{"code":3,"message":"Bad request"}`
pub(crate) const BAD_REQUEST: &str = r#"{"code":3,"message":"Bad request"}"#;

/// Asserts the session `sid` is gone: a poll answers 400 code 1.
pub(crate) async fn assert_session_closed(server: &TestServer, sid: &str) {
    assert_error(&server.poll(sid).await, 400, SESSION_ID_UNKNOWN);
}

/// Asserts how a GET that was pending when its session closed ended: `200` with one of the
/// `bodies`, or, when the GET only reached the server after the close (the tests can't order
/// two connections), `400` code 1.
pub(crate) fn assert_pending_get_closed(response: &Response, bodies: &[&str]) {
    if response.status == 400 {
        assert_error(response, 400, SESSION_ID_UNKNOWN);
    } else {
        assert_eq!(response.status, 200, "{response:?}");
        assert!(
            bodies.contains(&response.text()),
            "pending GET answered {:?}, expected one of {bodies:?}",
            response.text()
        );
    }
}

/// Asserts a fresh session still gets its messages echoed (the server survived).
pub(crate) async fn assert_server_serves(server: &TestServer) {
    let (sid, _) = server.handshake_polling().await;
    let post = server.post(&sid, "4still serving").await;
    assert_eq!((post.status, post.text()), (200, "ok"));
    let poll = server.poll(&sid).await;
    assert_eq!((poll.status, poll.text()), (200, "4still serving"));
    let close = server.post(&sid, "1").await;
    assert_eq!((close.status, close.text()), (200, "ok"));
}

/// Standard base64 (what Engine.IO's `b…` packets carry).
/// `frame` as one packet of a polling (or streaming POST) payload: text as is, binary as
/// `b<base64>`.
pub(crate) fn payload_item(frame: &Frame) -> String {
    match frame {
        Frame::Text(text) => text.clone(),
        Frame::Binary(bytes) => format!("b{}", b64(bytes)),
        other => unreachable!("not a message: {other:?}"),
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64.
pub(crate) fn unb64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).expect("valid base64")
}
