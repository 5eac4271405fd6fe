//! Operators porting users reach for: `socket.volatile()`, socket lookup by id string,
//! `io.delete_ns`.

use std::time::Duration;

use ferrio::{DisconnectReason, Ferrio, Payload, Socket};
use serde_json::Value;

use super::transports::{connect_and_stop_polling, get};
use super::{echo_ns, next, serve, watched_ns};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volatile_emit_is_dropped_while_the_client_lags_and_sent_once_it_keeps_up() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    // Over polling, what the server queues waits there until the client polls.
    let engine_sid = connect_and_stop_polling(server.addr).await;
    let socket = next(&mut sockets).await;

    // The CONNECT reply is still queued: the client lags.
    socket.volatile().emit("dropped", &1).unwrap();
    socket.volatile().timeout(Duration::from_secs(1)).emit("dropped too", &2).unwrap();
    let packets = get(server.addr, &engine_sid).await.packets();
    assert_eq!(packets.len(), 1, "only the CONNECT reply: {packets:?}");
    assert!(packets[0].starts_with("40{"), "{packets:?}");

    // Nothing queued now: a volatile emit goes out.
    socket.volatile().emit("sent", &("x", 3)).unwrap();
    assert_eq!(get(server.addr, &engine_sid).await.packets(), [r#"42["sent","x",3]"#]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_are_found_by_the_id_string_their_client_knows() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _root = echo_ns(&io, "/");
    let _custom = echo_ns(&io, "/custom");
    let mut client = server.open().await;
    let root_id: String = client.join("/", None).await;
    let custom_id: String = client.join("/custom", None).await;

    let socket = io.get_socket(root_id.as_str()).expect("the socket of /");
    assert_eq!(socket.id().as_str(), root_id);
    assert!(io.get_socket(&custom_id).is_none(), "io.get_socket looks in / only");
    let custom = io.of("/custom").unwrap();
    assert_eq!(custom.get_socket(&custom_id).unwrap().ns(), "/custom");
    assert_eq!(custom.get_socket(socket.id()), None, "a Sid works too");
    assert!(io.get_socket("no such id").is_none());

    socket.emit("found", Payload::new()).unwrap();
    client.expect(r#"42["found"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_ns_disconnects_its_sockets_and_later_connects_find_no_namespace() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _root = echo_ns(&io, "/");
    let (mut sockets, mut reasons) = watched_ns(&io, "/beta");
    let mut client = server.open().await;
    client.join("/", None).await;
    client.join("/beta", None).await;
    next(&mut sockets).await;

    assert!(io.delete_ns("beta"), "the path without its slash");
    client.expect("41/beta,").await;
    assert_eq!(next(&mut reasons).await, DisconnectReason::ServerNamespaceDisconnect);
    assert!(io.of("/beta").is_none());
    assert!(!io.namespaces().contains(&"/beta".to_owned()));
    assert!(!io.delete_ns("/beta"), "gone already");

    client.send("40/beta,").await;
    let refusal = client.recv_text().await;
    let json = refusal.strip_prefix("44/beta,").expect("a CONNECT_ERROR");
    let data: Value = serde_json::from_str(json).unwrap();
    assert_eq!(data["message"], "Invalid namespace");
    // The connection and its other namespaces carry on.
    client.assert_echo("still on /").await;
}

/// Volatile emits to a socket are not kept for a returning client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_recovery_a_volatile_emit_to_a_socket_is_not_kept() {
    let builder = Ferrio::builder().connection_state_recovery(Duration::from_secs(10));
    let (server, io) = serve(builder).await;
    let mut sockets = echo_ns(&io, "/");
    let mut client = server.open().await;
    client.send("40").await;
    assert!(client.recv_text().await.contains(r#""pid":"#), "the CONNECT reply with a pid");
    let socket: Socket = next(&mut sockets).await;
    socket.volatile().emit("v", &1).unwrap();
    client.expect(r#"42["v",1]"#).await;
    socket.emit("kept", &2).unwrap();
    let kept = client.recv_text().await;
    assert!(kept.starts_with(r#"42["kept",2,""#), "a kept event carries its offset: {kept}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_are_listed_per_namespace() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move {
        socket.join(["a", "b"]);
        socket.emit("joined", Payload::new()).unwrap();
    });
    io.ns("/other", |socket: Socket| async move {
        socket.join("c");
        socket.emit("joined", Payload::new()).unwrap();
    });
    let mut client = server.open().await;
    client.join("/", None).await;
    client.expect(r#"42["joined"]"#).await;
    client.join("/other", None).await;
    client.expect(r#"42/other,["joined"]"#).await;
    let mut rooms: Vec<String> = io.rooms().iter().map(|r| r.to_string()).collect();
    rooms.sort();
    assert_eq!(rooms, ["a", "b"]);
    let other: Vec<String> =
        io.of("/other").unwrap().rooms().iter().map(|r| r.to_string()).collect();
    assert_eq!(other, ["c"]);
}
