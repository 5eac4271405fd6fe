//! Handlers as a Node or socketioxide user writes them: `on` adds a listener (the first ack
//! wins), `once`, `off`, removable `on_any`, per-event socket middleware that can refuse an
//! event, `on_disconnecting` while the socket is still in its rooms, disconnect handlers
//! with extractors, and up to sixteen handler arguments.

use std::time::Duration;

use ferrio::extract::{Ack, Data, Event, Extension, MaybeExtension, State, TryData};
use ferrio::{DisconnectReason, EventError, Ferrio, Payload, Socket, TransportKind};

use super::{channel, echo_ns, next, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_on_adds_a_listener_and_the_first_ack_sent_wins() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move {
        super::add_echo(&socket);
        socket.on("ev", |socket: Socket, ack: Ack| async move {
            socket.emit("which", "first").unwrap();
            ack.send("from the first").unwrap();
        });
        socket.on("ev", |socket: Socket, ack: Ack| async move {
            assert!(!ack.expected(), "the first listener answered already");
            socket.emit("which", "second").unwrap();
            ack.send("from the second").unwrap();
        });
    });
    let (mut client, _) = server.connect().await;
    client.send(r#"421["ev"]"#).await;
    client.expect(r#"42["which","first"]"#).await;
    client.expect(r#"431["from the first"]"#).await;
    client.expect(r#"42["which","second"]"#).await;
    // Nothing else: the second ack was not sent.
    client.assert_echo("after").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_runs_once_and_off_removes_every_listener_of_an_event() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;
    socket.once("hi", |socket: Socket| async move { socket.emit("hello", "once").unwrap() });
    socket.on("hi", |socket: Socket| async move { socket.emit("hello", "always").unwrap() });
    client.send(r#"42["hi"]"#).await;
    client.expect(r#"42["hello","once"]"#).await;
    client.expect(r#"42["hello","always"]"#).await;
    client.send(r#"42["hi"]"#).await;
    client.expect(r#"42["hello","always"]"#).await;

    assert!(socket.off("hi"));
    assert!(!socket.off("hi"), "nothing left to remove");
    client.send(r#"42["hi"]"#).await;
    client.assert_echo("nothing for hi").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_any_adds_listeners_that_off_any_removes() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;
    let (tx, mut seen) = channel::<String>();
    for tag in ["a", "b"] {
        let tx = tx.clone();
        socket.on_any(move |Event(name): Event| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(format!("{tag}:{name}"));
            }
        });
    }
    client.send(r#"42["x"]"#).await;
    assert_eq!(next(&mut seen).await, "a:x");
    assert_eq!(next(&mut seen).await, "b:x");
    assert!(socket.off_any());
    client.send(r#"42["y"]"#).await;
    client.assert_echo("after off_any").await;
    assert!(seen.try_recv().is_err(), "no any-listener ran after off_any");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_middleware_refuses_events_with_an_error_the_client_receives() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (tx, mut ran) = channel::<String>();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            super::add_echo(&socket);
            let order = tx.clone();
            socket.use_middleware(move |Event(name): Event| {
                let order = order.clone();
                async move {
                    let _ = order.send(format!("mw1:{name}"));
                    if name.starts_with("admin:") {
                        return Err(EventError::new("forbidden").with_data(serde_json::json!(name)));
                    }
                    Ok(())
                }
            });
            // A second middleware, which awaits, reading the arguments.
            socket.use_middleware(|TryData(n): TryData<u32>| async move {
                tokio::task::yield_now().await;
                match n {
                    Ok(n) if n > 10 => Err("too big"),
                    _ => Ok(()),
                }
            });
            socket.on("admin:reset", |socket: Socket| async move {
                socket.emit("reset", "should not happen").unwrap()
            });
            socket.on("count", move |Data(n): Data<u32>, ack: Ack| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(format!("count:{n}"));
                    ack.send(&n).unwrap();
                }
            });
        }
    });
    let (mut client, _) = server.connect().await;
    client.send(r#"421["admin:reset"]"#).await;
    client.expect(r#"431[{"message":"forbidden","data":"admin:reset"}]"#).await;
    assert_eq!(next(&mut ran).await, "mw1:admin:reset");

    client.send(r#"422["count",3]"#).await;
    client.expect(r#"432[3]"#).await;
    assert_eq!(next(&mut ran).await, "mw1:count");
    assert_eq!(next(&mut ran).await, "count:3");

    client.send(r#"423["count",30]"#).await;
    client.expect(r#"433[{"message":"too big"}]"#).await;
    assert_eq!(next(&mut ran).await, "mw1:count");

    // Without an ack, a refused event is dropped silently; the connection carries on.
    client.send(r#"42["admin:reset"]"#).await;
    assert_eq!(next(&mut ran).await, "mw1:admin:reset");
    client.send(r#"42["echo","still here"]"#).await;
    client.expect(r#"42["echo","still here"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnecting_runs_while_the_socket_is_still_in_its_rooms() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (tx, mut rooms_at_disconnect) = channel::<usize>();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            super::add_echo(&socket);
            socket.join("lobby");
            socket.on_disconnecting(|socket: Socket, reason: DisconnectReason| async move {
                assert!(!socket.connected());
                for room in socket.rooms() {
                    if &*room != socket.id().as_str() {
                        let _ = socket.to(room.clone()).emit("left", &(&*room, reason.as_str()));
                    }
                }
            });
            socket.on_disconnect(move |socket: Socket| {
                let tx = tx.clone();
                async move {
                    // After: the rooms are gone.
                    let _ = tx.send(socket.rooms().len());
                }
            });
        }
    });
    let (leaver, _) = server.connect().await;
    let (mut stayer, _) = server.connect().await;
    leaver.close().await;
    stayer.expect(r#"42["left","lobby","transport close"]"#).await;
    assert_eq!(next(&mut rooms_at_disconnect).await, 0);
}

#[derive(Clone)]
struct Counter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

#[derive(Clone, Debug, PartialEq)]
struct Username(String);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_handlers_take_extractors_and_all_of_them_run() {
    let counter = Counter(Default::default());
    let (server, io) = serve(Ferrio::builder().with_state(counter.clone())).await;
    let (tx, mut seen) = channel::<String>();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            socket.insert_extension(Username("ada".into()));
            let first = tx.clone();
            socket.on_disconnect(
                move |reason: DisconnectReason,
                      Extension(user): Extension<Username>,
                      State(counter): State<Counter>| {
                    let tx = first.clone();
                    async move {
                        counter.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let _ = tx.send(format!("first {} {reason}", user.0));
                    }
                },
            );
            socket.on_disconnect(
                move |MaybeExtension(missing): MaybeExtension<u8>, transport: TransportKind| {
                    let tx = tx.clone();
                    async move {
                        let _ = tx.send(format!("second {missing:?} {transport}"));
                    }
                },
            );
            // An extractor that fails skips its handler only.
            socket.on_disconnect(|_: Extension<u8>| async { panic!("no u8 extension") });
        }
    });
    let (client, _) = server.connect().await;
    client.close().await;
    assert_eq!(next(&mut seen).await, "first ada transport close");
    assert_eq!(next(&mut seen).await, "second None websocket");
    assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[derive(Clone)]
struct S1;
#[derive(Clone)]
struct S2;

/// Sixteen arguments, the most a handler takes (eight before).
#[allow(clippy::too_many_arguments)]
async fn sixteen(
    socket: Socket,
    Event(name): Event,
    Data(n): Data<u32>,
    _: TryData<u32>,
    ack: Ack,
    State(_): State<S1>,
    State(_): State<S2>,
    _: MaybeExtension<u8>,
    _: MaybeExtension<u16>,
    _: MaybeExtension<u32>,
    _: MaybeExtension<u64>,
    _: TransportKind,
    _: Socket,
    _: Socket,
    _: Socket,
    _: Socket,
) {
    let _ = socket.emit("sixteen", &(name, n));
    let _ = ack.send(Payload::new());
}

#[allow(clippy::too_many_arguments)]
async fn sixteen_on_connect(
    socket: Socket,
    _: Socket,
    _: TryData<serde_json::Value>,
    State(_): State<S1>,
    State(_): State<S2>,
    _: MaybeExtension<u8>,
    _: MaybeExtension<u16>,
    _: MaybeExtension<u32>,
    _: MaybeExtension<u64>,
    _: TransportKind,
    _: Socket,
    _: Socket,
    _: Socket,
    _: Socket,
    _: Socket,
    _: Socket,
) {
    socket.on("n", sixteen);
    socket.on_disconnect(sixteen_on_disconnect);
}

#[allow(clippy::too_many_arguments)]
async fn sixteen_on_disconnect(
    _: Socket,
    _: DisconnectReason,
    State(_): State<S1>,
    State(_): State<S2>,
    _: MaybeExtension<u8>,
    _: MaybeExtension<u16>,
    _: MaybeExtension<u32>,
    _: MaybeExtension<u64>,
    _: TransportKind,
    _: Socket,
    _: Socket,
    _: Socket,
    _: Socket,
    _: Socket,
    _: Socket,
    _: Socket,
) {
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_take_up_to_sixteen_extractors() {
    let (server, io) = serve(Ferrio::builder().with_state(S1).with_state(S2)).await;
    io.ns("/", sixteen_on_connect);
    let (mut client, _) = server.connect().await;
    client.send(r#"421["n",16]"#).await;
    client.expect(r#"42["sixteen","n",16]"#).await;
    client.expect(r#"431[]"#).await;
    tokio::time::timeout(Duration::from_secs(5), client.close()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_fallback_answers_the_events_without_a_listener_of_their_own() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move {
        socket.on("known", |ack: Ack| async move { ack.send("known").unwrap() });
        socket.on_fallback(|Event(name): Event, ack: Ack| async move {
            ack.send(&format!("no listener for {name}")).unwrap();
        });
    });
    let (mut client, _) = server.connect().await;
    client.send(r#"421["known"]"#).await;
    client.expect(r#"431["known"]"#).await;
    client.send(r#"422["unknown",1]"#).await;
    client.expect(r#"432["no listener for unknown"]"#).await;
}
