//! What the upgrade-under-traffic tests of polling and streaming share: the probe WebSocket,
//! the numbered messages, and the end of the upgrade over the WebSocket.

use super::{Frame, TestServer, Ws};

/// Opens the probe WebSocket for `sid`.
pub(crate) async fn probe_ws(server: &TestServer, sid: &str) -> Ws {
    server
        .ws(&format!("EIO=4&transport=websocket&sid={sid}"))
        .await
        .expect("websocket upgrade handshake")
}

/// Message `i` of upgrade session `session`, as sent and as expected back: every fourth one
/// binary, the others text ending with `text_tail`.
pub(crate) fn numbered_message(session: usize, i: usize, text_tail: &str) -> Frame {
    if i % 4 == 3 {
        Frame::Binary(format!("bin {session}-{i}").into_bytes())
    } else {
        Frame::Text(format!("4msg {session}-{i}{text_tail}"))
    }
}

/// After `5`: sends 10 more messages (`next(i)` for the `i`-th overall) over `ws`, adding them
/// to `sent`, then reads the echoes until the last one. Checks that what came back over the
/// old transport (`before`) and then over the WebSocket is exactly `sent`: nothing lost,
/// duplicated or reordered across the upgrade.
pub(crate) async fn finish_over_websocket(
    ws: &mut Ws,
    session: usize,
    sent: &mut Vec<Frame>,
    before: Vec<Frame>,
    next: impl Fn(usize) -> Frame,
) {
    for _ in 0..10 {
        let frame = next(sent.len());
        match &frame {
            Frame::Text(text) => ws.send_text(text.clone()).await,
            Frame::Binary(bytes) => ws.send_binary(bytes.clone()).await,
            other => unreachable!("{other:?}"),
        }
        sent.push(frame);
    }
    let last = sent.last().cloned().expect("sent something");
    let over_before = before.len();
    let mut received = before;
    loop {
        let frame = ws.recv_message().await;
        assert!(
            matches!(frame, Frame::Text(_) | Frame::Binary(_)),
            "session {session}: websocket ended: {frame:?}"
        );
        received.push(frame.clone());
        if frame == last || received.len() > sent.len() {
            break;
        }
    }
    let over_ws = received.len() - over_before;
    assert!(over_ws >= 10, "session {session}: {over_ws} echoes over websocket");
    assert_eq!(
        &received, sent,
        "session {session}: echoes lost, duplicated or reordered across the upgrade"
    );
}
