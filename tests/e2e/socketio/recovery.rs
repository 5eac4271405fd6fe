//! Connection state recovery from Rust: a client whose connection dropped comes back with its
//! private id and last offset and gets exactly the events it missed, even while several
//! threads emit at once.

use std::net::SocketAddr;
use std::time::Duration;

use ferrio::{DisconnectReason, Ferrio, Payload};
use serde_json::Value;

use super::client::Msg;
use super::{next, serve, transports, watched_ns, Client, Server};

/// Sends CONNECT for `/` with `auth`; returns the reply's `sid` and `pid`.
async fn join(client: &mut Client, auth: &str) -> (String, String) {
    client.send(&format!("40{auth}")).await;
    let reply = client.recv_text().await;
    let data: Value = reply
        .strip_prefix("40")
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_else(|| panic!("expected the CONNECT reply, got {reply:?}"));
    let field = |name: &str| {
        data[name].as_str().unwrap_or_else(|| panic!("no {name} in {reply:?}")).to_owned()
    };
    (field("sid"), field("pid"))
}

/// `42["n",[emitter,i],"offset"]` → `(emitter, i, offset)`; `None` for `42["done","offset"]`.
fn parse(text: &str) -> Option<(usize, u64, String)> {
    let args: Vec<Value> = text
        .strip_prefix("42")
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_else(|| panic!("expected an event, got {text:?}"));
    match args.as_slice() {
        [Value::String(name), Value::String(_)] if name == "done" => None,
        [Value::String(name), Value::Array(n), Value::String(offset)] if name == "n" => {
            let number = |v: Option<&Value>| v.and_then(Value::as_u64).expect("a number");
            Some((number(n.first()) as usize, number(n.get(1)), offset.clone()))
        }
        _ => panic!("unexpected event {text:?}"),
    }
}

/// Two threads emit numbered events to everyone at once while the client drops its connection
/// every 150 events and comes back with its pid and offset: each thread's events arrive
/// exactly once and in order. The events are kept and queued under one lock; were they not,
/// the log's order could differ from a socket's queue order, and a client coming back would
/// be given events after an offset it never saw in that position — losing the ones between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_concurrent_emitters_arrive_once_and_in_order_across_drops() {
    const EMITTERS: usize = 2;
    const EVENTS: u64 = 2000;
    let builder = Ferrio::builder()
        .connection_state_recovery(Duration::from_secs(30))
        .queue_bounds(1 << 20, 1 << 30);
    let (server, io) = serve(builder).await;
    let (mut sockets, mut gone) = watched_ns(&io, "/");

    let mut client = Client::open(server.addr).await;
    let (sid, pid) = join(&mut client, "").await;
    next(&mut sockets).await;

    // The emitters, then `done` once both finished (the client may be away then: `done` is
    // kept for its return like any other event).
    let finisher = std::thread::spawn({
        let io = io.clone();
        move || {
            let emitters: Vec<_> = (0..EMITTERS)
                .map(|emitter| {
                    let io = io.clone();
                    std::thread::spawn(move || {
                        for i in 0..EVENTS {
                            // Fails only while the connection is gone: the event is kept for
                            // the client's return all the same. One argument: the pair.
                            let _ = io.emit("n", &((emitter, i),));
                        }
                    })
                })
                .collect();
            for emitter in emitters {
                emitter.join().expect("emitter thread");
            }
            let _ = io.emit("done", Payload::new());
        }
    });

    let mut received: Vec<Vec<u64>> = vec![Vec::new(); EMITTERS];
    let mut offset = String::new();
    let mut since_drop = 0;
    let mut drops = 0;
    loop {
        if since_drop == 150 {
            // Drop the connection without a close frame, wait for the server to notice, and
            // come back with the pid and the last offset.
            drop(client);
            assert_eq!(
                next(&mut gone).await,
                DisconnectReason::TransportClose,
                "a dropped connection"
            );
            client = Client::open(server.addr).await;
            let auth = format!(r#"{{"pid":"{pid}","offset":"{offset}"}}"#);
            assert_eq!(join(&mut client, &auth).await, (sid.clone(), pid.clone()), "recovered");
            next(&mut sockets).await;
            drops += 1;
            since_drop = 0;
        }
        let text = match client.recv().await {
            Msg::Text(text) => text,
            other => panic!("expected an event, got {other:?}"),
        };
        let Some((emitter, i, at)) = parse(&text) else { break };
        received[emitter].push(i);
        offset = at;
        since_drop += 1;
    }
    finisher.join().expect("the emitters");
    eprintln!("{drops} drops, {} events", received.iter().map(Vec::len).sum::<usize>());
    assert!(drops >= 10, "only {drops} drops");
    for (emitter, numbers) in received.iter().enumerate() {
        let expected: Vec<u64> = (0..EVENTS).collect();
        if *numbers != expected {
            let dups = numbers.windows(2).filter(|w| w[1] <= w[0]).count();
            let missing = expected.iter().filter(|i| !numbers.contains(i)).count();
            panic!(
                "emitter {emitter}: {} events, {missing} missing, {dups} out of order or twice",
                numbers.len()
            );
        }
    }
}

