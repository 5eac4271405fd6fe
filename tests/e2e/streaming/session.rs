//! A streaming session over time: the heartbeat, re-attaching after the stream's connection
//! went away, one stream per sid, the byte budget, and sessions reclaimed once closed.

use std::time::{Duration, Instant};

use ferrio_protocol::engine::sse;
use futures_util::StreamExt;

use super::client::SseStream;
use super::{
    events_without_pings, next_message, open, post, post_ok, reattach, reattach_after_drop,
    session_query,
};
use crate::support::{
    assert_error, b64, within, Frame, TestServer, BAD_REQUEST, MARGIN, PING_INTERVAL, PING_TIMEOUT,
    SESSION_ID_UNKNOWN, STEP,
};

/// Checks that a timer-driven event came `elapsed` after its start, close to `nominal`.
fn assert_timer(what: &str, elapsed: Duration, nominal: Duration) {
    eprintln!("{what}: {elapsed:?} (nominal {nominal:?})");
    let earliest = nominal.saturating_sub(Duration::from_millis(50));
    assert!(elapsed >= earliest, "{what} after {elapsed:?}, expected {nominal:?}");
    assert!(elapsed <= nominal + Duration::from_millis(300), "{what} after {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_travel_as_events_and_pongs_by_post() {
    let server = super::server().await;
    let opened = Instant::now();
    let (mut stream, sid) = open(&server).await;
    let mut last = opened;
    for round in 0..4 {
        let mark = stream.raw().len();
        assert_eq!(stream.next().await, Frame::Text("2".into()), "ping #{round}");
        // The first ping pingInterval after the open, each next one after the previous pong.
        assert_timer(&format!("ping #{round} (streaming)"), last.elapsed(), PING_INTERVAL);
        assert_eq!(stream.events_since(mark), ["data: 2"]);
        last = Instant::now();
        post_ok(&server, &sid, "3").await;
    }
    let alive_for = opened.elapsed();
    assert!(alive_for > (PING_INTERVAL + PING_TIMEOUT) * 2, "{alive_for:?}");
    post_ok(&server, &sid, "4still here").await;
    assert_eq!(next_message(&server, &sid, &mut stream).await, Frame::Text("4still here".into()));
    post_ok(&server, &sid, "1").await;
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_ping_closes_the_session() {
    let server = super::server().await;
    let (mut stream, sid) = open(&server).await;
    let mark = stream.raw().len();
    assert_eq!(stream.next().await, Frame::Text("2".into()));
    let pinged = Instant::now();
    // No pong: the stream gets the close packet and ends.
    assert_eq!(stream.rest().await, [Frame::Text("1".into())]);
    assert_timer("close after an unanswered ping", pinged.elapsed(), PING_TIMEOUT);
    assert_eq!(stream.events_since(mark), ["data: 2", "data: 1"]);
    // Numbered after the open packet (1): the ping 2, the close packet 3.
    assert_eq!(
        String::from_utf8_lossy(&stream.raw()[mark..]),
        "id: 2\ndata: 2\n\nid: 3\ndata: 1\n\n"
    );
    // The session is gone.
    assert_error(&server.get(&session_query(&sid)).await, 400, SESSION_ID_UNKNOWN);
    assert_error(&post(&server, &sid, "3").await, 400, SESSION_ID_UNKNOWN);
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reattach_after_the_connection_dropped_gets_the_queued_messages() {
    let server = super::server().await;
    let (mut stream, sid) = open(&server).await;
    post_ok(&server, &sid, "4before").await;
    assert_eq!(next_message(&server, &sid, &mut stream).await, Frame::Text("4before".into()));

    // The stream's connection goes away (a network change, a browser tab suspended...). Until
    // the server notices (at once, unless the machine is busy), what it writes goes to the dead
    // connection and is lost, as on any streaming transport; after that, messages wait in the
    // queue for the next stream.
    drop(stream);
    post_ok(&server, &sid, "4queued 1\x1e4queued 2").await;
    post_ok(&server, &sid, format!("b{}", b64(&[9, 8, 7]))).await;
    post_ok(&server, &sid, "4queued 3\nline").await;

    // Re-attaching (once the server has seen the old stream go): the padding, then what was
    // queued, in order (and no second open packet), then what is sent next.
    let mut stream = reattach_after_drop(&server, &sid).await;
    post_ok(&server, &sid, "4after").await;
    let mut received = Vec::new();
    loop {
        let frame = next_message(&server, &sid, &mut stream).await;
        assert_ne!(frame, Frame::End, "the re-attached stream ended; got {received:?}");
        if frame == Frame::Text("4after".into()) {
            break;
        }
        received.push(frame);
    }
    // All of them when the server noticed the drop before the first was echoed (the usual
    // case); in any case the last ones, in order, nothing twice.
    let queued = [
        Frame::Text("4queued 1".into()),
        Frame::Text("4queued 2".into()),
        Frame::Binary(vec![9, 8, 7]),
        Frame::Text("4queued 3\nline".into()),
    ];
    assert!(
        queued.ends_with(&received),
        "the messages queued while no stream was attached: {received:?}"
    );
    if received.len() < queued.len() {
        eprintln!("{} message(s) went to the dropped connection", queued.len() - received.len());
    }
    let events = [
        "data: 4queued 1",
        "data: 4queued 2",
        "data: bCQgH",
        "data: 4queued 3\ndata: line",
        "data: 4after",
    ];
    assert_eq!(
        events_without_pings(&stream, sse::padding().len()),
        events[queued.len() - received.len()..]
    );
    post_ok(&server, &sid, "1").await;
    server.wait_engine_sessions(0, STEP).await;
}

/// One live stream per session: a second GET for the sid is refused while the first lives
/// (it can neither take the first one's place nor alternate with it), the first carries on,
/// and once it has ended the client can re-attach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_stream_is_refused_while_the_first_lives() {
    let server = super::server().await;
    let (mut first, sid) = open(&server).await;
    post_ok(&server, &sid, "4to the first").await;
    assert_eq!(next_message(&server, &sid, &mut first).await, Frame::Text("4to the first".into()));

    assert_error(&server.get(&session_query(&sid)).await, 400, BAD_REQUEST);

    post_ok(&server, &sid, "4still the first").await;
    assert_eq!(
        next_message(&server, &sid, &mut first).await,
        Frame::Text("4still the first".into())
    );

    // The client drops the first stream; once the server has seen it go, a new one attaches
    // and gets what follows.
    drop(first);
    let mut second = reattach_after_drop(&server, &sid).await;
    post_ok(&server, &sid, "4to the second").await;
    assert_eq!(
        next_message(&server, &sid, &mut second).await,
        Frame::Text("4to the second".into())
    );
    post_ok(&server, &sid, "1").await;
    server.wait_engine_sessions(0, STEP).await;
}

/// The server's default byte budget of one stream.
const BUDGET: usize = 128 * 1024;

/// Message `i` of the budget test: about 4 KiB, numbered.
fn big_message(i: usize) -> String {
    format!("4{i:05} {}", "x".repeat(4000))
}

/// Reads `stream` until it ends or `received` holds `total` messages (answering pings);
/// returns whether it ended.
async fn drain(
    server: &TestServer,
    sid: &str,
    stream: &mut SseStream,
    received: &mut Vec<String>,
    total: usize,
) -> bool {
    while received.len() < total {
        match stream.next().await {
            Frame::End => return true,
            Frame::Text(ping) if ping == "2" => post_ok(server, sid, "3").await,
            Frame::Text(text) => received.push(text),
            other => panic!("unexpected {other:?}"),
        }
    }
    false
}

/// The bytes of events a stream carried (everything after the padding).
fn event_bytes(stream: &SseStream) -> usize {
    stream.raw().len() - sse::padding().len()
}

/// One event of [`big_message`].
const BIG_EVENT: usize = "data: ".len() + 7 + 4000 + 2;

/// POSTs [`big_message`]s `from..to`, `per_post` to a POST.
async fn post_big(server: &TestServer, sid: &str, from: usize, to: usize, per_post: usize) {
    let mut i = from;
    while i < to {
        let end = (i + per_post).min(to);
        let body: Vec<String> = (i..end).map(big_message).collect();
        post_ok(server, sid, body.join("\x1e")).await;
        i = end;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_end_after_the_budget_and_reattaching_loses_nothing() {
    let server = super::server().await;
    assert_eq!(BIG_EVENT, "data: ".len() + big_message(0).len() + 2);
    let (mut stream, sid) = open(&server).await;
    let total = 120;
    let mut received = Vec::new();

    // While the stream is attached: ~160 KiB, more than its budget.
    post_big(&server, &sid, 0, 40, 8).await;
    let ended = drain(&server, &sid, &mut stream, &mut received, total).await;
    eprintln!("first stream: {} bytes of events (budget {BUDGET})", event_bytes(&stream));
    assert!(ended, "the first stream did not end after {} bytes", event_bytes(&stream));
    assert!(event_bytes(&stream) + BIG_EVENT > BUDGET, "ended before its budget");

    // Detached (the stream ended): ~320 KiB more are queued. Each re-attached stream starts
    // with the padding and ends after its budget; the last one carries the rest.
    post_big(&server, &sid, 40, total, 16).await;
    let mut streams = 1;
    while received.len() < total {
        let mut stream = reattach(&server, &sid).await;
        streams += 1;
        let before = received.len();
        if drain(&server, &sid, &mut stream, &mut received, total).await {
            eprintln!("stream #{streams}: {} bytes of events", event_bytes(&stream));
            assert!(event_bytes(&stream) + BIG_EVENT > BUDGET, "stream #{streams} ended early");
        }
        assert!(received.len() > before, "stream #{streams} delivered nothing");
        assert!(streams < 20, "too many streams");
    }
    let expected: Vec<String> = (0..total).map(big_message).collect();
    assert!(received == expected, "messages lost, duplicated or reordered across streams");
    post_ok(&server, &sid, "1").await;
    server.wait_engine_sessions(0, STEP).await;
}

/// Checks that a stream that ended carried about its budget: at most one event more.
fn assert_about_the_budget(stream: &SseStream, which: &str) {
    let sent = event_bytes(stream);
    eprintln!("{which} stream carried {sent} bytes of events (budget {BUDGET})");
    assert!(
        (BUDGET - BIG_EVENT..=BUDGET + BIG_EVENT + 64).contains(&sent),
        "the {which} stream carried {sent} bytes of events; the budget is {BUDGET} and one \
         event is {BIG_EVENT} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_carries_about_its_budget_not_everything_queued() {
    let server = super::server().await;
    let (mut stream, sid) = open(&server).await;
    let total = 120;
    let mut received = Vec::new();
    // Detach cleanly: let the first stream reach its budget.
    post_big(&server, &sid, 0, 34, 1).await;
    assert!(drain(&server, &sid, &mut stream, &mut received, total).await, "no end");

    // ~350 KiB queued while no stream is attached: the next stream still ends after about
    // 128 KiB, and so does the one after it.
    post_big(&server, &sid, 34, total, 16).await;
    for which in ["second (attached to a full queue)", "third"] {
        let mut stream = reattach(&server, &sid).await;
        let ended = drain(&server, &sid, &mut stream, &mut received, total).await;
        assert_about_the_budget(&stream, which);
        assert!(ended, "the {which} stream did not end");
    }
    let mut stream = reattach(&server, &sid).await;
    drain(&server, &sid, &mut stream, &mut received, total).await;
    let expected: Vec<String> = (0..total).map(big_message).collect();
    assert!(received == expected, "messages lost, duplicated or reordered across streams");
    post_ok(&server, &sid, "1").await;
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_sessions_are_reclaimed() {
    let server = super::server().await;
    futures_util::stream::iter(0..200)
        .map(|i| {
            let server = &server;
            async move {
                let (mut stream, sid) = open(server).await;
                post_ok(server, &sid, format!("4session {i}")).await;
                assert_eq!(
                    next_message(server, &sid, &mut stream).await,
                    Frame::Text(format!("4session {i}"))
                );
                post_ok(server, &sid, "1").await;
                let rest = stream.rest().await;
                assert!(
                    rest.ends_with(&[Frame::Text("6".into()), Frame::Text("1".into())]),
                    "{rest:?}"
                );
            }
        })
        .buffer_unordered(20)
        .collect::<Vec<()>>()
        .await;
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_streams_are_reclaimed_by_the_heartbeat() {
    let server = super::server().await;
    let streams: Vec<(SseStream, String)> = futures_util::stream::iter(0..50)
        .map(|_| open(&server))
        .buffer_unordered(50)
        .collect()
        .await;
    // The clients vanish without closing; nobody answers the pings.
    let dropped = Instant::now();
    drop(streams);
    server.wait_engine_sessions(0, PING_INTERVAL + PING_TIMEOUT + MARGIN).await;
    eprintln!("50 abandoned streaming sessions reclaimed in {:?}", dropped.elapsed());
    within("a fresh session", STEP, async {
        let (mut stream, sid) = open(&server).await;
        post_ok(&server, &sid, "4fresh").await;
        assert_eq!(next_message(&server, &sid, &mut stream).await, Frame::Text("4fresh".into()));
        post_ok(&server, &sid, "1").await;
    })
    .await;
}
