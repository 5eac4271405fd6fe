//! The Socket.IO layer over HTTP long-polling: the same packets, batched with `\x1e`, binary
//! attachments as `b<base64>`.

use std::net::SocketAddr;

use ferrio::engine::TransportKind;
use ferrio::{Binary, DisconnectReason, Ferrio, Socket};

use super::{channel, echo_ns, next, serve};
use crate::support::http::{send, Request, Response};
use crate::support::{b64, unb64};

fn target(sid: Option<&str>) -> String {
    match sid {
        Some(sid) => format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
        None => "/socket.io/?EIO=4&transport=polling".to_owned(),
    }
}

/// `GET` on polling session `sid`; asserts a 200.
pub(crate) async fn get(addr: SocketAddr, sid: &str) -> Response {
    let response = send(addr, &Request::new("GET", &target(Some(sid)))).await;
    assert_eq!(response.status, 200, "{response:?}");
    response
}

/// `POST` of `body` on polling session `sid`; asserts `ok`.
async fn post(addr: SocketAddr, sid: &str, body: &str) {
    let request = Request::new("POST", &target(Some(sid)))
        .header("Content-Type", "text/plain;charset=UTF-8")
        .body(body);
    let response = send(addr, &request).await;
    assert_eq!((response.status, response.text()), (200, "ok"), "{response:?}");
}

/// Opens a polling session; returns its Engine.IO sid.
async fn handshake(addr: SocketAddr) -> String {
    let response = send(addr, &Request::new("GET", &target(None))).await;
    assert_eq!(response.status, 200, "{response:?}");
    let open: serde_json::Value =
        serde_json::from_str(response.text().strip_prefix('0').expect("open packet")).unwrap();
    open["sid"].as_str().unwrap().to_owned()
}

/// Joins `/` over polling and then never polls: nothing leaves the session's queue, so a test
/// knows exactly when it is full (the CONNECT reply takes the first slot). Returns the Engine.IO
/// sid.
pub(crate) async fn connect_and_stop_polling(addr: SocketAddr) -> String {
    let engine_sid = handshake(addr).await;
    post(addr, &engine_sid, "40").await;
    engine_sid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_over_long_polling() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let engine_sid = handshake(server.addr).await;
    post(server.addr, &engine_sid, "40").await;
    let reply = get(server.addr, &engine_sid).await;
    let sid = reply
        .text()
        .strip_prefix(r#"40{"sid":""#)
        .and_then(|rest| rest.strip_suffix(r#""}"#))
        .unwrap_or_else(|| panic!("expected the CONNECT reply, got {reply:?}"))
        .to_owned();
    assert_ne!(sid, engine_sid);
    let socket = next(&mut sockets).await;
    assert_eq!(socket.id().as_str(), sid);
    assert_eq!(socket.transport(), TransportKind::Polling);

    // Several packets in one POST; the answers come batched in one GET.
    post(server.addr, &engine_sid, "42[\"echo\",1]\x1e42[\"echo\",\"two\"]").await;
    socket.emit("direct", &3).unwrap();
    let mut packets = Vec::new();
    while packets.len() < 3 {
        packets.extend(get(server.addr, &engine_sid).await.packets());
    }
    assert_eq!(packets, [r#"42["echo",1]"#, r#"42["echo","two"]"#, r#"42["direct",3]"#]);

    // Leaving over polling.
    let (tx, mut gone) = channel();
    socket.on_disconnect(move |_: Socket, reason: DisconnectReason| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(reason);
        }
    });
    post(server.addr, &engine_sid, "41").await;
    assert_eq!(next(&mut gone).await, DisconnectReason::ClientNamespaceDisconnect);
    assert!(io.sockets().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_attachments_over_long_polling_are_base64_packets() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let engine_sid = handshake(server.addr).await;
    post(server.addr, &engine_sid, "40").await;
    assert!(get(server.addr, &engine_sid).await.text().starts_with("40{"));
    let socket = next(&mut sockets).await;

    socket.emit("bin", &Binary::from(&[0u8, 1, 2, 255][..])).unwrap();
    let mut packets = Vec::new();
    while packets.len() < 2 {
        packets.extend(get(server.addr, &engine_sid).await.packets());
    }
    assert_eq!(packets[0], r#"451-["bin",{"_placeholder":true,"num":0}]"#);
    assert_eq!(packets[1], format!("b{}", b64(&[0, 1, 2, 255])));

    let header = r#"451-["echo",{"_placeholder":true,"num":0}]"#;
    post(server.addr, &engine_sid, &format!("{header}\x1eb{}", b64(b"up"))).await;
    let mut packets = Vec::new();
    while packets.len() < 2 {
        packets.extend(get(server.addr, &engine_sid).await.packets());
    }
    assert_eq!(packets[0], header);
    let attachment = packets[1].strip_prefix('b').expect("a base64 binary packet");
    assert_eq!(unb64(attachment), b"up");
}
