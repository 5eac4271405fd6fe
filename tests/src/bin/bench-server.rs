//! The server of the shared bench harness's contract: Socket.IO on `/socket.io/` with default
//! settings, and on `/` the events `echo` (emit back), `echo-ack` (ack back) and `bcast`
//! (emit to every client, the sender included). Port from `--port N` or `PORT` (default 3000).
//! With `REDIS_URL` set, it joins that Redis cluster (broadcasts reach every node's clients).

use ferrio::adapter::redis::{RedisCluster, RedisConfig};
use ferrio::extract::Ack;
use ferrio::{Ferrio, Io, Payload, Socket};

fn port() -> u16 {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--port" {
            if let Some(p) = args.next().and_then(|p| p.parse().ok()) {
                return p;
            }
        } else if let Some(p) = arg.strip_prefix("--port=").and_then(|p| p.parse().ok()) {
            return p;
        }
    }
    std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000)
}

fn on_connect(io: Io) -> impl Fn(Socket) -> std::future::Ready<()> + Clone + Send + Sync + 'static {
    move |socket: Socket| {
        socket.on("echo", |socket: Socket, payload: Payload| async move {
            let _ = socket.emit("echo", payload);
        });
        socket.on("echo-ack", |payload: Payload, ack: Ack| async move {
            let _ = ack.send(payload);
        });
        let io = io.clone();
        socket.on("bcast", move |payload: Payload| {
            let io = io.clone();
            async move {
                let _ = io.emit("bcast", payload);
            }
        });
        std::future::ready(())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = port();
    let listener = ferrio_tests::listen(port)?;
    let mut builder = Ferrio::builder();
    let cluster = match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => {
            let config = RedisConfig::new(url, listener.local_addr()?);
            Some(RedisCluster::connect(config).await.map_err(std::io::Error::other)?)
        }
        _ => None,
    };
    if let Some(cluster) = &cluster {
        builder = builder.cluster(cluster);
        eprintln!("ferrio bench server: node {} of the Redis cluster", cluster.node_id());
    }
    let (layer, io) = builder.build_layer();
    io.ns("/", on_connect(io.clone()));
    eprintln!("ferrio bench server listening on 127.0.0.1:{port}");
    // ferrio::serve sets TCP_NODELAY: small replies go out at once rather than wait for Nagle.
    ferrio::serve(listener, axum::Router::new().layer(layer)).await
}
