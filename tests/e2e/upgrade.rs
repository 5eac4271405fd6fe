//! Upgrading a polling session to WebSocket: `2probe` / `3probe`, the pending GET answered
//! with `6`, then `5`; nothing lost, duplicated or reordered; an abandoned probe is reclaimed.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::support::upgrade::{finish_over_websocket, numbered_message, probe_ws};
use crate::support::{
    assert_error, payload_item, server, unb64, Frame, PollingClient, TestServer, Ws, BAD_REQUEST,
    MARGIN, STEP, UPGRADE_TIMEOUT,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_sequence() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let pending = server.spawn_poll(&sid);
    let mut ws = probe_ws(&server, &sid).await;
    ws.send_text("2probe").await;
    assert_eq!(ws.next_frame().await, Frame::Text("3probe".into()));
    // The pending GET is released with a noop so the client can pause polling.
    let released = pending.await.expect("pending GET");
    assert_eq!((released.status, released.text()), (200, "6"));
    ws.send_text("5").await;
    ws.send_text("4hello").await;
    assert_eq!(ws.recv_message().await, Frame::Text("4hello".into()));
    ws.send_binary(vec![1, 2, 3, 4]).await;
    assert_eq!(ws.recv_message().await, Frame::Binary(vec![1, 2, 3, 4]));

    // Polling requests for an upgraded session are refused.
    assert_error(&server.poll(&sid).await, 400, BAD_REQUEST);
    assert_error(&server.post(&sid, "4x").await, 400, BAD_REQUEST);

    // A second WebSocket for the same sid is refused or closed at once, and changes nothing.
    if let Ok(mut second) = server.ws(&format!("EIO=4&transport=websocket&sid={sid}")).await {
        let end = second.next_frame().await;
        assert!(matches!(end, Frame::Close(_) | Frame::End), "second websocket got {end:?}");
    }
    ws.send_text("4still upgraded").await;
    assert_eq!(ws.recv_message().await, Frame::Text("4still upgraded".into()));
    ws.close().await;
    server.wait_engine_sessions(0, STEP).await;
}

/// One message of the upgrade traffic, as expected back.
fn message(session: usize, i: usize) -> Frame {
    numbered_message(session, i, "")
}

/// Decodes a packet received over polling into a message, `None` for ping and noop.
fn from_polling(packet: &str) -> Option<Frame> {
    match packet {
        "2" | "6" => None,
        p if p.starts_with('4') => Some(Frame::Text(p.to_owned())),
        p if p.starts_with('b') => Some(Frame::Binary(unb64(&p[1..]))),
        other => panic!("unexpected packet over polling: {other:?}"),
    }
}

/// One full upgrade with messages flowing both ways the whole time; returns after checking
/// that the echoes came back exactly once each, in order.
async fn upgrade_under_traffic(server: &TestServer, session: usize) {
    let (mut client, open) = PollingClient::open(server).await;
    assert_eq!(open["upgrades"], serde_json::json!(["websocket"]));
    let sid = client.sid.clone();
    let mut sent = Vec::new();
    let send_polling = |client: &PollingClient, sent: &mut Vec<Frame>| {
        let frame = message(session, sent.len());
        client.send(payload_item(&frame));
        sent.push(frame);
    };

    for _ in 0..5 {
        send_polling(&client, &mut sent);
    }
    let mut ws = probe_ws(server, &sid).await;
    send_polling(&client, &mut sent);
    ws.send_text("2probe").await;
    // Keep sending over polling until the probe is answered.
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let probe = loop {
        tokio::select! {
            frame = ws.next_frame() => break frame,
            _ = tick.tick() => send_polling(&client, &mut sent),
        }
    };
    assert_eq!(probe, Frame::Text("3probe".into()), "session {session}");
    for _ in 0..3 {
        send_polling(&client, &mut sent);
    }
    // Pause polling (the pending GET is released by a noop), then complete the upgrade.
    let over_polling: Vec<Frame> =
        client.pause().await.iter().filter_map(|p| from_polling(p)).collect();
    ws.send_text("5").await;
    finish_over_websocket(&mut ws, session, &mut sent, over_polling, |i| message(session, i)).await;
    assert_error(&server.poll(&sid).await, 400, BAD_REQUEST);
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_200_times_under_traffic() {
    let server = server().await;
    let started = Instant::now();
    futures_util::stream::iter(0..200)
        .map(|session| upgrade_under_traffic(&server, session))
        .buffer_unordered(20)
        .collect::<Vec<()>>()
        .await;
    eprintln!("200 upgrades under traffic in {:?}", started.elapsed());
    server.wait_engine_sessions(0, STEP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_upgrade_is_reclaimed() {
    let server = server().await;
    let (mut client, _) = PollingClient::open(&server).await;
    let sid = client.sid.clone();
    let mut ws = probe_ws(&server, &sid).await;
    let probe_opened = Instant::now();
    ws.send_text("2probe").await;
    assert_eq!(ws.next_frame().await, Frame::Text("3probe".into()));
    // `5` never comes. Meanwhile the session works over polling.
    client.send("4during the probe");
    assert_eq!(client.recv_message().await, "4during the probe");

    // The server drops the probe after upgradeTimeout.
    let end = within_upgrade_timeout(&mut ws).await;
    let dropped_after = probe_opened.elapsed();
    // Until then, it kept releasing the polling GETs with noops (every 100 ms).
    let noops = client.drain().iter().filter(|p| *p == "6").count();
    assert!(noops >= 3, "{noops} noops during a {dropped_after:?} probe");
    assert!(matches!(end, Frame::Close(_) | Frame::End), "{end:?}");
    assert!(
        dropped_after >= UPGRADE_TIMEOUT.saturating_sub(Duration::from_millis(100)),
        "probe dropped after {dropped_after:?}"
    );

    // The session stays on polling, alive across heartbeats (the client answers the pings).
    client.send("4after the probe");
    assert_eq!(client.recv_message().await, "4after the probe");
    let mut pings = 0;
    while pings < 2 {
        if client.recv().await == "2" {
            pings += 1;
        }
    }
    client.send("4two heartbeats later");
    assert_eq!(client.recv_message().await, "4two heartbeats later");

    // And it can still upgrade.
    let mut ws = probe_ws(&server, &sid).await;
    ws.send_text("2probe").await;
    assert_eq!(ws.next_frame().await, Frame::Text("3probe".into()));
    client.pause().await;
    ws.send_text("5").await;
    ws.send_text("4upgraded at last").await;
    assert_eq!(ws.recv_message().await, Frame::Text("4upgraded at last".into()));
    ws.close().await;
    server.wait_engine_sessions(0, STEP).await;
}

async fn within_upgrade_timeout(ws: &mut Ws) -> Frame {
    crate::support::within("the server to drop the probe", UPGRADE_TIMEOUT + MARGIN, async {
        loop {
            match ws.next_frame().await {
                Frame::Text(noop) if noop == "6" => continue,
                other => return other,
            }
        }
    })
    .await
}
