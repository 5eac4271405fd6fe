//! Connect and event handlers: the CONNECT reply, auth and handshake data, emits from the
//! server, events without handler, and ordering.

use std::time::Duration;

use ferrio::extract::Event;
use ferrio::{Ferrio, Payload, Socket};
use serde_json::json;

use super::{channel, echo_ns, next, serve, Client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_reply_carries_a_socket_id_distinct_from_the_engine_sid() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let mut client = server.open().await;
    client.send("40").await;
    let reply = client.recv_text().await;
    let sid = reply
        .strip_prefix(r#"40{"sid":""#)
        .and_then(|rest| rest.strip_suffix(r#""}"#))
        .unwrap_or_else(|| panic!("expected 40{{\"sid\":\"…\"}}, got {reply:?}"));
    assert_eq!(sid.len(), 22, "socket id {sid:?}");
    assert!(sid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{sid:?}");
    assert_ne!(sid, client.engine_sid, "the socket id must differ from the Engine.IO sid");

    let socket = next(&mut sockets).await;
    assert_eq!(socket.id().as_str(), sid);
    assert_eq!(socket.ns(), "/");
    assert!(socket.connected());
    assert_eq!(socket.engine().id().as_str(), client.engine_sid);
    assert_eq!(super::ids(&io.sockets()), vec![sid.to_owned()]);
    client.assert_echo("still there").await;

    // A second client gets another socket id.
    let (_other, other_sid) = server.connect().await;
    assert_ne!(other_sid, sid);
    assert_eq!(io.sockets().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_payload_reaches_socket_auth() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut root = echo_ns(&io, "/");
    let mut custom = echo_ns(&io, "/custom");

    let mut client = server.open().await;
    client.join("/", Some(r#"{"token":"abc","n":1}"#)).await;
    assert_eq!(next(&mut root).await.auth(), &json!({"token": "abc", "n": 1}));
    client.join("/custom", Some(r#"{"token":"other"}"#)).await;
    assert_eq!(next(&mut custom).await.auth(), &json!({"token": "other"}));

    // No auth payload: `{}`.
    let (_plain, _) = server.connect().await;
    assert_eq!(next(&mut root).await.auth(), &json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_query_and_headers_are_visible_to_the_connect_handler() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move {
        let handshake = socket.handshake();
        let token = handshake.query_param("token");
        let header = handshake.headers.get("x-custom").and_then(|v| v.to_str().ok());
        let transport = socket.transport().as_str();
        let payload = Payload::new().arg(&token).unwrap().arg(&header).unwrap().arg(&transport);
        socket.emit("handshake", payload.unwrap()).unwrap();
    });
    let mut client = Client::open_with(server.addr, "&token=a%20b", &[("x-custom", "yes")]).await;
    client.join("/", None).await;
    client.expect(r#"42["handshake","a b","yes","websocket"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_handler_emits_arrive_after_the_connect_reply() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move {
        socket.emit("welcome", "hello").unwrap();
        socket.emit("count", &3).unwrap();
    });
    let mut client = server.open().await;
    client.join("/", None).await;
    client.expect(r#"42["welcome","hello"]"#).await;
    client.expect(r#"42["count",3]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_emit_from_anywhere_and_with_several_arguments() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;

    socket.emit("news", &json!({"a": 1})).unwrap();
    client.expect(r#"42["news",{"a":1}]"#).await;

    let payload = Payload::new()
        .arg(&"a")
        .unwrap()
        .arg(&1)
        .unwrap()
        .arg(&json!({"k": true}))
        .unwrap()
        .arg(&json!(null))
        .unwrap();
    socket.emit("multi", payload).unwrap();
    client.expect(r#"42["multi","a",1,{"k":true},null]"#).await;

    // No argument at all.
    socket.emit("bare", Payload::new()).unwrap();
    client.expect(r#"42["bare"]"#).await;

    // Strings are escaped as JSON.
    socket.emit("text", "quote \" and \u{e9}").unwrap();
    client.expect("42[\"text\",\"quote \\\" and \u{e9}\"]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_without_handler_is_ignored() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    client.send(r#"42["nobody-listens",1,2]"#).await;
    client.send(r#"421["nobody-listens-with-ack"]"#).await;
    // The next message is the echo: the unknown events produced nothing and broke nothing.
    client.assert_echo("after").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_on_adds_a_listener_and_numeric_event_names_match() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move {
        socket.on("ev", |socket: Socket| async move { socket.emit("which", "first").unwrap() });
        socket.on("ev", |socket: Socket| async move { socket.emit("which", "second").unwrap() });
        socket.on("7", |socket: Socket, Payload { args, .. }: Payload| async move {
            socket.emit("seven", &args).unwrap();
        });
    });
    let (mut client, _) = server.connect().await;
    client.send(r#"42["ev"]"#).await;
    client.expect(r#"42["which","first"]"#).await;
    client.expect(r#"42["which","second"]"#).await;
    client.send(r#"42[7,"x"]"#).await;
    client.expect(r#"42["seven",["x"]]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_awaits_still_answers() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move {
        socket.on("slow", |socket: Socket| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            socket.emit("slow-done", &true).unwrap();
        });
    });
    let (mut client, _) = server.connect().await;
    client.send(r#"42["slow"]"#).await;
    client.expect(r#"42["slow-done",true]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_can_be_registered_late_from_test_code() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;
    let (tx, mut rx) = channel();
    socket.on("late", move |Payload { args, .. }: Payload| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(args);
        }
    });
    client.send(r#"42["late","x",[1]]"#).await;
    assert_eq!(next(&mut rx).await, vec![json!("x"), json!([1])]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_echoes_come_back_in_order() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    for i in 0..1000 {
        client.send(&format!(r#"42["echo",{i}]"#)).await;
    }
    for i in 0..1000 {
        client.expect(&format!(r#"42["echo",{i}]"#)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unserializable_data_is_a_typed_error_and_sends_nothing() {
    use std::collections::HashMap;

    use ferrio::{AckError, BroadcastError, SendError};

    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;
    // JSON object keys must be strings: a map keyed by tuples does not serialize.
    let bad: HashMap<(u8, u8), u8> = HashMap::from([((1, 2), 3)]);

    assert!(matches!(socket.emit("x", &bad), Err(SendError::Serialize(_))));
    assert!(matches!(io.emit("x", &bad), Err(BroadcastError::Serialize(_))));
    assert!(matches!(io.to("r").emit("x", &bad), Err(BroadcastError::Serialize(_))));
    assert!(matches!(
        io.emit_with_ack::<serde_json::Value>("x", &bad),
        Err(BroadcastError::Serialize(_))
    ));
    let ack = socket.emit_with_ack::<serde_json::Value>("x", &bad).await;
    assert!(matches!(ack, Err(AckError::Send(SendError::Serialize(_)))), "{ack:?}");
    assert!(Payload::new().arg(&bad).is_err());
    // Nothing reached the client.
    client.assert_echo("nothing sent").await;
}

/// A handler that panics is a bug of the application, but it must not leave the server
/// inconsistent: either the panic stays inside the handler (the connection keeps working),
/// or the connection is closed *and* its socket is disconnected at once (on_disconnect runs,
/// `io.sockets()` no longer lists it), not a ping timeout later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_leaves_no_ghost_socket() {
    use ferrio::DisconnectReason;

    use super::client::Msg;

    let (server, io) = serve(Ferrio::builder()).await;
    let (tx, mut gone) = channel();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            super::add_echo(&socket);
            socket.on("boom", |_: Socket| async move { panic!("a bug in an event handler") });
            socket.on_disconnect(move |socket: Socket, reason: DisconnectReason| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send((socket.id().as_str().to_owned(), reason));
                }
            });
        }
    });
    let (mut victim, victim_sid) = server.connect().await;
    let (mut bystander, _) = server.connect().await;
    victim.send(r#"42["boom"]"#).await;
    victim.send(r#"42["echo","after the panic"]"#).await;
    match victim.recv().await {
        Msg::Text(text) => assert_eq!(text, r#"42["echo","after the panic"]"#),
        Msg::Closed => {
            let (sid, reason) = next(&mut gone).await;
            assert_eq!(sid, victim_sid);
            eprintln!("the panicking client was disconnected with reason {reason:?}");
            assert!(
                !io.sockets().iter().any(|s| s.id().as_str() == victim_sid),
                "the closed connection's socket is still listed"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    bystander.assert_echo("unaffected").await;
}

/// `on_any` sees every event, with its name, before the event's own listeners. As in
/// Socket.IO it gets the event's acknowledgement too, and runs first: the first
/// acknowledgement sent answers the client, later ones do nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_any_sees_every_event_first_and_its_ack_is_sent_first() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (seen_tx, mut seen) = channel();
    io.ns("/", move |socket: Socket| {
        let seen_tx = seen_tx.clone();
        async move {
            let any_tx = seen_tx.clone();
            socket.on_any(
                move |Event(name): Event, payload: Payload, ack: ferrio::extract::Ack| {
                    let any_tx = any_tx.clone();
                    async move {
                        let _ = any_tx.send(format!("any {name} {:?}", payload.args));
                        let _ = ack.send(&format!("any acked {name}"));
                    }
                },
            );
            socket.on(
                "echo",
                move |socket: Socket, payload: Payload, ack: ferrio::extract::Ack| {
                    let seen_tx = seen_tx.clone();
                    async move {
                        let _ = seen_tx.send(format!("echo {:?}", payload.args));
                        let _ = ack.send("echo acked");
                        let _ = socket.emit("echo", payload);
                    }
                },
            );
        }
    });
    let (mut client, _) = server.connect().await;
    client.send(r#"421["echo","x"]"#).await;
    assert_eq!(next(&mut seen).await, r#"any echo [String("x")]"#);
    assert_eq!(next(&mut seen).await, r#"echo [String("x")]"#);
    client.expect(r#"431["any acked echo"]"#).await;
    client.expect(r#"42["echo","x"]"#).await;
    client.send(r#"422["other",1,{"a":2}]"#).await;
    assert_eq!(next(&mut seen).await, r#"any other [Number(1), Object {"a": Number(2)}]"#);
    client.expect(r#"432["any acked other"]"#).await;
}

/// Handlers often capture their socket; the socket drops every handler when it disconnects,
/// the `on_any` one too, or the two would keep each other alive for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_any_handler_is_dropped_on_disconnect() {
    /// Reports its own drop: the handler that owns it was released.
    struct DropSignal(tokio::sync::mpsc::UnboundedSender<()>);
    impl Drop for DropSignal {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }

    let (server, io) = serve(Ferrio::builder()).await;
    let (dropped_tx, mut dropped) = channel();
    io.ns("/", move |socket: Socket| {
        let signal = DropSignal(dropped_tx.clone());
        async move {
            let captured = socket.clone();
            socket.on_any(move |Event(name): Event| {
                let _ = (&signal, captured.id(), name);
                async {}
            });
        }
    });
    let (client, _) = server.connect().await;
    client.close().await;
    next(&mut dropped).await;
}
