//! Slow and stalled clients: a client that stops reading (over websocket or a stream), trickles
//! a request body, never finishes its request headers, or sends pongs without reading the pings
//! is let go within the heartbeat window, with everything the server held for it. The first
//! tests run the conformance server as its own process and count its open file descriptors:
//! only a real server shows whether a stalled connection was truly given back.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::support::http::{send, Request};
use crate::support::process::ServerProcess;
use crate::support::{within, MARGIN, PING_INTERVAL, PING_TIMEOUT, STEP};

/// When a stalled client's session is over: its heartbeat.
const HEARTBEAT: Duration =
    Duration::from_millis(PING_INTERVAL.as_millis() as u64 + PING_TIMEOUT.as_millis() as u64);

/// How long after a client stalls the server must have let its connection go: the heartbeat,
/// the conformance server's write deadline (a connection stuck in a write is closed by it), and
/// room for a busy machine.
fn let_go() -> Duration {
    HEARTBEAT + ferrio_tests::conformance::WRITE_TIMEOUT + Duration::from_millis(1500)
}

/// Waits until the server holds no more file descriptors than `baseline`, at most `limit`;
/// returns how long it took. (Polled: the server process has no other way to tell.)
async fn until_fds_back(server: &ServerProcess, baseline: usize, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let open = server.open_fds();
        if open <= baseline {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "the server still holds {open} file descriptors ({baseline} before the stalled \
             clients) {limit:?} after they stalled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A websocket client of the engine echo that answers pings and echoes: it must keep working
/// while others stall.
async fn echo_roundtrip(addr: SocketAddr) {
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
    let (mut ws, _) = within("connect", STEP, tokio_tungstenite::connect_async(url)).await.unwrap();
    within("open", STEP, ws.next()).await.unwrap().unwrap();
    ws.send(Message::text("4still here")).await.unwrap();
    within("echo", STEP, async {
        while let Some(Ok(message)) = ws.next().await {
            match message {
                Message::Text(t) if t.as_str() == "4still here" => return,
                Message::Text(t) if t.as_str() == "2" => ws.send(Message::text("3")).await.unwrap(),
                _ => {}
            }
        }
        panic!("the websocket ended before the echo");
    })
    .await;
}

/// Big messages the echo sends back, so a client that does not read fills the server's buffers.
fn big_message() -> String {
    format!("4{}", "x".repeat(64 * 1024))
}

/// Clients of the engine echo over websocket that send big messages and blind pongs but never
/// read: each server task stays stuck in a write until something lets it go. The server must
/// close them all, and give back their sockets, within the heartbeat window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_clients_that_stop_reading_are_let_go_within_the_heartbeat() {
    let server = ServerProcess::start();
    let baseline = server.open_fds();
    let (stop, stopped) = watch::channel(());
    let mut clients = Vec::new();
    for _ in 0..20 {
        let url = format!("ws://{}/engine.io/?EIO=4&transport=websocket", server.addr);
        let tcp = small_window(server.addr).await;
        let (ws, _) =
            within("connect", STEP, tokio_tungstenite::client_async(url, tcp)).await.unwrap();
        let (mut sink, stream) = ws.split();
        let mut stopped = stopped.clone();
        clients.push(tokio::spawn(async move {
            // Writes until the server stops reading (its task is stuck in a write), sending a
            // pong now and then as a client would that never looks at the pings.
            let flood = async {
                for i in 0.. {
                    let frame = if i % 8 == 0 { "3".to_owned() } else { big_message() };
                    if sink.send(Message::text(frame)).await.is_err() {
                        return;
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(3), flood).await;
            // Never reads `stream`; holds the connection until the test is done.
            let _ = stopped.changed().await;
            drop((sink, stream));
        }));
    }
    let took = until_fds_back(&server, baseline, let_go() + Duration::from_secs(3)).await;
    eprintln!("20 websocket clients that stopped reading: let go after {took:?}");
    echo_roundtrip(server.addr).await;
    drop(stop);
    for client in clients {
        client.await.unwrap();
    }
    assert!(!server.stop().contains("panicked"));
}

/// A connection to `addr` with a small receive buffer, so a client that stops reading stalls
/// the server's writes after little data.
async fn small_window(addr: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Reads a streaming response until its open packet; returns the connection (left unread from
/// then on) and the session id.
async fn open_stream(addr: SocketAddr) -> (TcpStream, String) {
    let mut tcp = small_window(addr).await;
    let request = format!(
        "GET /engine.io/?EIO=4&transport=streaming HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let sid = within("the open packet", STEP, async {
        let mut buf = [0u8; 4096];
        loop {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "the stream ended before its open packet");
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen);
            if let Some(start) = text.find("\"sid\":\"") {
                let rest = &text[start + 7..];
                if let Some(end) = rest.find('"') {
                    return rest[..end].to_owned();
                }
            }
        }
    })
    .await;
    (tcp, sid)
}

/// Clients of the engine echo on the streaming transport that POST big messages and never read
/// their stream: the server must end each stream and close its connection within the
/// heartbeat window, instead of holding the frames and the socket for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_clients_that_stop_reading_are_let_go_within_the_heartbeat() {
    let server = ServerProcess::start();
    let baseline = server.open_fds();
    let addr = server.addr;
    let clients: Vec<_> = (0..20)
        .map(|_| {
            tokio::spawn(async move {
                let (tcp, sid) = open_stream(addr).await;
                // Enough echoes, sent at once, to fill every buffer between the server and a
                // client that stopped reading, well before its heartbeat gives up.
                let target = format!("/engine.io/?EIO=4&transport=streaming&sid={sid}");
                let body = vec![big_message(); 8].join("\x1e");
                for _ in 0..16 {
                    let post = Request::new("POST", &target)
                        .header("Content-Type", "text/plain;charset=UTF-8")
                        .body(body.clone());
                    if send(addr, &post).await.status != 200 {
                        break; // the session already ended
                    }
                }
                tcp
            })
        })
        .collect();
    let mut streams = Vec::new();
    for client in clients {
        streams.push(client.await.unwrap());
    }
    let took = until_fds_back(&server, baseline, let_go() + Duration::from_secs(3)).await;
    eprintln!("20 streaming clients that stopped reading: let go after {took:?}");
    echo_roundtrip(server.addr).await;
    drop(streams);
    assert!(!server.stop().contains("panicked"));
}

/// A connection that sends part of a request head and then nothing is closed after the header
/// read timeout (slowloris).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let server = ServerProcess::start();
    let baseline = server.open_fds();
    let mut idle = Vec::new();
    for _ in 0..50 {
        let mut tcp = TcpStream::connect(server.addr).await.unwrap();
        tcp.write_all(b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        idle.push(tcp);
    }
    let limit = ferrio_tests::conformance::HEADER_READ_TIMEOUT + MARGIN + Duration::from_secs(1);
    let mut first = idle.pop().unwrap();
    let mut buf = [0u8; 512];
    let start = Instant::now();
    // Closed: end of stream (or a reset), with at most an error response before it.
    let closed = within("the server closes the connection", limit, async {
        loop {
            match first.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    closed.await;
    eprintln!("a half-sent request head: closed after {:?}", start.elapsed());
    until_fds_back(&server, baseline, limit).await;
    drop(idle);
    assert!(!server.stop().contains("panicked"));
}
