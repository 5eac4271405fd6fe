//! The admin UI test server: a Socket.IO server with the official Admin UI's server side on
//! `/admin` (user [`USERNAME`], a password given at start-up, hashed with bcrypt then), the
//! UI's static files (`ui/dist` of the `@socket.io/admin-ui` npm package) on `/admin-ui/`,
//! and namespaces `/` and `/chat` for test clients, which join the rooms their auth payload
//! names (`{"rooms": ["lobby"]}`). `GET /admin-test/sockets` lists the connected sockets of
//! `/` and `/chat` (`{"/": [ids], "/chat": [ids]}`), so a test can check what the UI did.

use std::path::{Path, PathBuf};

use axum::response::IntoResponse;
use ferrio::admin::{hash_password, AdminUi};
use ferrio::extract::{Ack, Data};
use ferrio::{Ferrio, Io, Payload, Socket};
use serde_json::{json, Value};

/// The admin UI's username.
pub const USERNAME: &str = "admin";

/// Where `npm ci` in `tests/browser` puts the UI.
pub fn default_ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/node_modules/@socket.io/admin-ui/ui/dist")
}

/// A test client's socket: joins the rooms of its auth payload, and can join more (`join`,
/// acknowledged with the room) and echo (`echo`).
async fn on_connect(socket: Socket) {
    let rooms: Vec<String> = socket
        .auth()
        .get("rooms")
        .and_then(Value::as_array)
        .map(|rooms| rooms.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    socket.join(rooms);
    socket.on("join", |socket: Socket, Data(room): Data<String>, ack: Ack| async move {
        socket.join(room.as_str());
        let _ = ack.send(&room);
    });
    socket.on("echo", |socket: Socket, payload: Payload| async move {
        let _ = socket.emit("echo", payload);
    });
}

/// `GET /admin-test/sockets`.
async fn sockets(io: Io) -> axum::response::Response {
    let ids = |ns: &str| -> Vec<String> {
        let sockets = io.of(ns).map(|ns| ns.sockets()).unwrap_or_default();
        sockets.iter().map(|s| s.id().as_str().to_owned()).collect()
    };
    let body = json!({ "/": ids("/"), "/chat": ids("/chat") }).to_string();
    ([(http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The server: Socket.IO on `/socket.io/` with the admin UI's namespace, the UI's files from
/// `ui_dir` on `/admin-ui/`, the pages of `tests/browser/pages` on `/pages/`.
pub fn app(
    password: &str,
    ui_dir: &Path,
) -> Result<(axum::Router, Io), ferrio::admin::AdminUiError> {
    let (layer, io) = Ferrio::builder().build_layer();
    io.ns("/", on_connect);
    io.ns("/chat", on_connect);
    io.admin_ui(
        AdminUi::new().auth(USERNAME, hash_password(password)?).server_id("ferrio-admin-test"),
    )?;
    let listing = io.clone();
    let router = axum::Router::new()
        .nest_service("/admin-ui", tower_http::services::ServeDir::new(ui_dir))
        .route("/pages/{file}", axum::routing::get(crate::conformance::page))
        .route("/admin-test/sockets", axum::routing::get(move || sockets(listing.clone())))
        .route(
            "/",
            axum::routing::get(|| async {
                axum::response::Redirect::to("/admin-ui/").into_response()
            }),
        )
        .layer(layer);
    Ok((router, io))
}
