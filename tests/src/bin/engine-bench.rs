//! Engine.IO benchmark: polling handshakes per second, websocket echo messages per second with
//! 100 clients, and resident memory per idle websocket session at 10,000 sessions.
//!
//! `cargo run --release -p ferrio-tests --bin engine-bench` starts a raw Engine.IO echo server
//! as a child process (pinned to CPU 0 with `taskset` when available), drives it from this
//! process, and prints one line per figure. Pin this process too for steadier numbers:
//! `taskset -c 1 target/release/engine-bench`.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const WINDOW: Duration = Duration::from_secs(3);
type Error = Box<dyn std::error::Error + Send + Sync>;

/// The echo server, when this binary runs as the child.
async fn serve(port: u16) -> std::io::Result<()> {
    use ferrio::engine::{EngineConfig, EngineIo};
    let (layer, _engine) = EngineIo::new(EngineConfig::default(), ferrio_tests::conformance::Echo);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    ferrio::serve(listener, axum::Router::new().layer(layer)).await
}

fn spawn_server(port: u16) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let taskset =
        Command::new("taskset").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status();
    let mut cmd = if taskset.is_ok_and(|s| s.success()) {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    cmd.args(["--serve", &port.to_string()]).spawn()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn wait_for_port(port: u16) -> Result<(), Error> {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err("the server did not start".into())
}

/// Handshakes over polling from `concurrency` keep-alive connections for `WINDOW`.
async fn polling_handshakes(port: u16, concurrency: usize) -> Result<f64, Error> {
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + WINDOW;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let count = count.clone();
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(("127.0.0.1", port)).await?;
            stream.set_nodelay(true)?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            while Instant::now() < deadline {
                let req = http::Request::get("/engine.io/?EIO=4&transport=polling")
                    .header("host", "127.0.0.1")
                    .body(Empty::<Bytes>::new())?;
                let res = sender.send_request(req).await?;
                let body = res.into_body().collect().await?.to_bytes();
                if !body.starts_with(b"0{\"sid\"") {
                    return Err::<(), Error>("unexpected handshake".into());
                }
                count.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(count.load(Ordering::Relaxed) as f64 / WINDOW.as_secs_f64())
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn open_ws(port: u16) -> Result<Ws, Error> {
    let url = format!("ws://127.0.0.1:{port}/engine.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    match ws.next().await {
        Some(Ok(Message::Text(t))) if t.starts_with('0') => Ok(ws),
        other => Err(format!("no open packet: {other:?}").into()),
    }
}

/// `clients` websocket sessions, each with one 32-byte message in flight, for `WINDOW`.
async fn ws_echo(port: u16, clients: usize) -> Result<f64, Error> {
    let count = Arc::new(AtomicU64::new(0));
    let mut sockets = Vec::new();
    for _ in 0..clients {
        sockets.push(open_ws(port).await?);
    }
    let deadline = Instant::now() + WINDOW;
    let message = format!("4{}", "x".repeat(31));
    let mut tasks = Vec::new();
    for mut ws in sockets {
        let (count, message) = (count.clone(), message.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                ws.send(Message::text(message.clone())).await?;
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                            ws.send(Message::text("3")).await?
                        }
                        Some(Ok(Message::Text(t))) if t.as_str() == message => break,
                        other => return Err::<(), Error>(format!("unexpected {other:?}").into()),
                    }
                }
                count.fetch_add(1, Ordering::Relaxed);
            }
            let _ = ws.close(None).await;
            Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(count.load(Ordering::Relaxed) as f64 / WINDOW.as_secs_f64())
}

/// Resident memory per idle websocket session, in bytes, with `sessions` open.
async fn idle_memory(port: u16, pid: u32, sessions: usize) -> Result<(f64, f64), Error> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let started = Instant::now();
    let mut open = Vec::with_capacity(sessions);
    let mut pending = futures_util::stream::FuturesUnordered::new();
    for _ in 0..sessions {
        pending.push(open_ws(port));
        if pending.len() >= 128 {
            if let Some(ws) = pending.next().await {
                open.push(ws?);
            }
        }
    }
    while let Some(ws) = pending.next().await {
        open.push(ws?);
    }
    let rate = sessions as f64 / started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(pid);
    drop(open);
    Ok(((after.saturating_sub(before) * 1024) as f64 / sessions as f64, rate))
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, port] = args.as_slice() {
        if flag == "--serve" {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            return Ok(rt.block_on(serve(port.parse()?))?);
        }
    }
    // 10,000 sessions need 10,000 descriptors on each side.
    rlimit::increase_nofile_limit(65_536)?;
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3190);
    let mut server = spawn_server(port)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = rt.block_on(async {
        wait_for_port(port).await?;
        // Memory first, on a fresh server, so freed memory of earlier phases cannot hide growth.
        let (per_session, rate) = idle_memory(port, server.id(), 10_000).await?;
        println!(
            "idle websocket sessions: 10000 opened at {rate:.0}/s, {:.1} KiB RSS per session",
            per_session / 1024.0
        );
        let echo = ws_echo(port, 100).await?;
        println!("websocket echo msgs/s (100 clients, 32 B, 1 in flight each): {echo:.0}");
        let handshakes = polling_handshakes(port, 32).await?;
        println!("polling handshakes/s (32 connections): {handshakes:.0}");
        Ok::<(), Error>(())
    });
    let _ = server.kill();
    let _ = server.wait();
    result
}
