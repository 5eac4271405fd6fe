//! The conformance server: a raw Engine.IO echo on `/engine.io/`, the Socket.IO contract on
//! `/socket.io/` (and with connection state recovery on `/recovery/`), the chat tutorial
//! example's handlers on `/chat/`, and a raw WebSocket echo on `/autobahn` for the RFC 6455
//! framing suite, with short timeouts so protocol tests finish fast.

use std::sync::Arc;
use std::time::Duration;

use ferrio::engine::{
    CloseReason, EngineConfig, EngineConfigBuilder, EngineHandler, EngineIo, EngineSocket, Message,
};
use ferrio::extract::{Ack, Data};
use ferrio::{Binary, ConnectError, Cors, Ferrio, Io, Payload, Socket};
use serde_json::{json, Value};

/// The conformance application and the handles tests use to look inside it.
#[derive(Clone)]
pub struct App {
    /// The axum router to serve.
    pub router: axum::Router,
    /// Number of live Engine.IO sessions on `/engine.io/`.
    pub engine_sessions: Arc<dyn Fn() -> usize + Send + Sync>,
    /// The Socket.IO server on `/socket.io/`.
    pub io: Io,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

/// Sends every message back to its sender, text as text and binary as binary.
#[derive(Debug)]
pub struct Echo;

impl EngineHandler for Echo {
    fn on_connect(&self, _socket: EngineSocket) {}

    fn on_message(&self, socket: &EngineSocket, message: Message) {
        let _ = socket.send(message);
    }

