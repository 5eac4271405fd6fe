//! Nothing lost on the HTTP transports when a connection breaks, for a client that says what it
//! received (`lastEventId`, as ferrio's client does): packets are numbered, kept until
//! confirmed, and sent again after a re-attach, in order and with the same numbers; a re-attach
//! takes over from a request the server still believes alive.

use std::time::Duration;

use ferrio::engine::{EngineConfig, EngineIo};

use super::client::SseStream;
use super::{get_stream, post_ok, read_padding, HANDSHAKE};
use crate::support::{within, Frame, Request, TestServer, STEP};

/// `GET {path}?{query}` on the engine echo.
async fn stream(server: &TestServer, query: &str) -> SseStream {
    let mut stream = get_stream(server, query).await;
    assert_eq!(stream.status, 200, "{query}: {:?}", stream.headers);
    read_padding(&mut stream).await;
    stream
}

/// The next message (not a ping) on `stream`.
async fn message(stream: &mut SseStream) -> Frame {
    within("the next message", STEP, async {
        loop {
            match stream.next().await {
                Frame::Text(ping) if ping == "2" => {}
                frame => return frame,
            }
        }
    })
    .await
}

/// A stream that breaks (its connection is dropped, the server not told) after the client read
/// a few of the packets written into it: re-attaching at once with the last number read takes
/// over from the old stream, and gets everything that followed, in order, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_stream_loses_nothing_and_repeats_nothing() {
    let server = super::server().await;
    let mut first = stream(&server, &format!("{HANDSHAKE}&lastEventId=0")).await;
    let Frame::Text(open) = first.next().await else { panic!("no open packet") };
    let open: serde_json::Value = serde_json::from_str(&open[1..]).unwrap();
    let sid = open["sid"].as_str().unwrap().to_owned();
    let body: Vec<String> = (0..20).map(|i| format!("4m{i}")).collect();
    post_ok(&server, &sid, body.join("\x1e")).await;
    for i in 0..5 {
        assert_eq!(message(&mut first).await, Frame::Text(format!("4m{i}")));
    }
    let read = first.last_event_id().expect("numbered events");
    // The rest may already be in the dead connection's buffers, or still queued.
    drop(first);

    let query = format!("{HANDSHAKE}&sid={sid}&lastEventId={read}");
    let mut second = stream(&server, &query).await;
    post_ok(&server, &sid, "4after").await;
    for i in 5..20 {
        assert_eq!(message(&mut second).await, Frame::Text(format!("4m{i}")));
    }
    assert_eq!(message(&mut second).await, Frame::Text("4after".into()));
    post_ok(&server, &sid, "1").await;
}

/// An engine echo on `/engine.io/` whose first ping is a minute away.
async fn quiet_echo() -> TestServer {
    let config = EngineConfig::builder().ping_interval(Duration::from_secs(60));
    let (layer, _engine) = EngineIo::new(config, ferrio_tests::conformance::Echo);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = ferrio::serve(listener, axum::Router::new().layer(layer)).await;
    });
    TestServer::external(addr, task)
}

/// The same over long-polling: a GET whose answer was lost (the client says it received less)
/// gets that answer again, with the same numbers (`X-Ferrio-Event-Id`); and a GET that says
/// what it received takes over from one the server still holds, instead of closing the
/// session as overlapping polls otherwise do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_polling_answer_is_sent_again_and_a_new_poll_takes_over() {
    // Pings would answer polls of their own; this test wants none.
    let server = quiet_echo().await;
    let handshake = server.get("EIO=4&transport=polling&lastEventId=0").await;
    assert_eq!(handshake.header("x-ferrio-event-id"), Some("1"));
    let open: serde_json::Value = serde_json::from_str(&handshake.text()[1..]).unwrap();
    let sid = open["sid"].as_str().unwrap().to_owned();
    let poll = |received: u64| format!("EIO=4&transport=polling&sid={sid}&lastEventId={received}");
    assert_eq!(server.post(&sid, "4a\x1e4b").await.status, 200);
    let answer = server.get(&poll(1)).await;
    assert_eq!((answer.text(), answer.header("x-ferrio-event-id")), ("4a\x1e4b", Some("3")));
    // That answer was lost: the next GET says the client still has only 1.
    let again = server.get(&poll(1)).await;
    assert_eq!((again.text(), again.header("x-ferrio-event-id")), ("4a\x1e4b", Some("3")));

    // Two GETs at once that say what they received (a client whose first GET's connection
    // broke unseen, and its new one): whichever the server takes last takes over, the other
    // ends with a noop, and the session lives on (without `lastEventId` it would be closed).
    let send = |target: String| {
        let addr = server.addr;
        tokio::spawn(async move {
            crate::support::http::send(addr, &Request::new("GET", &target)).await
        })
    };
    let mut first = send(server.target(&poll(3)));
    let mut second = send(server.target(&poll(3)));
    let (ended, survivor) = within("one GET to end", STEP, async {
        tokio::select! {
            ended = &mut first => (ended.unwrap(), second),
            ended = &mut second => (ended.unwrap(), first),
        }
    })
    .await;
    assert_eq!((ended.status, ended.text()), (200, "6"), "the GET taken over ends with a noop");
    assert_eq!(server.post(&sid, "4c").await.status, 200, "the session lives on");
    let survivor = within("the other GET", STEP, survivor).await.unwrap();
    assert_eq!((survivor.text(), survivor.header("x-ferrio-event-id")), ("4c", Some("4")));
    assert_eq!(server.post(&sid, "1").await.status, 200);
}
