//! Broadcast operators: `io.emit`, `io.to(room)`, `except`, `socket.broadcast()`,
//! `socket.to(room)`, `io.of(nsp)`, `volatile()`.
//!
//! To show a client did *not* receive a broadcast, every test ends with a sentinel emitted to
//! every socket: a client that was skipped reads the sentinel first.

use ferrio::{Ferrio, Io, Payload, Socket};
use serde_json::json;

use super::transports::connect_and_stop_polling;
use super::{add_echo, echo_ns, next, serve, Client, Server};

/// `n` clients on `/` and their server-side sockets, in the same order.
async fn clients(server: &Server, io: &Io, n: usize) -> (Vec<Client>, Vec<Socket>) {
    let mut sockets_rx = echo_ns(io, "/");
    let mut clients = Vec::new();
    let mut sockets = Vec::new();
    for _ in 0..n {
        let (client, sid) = server.connect().await;
        let socket = next(&mut sockets_rx).await;
        assert_eq!(socket.id().as_str(), sid);
        clients.push(client);
        sockets.push(socket);
    }
    (clients, sockets)
}

/// Emits the sentinel to everyone on `/`, then checks which clients read `expected` before
/// it: those marked `true` must, the others must read the sentinel at once.
async fn check(io: &Io, clients: &mut [Client], expected: &str, reached: &[bool]) {
    io.emit("sentinel", Payload::new()).unwrap();
    for (i, client) in clients.iter_mut().enumerate() {
        if reached[i] {
            client.expect(expected).await;
        }
        client.expect(r#"42["sentinel"]"#).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn io_emit_reaches_every_socket_of_the_main_namespace_only() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut clients, _) = clients(&server, &io, 3).await;
    let _custom = echo_ns(&io, "/custom");
    let mut custom_only = server.open().await;
    custom_only.join("/custom", None).await;

    io.emit("hello", &json!({"to": "all"})).unwrap();
    check(&io, &mut clients, r#"42["hello",{"to":"all"}]"#, &[true, true, true]).await;
    // The `/custom` client got neither (io.emit is for `/`).
    custom_only.expect_silence(std::time::Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn io_to_room_and_except() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut clients, sockets) = clients(&server, &io, 4).await;
    // 0 in a; 1 in a and b; 2 in b; 3 in none.
    sockets[0].join("a");
    sockets[1].join(["a", "b"]);
    sockets[2].join("b");

    io.to("a").emit("m", &1).unwrap();
    check(&io, &mut clients, r#"42["m",1]"#, &[true, true, false, false]).await;

    io.to("a").except("b").emit("m", &2).unwrap();
    check(&io, &mut clients, r#"42["m",2]"#, &[true, false, false, false]).await;

    // Several rooms: the union, each socket once.
    io.to(["a", "b"]).emit("m", &3).unwrap();
    check(&io, &mut clients, r#"42["m",3]"#, &[true, true, true, false]).await;
    io.to("a").to("b").emit("m", &4).unwrap();
    check(&io, &mut clients, r#"42["m",4]"#, &[true, true, true, false]).await;
    io.to("a").within("b").emit("m", &5).unwrap();
    check(&io, &mut clients, r#"42["m",5]"#, &[true, true, true, false]).await;

    io.except("b").emit("m", &6).unwrap();
    check(&io, &mut clients, r#"42["m",6]"#, &[true, false, false, true]).await;

    io.except(vec!["a".to_owned(), "b".to_owned()]).emit("m", &7).unwrap();
    check(&io, &mut clients, r#"42["m",7]"#, &[false, false, false, true]).await;

    io.to("nobody-here").emit("m", &8).unwrap();
    check(&io, &mut clients, r#"42["m",8]"#, &[false, false, false, false]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_broadcast_reaches_all_but_the_sender() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut clients, sockets) = clients(&server, &io, 3).await;
    sockets[1].broadcast().emit("b", "from 1").unwrap();
    check(&io, &mut clients, r#"42["b","from 1"]"#, &[true, false, true]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_to_room_excludes_the_sender() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut clients, sockets) = clients(&server, &io, 4).await;
    for socket in &sockets[..3] {
        socket.join("r");
    }
    sockets[3].join("other");
    sockets[0].to("r").emit("r", "from 0").unwrap();
    check(&io, &mut clients, r#"42["r","from 0"]"#, &[false, true, true, false]).await;

    // socket.except(room): everyone but the sender and the room's members.
    sockets[3].except("r").emit("x", "from 3").unwrap();
    check(&io, &mut clients, r#"42["x","from 3"]"#, &[false, false, false, false]).await;
    sockets[1].except("other").emit("x", "from 1").unwrap();
    check(&io, &mut clients, r#"42["x","from 1"]"#, &[true, false, true, false]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_to_room_from_an_event_handler() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move {
        add_echo(&socket);
        socket.join("chat");
        socket.on("say", |socket: Socket, payload: Payload| async move {
            socket.to("chat").emit("said", payload).unwrap();
            socket.emit("sent", Payload::new()).unwrap();
        });
    });
    let (mut sender, _) = server.connect().await;
    let (mut other, _) = server.connect().await;
    sender.send(r#"42["say","hi",2]"#).await;
    // The sender's next message is its confirmation: it did not get its own broadcast.
    sender.expect(r#"42["sent"]"#).await;
    other.expect(r#"42["said","hi",2]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn io_of_a_namespace_emits_there_only() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _root = echo_ns(&io, "/");
    let _custom = echo_ns(&io, "/custom");
    let mut both = server.open().await;
    both.join("/", None).await;
    both.join("/custom", None).await;
    let (mut root_only, _) = server.connect().await;

    let custom = io.of("/custom").expect("the /custom namespace");
    assert_eq!(custom.path(), "/custom");
    custom.emit("c", &vec![1, 2]).unwrap();
    both.expect(r#"42/custom,["c",[1,2]]"#).await;
    io.of("custom").expect("the path without its slash").emit("c", &3).unwrap();
    both.expect(r#"42/custom,["c",3]"#).await;

    io.emit("sentinel", Payload::new()).unwrap();
    root_only.expect(r#"42["sentinel"]"#).await;
    both.expect(r#"42["sentinel"]"#).await;
    assert!(io.of("/never-registered").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volatile_emit_reaches_idle_sockets() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (mut clients, sockets) = clients(&server, &io, 2).await;
    sockets[0].join("v");
    io.volatile().emit("tick", &1).unwrap();
    check(&io, &mut clients, r#"42["tick",1]"#, &[true, true]).await;
    io.to("v").volatile().emit("tick", &2).unwrap();
    check(&io, &mut clients, r#"42["tick",2]"#, &[true, false]).await;
}

/// `volatile()` skips a socket whose queue is not empty: once the queue of a client that stops
/// reading is full (`queue_bounds`), plain emits fail with a partial broadcast error and
/// `SendError::QueueFull`, while volatile ones are silently dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volatile_emit_drops_for_a_slow_client_where_a_plain_emit_fails() {
    let (server, io) = serve(Ferrio::builder().queue_bounds(8, 1 << 20)).await;
    let mut sockets = echo_ns(&io, "/");
    connect_and_stop_polling(server.addr).await;
    let stalled = next(&mut sockets).await;
    // The CONNECT reply holds the first of the 8 slots.
    for i in 1..8 {
        io.emit("m", &i).unwrap_or_else(|err| panic!("emit #{i} into a queue with room: {err:?}"));
    }
    let err = io.emit("m", &8).expect_err("the ninth packet does not fit");
    assert!(matches!(err, ferrio::BroadcastError::Partial(ref v) if v.len() == 1), "{err:?}");
    let direct = stalled.emit("direct", &1);
    assert!(matches!(direct, Err(ferrio::SendError::QueueFull)), "{direct:?}");
    assert!(!stalled.engine().is_idle());
    io.volatile().emit("m", &9).expect("volatile emits never fail");
}

/// While another thread broadcasts without pause, each client that joins reads its CONNECT
/// reply before any broadcast: a socket is added to the adapter only after its reply is queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_broadcast_reaches_a_client_before_its_connect_reply() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _sockets = echo_ns(&io, "/");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let broadcaster = std::thread::spawn({
        let (io, stop) = (io.clone(), stop.clone());
        move || {
            let mut sent = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = io.emit("tick", &sent);
                sent += 1;
                std::thread::yield_now();
            }
            sent
        }
    });
    for _ in 0..50 {
        // `join` fails unless the first packet after the open is the CONNECT reply.
        let (client, _sid) = server.connect().await;
        drop(client);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = broadcaster.join().expect("broadcaster thread");
    assert!(sent > 0);
}
