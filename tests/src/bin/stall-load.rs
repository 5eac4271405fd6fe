//! Stalled and hostile clients against the conformance server, measured: 200 websocket clients
//! and 200 streaming clients that stop reading, then 2,000 half-open connections that never
//! finish their request head (slowloris), while a well-behaved websocket client keeps echoing.
//! Prints the server's open file descriptors and resident memory before, at the worst point,
//! and once the stalled clients were let go, how long that took, and the well-behaved client's
//! echo latency (p50/p99/max) throughout.
//!
//! `cargo run --release -p ferrio-tests --bin stall-load` (builds and starts the conformance
//! server itself; `--server PATH` to use another build of it).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The conformance server as a child process.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(binary: &str) -> Result<Server, Error> {
        let mut child = Command::new(binary)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut first = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut first)?;
        let addr = first.trim().rsplit("http://").next().ok_or("no address")?.parse()?;
        Ok(Server { child, addr })
    }

    fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).map_or(0, Iterator::count)
    }

    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection with a small receive buffer: a client that stops reading stalls the server's
/// writes after little data.
async fn small_window(addr: SocketAddr) -> Result<TcpStream, Error> {
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    Ok(socket.connect(addr).await?)
}

fn big_message() -> String {
    format!("4{}", "x".repeat(64 * 1024))
}

/// A websocket client of the engine echo that floods big messages, never reads, and holds its
/// connection until `hold` changes.
async fn stalled_websocket(addr: SocketAddr, mut hold: watch::Receiver<()>) -> Result<(), Error> {
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
    let (ws, _) = tokio_tungstenite::client_async(url, small_window(addr).await?).await?;
    let (mut sink, stream) = ws.split();
    let flood = async {
        for i in 0..40 {
            let frame = if i % 8 == 0 { "3".to_owned() } else { big_message() };
            if sink.send(Message::text(frame)).await.is_err() {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), flood).await;
    let _ = hold.changed().await;
    drop((sink, stream));
    Ok(())
}

/// A streaming client of the engine echo that reads its stream up to the open packet, POSTs big
/// messages, never reads again, and holds its stream until `hold` changes.
async fn stalled_stream(addr: SocketAddr, mut hold: watch::Receiver<()>) -> Result<(), Error> {
    let mut tcp = small_window(addr).await?;
    let head =
        format!("GET /engine.io/?EIO=4&transport=streaming HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    tcp.write_all(head.as_bytes()).await?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let sid = loop {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Err("the stream ended before its open packet".into());
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen);
        if let Some(rest) = text.find("\"sid\":\"").map(|i| &text[i + 7..]) {
            if let Some(end) = rest.find('"') {
                break rest[..end].to_owned();
            }
        }
    };
    let body = vec![big_message(); 8].join("\x1e");
    for _ in 0..4 {
        let mut post = TcpStream::connect(addr).await?;
        let head = format!(
            "POST /engine.io/?EIO=4&transport=streaming&sid={sid} HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        post.write_all(head.as_bytes()).await?;
        post.write_all(body.as_bytes()).await?;
        let mut status = String::new();
        BufReader::new(post).read_line(&mut status).await?;
        if !status.contains(" 200 ") {
            break;
        }
    }
    let _ = hold.changed().await;
    drop(tcp);
    Ok(())
}

/// A connection that sends part of a request head and then nothing.
async fn half_open(addr: SocketAddr, mut hold: watch::Receiver<()>) -> Result<(), Error> {
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.write_all(b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n").await?;
    let _ = hold.changed().await;
    Ok(())
}

/// Echo round trips of a well-behaved websocket client, one every 10 ms, until `stop` changes.
async fn witness(addr: SocketAddr, mut stop: watch::Receiver<()>) -> Result<Vec<Duration>, Error> {
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    ws.next().await.ok_or("no open packet")??;
    let mut rtts = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            _ = stop.changed() => return Ok(rtts),
            _ = tick.tick() => {}
        }
        let token = format!("4witness {}", rtts.len());
        let sent = Instant::now();
        ws.send(Message::text(token.clone())).await?;
        loop {
            match ws.next().await.ok_or("the witness's websocket ended")?? {
                Message::Text(t) if t.as_str() == token => break,
                Message::Text(t) if t.as_str() == "2" => ws.send(Message::text("3")).await?,
                _ => {}
            }
        }
        rtts.push(sent.elapsed());
    }
}

