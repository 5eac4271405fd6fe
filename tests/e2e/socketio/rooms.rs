//! Rooms and disconnection: join/leave/rooms, operators that move or disconnect sockets, and
//! the bookkeeping after a socket leaves (rooms emptied, `io.sockets()` updated, the
//! disconnect handler told why).

use ferrio::{DisconnectReason, Ferrio, Io, Payload, Socket};
use tokio::sync::mpsc::UnboundedReceiver;

use super::{add_echo, channel, ids, next, serve, Client};

/// The socket's named rooms, sorted (without a room named after its own id, which Socket.IO
/// adds to every socket).
fn sorted_rooms(socket: &Socket) -> Vec<String> {
    let mut rooms: Vec<String> = socket
        .rooms()
        .iter()
        .map(|r| r.to_string())
        .filter(|r| r != socket.id().as_str())
        .collect();
    rooms.sort();
    rooms
}

/// Registers `path` with an echo handler; each socket is handed to the test, and each
/// disconnect is reported as `(socket id, reason)`.
fn tracked_ns(
    io: &Io,
    path: &str,
) -> (UnboundedReceiver<Socket>, UnboundedReceiver<(String, DisconnectReason)>) {
    let (sockets_tx, sockets_rx) = channel();
    let (gone_tx, gone_rx) = channel();
    io.ns(path, move |socket: Socket| {
        let sockets_tx = sockets_tx.clone();
        let gone_tx = gone_tx.clone();
        async move {
            add_echo(&socket);
            socket.on("bye", |socket: Socket| async move { socket.disconnect() });
            socket.on_disconnect(move |socket: Socket, reason: DisconnectReason| {
                let gone_tx = gone_tx.clone();
                async move {
                    assert!(!socket.connected(), "disconnected when the handler runs");
                    let _ = gone_tx.send((socket.id().as_str().to_owned(), reason));
                }
            });
            let _ = sockets_tx.send(socket);
        }
    });
    (sockets_rx, gone_rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_leave_and_rooms() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut sockets, _gone) = tracked_ns(&io, "/");
    let (_a, _) = server.connect().await;
    let (_b, _) = server.connect().await;
    let a = next(&mut sockets).await;
    let b = next(&mut sockets).await;

    assert!(sorted_rooms(&a).is_empty(), "a new socket is in no named room: {:?}", a.rooms());
    a.join("one");
    a.join(["two", "three"]);
    a.join(vec!["three".to_owned()]);
    assert_eq!(sorted_rooms(&a), ["one", "three", "two"]);
    b.join("two".to_owned());
    assert_eq!(ids(&io.to("two").sockets()), ids(&[a.clone(), b.clone()]));
    assert_eq!(ids(&io.to("one").sockets()), ids(std::slice::from_ref(&a)));
    assert_eq!(ids(&io.to("two").except("one").sockets()), ids(std::slice::from_ref(&b)));
    assert!(io.to("nobody").sockets().is_empty());

    a.leave("two");
    assert_eq!(sorted_rooms(&a), ["one", "three"]);
    assert_eq!(ids(&io.to("two").sockets()), ids(std::slice::from_ref(&b)));
    a.leave("not-a-member");
    a.leave_all();
    assert!(sorted_rooms(&a).is_empty());
    assert!(io.to(["one", "three"]).sockets().is_empty());
    assert_eq!(ids(&io.sockets()), ids(&[a, b]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_join_and_leave() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut sockets, _gone) = tracked_ns(&io, "/");
    let mut clients = Vec::new();
    let mut all = Vec::new();
    for _ in 0..3 {
        clients.push(server.connect().await);
        all.push(next(&mut sockets).await);
    }
    all[0].join("a");
    all[1].join("a");
    io.to("a").sockets()[0].join("seen");
    let root = io.of("/").unwrap();

    root.operators().to("a").join("b");
    assert_eq!(ids(&io.to("b").sockets()), ids(&all[..2]));
    root.operators().join("everyone");
    assert_eq!(ids(&io.to("everyone").sockets()), ids(&all));
    root.operators().except("a").leave("everyone");
    assert_eq!(ids(&io.to("everyone").sockets()), ids(&all[..2]));
    io.to("b").except("seen").sockets().iter().for_each(|s| s.join("c"));
    assert_eq!(io.to("c").sockets().len(), 1);
    root.operators().to("b").leave(["a", "b"]);
    assert!(io.to(["a", "b"]).sockets().is_empty());
    assert_eq!(sorted_rooms(&all[2]), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_websocket_leaves_every_room() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut sockets, mut gone) = tracked_ns(&io, "/");
    let (client, sid) = server.connect().await;
    let (mut stays, stays_sid) = server.connect().await;
    let socket = next(&mut sockets).await;
    let other = next(&mut sockets).await;
    socket.join(["x", "y"]);
    other.join("x");

    client.close().await;
    assert_eq!(next(&mut gone).await, (sid, DisconnectReason::TransportClose));
    assert!(!socket.connected());
    assert!(socket.rooms().is_empty(), "rooms after disconnect: {:?}", socket.rooms());
    assert!(io.to("y").sockets().is_empty());
    assert_eq!(ids(&io.to("x").sockets()), vec![stays_sid.clone()]);
    assert_eq!(ids(&io.sockets()), vec![stays_sid]);
    assert!(io.of("/").unwrap().get_socket(socket.id()).is_none());

    // A stale handle can no longer put the socket back into a room.
    socket.join("late");
    assert!(io.to("late").sockets().is_empty());
    assert!(socket.rooms().is_empty());
    stays.assert_echo("unaffected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_tcp_connection_is_a_transport_close() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut sockets, mut gone) = tracked_ns(&io, "/");
    let (client, sid) = server.connect().await;
    next(&mut sockets).await.join("r");
    drop(client);
    assert_eq!(next(&mut gone).await, (sid, DisconnectReason::TransportClose));
    assert!(io.sockets().is_empty());
    assert!(io.to("r").sockets().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_namespace_disconnect_leaves_rooms_but_keeps_the_session() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut sockets, mut gone) = tracked_ns(&io, "/");
    let (mut client, sid) = server.connect().await;
    let socket = next(&mut sockets).await;
    socket.join("r");

    client.send("41").await;
    assert_eq!(next(&mut gone).await, (sid.clone(), DisconnectReason::ClientNamespaceDisconnect));
    assert!(!socket.connected());
    assert!(socket.rooms().is_empty());
    assert!(io.to("r").sockets().is_empty());
    assert!(io.sockets().is_empty());

    // Events for the namespace left are ignored; joining again gives a new socket.
    let new_sid = client.join("/", None).await;
    assert_ne!(new_sid, sid);
    let again = next(&mut sockets).await;
    assert_eq!(again.id().as_str(), new_sid);
    assert!(sorted_rooms(&again).is_empty(), "a new socket does not inherit rooms");
    client.assert_echo("rejoined").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_disconnect_sends_41_and_keeps_the_session() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut sockets, mut gone) = tracked_ns(&io, "/");
    let (mut client, sid) = server.connect().await;
    let socket = next(&mut sockets).await;
    socket.join("r");

    socket.disconnect();
    client.expect("41").await;
    assert_eq!(next(&mut gone).await, (sid.clone(), DisconnectReason::ServerNamespaceDisconnect));
    assert!(socket.rooms().is_empty());
    assert!(io.sockets().is_empty());
    // A second call does nothing.
    socket.disconnect();

    // Also from an event handler of the socket itself.
    let sid = client.join("/", None).await;
    next(&mut sockets).await;
    client.send(r#"42["bye"]"#).await;
    client.expect("41").await;
    assert_eq!(next(&mut gone).await, (sid, DisconnectReason::ServerNamespaceDisconnect));
    client.join("/", None).await;
    client.assert_echo("session kept").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_disconnect_in_another_namespace_keeps_the_main_one() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut root, _root_gone) = tracked_ns(&io, "/");
    let (mut custom, mut custom_gone) = tracked_ns(&io, "/custom");
    let mut client = Client::open(server.addr).await;
    client.join("/", None).await;
    let custom_sid = client.join("/custom", None).await;
    next(&mut root).await;
    let socket = next(&mut custom).await;

    socket.disconnect();
    client.expect("41/custom,").await;
    assert_eq!(
        next(&mut custom_gone).await,
        (custom_sid, DisconnectReason::ServerNamespaceDisconnect)
    );
    client.assert_echo("root still here").await;
    // An event for the namespace it left is ignored.
    client.assert_echo("still fine").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_sockets_by_room_and_all() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut sockets, mut gone) = tracked_ns(&io, "/");
    let mut clients = Vec::new();
    for i in 0..3 {
        let (client, sid) = server.connect().await;
        let socket = next(&mut sockets).await;
        if i < 2 {
            socket.join("kick");
        }
        clients.push((client, sid));
    }
    io.to("kick").disconnect_sockets();
    let mut kicked = vec![next(&mut gone).await, next(&mut gone).await];
    kicked.sort_by(|x, y| x.0.cmp(&y.0));
    let mut expected: Vec<_> = clients[..2]
        .iter()
        .map(|(_, sid)| (sid.clone(), DisconnectReason::ServerNamespaceDisconnect))
        .collect();
    expected.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(kicked, expected);
    for (client, _) in &mut clients[..2] {
        client.expect("41").await;
    }
    assert!(io.to("kick").sockets().is_empty());
    assert_eq!(ids(&io.sockets()), vec![clients[2].1.clone()]);
    clients[2].0.assert_echo("not kicked").await;

    io.disconnect_sockets();
    clients[2].0.expect("41").await;
    assert_eq!(next(&mut gone).await.1, DisconnectReason::ServerNamespaceDisconnect);
    assert!(io.sockets().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_connection_disconnects_every_namespace() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (_root, mut root_gone) = tracked_ns(&io, "/");
    let (_custom, mut custom_gone) = tracked_ns(&io, "/custom");
    let mut client = Client::open(server.addr).await;
    let root_sid = client.join("/", None).await;
    let custom_sid = client.join("/custom", None).await;
    client.close().await;
    assert_eq!(next(&mut root_gone).await, (root_sid, DisconnectReason::TransportClose));
    assert_eq!(next(&mut custom_gone).await, (custom_sid, DisconnectReason::TransportClose));
    assert!(io.sockets().is_empty());
    assert!(io.of("/custom").unwrap().sockets().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_engine_from_the_server_is_a_forced_close() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut sockets, mut gone) = tracked_ns(&io, "/");
    let (mut client, sid) = server.connect().await;
    let socket = next(&mut sockets).await;
    socket.join("r");
    socket.engine().close();
    assert_eq!(next(&mut gone).await, (sid, DisconnectReason::ForcedClose));
    client.expect_closed().await;
    assert!(io.to("r").sockets().is_empty());
}

/// Socket.IO puts every socket in a room named after its id, so `io.to(socket_id)` reaches
/// exactly that socket (private messages).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_socket_is_reachable_through_the_room_of_its_id() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut sockets, _gone) = tracked_ns(&io, "/");
    let (mut a, a_sid) = server.connect().await;
    let (mut b, _) = server.connect().await;
    next(&mut sockets).await;
    next(&mut sockets).await;
    io.to(a_sid.as_str()).emit("private", "for a").unwrap();
    io.emit("sentinel", Payload::new()).unwrap();
    a.expect(r#"42["private","for a"]"#).await;
    a.expect(r#"42["sentinel"]"#).await;
    b.expect(r#"42["sentinel"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_close_packet_is_a_transport_close() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (_sockets, mut gone) = tracked_ns(&io, "/");
    let (mut client, sid) = server.connect().await;
    client.send("1").await;
    assert_eq!(next(&mut gone).await, (sid, DisconnectReason::TransportClose));
    client.expect_closed().await;
    assert!(io.sockets().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_answering_pings_is_a_ping_timeout() {
    use std::time::Duration;

    let builder = Ferrio::builder()
        .ping_interval(Duration::from_millis(100))
        .ping_timeout(Duration::from_millis(100));
    let (server, io) = serve(builder).await;
    let (mut sockets, mut gone) = tracked_ns(&io, "/");
    // The client answers pings only while it reads: it stops reading after joining.
    let (_client, sid) = server.connect().await;
    next(&mut sockets).await.join("r");
    assert_eq!(next(&mut gone).await, (sid, DisconnectReason::PingTimeout));
    assert!(io.sockets().is_empty());
    assert!(io.to("r").sockets().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disconnect_handler_runs_once() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut sockets, mut gone) = tracked_ns(&io, "/");
    let (mut client, sid) = server.connect().await;
    let socket = next(&mut sockets).await;
    client.send("41").await;
    assert_eq!(next(&mut gone).await, (sid, DisconnectReason::ClientNamespaceDisconnect));
    socket.disconnect();
    client.send("41").await;
    client.close().await;
    // A fresh socket's disconnect proves the channel is drained in order: nothing else came.
    let (other, other_sid) = server.connect().await;
    next(&mut sockets).await;
    other.close().await;
    assert_eq!(next(&mut gone).await, (other_sid, DisconnectReason::TransportClose));
}
