//! The demo: a multi-room chat with nicknames, typing indicators and delivery acks, plus a
//! panel that shows which transport this browser uses and how it was chosen.
//!
//! `cargo run --release -p ferrio --example chat`, then open the printed URL (port from `PORT`,
//! default 3000). The page's links reload it forcing each transport. With `--features redis`
//! and `REDIS_URL` set, the process is one node of a cluster: see `scripts/cluster.sh`.
//!
//! `ADMIN_UI=1` also turns on the official Socket.IO Admin UI's server side
//! ([`ferrio::admin`]) and serves the UI on `/admin-ui/`: log in there with user `admin`
//! (`ADMIN_USER`) and the password of `ADMIN_PASSWORD` (a random one, printed, when unset or
//! empty). The UI's files are not part of ferrio: they come from the `@socket.io/admin-ui` npm package,
//! from the folder `ADMIN_UI_DIST` names, else from `tests/browser/node_modules` once
//! `npm ci` ran there.

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use ferrio::extract::{Ack, Data};
use ferrio::{Ferrio, Io, Socket};
use serde::{Deserialize, Serialize};

const ROOMS: [&str; 3] = ["lobby", "rust", "random"];

/// Who a socket is, kept on the socket as an extension.
#[derive(Clone)]
struct Nick(String);

#[derive(Deserialize)]
struct Hello {
    nick: String,
}

#[derive(Deserialize)]
struct Outgoing {
    room: String,
    text: String,
}

#[derive(Serialize)]
struct ChatMessage<'a> {
    room: &'a str,
    from: &'a str,
    text: &'a str,
    at: u64,
}

#[derive(Deserialize, Serialize)]
struct Typing {
    room: String,
    #[serde(default)]
    nick: String,
    typing: bool,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn clean_nick(raw: &str) -> String {
    let nick: String = raw.trim().chars().filter(|c| !c.is_control()).take(24).collect();
    if nick.is_empty() {
        "anonymous".into()
    } else {
        nick
    }
}

/// Sends the member list of `room` to everyone in it, on every node (nicknames come from each
/// socket's auth payload, which travels between nodes).
async fn announce_members(io: &Io, room: &str) {
    let Ok(sockets) = io.to(room).fetch_sockets().await else { return };
    let mut members: Vec<String> = sockets
        .iter()
        .filter_map(|s| s.data().auth.get("nick").and_then(|n| n.as_str()).map(clean_nick))
        .collect();
    members.sort();
    let _ = io.to(room).emit("members", &serde_json::json!({ "room": room, "members": members }));
}

fn on_connect(
    io: Io,
) -> impl Fn(Socket, Data<Hello>) -> std::future::Ready<()> + Send + Sync + 'static {
    move |socket: Socket, Data(hello): Data<Hello>| {
        socket.insert_extension(Nick(clean_nick(&hello.nick)));
        let _ = socket.emit("rooms", &ROOMS[..]);

        let io_join = io.clone();
        socket.on("join", move |socket: Socket, Data(room): Data<String>, ack: Ack| {
            let io = io_join.clone();
            async move {
                if !ROOMS.contains(&room.as_str()) {
                    let _ = ack.send(&serde_json::json!({ "error": "no such room" }));
                    return;
                }
                let previous: Vec<_> =
                    socket.rooms().into_iter().filter(|r| ROOMS.contains(&&**r)).collect();
                socket.leave(previous.clone());
                socket.join(room.as_str());
                // The ack first: the page switches rooms on it, then takes the member list.
                let _ = ack.send(&serde_json::json!({ "room": room }));
                for old in previous {
                    announce_members(&io, &old).await;
                }
                announce_members(&io, &room).await;
            }
        });

        socket.on("chat", |socket: Socket, Data(msg): Data<Outgoing>, ack: Ack| async move {
            let text: String = msg.text.chars().take(500).collect();
            let nick = socket.extension::<Nick>().map_or_else(String::new, |n| n.0);
            if text.trim().is_empty() || !socket.rooms().iter().any(|r| **r == *msg.room) {
                let _ = ack.send(&serde_json::json!({ "error": "not delivered" }));
                return;
            }
            let message = ChatMessage { room: &msg.room, from: &nick, text: &text, at: now_ms() };
            let _ = socket.to(msg.room.as_str()).emit("chat", &message);
            // The sender's ack turns its message from "sent" into "delivered".
            let _ = ack.send(&serde_json::json!({ "delivered": true, "at": message.at }));
        });

        socket.on("typing", |socket: Socket, Data(mut typing): Data<Typing>| async move {
            typing.nick = socket.extension::<Nick>().map_or_else(String::new, |n| n.0);
            let _ = socket.to(typing.room.as_str()).emit("typing", &typing);
        });

        // The panel's round-trip measurement.
        socket.on("rtt", |ack: Ack| async move {
            let _ = ack.send(&now_ms());
        });

        let io_left = io.clone();
        socket.on_disconnect(move |socket: Socket| {
            let io = io_left.clone();
            async move {
                let _ = &socket;
                for room in ROOMS {
                    announce_members(&io, room).await;
                }
            }
        });
        std::future::ready(())
    }
}

