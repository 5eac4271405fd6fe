//! Upgrading a streaming session to WebSocket: `2probe` / `3probe`, the stream ended with `6`,
//! then `5`; nothing lost, duplicated or reordered under traffic; an abandoned probe leaves a
//! working streaming session.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::client::SseStream;
use super::{
    events_without_pings, next_message, open, post, post_ok, reattach, reattach_after_drop,
    session_query,
};
use crate::support::upgrade::{finish_over_websocket, numbered_message, probe_ws};
use crate::support::{
    assert_error, payload_item, within, Frame, TestServer, BAD_REQUEST, MARGIN, STEP,
    UPGRADE_TIMEOUT,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_sequence() {
    let server = super::server().await;
    let (mut stream, sid) = open(&server).await;
    post_ok(&server, &sid, "4before").await;
    assert_eq!(next_message(&server, &sid, &mut stream).await, Frame::Text("4before".into()));
    let mark = stream.raw().len();

    let mut ws = probe_ws(&server, &sid).await;
    ws.send_text("2probe").await;
    assert_eq!(ws.next_frame().await, Frame::Text("3probe".into()));
    // The stream ends with a noop so the client can pause it.
    let rest = stream.rest().await;
    if rest.contains(&Frame::Text("2".into())) {
        post_ok(&server, &sid, "3").await;
    }
    assert_eq!(rest.last(), Some(&Frame::Text("6".into())), "{rest:?}");
    assert_eq!(events_without_pings(&stream, mark), ["data: 6"]);

    ws.send_text("5").await;
    ws.send_text("4over websocket").await;
    assert_eq!(ws.recv_message().await, Frame::Text("4over websocket".into()));
    ws.send_binary(vec![1, 2, 3]).await;
    assert_eq!(ws.recv_message().await, Frame::Binary(vec![1, 2, 3]));

    // Streaming (and polling) requests for the upgraded session are refused.
    assert_error(&server.get(&session_query(&sid)).await, 400, BAD_REQUEST);
    assert_error(&post(&server, &sid, "4x").await, 400, BAD_REQUEST);
    assert_error(&server.poll(&sid).await, 400, BAD_REQUEST);
    ws.send_text("4still upgraded").await;
    assert_eq!(ws.recv_message().await, Frame::Text("4still upgraded".into()));
    ws.close().await;
    server.wait_engine_sessions(0, STEP).await;
}

/// One message of the upgrade traffic, as expected back (text over two lines: two `data:`).
fn message(session: usize, i: usize) -> Frame {
    numbered_message(session, i, "\nline 2")
}

/// The client side of a streaming session during an upgrade: the stream read in the
/// background, POSTs one at a time, what was sent and what came back over the stream.
struct Traffic<'a> {
    server: &'a TestServer,
    session: usize,
    sid: String,
    inbox: mpsc::UnboundedReceiver<Frame>,
    reader: JoinHandle<SseStream>,
    sent: Vec<Frame>,
    over_stream: Vec<Frame>,
    /// The frames of the stream, in order, pings and noops included.
    stream_frames: Vec<Frame>,
    ended: bool,
}

impl Traffic<'_> {
    /// POSTs the next message.
    async fn send(&mut self) {
        let frame = message(self.session, self.sent.len());
        post_ok(self.server, &self.sid, payload_item(&frame)).await;
        self.sent.push(frame);
        self.absorb().await;
    }

    /// Takes what the stream delivered so far; answers pings.
    async fn absorb(&mut self) {
        while let Ok(frame) = self.inbox.try_recv() {
            self.stream_frames.push(frame.clone());
            match frame {
                Frame::Text(ping) if ping == "2" => {
                    post_ok(self.server, &self.sid, "3").await;
                }
                Frame::Text(noop) if noop == "6" => {}
                Frame::End => self.ended = true,
                frame => {
                    assert!(!self.ended, "a message after the end of the stream");
                    self.over_stream.push(frame);
                }
            }
        }
    }
}