    fn on_disconnect(&self, _socket: &EngineSocket, _reason: CloseReason) {}
}

/// The engine settings of the contract: pings every 300 ms, 200 ms to answer, 1 s upgrades,
/// 1 MB payloads, CORS for every origin.
pub fn engine_config() -> EngineConfigBuilder {
    EngineConfig::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .upgrade_timeout(Duration::from_millis(1000))
        .max_payload(1_000_000)
        .cors(Cors::any())
}

/// The Socket.IO contract's event handlers, registered on each socket of `/`, `/custom` and
/// `/admin`.
async fn on_connect(socket: Socket) {
    let _ = socket.emit("auth", socket.auth());
    socket.on("echo", |socket: Socket, payload: Payload| async move {
        let _ = socket.emit("echo", payload);
    });
    socket.on("echo-ack", |payload: Payload, ack: Ack| async move {
        let _ = ack.send(payload);
    });
    socket.on("join", |socket: Socket, Data(room): Data<String>, ack: Ack| async move {
        socket.join(room.as_str());
        let _ = ack.send(&room);
    });
    socket.on("leave", |socket: Socket, Data(room): Data<String>, ack: Ack| async move {
        socket.leave(room.as_str());
        let _ = ack.send(&room);
    });
    socket.on("room-broadcast", |socket: Socket, payload: Payload, ack: Ack| async move {
        let Some(Value::String(room)) = payload.args.first().cloned() else { return };
        let _ = socket.to(room.as_str()).emit("room-message", payload);
        let _ = ack.send(Payload::new());
    });
    socket.on("server-ask", |socket: Socket, payload: Payload| async move {
        let answer = socket.emit_with_ack::<Payload>("question", payload).await;
        if let Ok(answer) = answer {
            let _ = socket.emit("answer-received", answer);
        }
    });
    // Binary from the server, for clients that cannot send any (a browser without typed arrays).
    socket.on("bytes", |socket: Socket| async move {
        let bytes = Binary(bytes::Bytes::from_static(&[0, 1, 2, 127, 128, 254, 255]));
        let _ = socket.emit("bytes", &bytes);
    });
    socket.on("bye", |socket: Socket| async move { socket.disconnect() });
    socket.on("drop", |socket: Socket| async move { socket.engine().close() });
    socket.on("message", |socket: Socket, payload: Payload| async move {
        let _ = socket.emit("message-back", payload);
    });
    socket.on("message-with-ack", |payload: Payload, ack: Ack| async move {
        let _ = ack.send(payload);
    });
}

/// Lets only `{"token":"secret"}` into `/admin`.
async fn admin_auth(Data(auth): Data<Value>) -> Result<(), ConnectError> {
    if auth == json!({"token": "secret"}) {
        Ok(())
    } else {
        Err(ConnectError::new("unauthorized").with_data(json!({"code": "E_UNAUTHORIZED"})))
    }
}

/// The events of the cluster tests, on `/` (they work on a single node too): each answers
/// through its ack.
fn cluster_events(io: &Io, node: &str, socket: &Socket) {
    let node = node.to_owned();
    let n = node.clone();
    socket.on("whoami", move |socket: Socket, ack: Ack| {
        let node = n.clone();
        async move {
            let _ = ack.send(&json!({ "node": node, "sid": socket.id().as_str() }));
        }
    });
    let io1 = io.clone();
    socket.on("bcast-all", move |payload: Payload, ack: Ack| {
        let io = io1.clone();
        async move {
            let _ = io.emit("bcast", payload);
            let _ = ack.send(Payload::new());
        }
    });
    let io1 = io.clone();
    socket.on("bcast-room", move |Data((room, value)): Data<(String, Value)>, ack: Ack| {
        let io = io1.clone();
        async move {
            let _ = io.to(room.as_str()).emit("room-bcast", &value);
            let _ = ack.send(Payload::new());
        }
    });
    let io1 = io.clone();
    socket.on("fetch", move |Data(room): Data<Option<String>>, ack: Ack| {
        let io = io1.clone();
        async move {
            let fetched = match room {
                Some(room) => io.to(room.as_str()).fetch_sockets().await,
                None => io.fetch_sockets().await,
            };
            let answer = match fetched {
                Ok(sockets) => json!({ "sockets": sockets.iter().map(|s| json!({
                    "id": s.id(), "node": s.data().node, "rooms": s.data().rooms,
                })).collect::<Vec<_>>() }),
                Err(e) => json!({ "error": e.to_string() }),
            };
            let _ = ack.send(&answer);
        }
    });
    let io1 = io.clone();
    socket.on("count", move |ack: Ack| {
        let io = io1.clone();
        async move {
            let answer = match io.server_count().await {
                Ok(n) => json!({ "count": n }),
                Err(e) => json!({ "error": e.to_string() }),
            };
            let _ = ack.send(&answer);
        }
    });
    let io1 = io.clone();
    socket.on("all-rooms", move |ack: Ack| {
        let io = io1.clone();
        async move {
            let answer = match io.all_rooms().await {
                Ok(mut rooms) => {
                    rooms.sort();
                    json!({ "rooms": rooms.iter().map(|r| r.to_string()).collect::<Vec<_>>() })
                }
                Err(e) => json!({ "error": e.to_string() }),
            };
            let _ = ack.send(&answer);
        }
    });
    let io1 = io.clone();
    socket.on("sse", move |payload: Payload, ack: Ack| {
        let io = io1.clone();
        async move {
            let answer = match io.server_side_emit_with_ack("ping-node", payload, None).await {
                Ok(answers) => json!({ "answers": answers }),
                Err(e) => json!({ "error": e.to_string() }),
            };
            let _ = ack.send(&answer);
        }
    });
    let io1 = io.clone();
    socket.on("remote", move |Data((op, sid, room)): Data<(String, String, String)>, ack: Ack| {
        let io = io1.clone();
        async move {
            let target = io.to(sid.as_str());
            match op.as_str() {
                "join" => target.join(room.as_str()),
                "leave" => target.leave(room.as_str()),
                _ => target.disconnect_sockets(),
            }
            let _ = ack.send(Payload::new());
        }
    });
    let io1 = io.clone();
    socket.on("ask-all", move |payload: Payload, ack: Ack| {
        let io = io1.clone();
        async move {
            let answers =
                match io.timeout(Duration::from_secs(2)).emit_with_ack::<Value>("ask", payload) {
                    Ok(stream) => stream.await,
                    Err(_) => Vec::new(),
                };
            let ok: Vec<Value> = answers.into_iter().filter_map(|(_, a)| a.ok()).collect();
            let _ = ack.send(&json!({ "answers": ok }));
        }
    });
}

/// Registers the contract's main namespace on `io` (with the chaos test's handlers when
/// `chaos`); `node` names this node in cluster answers.
fn register(io: &Io, node: &str, chaos: bool) {
    let (io1, n) = (io.clone(), node.to_owned());
    io.ns("/", move |socket: Socket| {
        cluster_events(&io1, &n, &socket);
        if chaos {
            chaos::handlers(&io1, &socket);
        }
        on_connect(socket)
    });
    let n = node.to_owned();
    io.on_server_event("ping-node", move |payload: Payload| {
        let node = n.clone();
        async move { json!({ "node": node, "args": payload.args }) }
    });
}

/// The Socket.IO server of the contract: the handlers above on `/`, `/custom` and `/admin`.
pub fn socket_io() -> (ferrio::FerrioLayer, Io) {
    socket_io_on(Ferrio::builder(), "local")
}

fn socket_io_on(builder: ferrio::FerrioBuilder, node: &str) -> (ferrio::FerrioLayer, Io) {
    // `ALLOW_EIO3=1` lets Socket.IO v2 clients in, so the contract can be run with them.
    let allow_eio3 = std::env::var("ALLOW_EIO3").is_ok_and(|v| v == "1");
    let (layer, io) = builder
        .engine_config(
            engine_config().path("/socket.io/").serve_client(true).serve_socket_io_js(true),
        )
        .allow_eio3(allow_eio3)
        .connect_timeout(Duration::from_secs(1))
        .build_layer();
    register(&io, node, false);
    io.ns("/custom", on_connect);
    io.ns("/admin", on_connect).middleware(admin_auth);
    (layer, io)
}

/// Serves `tests/browser/pages/{file}`: the pages browser tests load from this server's
/// origin (directly or through a proxy).
pub async fn page(
    axum::extract::Path(file): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let valid = !file.is_empty()
        && file.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !file.starts_with('.');
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/pages").join(&file);
    let body = match valid {
        true => tokio::fs::read(&path).await.ok(),
        false => None,
    };
    let Some(body) = body else {
        return (http::StatusCode::NOT_FOUND, "no such page").into_response();
    };
    let content_type = match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    };
    ([(http::header::CONTENT_TYPE, content_type), (http::header::CACHE_CONTROL, "no-store")], body)
        .into_response()
}