/// A client that reads its CONNECT reply and then stops polling, as a slow one does: its
/// Engine.IO sid, and the socket's `sid` and `pid`.
async fn slow_client(addr: SocketAddr) -> (String, String, String) {
    let engine_sid = transports::connect_and_stop_polling(addr).await;
    let reply = transports::get(addr, &engine_sid).await;
    let connected: Value = reply
        .text()
        .strip_prefix("40")
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_else(|| panic!("expected the CONNECT reply, got {reply:?}"));
    let field = |name: &str| connected[name].as_str().expect("sid and pid").to_owned();
    (engine_sid, field("sid"), field("pid"))
}

/// With `close_on_queue_full`, `events` are emitted to a slow client whose queue holds 8:
/// the first 8 fit, the rest make the server close the connection (`forced close`). The
/// client then polls (the 8 events, then the close) and comes back with its pid and offset.
/// Returns the connection it came back on, what the CONNECT reply said, and the socket's
/// first `sid`.
async fn overflow_then_return(events: u64) -> (Client, (String, String), String, Server) {
    let builder = Ferrio::builder()
        .connection_state_recovery(Duration::from_secs(30))
        .queue_bounds(8, 1 << 20)
        .close_on_queue_full(true);
    let (server, io) = serve(builder).await;
    let (mut sockets, mut gone) = watched_ns(&io, "/");
    let (engine_sid, sid, pid) = slow_client(server.addr).await;
    next(&mut sockets).await;

    // The first 8 fit, the 9th does not; the later ones may find the socket already gone
    // (the connection closes concurrently). All of them are kept for the client's return.
    let sent: Vec<bool> = (1..=events).map(|i| io.emit("n", &((0, i),)).is_ok()).collect();
    assert_eq!(sent[..9], [true, true, true, true, true, true, true, true, false], "{sent:?}");
    assert_eq!(next(&mut gone).await, DisconnectReason::ForcedClose);

    let backlog = transports::get(server.addr, &engine_sid).await;
    let mut received = Vec::new();
    let mut offset = String::new();
    for packet in backlog.packets() {
        if let Some((_, i, at)) = packet.starts_with("42").then(|| parse(&packet)).flatten() {
            received.push(i);
            offset = at;
        }
    }
    assert_eq!(received, (1..=8).collect::<Vec<u64>>());
    assert!(backlog.packets().ends_with(&["1".to_owned()]), "the close packet: {backlog:?}");

    let mut client = Client::open(server.addr).await;
    let reply = join(&mut client, &format!(r#"{{"pid":"{pid}","offset":"{offset}"}}"#)).await;
    (client, reply, sid, server)
}

/// With `close_on_queue_full`, a client too slow for its queue is disconnected instead of
/// silently missing what did not fit; coming back with its offset it gets every event, the
/// ones that overflowed included, once and in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_closed_on_a_full_queue_recovers_every_event() {
    let (mut client, (back_sid, _), sid, _server) = overflow_then_return(12).await;
    assert_eq!(back_sid, sid, "recovered");
    for i in 9..=12 {
        let text = client.recv_text().await;
        assert_eq!(parse(&text).map(|(_, n, _)| n), Some(i), "{text}");
    }
}

/// What a returning client missed is queued with its CONNECT reply, all or nothing: when it
/// does not fit the queue, the client gets a fresh socket rather than a gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_missed_more_than_its_queue_holds_gets_a_fresh_socket() {
    let (_client, (back_sid, back_pid), sid, _server) = overflow_then_return(20).await;
    assert_ne!(back_sid, sid, "a fresh socket");
    assert!(!back_pid.is_empty());
}
