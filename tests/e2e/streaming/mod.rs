//! ferrio's `streaming` transport: Server-Sent Events down (`GET …&transport=streaming`), POST
//! up. The handshake's exact bytes, the event framing of every kind of message, the heartbeat,
//! re-attaching, one stream per sid, the byte budget, HTTP/1.0, the upgrade to websocket, the
//! errors, and that closed sessions are reclaimed.

pub(crate) mod client;
mod lossless;
mod session;
mod upgrade;
mod wire;

use ferrio_protocol::engine::sse;

use self::client::SseStream;
use crate::support::{Frame, Request, Response, TestServer};

/// The query of a streaming handshake.
const HANDSHAKE: &str = "EIO=4&transport=streaming";

/// `?EIO=4&transport=streaming&sid={sid}`.
fn session_query(sid: &str) -> String {
    format!("{HANDSHAKE}&sid={sid}")
}

/// The server under test. Streaming is ferrio's own transport: an external server without it
/// (the Node reference of `FERRIO_E2E_URL`) fails these tests; leave them out there with
/// `cargo test -p ferrio-tests --test e2e -- --skip streaming`.
async fn server() -> TestServer {
    let server = crate::support::server().await;
    if server.engine_sessions().is_none() {
        let probe = get_stream(&server, HANDSHAKE).await;
        assert_eq!(
            probe.status, 200,
            "the external server has no streaming transport (run with `-- --skip streaming`)"
        );
    }
    server
}

/// `GET {path}?{query}` over HTTP/1.1, as an `EventSource` sends it.
pub(crate) async fn get_stream(server: &TestServer, query: &str) -> SseStream {
    SseStream::open(
        server.addr,
        &server.target(query),
        "HTTP/1.1",
        &[("Accept", "text/event-stream"), ("Cache-Control", "no-cache")],
    )
    .await
}

/// Re-attaches to the session `sid`: checks the new stream's status and that it starts with the
/// padding (the rest is left to the test).
async fn reattach(server: &TestServer, sid: &str) -> SseStream {
    let mut stream = get_stream(server, &session_query(sid)).await;
    assert_eq!(stream.status, 200, "re-attach {sid}: {:?}", stream.headers);
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    read_padding(&mut stream).await;
    stream
}

/// Re-attaches to `sid` once the server has seen the client's previous stream go (a second
/// stream is refused while the first lives): retries until a stream is accepted, within
/// [`STEP`].
pub(crate) async fn reattach_after_drop(server: &TestServer, sid: &str) -> SseStream {
    let mut stream = crate::support::within(
        "re-attach after the previous stream ended",
        crate::support::STEP,
        async {
            loop {
                let stream = get_stream(server, &session_query(sid)).await;
                if stream.status == 200 {
                    return stream;
                }
            }
        },
    )
    .await;
    read_padding(&mut stream).await;
    stream
}

/// Reads until the padding has arrived and checks it is the first thing in the body.
pub(crate) async fn read_padding(stream: &mut SseStream) {
    let padding = sse::padding();
    stream.fill(padding.len()).await;
    assert!(
        stream.raw().starts_with(padding),
        "the stream does not start with the 2 KiB padding: {:?}",
        String::from_utf8_lossy(&stream.raw()[..stream.raw().len().min(64)])
    );
}

/// Opens a streaming session: checks that the body is the padding then the open event (exact
/// bytes) and returns the stream and the sid.
async fn open(server: &TestServer) -> (SseStream, String) {
    let mut stream = get_stream(server, HANDSHAKE).await;
    assert_eq!(stream.status, 200, "streaming handshake: {:?}", stream.headers);
    let open = stream.next().await;
    let Frame::Text(open) = open else { panic!("expected the open packet, got {open:?}") };
    let json: serde_json::Value =
        serde_json::from_str(open.strip_prefix('0').expect("an open packet")).expect("JSON");
    let sid = json["sid"].as_str().expect("sid").to_owned();
    let padding = sse::padding();
    assert_eq!(&stream.raw()[..padding.len()], padding, "the body starts with the padding");
    let expected = format!(
        "id: 1\ndata: 0{{\"sid\":\"{sid}\",\"upgrades\":[\"websocket\"],\"pingInterval\":300,\
         \"pingTimeout\":200,\"maxPayload\":1000000}}\n\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&stream.raw()[padding.len()..]),
        expected,
        "the open event follows the padding"
    );
    (stream, sid)
}

/// `POST {path}?EIO=4&transport=streaming&sid={sid}` with a polling-framed body.
async fn post(server: &TestServer, sid: &str, body: impl Into<Vec<u8>>) -> Response {
    server
        .send(
            Request::new("POST", &server.target(&session_query(sid)))
                .header("Content-Type", "text/plain;charset=UTF-8")
                .body(body),
        )
        .await
}

/// A POST that must be answered `200 ok`.
async fn post_ok(server: &TestServer, sid: &str, body: impl Into<Vec<u8>>) {
    let response = post(server, sid, body).await;
    assert_eq!((response.status, response.text()), (200, "ok"), "POST on {sid}: {response:?}");
}

/// The next frame that is neither a ping (answered with a pong by POST) nor a noop; bounded by
/// [`STEP`](crate::support::STEP).
async fn next_message(server: &TestServer, sid: &str, stream: &mut SseStream) -> Frame {
    crate::support::within("the next message on the stream", crate::support::STEP, async {
        loop {
            match stream.next_unbounded().await {
                Frame::Text(ping) if ping == "2" => post_ok(server, sid, "3").await,
                Frame::Text(noop) if noop == "6" => {}
                other => return other,
            }
        }
    })
    .await
}

/// The events of `stream` after body offset `from`, pings left out (they come on a timer).
fn events_without_pings(stream: &SseStream, from: usize) -> Vec<String> {
    stream.events_since(from).into_iter().filter(|e| e != "data: 2").collect()
}