/// The same contract with connection state recovery on (10 s), on `/recovery/`: a client whose
/// connection fails (e.g. after `drop`) gets its socket back with what it missed.
pub fn socket_io_with_recovery() -> (ferrio::FerrioLayer, Io) {
    socket_io_with_recovery_on(Ferrio::builder(), "local")
}

fn socket_io_with_recovery_on(
    builder: ferrio::FerrioBuilder,
    node: &str,
) -> (ferrio::FerrioLayer, Io) {
    let (layer, io) = builder
        .engine_config(engine_config().path("/recovery/"))
        .connect_timeout(Duration::from_secs(1))
        .connection_state_recovery(Duration::from_secs(10))
        .build_layer();
    register(&io, node, true);
    (layer, io)
}

// ==== Chaos test handlers (tests/js/chaos.test.js), on the recovery namespace only ==========
mod chaos {
    //! What tests/js/chaos.test.js needs to count, from the server's side, what a client sent
    //! and received while its connections are cut at random: every call handled once and in
    //! order, every acknowledgement the server asked for received once.
    //!
    //! - `numbered`(room, n, ack): recorded in the socket's log, relayed to `room` as
    //!   `relayed`(n) (the sender is in it), acked with n;
    //! - `send-me`(count, ack): acks at once, then emits `down`(n) asking for an ack, for n in
    //!   1..=count, one after another (the next once the last is acked), to the socket with
    //!   this id wherever it is (a recovered socket is a new handle), recording each answer;
    //! - `report`(ack): acks with the log {up, downAcks, downErrors, downDone}, once a
    //!   `send-me` run is done (or after `REPORT_WAIT`).
    //!
    //! The log is a socket extension, so a recovered socket keeps it and a new one starts
    //! afresh.

    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
    use std::time::Duration;

    use ferrio::extract::{Ack, Data};
    use ferrio::{Io, Payload, Socket};
    use serde_json::{json, Value};
    use tokio::sync::{watch, Notify};

