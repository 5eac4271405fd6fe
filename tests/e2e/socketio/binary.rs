//! Binary data: `Binary` nested anywhere in a payload travels as a placeholder in the text
//! frame plus one binary frame per attachment, in both directions.

use ferrio::extract::{Ack, Data};
use ferrio::{AckError, Binary, Ferrio, Payload, Socket};
use ferrio_protocol::socket::PacketKind;
use serde::{Deserialize, Serialize};

use super::{add_echo, echo_ns, next, serve, Client};
use crate::support::{within, STEP};

/// Fields in alphabetical order, so the expected wire text does not depend on whether the
/// server keeps field order or sorts object keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct File {
    data: Binary,
    name: String,
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\xff";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_emits_a_nested_binary_as_placeholder_and_frame() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;

    socket.emit("file", &File { data: Binary::from(PNG), name: "a.png".into() }).unwrap();
    client.expect(r#"451-["file",{"data":{"_placeholder":true,"num":0},"name":"a.png"}]"#).await;
    client.expect_binary(PNG).await;

    // Several attachments, at several depths, numbered in order of appearance.
    let payload = Payload::new()
        .arg(&Binary::from(&b"first"[..]))
        .unwrap()
        .arg(&"text")
        .unwrap()
        .arg(&vec![Binary::from(&b"second"[..]), Binary::from(Vec::new())])
        .unwrap();
    socket.emit("bins", payload).unwrap();
    client
        .expect(
            r#"453-["bins",{"_placeholder":true,"num":0},"text",[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]]"#,
        )
        .await;
    client.expect_binary(b"first").await;
    client.expect_binary(b"second").await;
    client.expect_binary(b"").await;

    // A text packet after them is a plain EVENT again.
    socket.emit("plain", &1).unwrap();
    client.expect(r#"42["plain",1]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_binary_event_reaches_data_and_binary_ack_goes_back() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move {
        add_echo(&socket);
        socket.on("upload", |socket: Socket, Data(file): Data<File>, ack: Ack| async move {
            socket.emit("got", &format!("{}:{}", file.name, file.data.len())).unwrap();
            let reversed: Vec<u8> = file.data.iter().rev().copied().collect();
            let _ = ack.send(&File { data: Binary::from(reversed), name: file.name });
        });
    });
    let (mut client, _) = server.connect().await;
    client.send(r#"451-0["upload",{"data":{"_placeholder":true,"num":0},"name":"x.bin"}]"#).await;
    client.send_binary(&[1, 2, 3]).await;
    client.expect(r#"42["got","x.bin:3"]"#).await;
    client.expect(r#"461-0[{"data":{"_placeholder":true,"num":0},"name":"x.bin"}]"#).await;
    client.expect_binary(&[3, 2, 1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_of_a_raw_payload_keeps_its_attachments() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let header =
        r#"452-["echo",{"a":{"_placeholder":true,"num":0}},[{"_placeholder":true,"num":1}]]"#;
    client.send(header).await;
    client.send_binary(b"one").await;
    client.send_binary(b"two").await;
    client.expect(header).await;
    client.expect_binary(b"one").await;
    client.expect_binary(b"two").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_binary_ack_resolves_emit_with_ack() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;
    let answer = tokio::spawn(socket.emit_with_ack::<(String, Binary)>("need-bytes", &"pls"));
    client.expect(r#"420["need-bytes","pls"]"#).await;
    client.send(r#"461-0["here",{"_placeholder":true,"num":0}]"#).await;
    client.send_binary(&[9, 8, 7]).await;
    let (word, bytes) = within("the binary ack", STEP, answer).await.unwrap().unwrap();
    assert_eq!((word.as_str(), &bytes[..]), ("here", &[9u8, 8, 7][..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_in_another_namespace() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _root = echo_ns(&io, "/");
    let mut custom = echo_ns(&io, "/custom");
    let mut client = Client::open(server.addr).await;
    client.join("/", None).await;
    client.join("/custom", None).await;
    let socket = next(&mut custom).await;

    socket.emit("b", &Binary::from(&b"xyz"[..])).unwrap();
    client.expect(r#"451-/custom,["b",{"_placeholder":true,"num":0}]"#).await;
    client.expect_binary(b"xyz").await;

    client.send(r#"451-/custom,["echo",{"_placeholder":true,"num":0}]"#).await;
    client.send_binary(b"back").await;
    client.expect(r#"451-/custom,["echo",{"_placeholder":true,"num":0}]"#).await;
    client.expect_binary(b"back").await;

    let answer = tokio::spawn(socket.emit_with_ack::<Binary>("ask", Payload::new()));
    client.expect(r#"42/custom,0["ask"]"#).await;
    client.send(r#"461-/custom,0[{"_placeholder":true,"num":0}]"#).await;
    client.send_binary(b"acked").await;
    assert_eq!(&within("the ack", STEP, answer).await.unwrap().unwrap()[..], b"acked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_binary_reaches_every_client_with_its_frames() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _sockets = echo_ns(&io, "/");
    let (mut a, _) = server.connect().await;
    let (mut b, _) = server.connect().await;
    io.emit("blob", &File { data: Binary::from(PNG), name: "all".into() }).unwrap();
    a.expect(r#"451-["blob",{"data":{"_placeholder":true,"num":0},"name":"all"}]"#).await;
    a.expect_binary(PNG).await;
    // The same, decoded with ferrio_protocol's decoder.
    let packet = b.recv_packet().await;
    assert_eq!(packet.kind, PacketKind::BinaryEvent);
    assert_eq!((packet.nsp.as_str(), packet.id, packet.event_name()), ("/", None, Some("blob")));
    assert_eq!(packet.attachments, [bytes::Bytes::from_static(PNG)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_attachments_are_accepted_by_default() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (tx, mut rx) = super::channel();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            add_echo(&socket);
            socket.on("many", move |Data(parts): Data<Vec<Binary>>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(parts);
                }
            });
        }
    });
    let (mut client, _) = server.connect().await;
    let placeholders: Vec<String> =
        (0..10).map(|n| format!(r#"{{"_placeholder":true,"num":{n}}}"#)).collect();
    client.send(&format!(r#"4510-["many",[{}]]"#, placeholders.join(","))).await;
    for n in 0..10u8 {
        client.send_binary(&[n; 3]).await;
    }
    let parts = next(&mut rx).await;
    assert_eq!(parts.len(), 10);
    for (n, part) in parts.iter().enumerate() {
        assert_eq!(&part[..], &[n as u8; 3], "attachment {n}");
    }
    client.assert_echo("after ten").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_with_binary_to_a_silent_client_times_out() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;
    let answer = tokio::spawn(
        socket
            .timeout(std::time::Duration::from_millis(100))
            .emit_with_ack::<Binary>("ask", &Binary::from(&b"q"[..])),
    );
    client.expect(r#"451-0["ask",{"_placeholder":true,"num":0}]"#).await;
    client.expect_binary(b"q").await;
    let result = within("the timeout", STEP, answer).await.unwrap();
    assert!(matches!(result, Err(AckError::Timeout)), "{result:?}");
}
