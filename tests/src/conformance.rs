//! The conformance server: a raw Engine.IO echo on `/engine.io/`, the Socket.IO contract on
//! `/socket.io/` (and with connection state recovery on `/recovery/`), and the chat tutorial
//! example's handlers on `/chat/`, with short timeouts so protocol tests finish fast.

use std::sync::Arc;
use std::time::Duration;

use ferrio::engine::{
    CloseReason, EngineConfig, EngineConfigBuilder, EngineHandler, EngineIo, EngineSocket, Message,
};
use ferrio::extract::{Ack, Data};
use ferrio::{ConnectError, Cors, Ferrio, Io, Payload, Socket};
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
struct Echo;

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

/// The Socket.IO server of the contract: the handlers above on `/`, `/custom` and `/admin`.
pub fn socket_io() -> (ferrio::FerrioLayer, Io) {
    let (layer, io) = Ferrio::builder()
        .engine_config(engine_config().path("/socket.io/").serve_client(true))
        .connect_timeout(Duration::from_secs(1))
        .build_layer();
    io.ns("/", on_connect);
    io.ns("/custom", on_connect);
    io.ns("/admin", on_connect).middleware(admin_auth);
    (layer, io)
}

/// Serves `tests/browser/pages/{file}`: the pages browser tests load from this server's
/// origin (directly or through a proxy).
async fn page(axum::extract::Path(file): axum::extract::Path<String>) -> axum::response::Response {
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
    let (layer, io) = Ferrio::builder()
        .engine_config(engine_config().path("/recovery/"))
        .connect_timeout(Duration::from_secs(1))
        .connection_state_recovery(Duration::from_secs(10))
        .build_layer();
    io.ns("/", on_connect);
    (layer, io)
}

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

/// Builds the conformance application.
pub fn app() -> App {
    let (engine_layer, engine) = EngineIo::new(engine_config().path("/engine.io/"), Echo);
    let (recovery_layer, _recovery) = socket_io_with_recovery();
    let (sio_layer, io) = socket_io();
    let (chat_layer, _chat) = socket_io_chat();
    let router = axum::Router::new()
        .route("/pages/{file}", axum::routing::get(page))
        .layer(engine_layer)
        .layer(recovery_layer)
        .layer(chat_layer)
        .layer(sio_layer);
    App { router, engine_sessions: Arc::new(move || engine.session_count()), io }
}