    /// How long `send-me` waits for each acknowledgement (across cuts and recoveries).
    const DOWN_ACK_TIMEOUT: Duration = Duration::from_secs(10);
    /// How long `report` waits at most for the end of a `send-me` run.
    const REPORT_WAIT: Duration = Duration::from_secs(2);
    /// How long `send-me` waits at most before looking for a socket that had just gone again.
    const RETRY_AFTER: Duration = Duration::from_millis(50);

    #[derive(Debug, Default)]
    struct Log {
        /// The `n` of each `numbered` handled, in order.
        up: Vec<u64>,
        /// The arguments of each acknowledgement of a `down`, in order.
        down_acks: Vec<Value>,
        /// Why a `down` acknowledgement did not come, for each that did not.
        down_errors: Vec<String>,
        /// `send-me` has sent and seen acknowledged (or failed) all it had to.
        down_done: bool,
    }

    /// The socket's log, the signal that the socket (re)connected, and whether a `send-me` run
    /// is going on (`Some(false)`) or done (`Some(true)`).
    #[derive(Debug, Clone)]
    struct Shared {
        log: Arc<Mutex<Log>>,
        connected: Arc<Notify>,
        down: Arc<watch::Sender<Option<bool>>>,
    }

    fn lock(log: &Mutex<Log>) -> MutexGuard<'_, Log> {
        log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn shared(socket: &Socket) -> Shared {
        if let Some(shared) = socket.extension::<Shared>() {
            return shared;
        }
        let shared = Shared {
            log: Arc::default(),
            connected: Arc::default(),
            down: Arc::new(watch::Sender::new(None)),
        };
        socket.insert_extension(shared.clone());
        shared
    }

    pub(super) fn handlers(io: &Io, socket: &Socket) {
        shared(socket).connected.notify_one();
        let relay_io = io.clone();
        socket.on(
            "numbered",
            move |socket: Socket, Data((room, n)): Data<(String, u64)>, ack: Ack| {
                let io = relay_io.clone();
                async move {
                    lock(&shared(&socket).log).up.push(n);
                    let _ = io.to(room).emit("relayed", &n);
                    let _ = ack.send(&n);
                }
            },
        );
        let down_io = io.clone();
        socket.on("send-me", move |socket: Socket, Data(count): Data<u64>, ack: Ack| {
            let io = down_io.clone();
            async move {
                shared(&socket).down.send_replace(Some(false));
                let _ = ack.send(&count);
                tokio::spawn(send_down(io, socket, count));
            }
        });
        socket.on("report", |socket: Socket, ack: Ack| async move {
            let shared = shared(&socket);
            // The last acknowledgement may still be on its way to the log.
            let mut down = shared.down.subscribe();
            let _ = tokio::time::timeout(REPORT_WAIT, down.wait_for(|d| *d != Some(false))).await;
            let log = lock(&shared.log);
            let report = json!({
                "up": log.up,
                "downAcks": log.down_acks,
                "downErrors": log.down_errors,
                "downDone": log.down_done,
            });
            drop(log);
            let _ = ack.send(&report);
        });
    }

    /// Emits `down`(1..=count) to the socket with `socket`'s id, each once the last is acked.
    async fn send_down(io: Io, socket: Socket, count: u64) {
        let Shared { log, connected, down } = shared(&socket);
        let id = socket.id().clone();
        let ns = io.of(socket.ns());
        let mut n = 1;
        while let (Some(ns), true) = (&ns, n <= count) {
            // The socket as it is now: gone while the client is away, a new handle once it
            // recovered (which signals `connected`).
            let Some(current) = ns.get_socket(&id) else {
                if tokio::time::timeout(DOWN_ACK_TIMEOUT, connected.notified()).await.is_err() {
                    lock(&log).down_errors.push(format!("{n}: the socket did not come back"));
                    break;
                }
                continue;
            };
            let answer =
                current.timeout(DOWN_ACK_TIMEOUT).emit_with_ack::<Payload>("down", &n).await;
            match answer {
                Ok(payload) => lock(&log).down_acks.push(Value::Array(payload.args)),
                // Not sent: the socket had just gone; try again once it is back (or shortly,
                // in case it went between the look-up and the emit). An emit that failed must
                // not reach the client later (kept for recovery), or it gets it twice: the
                // chaos test counts that.
                Err(ferrio::AckError::Send(ferrio::SendError::Disconnected)) => {
                    let _ = tokio::time::timeout(RETRY_AFTER, connected.notified()).await;
                    continue;
                }
                Err(err) => lock(&log).down_errors.push(format!("{n}: {err}")),
            }
            n += 1;
        }
        lock(&log).down_done = true;
        down.send_replace(Some(true));
    }
}
// ==== end of the chaos test handlers ==================================================

