//! The per-socket bound on handlers running at once (`max_concurrent_handlers`): events past it
//! wait their turn, in order, none dropped; a client that keeps sending while its handlers are
//! stuck fills a bounded backlog and is disconnected; other clients never notice.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ferrio::extract::Data;
use ferrio::{Ferrio, Socket};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use super::client::url;
use super::{add_echo, channel, next, serve, Client};
use crate::support::{within, STEP};

/// How many handlers run now, and the most that ever ran at once.
#[derive(Debug, Default)]
struct Live {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Live {
    /// Counts a handler in until the returned guard drops.
    fn enter(self: &Arc<Self>) -> LiveGuard {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        LiveGuard(self.clone())
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

struct LiveGuard(Arc<Live>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A client flooding the server with `count` copies of `frame` over a raw WebSocket as fast as
/// it can, tolerating the server closing the connection midway; returns whether the server
/// closed it within [`STEP`] after the flood.
async fn flood_until_closed(addr: std::net::SocketAddr, frame: &str, count: usize) -> bool {
    let (mut ws, _) =
        within("websocket connect", STEP, tokio_tungstenite::connect_async(url(addr, "")))
            .await
            .expect("websocket handshake");
    let read_text = |msg: Option<Result<Message, _>>| match msg {
        Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
        other => panic!("expected a text frame, got {other:?}"),
    };
    let open = read_text(within("the open packet", STEP, ws.next()).await);
    assert!(open.starts_with('0'), "expected the open packet, got {open:?}");
    within("send CONNECT", STEP, ws.send(Message::text("40"))).await.expect("send CONNECT");
    let reply = read_text(within("the CONNECT reply", STEP, ws.next()).await);
    assert!(reply.starts_with("40{"), "expected the CONNECT reply, got {reply:?}");
    for _ in 0..count {
        if ws.feed(Message::text(frame)).await.is_err() {
            break;
        }
    }
    let _ = ws.flush().await;
    tokio::time::timeout(STEP, async {
        loop {
            match ws.next().await {
                None | Some(Ok(Message::Close(_))) | Some(Err(_)) => return,
                Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                    let _ = ws.send(Message::text("3")).await;
                }
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// A client sends 10,000 events whose handler never finishes: the server runs exactly
/// `max_concurrent_handlers` of them, keeps a bounded backlog of the rest, and closes the
/// connection when the backlog overflows — instead of holding 10,000 tasks. Another client
/// keeps being served throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_stuck_handlers_never_runs_more_than_the_limit_at_once() {
    const LIMIT: usize = 8;
    let (server, io) = serve(Ferrio::builder().max_concurrent_handlers(LIMIT)).await;
    let live = Arc::new(Live::default());
    io.ns("/", {
        let live = live.clone();
        move |socket: Socket| {
            add_echo(&socket);
            let live = live.clone();
            socket.on("stuck", move || {
                let live = live.clone();
                async move {
                    let _live = live.enter();
                    std::future::pending::<()>().await;
                }
            });
            async {}
        }
    });
    let (mut bystander, _) = server.connect().await;

    let closed = flood_until_closed(server.addr, r#"42["stuck"]"#, 10_000).await;
    let peak = live.peak();
    assert!(peak <= LIMIT, "{peak} handlers ran at once; the limit is {LIMIT}");
    assert_eq!(peak, LIMIT, "the first {LIMIT} events run at once");
    assert!(closed, "a client whose backlog of waiting events overflowed is disconnected");
    bystander.assert_echo("unaffected").await;
}

/// With a limit of 2, 50 events whose handlers wait for the test: only 2 start; the others
/// wait, none is dropped, and they start in the order they were sent as slots free up. The
/// connection stays open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_past_the_limit_wait_their_turn_in_order() {
    const LIMIT: usize = 2;
    const EVENTS: usize = 50;
    let (server, io) = serve(Ferrio::builder().max_concurrent_handlers(LIMIT)).await;
    let live = Arc::new(Live::default());
    let started = Arc::new(Mutex::new(Vec::new()));
    let release = Arc::new(Semaphore::new(0));
    let (started_tx, mut started_rx) = channel();
    io.ns("/", {
        let (live, started, release) = (live.clone(), started.clone(), release.clone());
        move |socket: Socket| {
            add_echo(&socket);
            let (live, started, release) = (live.clone(), started.clone(), release.clone());
            let started_tx = started_tx.clone();
            socket.on("job", move |Data(i): Data<usize>| {
                let (live, started) = (live.clone(), started.clone());
                let (release, started_tx) = (release.clone(), started_tx.clone());
                async move {
                    let _live = live.enter();
                    started.lock().unwrap().push(i);
                    let _ = started_tx.send(i);
                    release.acquire().await.expect("open").forget();
                }
            });
            async {}
        }
    });
    let sync = super::echo_ns(&io, "/sync");

    let mut client = Client::open(server.addr).await;
    client.join("/", None).await;
    client.join("/sync", None).await;
    for i in 0..EVENTS {
        client.send(&format!(r#"42["job",{i}]"#)).await;
    }
    // Packets of a connection are handled in order: once `/sync` echoes, every job was
    // dispatched — started, or waiting for a slot.
    client.send(r#"42/sync,["echo","sync"]"#).await;
    client.expect(r#"42/sync,["echo","sync"]"#).await;
    drop(sync);
    assert_eq!(*started.lock().unwrap(), vec![0, 1], "only {LIMIT} jobs may start at once");

    release.add_permits(EVENTS);
    for _ in 0..EVENTS {
        next(&mut started_rx).await;
    }
    assert_eq!(*started.lock().unwrap(), (0..EVENTS).collect::<Vec<_>>(), "all, in order");
    assert!(live.peak() <= LIMIT, "{} jobs ran at once", live.peak());
    client.assert_echo("still connected").await;
}
