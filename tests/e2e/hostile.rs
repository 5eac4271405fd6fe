//! Hostile clients: hundreds of sessions sending generated garbage — Engine.IO and Socket.IO
//! packets assembled from pieces that look right, random bytes, bad requests — over every
//! transport, against the conformance server run as its own process. A panic anywhere in the
//! server would only end the task it happened in (tokio catches it), so the test reads the
//! server's stderr: it must hold no panic. Every request must be answered (no 5xx), every
//! websocket must end when closed, and a client connected the whole time keeps echoing.
//!
//! The inputs come from a seeded generator; `FERRIO_HOSTILE_SEED=<n>` replays a run.

use std::net::SocketAddr;
use std::sync::Mutex;

use futures_util::{stream, SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::streaming::client::SseStream;
use crate::support::http::{send, Request};
use crate::support::process::ServerProcess;
use crate::support::{within, Frame, STEP};

/// How many hostile rounds, and how many run at once.
const ROUNDS: u64 = 600;
const CONCURRENCY: usize = 20;

/// The events the conformance server handles, as JSON strings.
const HANDLED: &[&str] = &[
    "\"echo\"",
    "\"echo-ack\"",
    "\"join\"",
    "\"leave\"",
    "\"room-broadcast\"",
    "\"server-ask\"",
    "\"message\"",
    "\"message-with-ack\"",
];

/// Pieces hostile packets are made of (with [`HANDLED`]): packet types, namespaces, JSON
/// fragments, reserved names and placeholders, numbers at the edges, odd characters.
const PIECES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "40",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "451-",
    "461-",
    "/custom,",
    "/admin,",
    "/nope,",
    "/",
    ",",
    "[",
    "]",
    "{",
    "}",
    "\"",
    ":",
    "\"bye\"",
    "\"connect\"",
    "\"disconnect\"",
    "\"newListener\"",
    "{\"_placeholder\":true,\"num\":0}",
    "{\"_placeholder\":true,\"num\":-1}",
    "{\"_placeholder\":true,\"num\":1.5}",
    "{\"_placeholder\":true}",
    "\"_placeholder\"",
    "true",
    "null",
    "-1",
    "0",
    "7",
    "99",
    "1e400",
    "18446744073709551616",
    "-0",
    "\\u0000",
    "\\ud800",
    "é",
    "🦀",
    "\u{0}",
    "\x1e",
    "b",
    "bAAAA",
    "b!!",
    "probe",
    "2probe",
    "3probe",
    "{\"sid\":\"x\"}",
    "{\"token\":\"secret\"}",
    "{\"pid\":\"x\",\"offset\":\"1\"}",
    "[\"echo\",",
    "[\"join\",\"r\"]",
    "[\"room-broadcast\",\"r\",1]",
    " ",
    "\n",
    "\r\n",
    "data:",
    "event: b64",
];

