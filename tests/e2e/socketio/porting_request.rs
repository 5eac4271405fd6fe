//! The HTTP request reaches the socket: what an axum/tower layer put in the handshake
//! request's extensions (`HttpExtension`, `MaybeHttpExtension`), the handshake's time, TLS
//! flag, URL and query; an async `allow_request`; and the `Io` handle as a handler extractor
//! and as axum state.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use axum::extract::{Request as AxumRequest, State as AxumState};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response as AxumResponse};
use ferrio::extract::{HttpExtension, MaybeHttpExtension};
use ferrio::{DisconnectReason, Ferrio, FerrioBuilder, Io, Socket};
use serde_json::json;

use super::{channel, next, Client, Server};
use crate::support::http::{send, Request};

/// Serves `app` on `127.0.0.1:0`.
async fn serve_app(app: axum::Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server::from_parts(addr, task)
}

/// Who an auth layer found the request to come from.
#[derive(Clone, Debug, PartialEq)]
struct User(String);

#[derive(Clone, Debug, PartialEq)]
struct NeverInserted;

/// An auth layer as applications write them: a header names the user (a real one would check
/// a cookie or a token), who is put in the request's extensions; no header, 401.
async fn auth(mut req: AxumRequest, next: Next) -> AxumResponse {
    let user = req.headers().get("x-user").and_then(|v| v.to_str().ok()).map(str::to_owned);
    match user {
        Some(name) => {
            req.extensions_mut().insert(User(name));
            next.run(req).await
        }
        None => http::StatusCode::UNAUTHORIZED.into_response(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_an_auth_layer_put_in_the_request_reaches_every_kind_of_handler() {
    let (layer, io) = Ferrio::builder().build_layer();
    let (tx, mut left) = channel::<String>();
    io.ns(
        "/",
        move |socket: Socket,
              HttpExtension(user): HttpExtension<User>,
              MaybeHttpExtension(never): MaybeHttpExtension<NeverInserted>| {
            let tx = tx.clone();
            async move {
                assert_eq!(never, None);
                socket.emit("hello", &user.0).unwrap();
                socket.on(
                    "whoami",
                    |socket: Socket, HttpExtension(user): HttpExtension<User>| async move {
                        socket.emit("you-are", &user.0).unwrap()
                    },
                );
                socket.on_disconnect(
                    move |HttpExtension(user): HttpExtension<User>, reason: DisconnectReason| {
                        let tx = tx.clone();
                        async move {
                            let _ = tx.send(format!("{} {reason}", user.0));
                        }
                    },
                );
            }
        },
    );
    let app = axum::Router::new().layer(layer).layer(axum::middleware::from_fn(auth));
    let server = serve_app(app).await;

    let mut client = Client::open_with(server.addr, "", &[("x-user", "ada")]).await;
    client.join("/", None).await;
    client.expect(r#"42["hello","ada"]"#).await;
    client.send(r#"42["whoami"]"#).await;
    client.expect(r#"42["you-are","ada"]"#).await;
    client.close().await;
    assert_eq!(next(&mut left).await, "ada transport close");

    // The same on a polling session: its first GET is the handshake request.
    let response =
        send(server.addr, &Request::new("GET", "/socket.io/?EIO=4&transport=polling")).await;
    assert_eq!(response.status, 401, "the auth layer turns away requests without a user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_tells_its_time_url_query_and_whether_it_came_over_tls() {
    let (server, io) = super::serve(Ferrio::builder()).await;
    let (tx, mut seen) = channel();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            let handshake = socket.handshake();
            let _ = tx.send((
                handshake.issued,
                handshake.secure,
                handshake.uri.to_string(),
                handshake.query(),
            ));
        }
    });
    let before = SystemTime::now();
    let mut client = Client::open_with(server.addr, "&token=a%20b&room=1", &[]).await;
    client.join("/", None).await;
    let (issued, secure, url, query) = next(&mut seen).await;
    assert!(issued >= before - Duration::from_secs(1) && issued <= SystemTime::now());
    assert!(!secure, "plain HTTP/1.1");
    assert_eq!(url, "/socket.io/?EIO=4&transport=websocket&token=a%20b&room=1");
    let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(pairs, [("EIO", "4"), ("transport", "websocket"), ("token", "a b"), ("room", "1")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_request_may_await_before_deciding() {
    let (checks, mut checked) = channel::<String>();
    let builder: FerrioBuilder = Ferrio::builder().allow_request(move |parts| {
        let token = parts.uri.query().unwrap_or_default().contains("token=good");
        let checks = checks.clone();
        async move {
            // A real hook would ask a session store; the test hands over to another task.
            let verdict = tokio::spawn(async move { token }).await.unwrap_or(false);
            let _ = checks.send(format!("checked {verdict}"));
            if verdict {
                Ok(())
            } else {
                Err("bad token".to_owned())
            }
        }
    });
    let (server, io) = super::serve(builder).await;
    super::echo_ns(&io, "/");

    let refused =
        send(server.addr, &Request::new("GET", "/socket.io/?EIO=4&transport=polling&token=bad"))
            .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.text(), r#"{"code":4,"message":"Forbidden"}"#);
    assert_eq!(next(&mut checked).await, "checked false");

    let mut client = Client::open_with(server.addr, "&token=good", &[]).await;
    assert_eq!(next(&mut checked).await, "checked true");
    client.join("/", None).await;
    client.assert_echo("let in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn io_is_a_handler_extractor_and_axum_state() {
    let (layer, io) = Ferrio::builder().build_layer();
    // In a handler: no `io.clone()` captured in every closure.
    io.ns("/", |socket: Socket, io: Io| async move {
        socket.join("members");
        socket.on("count", |socket: Socket, io: Io| async move {
            socket.emit("count", &io.to("members").sockets().len()).unwrap();
        });
        io.to("members").emit("joined", socket.id().as_str()).unwrap();
    });
    // In axum: the same handle as the router's state.
    async fn announce(AxumState(io): AxumState<Io>) -> String {
        io.emit("announcement", &json!({"from": "http"})).unwrap();
        io.sockets().len().to_string()
    }
    let app = axum::Router::new()
        .route("/announce", axum::routing::post(announce))
        .with_state(io.clone())
        .layer(layer);
    let server = serve_app(app).await;

    let mut client = Client::open(server.addr).await;
    let sid = client.join("/", None).await;
    client.expect(&format!(r#"42["joined","{sid}"]"#)).await;
    client.send(r#"42["count"]"#).await;
    client.expect(r#"42["count",1]"#).await;
    let response = send(server.addr, &Request::new("POST", "/announce")).await;
    assert_eq!((response.status, response.text()), (200, "1"));
    client.expect(r#"42["announcement",{"from":"http"}]"#).await;
}
