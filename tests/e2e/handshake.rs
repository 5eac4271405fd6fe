//! Opening a session: the open packet's fields and the HTTP headers around it.

use std::collections::HashSet;

use crate::support::{server, Request, MAX_PAYLOAD};

const ORIGIN: &str = "http://example.com";

fn assert_open_fields(open: &serde_json::Value, upgrades: serde_json::Value) {
    let keys: HashSet<&str> = open
        .as_object()
        .expect("open packet is a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        HashSet::from(["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]),
        "{open}"
    );
    let sid = open["sid"].as_str().expect("sid is a string");
    assert!(sid.len() >= 20, "sid {sid:?} is too short to hold 128 random bits");
    assert!(
        sid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "sid {sid:?} is not URL-safe"
    );
    assert_eq!(open["upgrades"], upgrades);
    assert_eq!(open["pingInterval"], 300);
    assert_eq!(open["pingTimeout"], 200);
    assert_eq!(open["maxPayload"], MAX_PAYLOAD);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_open_packet() {
    let server = server().await;
    let response = server
        .send(
            Request::new("GET", &server.target("EIO=4&transport=polling")).header("Origin", ORIGIN),
        )
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/plain; charset=UTF-8"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    let text = response.text();
    assert!(text.starts_with("0{"), "{text:?}");
    assert!(!text.contains('\x1e'), "the handshake response is the open packet alone: {text:?}");
    let open: serde_json::Value = serde_json::from_str(&text[1..]).expect("open JSON");
    assert_open_fields(&open, serde_json::json!(["websocket"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_open_packet() {
    let server = server().await;
    let (ws, open) = server.handshake_ws().await;
    assert_open_fields(&open, serde_json::json!([]));
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sids_are_unique() {
    let server = server().await;
    let mut sids = HashSet::new();
    for _ in 0..50 {
        let (sid, _) = server.handshake_polling().await;
        assert!(sids.insert(sid.clone()), "sid {sid} handed out twice");
        server.post(&sid, "1").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_post_answers_ok() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    let target = server.target(&format!("EIO=4&transport=polling&sid={sid}"));
    let response =
        server.send(Request::new("POST", &target).header("Origin", ORIGIN).body("4hello")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "ok");
    assert_eq!(response.header("content-type"), Some("text/html"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));

    let response = server.send(Request::new("GET", &target).header("Origin", ORIGIN)).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "4hello");
    assert_eq!(response.header("content-type"), Some("text/plain; charset=UTF-8"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    server.post(&sid, "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_answers_204() {
    let server = server().await;
    let (sid, _) = server.handshake_polling().await;
    for query in
        ["EIO=4&transport=polling".to_owned(), format!("EIO=4&transport=polling&sid={sid}")]
    {
        let request = Request::new("OPTIONS", &server.target(&query))
            .header("Origin", ORIGIN)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type");
        let response = server.send(request).await;
        assert_eq!(response.status, 204, "{response:?}");
        assert_eq!(response.header("access-control-allow-origin"), Some("*"), "{response:?}");
        let methods = response
            .header("access-control-allow-methods")
            .unwrap_or_default()
            .to_ascii_uppercase();
        assert!(methods.contains("GET") && methods.contains("POST"), "allowed methods {methods:?}");
        assert!(response.body.is_empty());
    }
    server.post(&sid, "1").await;
}