/// A small seeded generator (xorshift64*): the same seed, the same inputs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// One to `max` pieces, concatenated.
    fn packet(&mut self, max: usize) -> String {
        (0..1 + self.below(max))
            .map(|_| if self.chance(15) { self.pick(HANDLED) } else { self.pick(PIECES) })
            .collect()
    }

    /// A valid EVENT for namespace `nsp` (`""` or `"/custom,"`) that the server handles, with
    /// generated arguments: `42…`, or `451-…` with one placeholder (the attachment follows);
    /// returns it and its number of attachments.
    fn event(&mut self, nsp: &str) -> (String, usize) {
        let id = self.pick(&["", "", "0", "7"]);
        let name = self.pick(HANDLED);
        let args: String =
            (0..self.below(4)).map(|_| format!(",{}", self.json(2, false))).collect();
        if self.chance(20) {
            (format!("451-{nsp}{id}[{name}{args},{{\"_placeholder\":true,\"num\":0}}]"), 1)
        } else {
            (format!("42{nsp}{id}[{name}{args}]"), 0)
        }
    }

    /// A Socket.IO packet that is wrong in one way or another (or right by chance): an EVENT,
    /// ACK or their binary kinds with a bad attachment count, a namespace not joined, a
    /// reserved or invalid event name, numbers and strings JSON cannot hold, bad placeholders.
    fn bad_event(&mut self) -> String {
        let kind = self.pick(&["42", "43", "45", "46"]);
        let attachments =
            if kind >= "45" { self.pick(&["1-", "2-", "0-", "-1-", "11-", ""]) } else { "" };
        let nsp = self.pick(&["", "/custom,", "/admin,", "/nope,"]);
        let id = self.pick(&["", "0", "99999999999999999999", "-1"]);
        let name = self.pick(&[
            "\"echo\"",
            "\"connect\"",
            "\"disconnect\"",
            "\"newListener\"",
            "1",
            "null",
            "{}",
        ]);
        let args: String = (0..self.below(4)).map(|_| format!(",{}", self.json(2, true))).collect();
        format!("{kind}{attachments}{nsp}{id}[{name}{args}]")
    }

    /// A JSON value nested at most `depth` deep; `hostile` picks scalars a JSON parser rejects
    /// or a server must not trust (numbers out of range, lone surrogates, bad placeholders).
    fn json(&mut self, depth: usize, hostile: bool) -> String {
        let scalars: &[&str] = if hostile {
            &[
                "1e400",
                "18446744073709551616",
                "\"\\ud800\"",
                "\"\\u0000\"",
                "-0",
                "{\"_placeholder\":true,\"num\":-1}",
                "{\"_placeholder\":true,\"num\":\"0\"}",
                "{\"_placeholder\":true,\"num\":9}",
            ]
        } else {
            &["0", "-1", "1.5", "true", "null", "\"r\"", "\"é\"", "\"🦀\"", "\"\"", "\"\\n\""]
        };
        match self.below(if depth == 0 { 2 } else { 4 }) {
            0 | 1 => self.pick(scalars).to_owned(),
            2 => {
                let items: Vec<String> =
                    (0..self.below(3)).map(|_| self.json(depth - 1, hostile)).collect();
                format!("[{}]", items.join(","))
            }
            _ => {
                let items: Vec<String> = (0..self.below(3))
                    .map(|i| format!("\"k{i}\":{}", self.json(depth - 1, hostile)))
                    .collect();
                format!("{{{}}}", items.join(","))
            }
        }
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        (0..self.below(max + 1)).map(|_| self.next() as u8).collect()
    }
}

/// A Socket.IO client on `/` that stays connected through the whole test, answering pings,
/// and echoes on request.
struct Witness {
    requests: mpsc::UnboundedSender<(String, oneshot::Sender<()>)>,
}

impl Witness {
    async fn connect(addr: SocketAddr) -> Self {
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let (mut ws, _) =
            within("witness connect", STEP, tokio_tungstenite::connect_async(url)).await.unwrap();
        ws.send(Message::text("40")).await.unwrap();
        let (requests, mut rx) = mpsc::unbounded_channel::<(String, oneshot::Sender<()>)>();
        tokio::spawn(async move {
            let mut waiting: Option<(String, oneshot::Sender<()>)> = None;
            loop {
                tokio::select! {
                    request = rx.recv(), if waiting.is_none() => {
                        let Some((token, done)) = request else { return };
                        let packet = format!(r#"42["echo","{token}"]"#);
                        if ws.send(Message::text(packet.clone())).await.is_err() {
                            return;
                        }
                        waiting = Some((packet, done));
                    }
                    frame = ws.next() => match frame {
                        Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                            if ws.send(Message::text("3")).await.is_err() {
                                return;
                            }
                        }
                        Some(Ok(Message::Text(text))) => {
                            if waiting.as_ref().is_some_and(|(p, _)| p == text.as_str()) {
                                if let Some((_, done)) = waiting.take() {
                                    let _ = done.send(());
                                }
                            }
                        }
                        Some(Ok(_)) => {}
                        None | Some(Err(_)) => return,
                    }
                }
            }
        });
        Witness { requests }
    }

    async fn assert_echo(&self, token: &str) {
        let (done, echoed) = oneshot::channel();
        self.requests.send((token.to_owned(), done)).expect("the witness is connected");
        within(&format!("the witness's echo {token}"), STEP, echoed)
            .await
            .unwrap_or_else(|_| panic!("the witness lost its connection before echo {token}"));
    }
}

fn path(rng: &mut Rng) -> &'static str {
    rng.pick(&["/socket.io/", "/socket.io/", "/recovery/", "/engine.io/"])
}

/// How many responses had each status, to show what the rounds reached.
static STATUSES: Mutex<Vec<(u16, usize)>> = Mutex::new(Vec::new());

