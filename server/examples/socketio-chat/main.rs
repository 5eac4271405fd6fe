//! Socket.IO's chat tutorial (usernames, "user joined" / "user left", typing indicators, new
//! messages, the user count), its server ported to ferrio: `chat.rs` has the handlers, this
//! file the axum app and the page.
//!
//! `cargo run -p ferrio --example socketio-chat`, then open the printed URL in two windows
//! (port from `PORT`, default 3000). The page uses ferrio's bundled client; the tutorial's
//! own page, with the official `socket.io-client`, works against it unchanged.

mod chat;

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use ferrio::Ferrio;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (layer, io) = chat::build(Ferrio::builder());
    let app =
        Router::new().route("/", get(|| async { Html(include_str!("index.html")) })).layer(layer);
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("chat tutorial: open http://127.0.0.1:{port}");
    ferrio::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            io.close();
        })
        .await
}
