//! Engine.IO v3 on the wire, for Socket.IO v2 clients, when the application allows it: length
//! headers in polling payloads (counted in UTF-16 units), binary POST bodies, the client's
//! pings answered with pongs, binary websocket frames that carry their type, the main
//! namespace joined without asking, and sockets named after the Engine.IO session.

use ferrio::Ferrio;

use super::{echo_ns, serve};
use crate::support::http::{send, Request};
use crate::support::{ws, Frame};

fn target(query: &str) -> String {
    format!("/socket.io/?EIO=3&{query}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_speaks_engine_io_v3() {
    let (server, io) = serve(Ferrio::builder().allow_eio3(true)).await;
    let mut sockets = echo_ns(&io, "/");
    let open = send(server.addr, &Request::new("GET", &target("transport=polling"))).await;
    let body = open.text();
    // `<length>:0{…}` then the main namespace's CONNECT reply, `2:40`.
    let (len, rest) = body.split_once(':').expect("a length header");
    let open_packet: String = rest.chars().take(len.parse().unwrap()).collect();
    assert!(open_packet.starts_with("0{"), "{body}");
    assert!(body.ends_with("2:40"), "the main namespace is joined without asking: {body}");
    let json: serde_json::Value = serde_json::from_str(&open_packet[1..]).unwrap();
    let sid = json["sid"].as_str().unwrap().to_owned();
    let socket = super::next(&mut sockets).await;
    assert_eq!(socket.id().as_str(), sid, "the socket is named after the session");

    let session = target(&format!("transport=polling&sid={sid}"));
    // A ping from the client and an event whose "é🦀" is 3 UTF-16 units but 6 bytes ("é🦀"
    // counts 1 + 2): the server answers the ping and echoes the event.
    let post = Request::new("POST", &session).body("1:216:42[\"echo\",\"é🦀\"]");
    assert_eq!(send(server.addr, &post).await.text(), "ok");
    let answer = send(server.addr, &Request::new("GET", &session)).await;
    assert_eq!(answer.text(), "1:316:42[\"echo\",\"é🦀\"]");

    // A binary body: a BINARY_EVENT header as text, its attachment as binary.
    let header = r#"451-["echo",{"_placeholder":true,"num":0}]"#;
    let mut body = vec![0u8];
    body.extend(header.len().to_string().bytes().map(|d| d - b'0'));
    body.push(255);
    body.extend_from_slice(header.as_bytes());
    body.extend_from_slice(&[1, 3, 255, 4, 7, 8]);
    let post = Request::new("POST", &session)
        .header("Content-Type", "application/octet-stream")
        .body(body);
    assert_eq!(send(server.addr, &post).await.text(), "ok");
    let answer = send(server.addr, &Request::new("GET", &session)).await;
    // Sent back as text, the attachment as `b4<base64>`.
    assert_eq!(answer.text(), format!("{}:{header}6:b4Bwg=", header.chars().count()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_binary_frames_carry_their_type() {
    let (server, io) = serve(Ferrio::builder().allow_eio3(true)).await;
    let _sockets = echo_ns(&io, "/");
    let url = format!("ws://{}{}", server.addr, target("transport=websocket"));
    let mut ws = ws::connect(&url).await.expect("a websocket");
    let Frame::Text(open) = ws.next_frame().await else { panic!("no open packet") };
    assert!(open.starts_with("0{"));
    assert_eq!(ws.next_frame().await, Frame::Text("40".into()));
    ws.send_text(r#"451-["echo",{"_placeholder":true,"num":0}]"#).await;
    ws.send_binary(vec![4, 9, 9]).await;
    assert_eq!(
        ws.next_frame().await,
        Frame::Text(r#"451-["echo",{"_placeholder":true,"num":0}]"#.into())
    );
    assert_eq!(ws.next_frame().await, Frame::Binary(vec![4, 9, 9]));
    ws.send_text("2").await;
    assert_eq!(
        ws.next_frame().await,
        Frame::Text("3".into()),
        "the server answers the client's ping"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_io_v3_is_refused_unless_allowed_and_never_streams_or_serves_jsonp() {
    let (server, _io) = serve(Ferrio::builder()).await;
    let refused = send(server.addr, &Request::new("GET", &target("transport=polling"))).await;
    crate::support::assert_error(
        &refused,
        400,
        r#"{"code":5,"message":"Unsupported protocol version"}"#,
    );
    let (server, _io) = serve(Ferrio::builder().allow_eio3(true)).await;
    let streaming = send(server.addr, &Request::new("GET", &target("transport=streaming"))).await;
    crate::support::assert_error(&streaming, 400, r#"{"code":0,"message":"Transport unknown"}"#);
    let jsonp = send(server.addr, &Request::new("GET", &target("transport=polling&j=0"))).await;
    crate::support::assert_error(
        &jsonp,
        400,
        r#"{"code":3,"message":"JSONP polling is not supported"}"#,
    );
}