/// Runs `count` clients made by `client`, waits until the server's descriptors are back to
/// `baseline`, and prints the figures.
async fn phase<F, Fut>(server: &Server, name: &str, count: usize, baseline: usize, client: F)
where
    F: Fn(SocketAddr, watch::Receiver<()>) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>> + Send + 'static,
{
    let (hold, held) = watch::channel(());
    let start = Instant::now();
    let tasks: Vec<_> =
        (0..count).map(|_| tokio::spawn(client(server.addr, held.clone()))).collect();
    let (mut peak_fds, mut peak_rss) = (server.fds(), server.rss_kib());
    let rss_before = server.rss_kib();
    let mut back = None;
    while start.elapsed() < Duration::from_secs(60) {
        let fds = server.fds();
        peak_fds = peak_fds.max(fds);
        peak_rss = peak_rss.max(server.rss_kib());
        if fds <= baseline && peak_fds > baseline {
            back = Some(start.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The sessions outlive their connections by at most the heartbeat (300 + 200 ms): measure
    // memory once they are surely gone.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_fds = server.fds();
    let after_rss = server.rss_kib();
    println!(
        "{name}: {count} clients; server fds {baseline} -> peak {peak_fds} -> {after_fds} \
         (back to baseline after {}); RSS {rss_before} KiB -> peak {peak_rss} KiB -> {after_rss} KiB",
        back.map_or("never (60 s)".to_owned(), |d| format!("{d:.2?}"))
    );
    drop(hold);
    for task in tasks {
        let _ = task.await;
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    rlimit::increase_nofile_limit(65_536)?;
    let mut args = std::env::args().skip(1);
    let mut binary = std::env::current_exe()?.with_file_name("conformance").display().to_string();
    while let Some(arg) = args.next() {
        if arg == "--server" {
            binary = args.next().ok_or("--server PATH")?;
        }
    }
    let server = Server::start(&binary)?;
    let (stop, stopped) = watch::channel(());
    let rtts = Arc::new(Mutex::new(Vec::new()));
    // The well-behaved client on a thread and runtime of its own, so the load this process
    // generates does not delay it: what it measures is the server.
    let witness_thread = {
        let (addr, rtts) = (server.addr, rtts.clone());
        std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let witnessed = runtime.block_on(witness(addr, stopped)).map_err(|e| e.to_string())?;
            if let Ok(mut all) = rtts.lock() {
                all.extend_from_slice(&witnessed);
            }
            Ok(())
        })
    };
    // Let the witness settle, then measure the baseline with it connected.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let baseline = server.fds();
    println!("server {}: baseline {baseline} fds, {} KiB RSS", server.addr, server.rss_kib());
    phase(&server, "websocket clients that stop reading", 200, baseline, stalled_websocket).await;
    for _ in 0..std::env::var("STALL_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(1) {
        phase(&server, "streaming clients that stop reading", 200, baseline, stalled_stream).await;
    }
    phase(&server, "half-open connections (slowloris)", 2000, baseline, half_open).await;
    drop(stop);
    let witnessed = witness_thread.join().map_err(|_| "the witness thread panicked")?;
    let mut rtts = rtts.lock().map(|r| r.clone()).unwrap_or_default();
    rtts.sort();
    let at =
        |q: f64| rtts.get(((rtts.len() as f64 - 1.0) * q) as usize).copied().unwrap_or_default();
    println!(
        "well-behaved client: {} echoes, p50 {:.2?}, p99 {:.2?}, max {:.2?}{}",
        rtts.len(),
        at(0.5),
        at(0.99),
        rtts.last().copied().unwrap_or_default(),
        witnessed.err().map_or(String::new(), |e| format!(" (it failed: {e})"))
    );
    Ok(())
}