/// One upgrade with messages flowing both ways the whole time; checks that the echoes came back
/// exactly once each, in order.
async fn upgrade_under_traffic(server: &TestServer, session: usize) {
    let (stream, sid) = open(server).await;
    let (inbox, reader) = stream.spawn_reader();
    let mut traffic = Traffic {
        server,
        session,
        sid: sid.clone(),
        inbox,
        reader,
        sent: Vec::new(),
        over_stream: Vec::new(),
        stream_frames: Vec::new(),
        ended: false,
    };
    for _ in 0..5 {
        traffic.send().await;
    }
    let mut ws = probe_ws(server, &sid).await;
    traffic.send().await;
    ws.send_text("2probe").await;
    // Keep posting until the probe is answered...
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let probe = loop {
        tokio::select! {
            frame = ws.next_frame() => break frame,
            _ = tick.tick() => traffic.send().await,
        }
    };
    assert_eq!(probe, Frame::Text("3probe".into()), "session {session}");
    // ... and until the stream has ended: once the probe is answered the server ends it with
    // `6`; what is still queued then goes over the websocket.
    within("the stream to end after the probe", STEP, async {
        while !traffic.ended {
            tick.tick().await;
            traffic.send().await;
        }
    })
    .await;
    let stream = within("the stream reader", STEP, &mut traffic.reader).await.expect("reader");
    let frames = &traffic.stream_frames;
    assert_eq!(
        frames[frames.len().saturating_sub(2)..],
        [Frame::Text("6".into()), Frame::End],
        "session {session}: the stream ends with a noop"
    );
    assert!(String::from_utf8_lossy(stream.raw()).ends_with("\n\ndata: 6\n\n"));

    // Paused (no POST in flight): complete the upgrade, then send over the websocket.
    ws.send_text("5").await;
    let over_stream = traffic.over_stream.clone();
    assert!(!over_stream.is_empty(), "session {session}: no echo over the stream");
    finish_over_websocket(&mut ws, session, &mut traffic.sent, over_stream, |i| {
        message(session, i)
    })
    .await;
    assert_error(&server.get(&session_query(&sid)).await, 400, BAD_REQUEST);
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_20_times_under_traffic() {
    let server = super::server().await;
    let started = Instant::now();
    futures_util::stream::iter(0..20)
        .map(|session| upgrade_under_traffic(&server, session))
        .buffer_unordered(10)
        .collect::<Vec<()>>()
        .await;
    eprintln!("20 streaming upgrades under traffic in {:?}", started.elapsed());
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_upgrade_leaves_the_stream_working() {
    let server = super::server().await;
    let (stream, sid) = open(&server).await;
    let (mut inbox, mut reader) = stream.spawn_reader();
    let mut ws = probe_ws(&server, &sid).await;
    ws.send_text("2probe").await;
    assert_eq!(ws.next_frame().await, Frame::Text("3probe".into()));
    let probed = Instant::now();
    // `5` never comes: the server drops the websocket after upgradeTimeout.
    let mut ws_end = tokio::spawn(async move {
        let end = loop {
            match ws.next_frame().await {
                Frame::Text(noop) if noop == "6" => continue,
                other => break other,
            }
        };
        (end, probed.elapsed())
    });

    // Meanwhile the client re-attaches whenever its stream ends, like one waiting for the
    // upgrade would; each such stream is ended with a noop shortly after.
    let mut noop_ends = 0;
    let (end, dropped_after) = within("the probe to be dropped", UPGRADE_TIMEOUT + MARGIN, async {
        let mut last = None;
        loop {
            tokio::select! {
                frame = inbox.recv() => match frame.expect("the stream reader") {
                    Frame::Text(ping) if ping == "2" => post_ok(&server, &sid, "3").await,
                    Frame::Text(noop) if noop == "6" => last = Some("6"),
                    Frame::End => {
                        if last == Some("6") {
                            noop_ends += 1;
                        }
                        last = None;
                        within("the ended stream's reader", STEP, &mut reader).await.expect("reader");
                        (inbox, reader) = reattach(&server, &sid).await.spawn_reader();
                    }
                    other => panic!("a message during the probe: {other:?}"),
                },
                ended = &mut ws_end => break ended.expect("websocket task"),
            }
        }
    })
    .await;
    eprintln!("probe dropped after {dropped_after:?}; {noop_ends} streams ended by a noop");
    assert!(matches!(end, Frame::Close(_) | Frame::End), "{end:?}");
    assert!(
        dropped_after >= UPGRADE_TIMEOUT.saturating_sub(Duration::from_millis(100)),
        "probe dropped after {dropped_after:?}"
    );
    assert!(noop_ends >= 3, "{noop_ends} streams ended with a noop during the probe");
    reader.abort();

    // A re-attached stream works, across heartbeats.
    let mut stream = reattach_after_drop(&server, &sid).await;
    post_ok(&server, &sid, "4after the probe").await;
    assert_eq!(
        next_message(&server, &sid, &mut stream).await,
        Frame::Text("4after the probe".into())
    );
    let mut pings = 0;
    while pings < 2 {
        match stream.next().await {
            Frame::Text(ping) if ping == "2" => {
                pings += 1;
                post_ok(&server, &sid, "3").await;
            }
            other => panic!("expected a ping, got {other:?}"),
        }
    }
    post_ok(&server, &sid, "4two heartbeats later").await;
    assert_eq!(
        next_message(&server, &sid, &mut stream).await,
        Frame::Text("4two heartbeats later".into())
    );

    // And the session can still upgrade.
    let mut ws = probe_ws(&server, &sid).await;
    ws.send_text("2probe").await;
    assert_eq!(ws.next_frame().await, Frame::Text("3probe".into()));
    let rest = stream.rest().await;
    assert_eq!(rest.last(), Some(&Frame::Text("6".into())), "{rest:?}");
    ws.send_text("5").await;
    ws.send_text("4upgraded at last").await;
    assert_eq!(ws.recv_message().await, Frame::Text("4upgraded at last".into()));
    ws.close().await;
    server.wait_engine_sessions(0, STEP).await;
}