/// Asserts the server answered, and not with a server error.
fn assert_answered(what: &str, status: u16) {
    assert!((100..500).contains(&status), "{what}: status {status}");
    let mut statuses = STATUSES.lock().unwrap();
    match statuses.iter_mut().find(|(s, _)| *s == status) {
        Some((_, n)) => *n += 1,
        None => statuses.push((status, 1)),
    }
}

/// A websocket session sending hostile frames; the connection must end once closed.
async fn websocket_round(addr: SocketAddr, rng: &mut Rng) {
    let path = path(rng);
    let url = format!("ws://{addr}{path}?EIO=4&transport=websocket");
    let (mut ws, _) = match within("connect", STEP, tokio_tungstenite::connect_async(url)).await {
        Ok(connected) => connected,
        Err(err) => panic!("websocket handshake on {path} refused: {err}"),
    };
    // Mostly valid events after a CONNECT, so that the hostile ones reach deep: past the
    // decoder into the handlers, the acks and the rooms.
    let nsp = rng.pick(&["", "/custom,"]);
    let _ = ws.send(Message::text(format!("40{nsp}"))).await;
    'sending: for _ in 0..1 + rng.below(8) {
        let mut messages = Vec::new();
        match rng.below(10) {
            0..=5 => {
                let (event, attachments) = rng.event(nsp);
                messages.push(Message::text(event));
                messages.extend((0..attachments).map(|_| Message::binary(rng.bytes(16))));
            }
            6 | 7 => messages.push(Message::text(rng.bad_event())),
            8 => messages.push(Message::text(rng.packet(12))),
            _ => messages.push(Message::binary(rng.bytes(64))),
        }
        for message in messages {
            if ws.send(message).await.is_err() {
                break 'sending;
            }
        }
    }
    let _ = ws.send(Message::Close(None)).await;
    within(&format!("the websocket on {path} to end after close"), STEP, async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// A polling session posting a hostile body, then polling once.
async fn polling_round(addr: SocketAddr, rng: &mut Rng) {
    let path = path(rng);
    let handshake =
        send(addr, &Request::new("GET", &format!("{path}?EIO=4&transport=polling"))).await;
    assert_eq!(handshake.status, 200, "polling handshake on {path}: {handshake:?}");
    let sid = std::str::from_utf8(&handshake.body)
        .ok()
        .and_then(|t| t.strip_prefix('0'))
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .and_then(|open| open["sid"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no sid in {handshake:?}"));
    let target = format!("{path}?EIO=4&transport=polling&sid={sid}");
    if rng.chance(70) {
        let join = Request::new("POST", &target).header("Content-Type", "text/plain").body("40");
        assert_answered("POST 40", send(addr, &join).await.status);
    }
    let body = if rng.chance(15) {
        rng.bytes(64)
    } else {
        let packets: Vec<String> = (0..1 + rng.below(4))
            .map(|_| match rng.below(6) {
                0 | 1 => match rng.event("") {
                    (event, 0) => event,
                    (event, _) => format!("{event}\x1ebAQID"),
                },
                2 => rng.bad_event(),
                3 => format!("b{}", rng.pick(&["AQID", "", "!", "AAAA====", "/w=="])),
                _ => rng.packet(10),
            })
            .collect();
        packets.join("\x1e").into_bytes()
    };
    let content_type =
        rng.pick(&["text/plain;charset=UTF-8", "text/plain", "application/octet-stream", ""]);
    let mut post = Request::new("POST", &target).body(body);
    if !content_type.is_empty() {
        post = post.header("Content-Type", content_type);
    }
    assert_answered("hostile POST", send(addr, &post).await.status);
    if rng.chance(25) {
        // Answered within a ping interval: with a packet, a ping, a close or an error.
        assert_answered("poll", send(addr, &Request::new("GET", &target)).await.status);
    }
}

/// A streaming session receiving a hostile POST.
async fn streaming_round(addr: SocketAddr, rng: &mut Rng) {
    let path = path(rng);
    let mut stream = SseStream::open(
        addr,
        &format!("{path}?EIO=4&transport=streaming"),
        "HTTP/1.1",
        &[("Accept", "text/event-stream")],
    )
    .await;
    assert_eq!(stream.status, 200, "streaming handshake on {path}");
    let Frame::Text(open) = stream.next().await else { panic!("expected the open packet") };
    let sid = open
        .strip_prefix('0')
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .and_then(|open| open["sid"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no sid in {open:?}"));
    let target = format!("{path}?EIO=4&transport=streaming&sid={sid}");
    for _ in 0..1 + rng.below(3) {
        let body = match rng.below(6) {
            0 => rng.bytes(64),
            1 | 2 => rng.event("").0.into_bytes(),
            3 => rng.bad_event().into_bytes(),
            _ => rng.packet(10).into_bytes(),
        };
        let post = Request::new("POST", &target).header("Content-Type", "text/plain").body(body);
        assert_answered("hostile streaming POST", send(addr, &post).await.status);
    }
}

/// One request with a random method, path, query and headers.
async fn request_round(addr: SocketAddr, rng: &mut Rng) {
    let method = rng.pick(&["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"]);
    let path = rng.pick(&[
        "/socket.io/",
        "/engine.io/",
        "/recovery/",
        "/socket.io/ferrio.js",
        "/socket.io/../Cargo.toml",
        "/socket.io/%2e%2e/x.js",
        "/socket.io/socket.js",
        "/socket.io",
        "/nowhere",
    ]);
    let mut query = Vec::new();
    if rng.chance(90) {
        query.push(format!("EIO={}", rng.pick(&["4", "3", "5", "", "x", "4&EIO=3", "04"])));
    }
    // A streaming handshake is an endless response: only with a sid, which will be unknown.
    let transport = rng.pick(&["polling", "websocket", "streaming", "", "quic", "polling%00"]);
    if rng.chance(85) {
        query.push(format!("transport={transport}"));
    }
    if transport == "streaming" || rng.chance(50) {
        query.push(format!("sid={}", rng.pick(&["", "x", "AAAAAAAAAAAAAAAAAAAAAA", "%ff", "../"])));
    }
    if rng.chance(20) {
        query.push(format!("t={}", rng.packet(2).replace(['&', ' ', '\n', '\r', '#'], "")));
    }
    let target = format!("{path}?{}", query.join("&"));
    let mut request = Request::new(method, &target);
    for _ in 0..rng.below(3) {
        let (name, value) = match rng.below(5) {
            0 => ("Origin", rng.pick(&["http://evil.example", "null", ""])),
            1 => ("Content-Type", rng.pick(&["text/plain", "application/octet-stream", "x/y"])),
            2 => ("Upgrade", "websocket"),
            3 => ("Sec-WebSocket-Version", rng.pick(&["13", "8", "x"])),
            _ => ("Accept-Encoding", rng.pick(&["gzip", "br", "*"])),
        };
        request = request.header(name, value);
    }
    if matches!(method, "POST" | "PUT" | "PATCH") {
        request = request.body(rng.packet(6));
    }
    let response = send(addr, &request).await;
    assert_answered(&format!("{method} {target}"), response.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_neither_panic_the_server_nor_disturb_others() {
    let seed: u64 = std::env::var("FERRIO_HOSTILE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_F3B1);
    eprintln!("hostile clients: seed {seed} (FERRIO_HOSTILE_SEED={seed} replays this run)");
    let server = ServerProcess::start();
    let addr = server.addr;
    let witness = Witness::connect(addr).await;
    witness.assert_echo("before").await;

    let rounds = stream::iter(0..ROUNDS)
        .map(|round| async move {
            let mut rng = Rng::new(seed ^ round);
            match rng.below(4) {
                0 => websocket_round(addr, &mut rng).await,
                1 => polling_round(addr, &mut rng).await,
                2 => streaming_round(addr, &mut rng).await,
                _ => request_round(addr, &mut rng).await,
            }
            round
        })
        .buffer_unordered(CONCURRENCY);
    tokio::pin!(rounds);
    let mut done = 0;
    while let Some(round) = rounds.next().await {
        done += 1;
        if done % 100 == 0 {
            witness.assert_echo(&format!("after {done} rounds (last {round})")).await;
        }
    }
    witness.assert_echo("after").await;
    let mut statuses = STATUSES.lock().unwrap().clone();
    statuses.sort_unstable();
    eprintln!("hostile clients: {ROUNDS} rounds; HTTP statuses (status, count): {statuses:?}");

    let stderr = server.stop();
    assert!(!stderr.contains("panicked"), "the server panicked:\n{stderr}");
}
