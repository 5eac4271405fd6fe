//! Two engines as one, without sticky sessions: a session's id names its owner node, and a
//! request for it that reaches the other node is forwarded to the owner — polling GETs and
//! POSTs, a stream (its events passed on as they come), a websocket upgrade — so a client
//! behind a round-robin balancer works as against one node. A node gone answers "Session ID
//! unknown".

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use ferrio::engine::{EngineConfig, EngineIo, NodeDirectory};

use crate::streaming::client::SseStream;
use crate::support::http::{send, Request};
use crate::support::{assert_error, within, ws, Frame, SESSION_ID_UNKNOWN, STEP};

/// A fixed directory: this node's tag, and where every node is.
struct Fixed {
    me: &'static str,
    nodes: Vec<(&'static str, SocketAddr)>,
}

impl NodeDirectory for Fixed {
    fn node_tag(&self) -> &str {
        self.me
    }
    fn node_address(&self, tag: &str) -> Option<SocketAddr> {
        self.nodes.iter().find(|(t, _)| *t == tag).map(|(_, a)| *a)
    }
}

/// Two engine echoes tagged `aaaa` and `bbbb` that know each other, and a third tag `cccc` at
/// an address nobody listens on (a node that died).
async fn cluster() -> (SocketAddr, SocketAddr) {
    let a = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nodes = vec![
        ("aaaa", a.local_addr().unwrap()),
        ("bbbb", b.local_addr().unwrap()),
        ("cccc", dead.local_addr().unwrap()),
    ];
    drop(dead);
    let addrs = (nodes[0].1, nodes[1].1);
    for (listener, me) in [(a, "aaaa"), (b, "bbbb")] {
        let directory = Arc::new(Fixed { me, nodes: nodes.clone() });
        let config = EngineConfig::builder().node_directory(directory);
        let (layer, _engine) = EngineIo::new(config, ferrio_tests::conformance::Echo);
        tokio::spawn(ferrio::serve(listener, axum::Router::new().layer(layer)).into_future());
    }
    addrs
}

fn target(query: &str) -> String {
    format!("/engine.io/?EIO=4&{query}")
}

async fn handshake(addr: SocketAddr, transport: &str) -> String {
    let answer = send(addr, &Request::new("GET", &target(&format!("transport={transport}")))).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let open: serde_json::Value = serde_json::from_str(&answer.text()[1..]).unwrap();
    open["sid"].as_str().unwrap().to_owned()
}

/// Polling through either node: the session opened on `aaaa` answers POSTs and GETs sent to
/// `bbbb`, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_requests_reach_their_session_through_any_node() {
    let (a, b) = cluster().await;
    let sid = handshake(a, "polling").await;
    assert!(sid.starts_with("aaaa"), "{sid}");
    let session = target(&format!("transport=polling&sid={sid}"));
    for (i, node) in [b, a, b, b, a].into_iter().enumerate() {
        let post = Request::new("POST", &session).body(format!("4m{i}"));
        assert_eq!(send(node, &post).await.text(), "ok");
        let other = if node == a { b } else { a };
        assert_eq!(send(other, &Request::new("GET", &session)).await.text(), format!("4m{i}"));
    }
    assert_eq!(send(b, &Request::new("POST", &session).body("1")).await.text(), "ok");
    assert_error(&send(b, &Request::new("GET", &session)).await, 400, SESSION_ID_UNKNOWN);
}

/// A stream attached through the other node gets its events as they are sent, not at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_through_the_other_node_passes_events_on_as_they_come() {
    let (a, b) = cluster().await;
    let mut stream = SseStream::open(a, &target("transport=streaming"), "HTTP/1.1", &[]).await;
    let Frame::Text(open) = stream.next().await else { panic!("no open packet") };
    let open: serde_json::Value = serde_json::from_str(&open[1..]).unwrap();
    let sid = open["sid"].as_str().unwrap().to_owned();
    drop(stream);
    // Re-attached through `bbbb` once `aaaa` saw the first stream go.
    let query = target(&format!("transport=streaming&sid={sid}"));
    let mut stream = within("re-attach through the other node", STEP, async {
        loop {
            let stream = SseStream::open(b, &query, "HTTP/1.1", &[]).await;
            if stream.status == 200 {
                return stream;
            }
        }
    })
    .await;
    for i in 0..3 {
        let post = Request::new("POST", &query).body(format!("4e{i}"));
        assert_eq!(send(if i % 2 == 0 { a } else { b }, &post).await.text(), "ok");
        loop {
            match stream.next().await {
                Frame::Text(ping) if ping == "2" => {}
                frame => {
                    assert_eq!(frame, Frame::Text(format!("4e{i}")));
                    break;
                }
            }
        }
    }
}

/// A polling session opened on `aaaa` upgrades to a websocket opened on `bbbb`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_upgrade_through_the_other_node_takes_the_session_over() {
    let (a, b) = cluster().await;
    let sid = handshake(a, "polling").await;
    let url = format!("ws://{b}{}", target(&format!("transport=websocket&sid={sid}")));
    let mut socket = ws::connect(&url).await.expect("upgraded through bbbb");
    socket.send_text("2probe").await;
    assert_eq!(socket.next_frame().await, Frame::Text("3probe".into()));
    socket.send_text("5").await;
    socket.send_text("4over websocket").await;
    assert_eq!(socket.recv_message().await, Frame::Text("4over websocket".into()));
}

/// A session whose node is gone, or a forwarded request that does not find its session, gets
/// "Session ID unknown": the client reconnects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_of_a_node_gone_is_unknown() {
    let (a, _) = cluster().await;
    let gone = target("transport=polling&sid=ccccAAAAAAAAAAAAAAAAAAAA");
    assert_error(&send(a, &Request::new("GET", &gone)).await, 400, SESSION_ID_UNKNOWN);
    let looped = Request::new("GET", &target("transport=polling&sid=bbbbAAAAAAAAAAAAAAAAAAAA"))
        .header("x-ferrio-forwarded", "1");
    assert_error(&send(a, &looped).await, 400, SESSION_ID_UNKNOWN);
}
