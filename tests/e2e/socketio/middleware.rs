//! Connect middleware: refusals as CONNECT_ERROR (the connection stays open), acceptance,
//! async middleware, order, extractor failures.

use std::time::Duration;

use ferrio::extract::{Data, Extension, State};
use ferrio::{ConnectError, Ferrio, Io, Socket};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedReceiver;

use super::{add_echo, channel, echo_ns, next, serve, Client};

/// Lets only `{"token":"secret"}` in.
async fn admin_auth(Data(auth): Data<Value>) -> Result<(), ConnectError> {
    if auth == json!({"token": "secret"}) {
        Ok(())
    } else {
        Err(ConnectError::new("unauthorized").with_data(json!({"code": "E_UNAUTHORIZED"})))
    }
}

/// `/` with echo, and `/admin` guarded by [`admin_auth`]; returns the `/admin` sockets.
fn admin(io: &Io) -> UnboundedReceiver<Socket> {
    let _ = echo_ns(io, "/");
    let sockets = echo_ns(io, "/admin");
    io.of("/admin").unwrap().middleware(admin_auth);
    sockets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusal_is_a_connect_error_with_message_and_data() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut admins = admin(&io);
    let mut client = server.open().await;
    client.send(r#"40/admin,{"token":"wrong"}"#).await;
    client.expect(r#"44/admin,{"message":"unauthorized","data":{"code":"E_UNAUTHORIZED"}}"#).await;
    client.send("40/admin,").await;
    client.expect(r#"44/admin,{"message":"unauthorized","data":{"code":"E_UNAUTHORIZED"}}"#).await;
    assert!(io.of("/admin").unwrap().sockets().is_empty());

    // The connection stays open: `/` works, and a good token gets in.
    client.join("/", None).await;
    client.assert_echo("open").await;
    let sid = client.join("/admin", Some(r#"{"token":"secret"}"#)).await;
    assert_eq!(next(&mut admins).await.id().as_str(), sid);
    client.send(r#"42/admin,["echo","in"]"#).await;
    client.expect(r#"42/admin,["echo","in"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_socket_never_reaches_the_connect_handler() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut admins = admin(&io);
    let mut refused = server.open().await;
    refused.send(r#"40/admin,{"token":"wrong"}"#).await;
    refused.recv_text().await;
    let mut accepted = server.open().await;
    let sid = accepted.join("/admin", Some(r#"{"token":"secret"}"#)).await;
    // The first (and only) socket the connect handler saw is the accepted one.
    assert_eq!(next(&mut admins).await.id().as_str(), sid);
    assert_eq!(io.of("/admin").unwrap().sockets().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusal_with_a_plain_message() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |_: Socket| async {}).middleware(|| async { Err::<(), _>("go away") });
    let mut client = server.open().await;
    client.send("40").await;
    client.expect(r#"44{"message":"go away"}"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_middleware_that_awaits_then_accepts() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    io.of("/").unwrap().middleware(|socket: Socket| async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        socket.insert_extension(42u32);
        Ok::<(), ConnectError>(())
    });
    let (mut client, sid) = server.connect().await;
    let socket = next(&mut sockets).await;
    assert_eq!(socket.id().as_str(), sid);
    assert_eq!(socket.extension::<u32>(), Some(42));
    client.assert_echo("after async middleware").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_middleware_that_awaits_then_refuses() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _sockets = echo_ns(&io, "/");
    io.of("/").unwrap().middleware(|| async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        Err::<(), _>(ConnectError::new("later").with_data(json!([1, "two"])))
    });
    let mut client = server.open().await;
    client.send("40").await;
    client.expect(r#"44{"message":"later","data":[1,"two"]}"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn middlewares_run_in_order_and_stop_at_the_first_refusal() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (tx, mut calls) = channel();
    let _sockets = echo_ns(&io, "/");
    let root = io.of("/").unwrap();
    for (name, refuse) in [("first", false), ("second", true), ("third", false)] {
        let tx = tx.clone();
        root.middleware(move || {
            let tx = tx.clone();
            async move {
                let _ = tx.send(name);
                if refuse {
                    Err(ConnectError::new(name))
                } else {
                    Ok(())
                }
            }
        });
    }
    drop(tx);
    let mut client = server.open().await;
    client.send("40").await;
    client.expect(r#"44{"message":"second"}"#).await;
    assert_eq!(next(&mut calls).await, "first");
    assert_eq!(next(&mut calls).await, "second");
    // `third` never ran (it would have run before the refusal was sent).
    assert!(calls.try_recv().is_err(), "the third middleware ran");
    client.send("40").await;
    client.expect(r#"44{"message":"second"}"#).await;
    assert_eq!(next(&mut calls).await, "first");
    assert_eq!(next(&mut calls).await, "second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_middleware_whose_extractor_fails_refuses() {
    #[derive(Debug, Deserialize)]
    struct Creds {
        #[allow(dead_code)]
        user: String,
    }
    let (server, io) = serve(Ferrio::builder()).await;
    let _sockets = echo_ns(&io, "/");
    io.of("/").unwrap().middleware(|Data(_): Data<Creds>| async { Ok::<(), ConnectError>(()) });
    let mut client = server.open().await;
    client.send(r#"40{"nope":true}"#).await;
    let reply = client.recv_text().await;
    let json = reply.strip_prefix("44").unwrap_or_else(|| panic!("CONNECT_ERROR, got {reply:?}"));
    let data: Value = serde_json::from_str(json).unwrap();
    assert!(data["message"].as_str().unwrap().contains("user"), "{reply:?}");
    client.join("/", Some(r#"{"user":"u"}"#)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn middleware_reads_state_and_handshake_and_hands_data_to_handlers() {
    #[derive(Debug, Clone)]
    struct Allowed(&'static str);
    #[derive(Debug, Clone)]
    struct Role(String);

    let (server, io) = serve(Ferrio::builder().with_state(Allowed("let-me-in"))).await;
    io.ns("/", |socket: Socket, Extension(role): Extension<Role>| async move {
        add_echo(&socket);
        socket.emit("role", &role.0).unwrap();
    })
    .middleware(|socket: Socket, State(allowed): State<Allowed>| async move {
        match socket.handshake().query_param("key") {
            Some(key) if key == allowed.0 => {
                socket.insert_extension(Role("admin".into()));
                Ok(())
            }
            _ => Err(ConnectError::new("bad key")),
        }
    });
    let mut ok = Client::open_with(server.addr, "&key=let-me-in", &[]).await;
    ok.join("/", None).await;
    ok.expect(r#"42["role","admin"]"#).await;
    let mut bad = Client::open_with(server.addr, "&key=nope", &[]).await;
    bad.send("40").await;
    bad.expect(r#"44{"message":"bad key"}"#).await;
}