async fn index() -> impl IntoResponse {
    Html(include_str!("index.html"))
}

async fn script() -> impl IntoResponse {
    ([(http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("app.js"))
}

async fn style() -> impl IntoResponse {
    ([(http::header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("style.css"))
}

/// `ADMIN_UI=1`: the admin namespace, with a login, and the UI's files on `/admin-ui/`.
fn admin_ui(io: &Io, app: Router, port: u16) -> Result<Router, ferrio::admin::AdminUiError> {
    use ferrio::admin::{hash_password, AdminUi};

    let user = std::env::var("ADMIN_USER").unwrap_or_else(|_| "admin".into());
    let (password, shown) = match std::env::var("ADMIN_PASSWORD") {
        Ok(password) if !password.is_empty() => (password, "from ADMIN_PASSWORD".to_owned()),
        _ => {
            let password = format!("{:016x}", rand::random::<u64>());
            (password.clone(), password)
        }
    };
    io.admin_ui(AdminUi::new().auth(user.as_str(), hash_password(&password)?))?;
    let dist =
        std::env::var_os("ADMIN_UI_DIST").map(std::path::PathBuf::from).unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/browser/node_modules/@socket.io/admin-ui/ui/dist")
        });
    if !dist.join("index.html").is_file() {
        println!(
            "admin UI: no UI files in {} (set ADMIN_UI_DIST to the ui/dist folder of the \
             @socket.io/admin-ui npm package, or run `npm ci` in tests/browser); the admin \
             namespace is on all the same",
            dist.display()
        );
        return Ok(app);
    }
    println!(
        "admin UI: open http://127.0.0.1:{port}/admin-ui/ and log in to server \
         http://127.0.0.1:{port} as {user}, password {shown}"
    );
    Ok(app.nest_service("/admin-ui", tower_http::services::ServeDir::new(dist)))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    // A visitor whose connection drops gets the messages sent meanwhile when it comes back.
    let builder = Ferrio::builder().connection_state_recovery(std::time::Duration::from_secs(120));
    // With REDIS_URL (and the `redis` feature), this process is one node of a cluster:
    // scripts/cluster.sh starts three behind nginx.
    #[cfg(feature = "redis")]
    let builder = match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => {
            use ferrio::adapter::redis::{RedisCluster, RedisConfig};
            let config = RedisConfig::new(url, listener.local_addr()?);
            let cluster = RedisCluster::connect(config).await.map_err(std::io::Error::other)?;
            println!("node {} of the Redis cluster", cluster.node_id());
            builder.cluster(&cluster)
        }
        _ => builder,
    };
    let (layer, io) = builder.build_layer();
    io.ns("/", on_connect(io.clone()));
    let mut app = Router::new()
        .route("/", get(index))
        .route("/app.js", get(script))
        .route("/style.css", get(style))
        .route("/favicon.ico", get(|| async { http::StatusCode::NO_CONTENT }));
    if std::env::var("ADMIN_UI").is_ok_and(|v| v == "1") {
        app = admin_ui(&io, app, port).map_err(std::io::Error::other)?;
    }
    let app = app.layer(layer);
    println!("ferrio chat demo: open http://127.0.0.1:{port}");
    // ferrio::serve: header and write timeouts, and the peer address for each connection.
    ferrio::serve(listener, app)
        .with_graceful_shutdown(async move {
            // Ctrl-C: every browser is told at once (and reconnects when the demo is back).
            let _ = tokio::signal::ctrl_c().await;
            io.close();
        })
        .await
}
