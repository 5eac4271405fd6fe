//! The streaming transport's bytes: the response head, the padding, the open event, how each
//! kind of message is framed as an event, HTTP/1.0, and the error answers.

use ferrio_protocol::engine::sse;

use super::client::{events, numbered_events, SseStream};
use super::{events_without_pings, next_message, open, post, post_ok, session_query, HANDSHAKE};
use crate::support::{
    assert_error, assert_server_serves, b64, Frame, Request, BAD_REQUEST, MAX_PAYLOAD,
    SESSION_ID_UNKNOWN, STEP,
};

const BAD_HANDSHAKE_METHOD: &str = r#"{"code":2,"message":"Bad handshake method"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_head_padding_and_open_event() {
    let server = super::server().await;
    // A browser would also offer compression; an event stream must never be compressed.
    let mut stream = SseStream::open(
        server.addr,
        &server.target(HANDSHAKE),
        "HTTP/1.1",
        &[
            ("Accept", "text/event-stream"),
            ("Accept-Encoding", "gzip, deflate, br"),
            ("Origin", "http://example.com"),
        ],
    )
    .await;
    assert_eq!((stream.version.as_str(), stream.status), ("HTTP/1.1", 200));
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    assert_eq!(stream.header("cache-control"), Some("no-cache, no-transform"));
    assert_eq!(stream.header("x-accel-buffering"), Some("no"));
    assert_eq!(stream.header("content-encoding"), None, "{:?}", stream.headers);
    assert_eq!(stream.header("content-length"), None, "{:?}", stream.headers);
    assert_eq!(stream.header("transfer-encoding"), Some("chunked"));
    // An `EventSource` on another origin needs CORS (the conformance app allows every origin).
    assert_eq!(stream.header("access-control-allow-origin"), Some("*"));

    // The body: exactly `:` + 2048 spaces + `\n\n`, then the open packet as one event.
    let padding = sse::padding();
    assert_eq!(padding.len(), 2051);
    let Frame::Text(open) = stream.next().await else { panic!("no open packet") };
    let json: serde_json::Value = serde_json::from_str(&open[1..]).expect("open JSON");
    let sid = json["sid"].as_str().expect("sid");
    assert!(sid.len() >= 20, "a sid of at least 128 bits: {sid:?}");
    let mut expected = padding.to_vec();
    expected.extend_from_slice(
        format!(
            "id: 1\ndata: 0{{\"sid\":\"{sid}\",\"upgrades\":[\"websocket\"],\"pingInterval\":300,\
             \"pingTimeout\":200,\"maxPayload\":1000000}}\n\n"
        )
        .as_bytes(),
    );
    assert_eq!(String::from_utf8_lossy(stream.raw()), String::from_utf8_lossy(&expected));

    // Closing by POST `1`: the stream gets a noop and the close packet, and its body ends.
    post_ok(&server, sid, "1").await;
    let mark = expected.len();
    assert_eq!(stream.rest().await, [Frame::Text("6".into()), Frame::Text("1".into())]);
    // The noop came from the queue and is numbered (2: the open packet was 1); the close
    // packet ends the stream of a closed session and is not.
    assert_eq!(String::from_utf8_lossy(&stream.raw()[mark..]), "id: 2\ndata: 6\n\ndata: 1\n\n");
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_messages_come_back_as_events_in_order() {
    let server = super::server().await;
    let (mut stream, sid) = open(&server).await;
    let mark = stream.raw().len();

    // One POST, three packets (text, text, binary 01 02 03).
    post_ok(&server, &sid, "4hello\x1e4world\x1ebAQID").await;
    assert_eq!(next_message(&server, &sid, &mut stream).await, Frame::Text("4hello".into()));
    assert_eq!(next_message(&server, &sid, &mut stream).await, Frame::Text("4world".into()));
    assert_eq!(next_message(&server, &sid, &mut stream).await, Frame::Binary(vec![1, 2, 3]));
    assert_eq!(
        events_without_pings(&stream, mark),
        ["data: 4hello", "data: 4world", "data: bAQID"]
    );

    // A newline splits a message over several `data:` lines, which SSE joins back.
    let mark = stream.raw().len();
    post_ok(&server, &sid, "4line one\nline two\n\n end\n").await;
    assert_eq!(
        next_message(&server, &sid, &mut stream).await,
        Frame::Text("4line one\nline two\n\n end\n".into())
    );
    assert_eq!(
        events_without_pings(&stream, mark),
        ["data: 4line one\ndata: line two\ndata: \ndata:  end\ndata: "]
    );

    // A `\r` (alone or in `\r\n`) would end an SSE line: the message travels as a `b64` event.
    let mark = stream.raw().len();
    let with_cr = "4a\rb\r\nc";
    post_ok(&server, &sid, with_cr).await;
    assert_eq!(next_message(&server, &sid, &mut stream).await, Frame::Text(with_cr.into()));
    assert_eq!(
        events_without_pings(&stream, mark),
        [format!("event: b64\ndata: {}", b64(with_cr.as_bytes()))]
    );
    assert_eq!(b64(with_cr.as_bytes()), "NGENYg0KYw==");

    // Unicode travels as raw UTF-8.
    let mark = stream.raw().len();
    let unicode = "4héllo ☃ 😀 日本語 \u{1F600}\u{200D}";
    post_ok(&server, &sid, unicode).await;
    assert_eq!(next_message(&server, &sid, &mut stream).await, Frame::Text(unicode.into()));
    assert_eq!(events_without_pings(&stream, mark), [format!("data: {unicode}")]);

    // Binary whose bytes look like SSE syntax, an empty text and an empty binary message, and
    // text that looks like SSE syntax.
    let mark = stream.raw().len();
    let tricky = [b'\r', b'\n', b':', 0, 0xff, b'\n', b'\n'];
    post_ok(&server, &sid, format!("b{}\x1e4\x1eb\x1e4: not a comment\x1e4event: x", b64(&tricky)))
        .await;
    let expected = [
        Frame::Binary(tricky.to_vec()),
        Frame::Text("4".into()),
        Frame::Binary(Vec::new()),
        Frame::Text("4: not a comment".into()),
        Frame::Text("4event: x".into()),
    ];
    for frame in &expected {
        assert_eq!(&next_message(&server, &sid, &mut stream).await, frame);
    }
    assert_eq!(
        events_without_pings(&stream, mark),
        [
            format!("data: b{}", b64(&tricky)),
            "data: 4".into(),
            "data: b".into(),
            "data: 4: not a comment".into(),
            "data: 4event: x".into(),
        ]
    );

    post_ok(&server, &sid, "1").await;
    let rest = stream.rest().await;
    assert!(rest.ends_with(&[Frame::Text("6".into()), Frame::Text("1".into())]), "{rest:?}");
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_0_stream_is_delimited_by_closing_the_connection() {
    let server = super::server().await;
    // nginx talks HTTP/1.0 to its upstreams by default.
    let mut stream = SseStream::open(server.addr, &server.target(HANDSHAKE), "HTTP/1.0", &[]).await;
    assert_eq!((stream.version.as_str(), stream.status), ("HTTP/1.0", 200), "{stream:?}");
    assert_eq!(stream.header("transfer-encoding"), None, "{:?}", stream.headers);
    assert_eq!(stream.header("content-length"), None, "{:?}", stream.headers);
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    assert_eq!(stream.header("cache-control"), Some("no-cache, no-transform"));
    assert_eq!(stream.header("x-accel-buffering"), Some("no"));

    // Events arrive as they are sent, while the connection stays open.
    let Frame::Text(open) = stream.next().await else { panic!("no open packet") };
    let json: serde_json::Value = serde_json::from_str(&open[1..]).expect("open JSON");
    let sid = json["sid"].as_str().expect("sid").to_owned();
    let padding = sse::padding();
    assert_eq!(&stream.raw()[..padding.len()], padding);
    assert_eq!(events(&stream.raw()[padding.len()..]), [format!("data: {open}")]);
    assert!(!stream.ended());

    let mark = stream.raw().len();
    post_ok(&server, &sid, "4over http/1.0\x1e4two\nlines").await;
    assert_eq!(
        next_message(&server, &sid, &mut stream).await,
        Frame::Text("4over http/1.0".into())
    );
    assert_eq!(next_message(&server, &sid, &mut stream).await, Frame::Text("4two\nlines".into()));
    assert_eq!(
        events_without_pings(&stream, mark),
        ["data: 4over http/1.0", "data: 4two\ndata: lines"]
    );

    // The session closes: the last events, then the server closes the connection.
    let mark = stream.raw().len();
    post_ok(&server, &sid, "1").await;
    assert_eq!(stream.rest().await, [Frame::Text("6".into()), Frame::Text("1".into())]);
    assert!(stream.ended());
    let tail = numbered_events(&stream.raw()[mark..]);
    assert!(
        matches!(&tail[..], [(Some(_), noop), (None, close)] if noop == "data: 6" && close == "data: 1"),
        "{tail:?}"
    );
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_answers() {
    let server = super::server().await;
    // An unknown sid, on GET and POST.
    assert_error(&server.get(&session_query("nope")).await, 400, SESSION_ID_UNKNOWN);
    assert_error(&post(&server, "nope", "4x").await, 400, SESSION_ID_UNKNOWN);
    // A POST without sid is not a handshake.
    let no_sid = server.send(Request::new("POST", &server.target(HANDSHAKE)).body("4hello")).await;
    assert_error(&no_sid, 400, BAD_HANDSHAKE_METHOD);

    // A streaming sid used with polling, and a polling sid used with streaming.
    let (mut stream, sid) = open(&server).await;
    let polling = format!("EIO=4&transport=polling&sid={sid}");
    assert_error(&server.get(&polling).await, 400, BAD_REQUEST);
    assert_error(&server.post(&sid, "4x").await, 400, BAD_REQUEST);
    let (polling_sid, _) = server.handshake_polling().await;
    assert_error(&server.get(&session_query(&polling_sid)).await, 400, BAD_REQUEST);
    assert_error(&post(&server, &polling_sid, "4x").await, 400, BAD_REQUEST);
    // Neither session was harmed.
    post_ok(&server, &sid, "4still fine").await;
    assert_eq!(next_message(&server, &sid, &mut stream).await, Frame::Text("4still fine".into()));
    assert_eq!(server.post(&polling_sid, "4fine too").await.text(), "ok");
    assert_eq!(server.poll(&polling_sid).await.text(), "4fine too");
    server.post(&polling_sid, "1").await;

    // A POST over maxPayload: 413, and the session closes (the stream gets `1` and ends).
    let mark = stream.raw().len();
    let too_large = post(&server, &sid, format!("4{}", "a".repeat(MAX_PAYLOAD))).await;
    assert_eq!(too_large.status, 413, "{too_large:?}");
    let rest = stream.rest().await;
    assert_eq!(rest.last(), Some(&Frame::Text("1".into())), "{rest:?}");
    assert!(events_without_pings(&stream, mark).ends_with(&["data: 1".to_owned()]));
    assert_error(&server.get(&session_query(&sid)).await, 400, SESSION_ID_UNKNOWN);
    assert_error(&post(&server, &sid, "4x").await, 400, SESSION_ID_UNKNOWN);
    server.wait_engine_sessions(0, STEP).await;
    assert_server_serves(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_handshake_needs_eio_4() {
    let server = super::server().await;
    let version = r#"{"code":5,"message":"Unsupported protocol version"}"#;
    assert_error(&server.get("transport=streaming").await, 400, version);
    assert_error(&server.get("EIO=3&transport=streaming").await, 400, version);
    server.wait_engine_sessions(0, STEP).await;
}
