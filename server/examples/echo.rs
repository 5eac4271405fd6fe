//! The README's quick start: `cargo run -p ferrio --example echo`, then open
//! http://127.0.0.1:3000 and watch the browser console.
use axum::{response::Html, routing::get, Router};
use ferrio::{
    extract::{Ack, Data},
    Ferrio, Socket,
};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (layer, io) = Ferrio::builder().build_layer();
    io.ns("/", |socket: Socket| async move {
        socket.on("echo", |Data(msg): Data<serde_json::Value>, ack: Ack| async move {
            let _ = ack.send(&msg);
        });
    });
    let page = r#"<script type="module">import { io } from "/socket.io/ferrio.js";
        const s = io(); console.log(await s.emitWithAck("echo", { hi: 1 }), s.transport);</script>"#;
    let app = Router::new().route("/", get(move || async move { Html(page) })).layer(layer);
    ferrio::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await
}