/// The handlers of the `socketio-chat` example, compiled from its source.
#[path = "../../server/examples/socketio-chat/chat.rs"]
mod chat;

/// The `socketio-chat` example's server (Socket.IO's chat tutorial) on `/chat/`, for the JS
/// tests that run the official client against it.
pub fn socket_io_chat() -> (ferrio::FerrioLayer, Io) {
    chat::build(Ferrio::builder().engine_config(engine_config().path("/chat/")))
}

/// How long the conformance server lets a client take to send request headers: Node's
/// keep-alive timeout, so idle keep-alive connections close about as they would there.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a write may make no progress before the conformance server drops the connection:
/// the heartbeat (300 + 200 ms) plus room for a busy machine.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` with [`ferrio::serve`] and the conformance server's timeouts.
pub async fn serve(listener: tokio::net::TcpListener, router: axum::Router) -> std::io::Result<()> {
    ferrio::serve(listener, router)
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .write_timeout(WRITE_TIMEOUT)
        .await
}

/// `GET /autobahn`: a raw WebSocket echo (no Engine.IO) for the RFC 6455 framing suite
/// (`scripts/autobahn.sh`): every text and binary message goes back as it came.
///
/// It runs on the WebSocket stack of ferrio's websocket transport, set up the same way as
/// `server/src/engine/transport/websocket.rs` does (kept in step by hand, since that is
/// private): the `101` answer to a hyper upgrade, tokio-tungstenite in the server role with the
/// same `WebSocketConfig` (4 KiB reads, 32 KiB write batches, frames and messages capped at the
/// contract's `max_payload`), the same bounds on writes (a write given up after the heartbeat,
/// `ping_interval + ping_timeout`; a close after a second), and the same answer to an oversized
/// message: close code 1009, then the rest of what the client sends read and discarded for at
/// most a second.
async fn autobahn_echo(mut req: axum::extract::Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    use http::header;
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

    let headers = req.headers();
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|part| part.trim().eq_ignore_ascii_case(token)))
        })
    };
    let handshake = has_token(header::UPGRADE, "websocket")
        && has_token(header::CONNECTION, "upgrade")
        && headers.get(header::SEC_WEBSOCKET_VERSION).is_some_and(|v| v == "13");
    let accept = headers.get(header::SEC_WEBSOCKET_KEY).map(|k| derive_accept_key(k.as_bytes()));
    let on_upgrade = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>();
    let (true, Some(accept), Some(on_upgrade)) = (handshake, accept, on_upgrade) else {
        return (http::StatusCode::BAD_REQUEST, "a WebSocket handshake is expected here")
            .into_response();
    };
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            echo_websocket(hyper_util::rt::TokioIo::new(upgraded)).await;
        }
    });
    (
        http::StatusCode::SWITCHING_PROTOCOLS,
        [
            (header::UPGRADE, "websocket".to_owned()),
            (header::CONNECTION, "Upgrade".to_owned()),
            (header::SEC_WEBSOCKET_ACCEPT, accept),
        ],
    )
        .into_response()
}

