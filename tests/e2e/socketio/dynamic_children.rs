//! Dynamic namespaces are bounded: a child exists only once the middleware let a socket in,
//! and disappears with its last socket (unless the application keeps them); namespace names a
//! client sends have a length limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrio::{ConnectError, DisconnectReason, Ferrio, Io, Socket};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Semaphore;

use super::{channel, echo_ns, next, serve, Client};
use crate::support::MARGIN;

/// The namespaces of `io`, sorted.
fn namespaces(io: &Io) -> Vec<String> {
    let mut all = io.namespaces();
    all.sort();
    all
}

/// `/rooms/{id}` children whose sockets report their disconnects.
fn rooms(io: &Io) -> UnboundedReceiver<DisconnectReason> {
    let (tx, rx) = channel();
    io.dyn_ns("/rooms/{id}", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            socket.on_disconnect(move |_: Socket, reason: DisconnectReason| {
                let _ = tx.send(reason);
                async {}
            });
            let _ = socket.emit("hi", &1);
        }
    });
    rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_refused_by_the_middleware_leave_no_child() {
    const NAMES: usize = 10_000;
    const BATCH: usize = 250;
    let (server, io) = serve(Ferrio::builder()).await;
    let _root = echo_ns(&io, "/");
    // The middleware leaves a handler holding the socket on it: the refused socket must
    // still let go of its child.
    io.dyn_ns("/rooms/{id}", |_: Socket| async {}).middleware(|socket: Socket| async move {
        let held = socket.clone();
        socket.on("never", move || {
            let _ = &held;
            async {}
        });
        Err::<(), _>(ConnectError::new("no"))
    });
    let mut client = Client::open(server.addr).await;
    client.join("/", None).await;
    for batch in 0..NAMES / BATCH {
        let ids = batch * BATCH..(batch + 1) * BATCH;
        for i in ids.clone() {
            client.send(&format!("40/rooms/{i},")).await;
        }
        for i in ids {
            client.expect(&format!(r#"44/rooms/{i},{{"message":"no"}}"#)).await;
        }
    }
    let all = io.namespaces();
    assert_eq!(all.len(), 1, "{} namespaces after {NAMES} refused connects", all.len());
    assert_eq!(all, ["/"]);
    client.assert_echo("still connected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_appears_only_once_its_middleware_accepts() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _root = echo_ns(&io, "/");
    let release = Arc::new(Semaphore::new(0));
    io.dyn_ns("/rooms/{id}", |_: Socket| async {}).middleware({
        let release = release.clone();
        move || {
            let release = release.clone();
            async move {
                release.acquire().await.expect("open").forget();
                Ok::<(), ConnectError>(())
            }
        }
    });
    let mut client = Client::open(server.addr).await;
    client.join("/", None).await;
    client.send("40/rooms/1,").await;
    client.assert_echo("the CONNECT was dispatched").await;
    assert!(io.of("/rooms/1").is_none(), "the child exists while its middleware runs");
    assert_eq!(namespaces(&io), ["/"]);
    release.add_permits(1);
    let reply = client.recv_text().await;
    assert!(reply.starts_with(r#"40/rooms/1,{"sid":"#), "expected the CONNECT reply: {reply:?}");
    assert_eq!(namespaces(&io), ["/", "/rooms/1"]);
    assert_eq!(io.of("/rooms/1").expect("the child").sockets().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_is_removed_when_its_last_socket_leaves() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut gone = rooms(&io);
    let mut first = Client::open(server.addr).await;
    for child in ["/rooms/1", "/rooms/2"] {
        first.join(child, None).await;
        first.expect(&format!(r#"42{child},["hi",1]"#)).await;
    }
    let mut second = Client::open(server.addr).await;
    second.join("/rooms/1", None).await;
    second.expect(r#"42/rooms/1,["hi",1]"#).await;
    assert_eq!(namespaces(&io), ["/", "/rooms/1", "/rooms/2"]);

    // The first client leaves `/rooms/1`: the second is still there.
    first.send("41/rooms/1,").await;
    assert_eq!(next(&mut gone).await, DisconnectReason::ClientNamespaceDisconnect);
    assert_eq!(namespaces(&io), ["/", "/rooms/1", "/rooms/2"]);
    // The second leaves it too, by closing its connection: the child goes.
    second.close().await;
    assert_eq!(next(&mut gone).await, DisconnectReason::TransportClose);
    assert_eq!(namespaces(&io), ["/", "/rooms/2"]);
    assert!(io.of("/rooms/1").is_none());
    // A server-side disconnect empties `/rooms/2`.
    io.of("/rooms/2").expect("the child").disconnect_sockets();
    assert_eq!(next(&mut gone).await, DisconnectReason::ServerNamespaceDisconnect);
    assert_eq!(namespaces(&io), ["/"]);

    // Joining again makes a new child.
    first.expect("41/rooms/2,").await;
    first.join("/rooms/1", None).await;
    first.expect(r#"42/rooms/1,["hi",1]"#).await;
    assert_eq!(io.of("/rooms/1").expect("a new child").sockets().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_children_are_kept_when_the_application_asks() {
    let (server, io) = serve(Ferrio::builder().cleanup_empty_child_namespaces(false)).await;
    let mut gone = rooms(&io);
    let mut client = Client::open(server.addr).await;
    client.join("/rooms/1", None).await;
    client.send("41/rooms/1,").await;
    assert_eq!(next(&mut gone).await, DisconnectReason::ClientNamespaceDisconnect);
    assert_eq!(namespaces(&io), ["/", "/rooms/1"]);
    assert!(io.of("/rooms/1").expect("kept").sockets().is_empty());
}

/// With connection state recovery on, a child whose last socket dropped its connection stays
/// as long as that socket can be recovered: the client comes back to it, then, once gone past
/// the recovery window, the child goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_stays_while_its_socket_can_be_recovered() {
    let window = Duration::from_millis(500);
    let (server, io) = serve(Ferrio::builder().connection_state_recovery(window)).await;
    let mut gone = rooms(&io);

    let mut client = Client::open(server.addr).await;
    client.send("40/rooms/1,").await;
    let reply: Value = client
        .recv_text()
        .await
        .strip_prefix("40/rooms/1,")
        .and_then(|json| serde_json::from_str(json).ok())
        .expect("the CONNECT reply");
    let (sid, pid) = (reply["sid"].as_str().unwrap(), reply["pid"].as_str().unwrap());
    let hi = client.recv_text().await;
    let offset = hi
        .strip_prefix(r#"42/rooms/1,["hi",1,""#)
        .and_then(|rest| rest.strip_suffix(r#""]"#))
        .unwrap_or_else(|| panic!("expected `hi` with its offset, got {hi:?}"));

    // The connection drops; the child stays for the socket's return.
    drop(client);
    assert_eq!(next(&mut gone).await, DisconnectReason::TransportClose);
    assert_eq!(namespaces(&io), ["/", "/rooms/1"]);
    let mut client = Client::open(server.addr).await;
    client.send(&format!(r#"40/rooms/1,{{"pid":"{pid}","offset":"{offset}"}}"#)).await;
    let reply = client.recv_text().await;
    assert!(reply.contains(sid), "the socket was recovered: {reply:?}");

    // It drops again and does not come back: the child goes once the window passed.
    drop(client);
    assert_eq!(next(&mut gone).await, DisconnectReason::TransportClose);
    let dropped = Instant::now();
    assert_eq!(namespaces(&io), ["/", "/rooms/1"], "kept within the window");
    while io.of("/rooms/1").is_some() {
        assert!(
            dropped.elapsed() < window + MARGIN,
            "the child outlived the recovery window: {:?}",
            dropped.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(dropped.elapsed() >= window - Duration::from_millis(50), "removed early");
    assert_eq!(namespaces(&io), ["/"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_naming_a_namespace_past_the_length_limit_closes_the_connection() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _root = echo_ns(&io, "/");
    // Every path is a dynamic namespace here: only the length limit refuses.
    io.dyn_ns_fn(|path: &str| path.starts_with("/d"), |_: Socket| async {});

    // 256 bytes, the default limit: answered as usual (the unknown one with its name, as the
    // reference server does).
    let at_limit = format!("/{}", "a".repeat(255));
    let mut client = Client::open(server.addr).await;
    client.send(&format!("40{at_limit},")).await;
    client.expect(&format!(r#"44{at_limit},{{"message":"Invalid namespace"}}"#)).await;
    let dynamic_at_limit = format!("/d{}", "a".repeat(254));
    client.join(&dynamic_at_limit, None).await;

    // One byte more: the connection is closed, and nothing echoes the name back.
    for path in [format!("/{}", "a".repeat(256)), format!("/d{}", "a".repeat(255))] {
        let mut client = Client::open(server.addr).await;
        client.join("/", None).await;
        client.send(&format!("40{path},")).await;
        client.expect_closed().await;
    }
    assert_eq!(namespaces(&io), ["/", &dynamic_at_limit]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_namespace_length_limit_is_a_setting() {
    let (server, io) = serve(Ferrio::builder().max_namespace_len(8)).await;
    let _root = echo_ns(&io, "/");
    let _ok = echo_ns(&io, "/1234567");
    let _long = echo_ns(&io, "/12345678");
    let mut client = Client::open(server.addr).await;
    client.join("/1234567", None).await;
    client.send("40/12345678,").await;
    client.expect_closed().await;
}