/// The echo loop of [`autobahn_echo`]. Pings, pongs and the closing handshake are tungstenite's:
/// reading on after a close frame sends its reply.
async fn echo_websocket<S>(io: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::AsyncReadExt;
    use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
    use tokio_tungstenite::tungstenite::{Message as WsMessage, Utf8Bytes};

    // As ferrio's transport: `WRITE_BUFFER`, `CLOSING_GRACE`, the default `ws_read_buffer_size`,
    // `max_payload`, and the session's `transfer_deadline()`.
    const WRITE_BUFFER: usize = 32 * 1024;
    const CLOSING_GRACE: Duration = Duration::from_secs(1);
    let contract = engine_config().build();
    let max = contract.max_payload();
    let write_deadline = contract.ping_interval() + contract.ping_timeout();
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(max.saturating_mul(2).max(4 * WRITE_BUFFER))
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    let mut ws =
        tokio_tungstenite::WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    while let Some(incoming) = ws.next().await {
        match incoming {
            Ok(message @ (WsMessage::Text(_) | WsMessage::Binary(_))) => {
                if !matches!(
                    tokio::time::timeout(write_deadline, ws.send(message)).await,
                    Ok(Ok(()))
                ) {
                    return;
                }
            }
            Ok(_) => {}
            Err(WsError::Capacity(CapacityError::MessageTooLong { .. })) => {
                let frame = CloseFrame {
                    code: CloseCode::Size,
                    reason: Utf8Bytes::from_static("message too big"),
                };
                let _ = tokio::time::timeout(CLOSING_GRACE, ws.close(Some(frame))).await;
                let mut sink = vec![0u8; 8192];
                let drain = async {
                    while let Ok(n) = ws.get_mut().read(&mut sink).await {
                        if n == 0 {
                            break;
                        }
                    }
                };
                let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
                return;
            }
            // A protocol violation: dropped, as ferrio's transport does.
            Err(_) => return,
        }
    }
}

/// Builds the conformance application.
pub fn app() -> App {
    let (recovery_layer, _recovery) = socket_io_with_recovery();
    let (sio_layer, io) = socket_io();
    let (chat_layer, _chat) = socket_io_chat();
    assemble(recovery_layer, sio_layer, chat_layer, io, engine_config())
}

/// The conformance application as a node of a Redis cluster: `/socket.io/`, `/recovery/` and
/// `/chat/` each join it (under their own key prefixes, `{prefix}-sio`, `{prefix}-recovery`
/// and `{prefix}-chat`), this node taking forwarded requests at `node_address`. Short
/// heartbeats (200 ms, nodes dead after 1 s) and a 2 s request timeout, so failure tests
/// finish fast.
pub async fn clustered_app(
    redis_url: &str,
    node_address: std::net::SocketAddr,
    prefix: &str,
) -> Result<App, ferrio::adapter::redis::ClusterError> {
    use ferrio::adapter::redis::{RedisCluster, RedisConfig};
    let config = |scope: &str| {
        RedisConfig::new(redis_url, node_address)
            .prefix(format!("{prefix}-{scope}"))
            .heartbeat_interval(Duration::from_millis(200))
            .node_timeout(Duration::from_secs(1))
            .request_timeout(Duration::from_secs(2))
            .stream_max_age(Duration::from_secs(60))
    };
    let sio = RedisCluster::connect(config("sio")).await?;
    let recovery = RedisCluster::connect(config("recovery")).await?;
    let chat = RedisCluster::connect(config("chat")).await?;
    let (recovery_layer, _recovery) =
        socket_io_with_recovery_on(Ferrio::builder().cluster(&recovery), recovery.node_id());
    let (sio_layer, io) = socket_io_on(Ferrio::builder().cluster(&sio), sio.node_id());
    let (chat_layer, _chat) =
        chat::build(Ferrio::builder().engine_config(engine_config().path("/chat/")).cluster(&chat));
    // The raw Engine.IO echo has no adapter, but its sessions are tagged and forwarded too.
    let echo = engine_config().node_directory(Arc::new(sio));
    Ok(assemble(recovery_layer, sio_layer, chat_layer, io, echo))
}

fn assemble(
    recovery_layer: ferrio::FerrioLayer,
    sio_layer: ferrio::FerrioLayer,
    chat_layer: ferrio::FerrioLayer,
    io: Io,
    echo: EngineConfigBuilder,
) -> App {
    let (engine_layer, engine) = EngineIo::new(echo.path("/engine.io/"), Echo);
    let router = axum::Router::new()
        .route("/pages/{file}", axum::routing::get(page))
        .route("/autobahn", axum::routing::get(autobahn_echo))
        .layer(engine_layer)
        .layer(recovery_layer)
        .layer(chat_layer)
        .layer(sio_layer);
    App { router, engine_sessions: Arc::new(move || engine.session_count()), io }
}
