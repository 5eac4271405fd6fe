//! Invalid Socket.IO packets close the offending client's connection (reason `parse error`)
//! and leave every other client alone.

use ferrio::{DisconnectReason, Ferrio, Socket};

use super::{add_echo, channel, next, serve, Client, Server};

/// Connects a victim and a bystander, sends `frames` (text, or binary when prefixed `bin:`)
/// from the victim, and checks only the victim is cut off.
async fn assert_closes(server: &Server, frames: &[&str]) {
    let (mut victim, _) = server.connect().await;
    let (mut bystander, _) = server.connect().await;
    for frame in frames {
        match frame.strip_prefix("bin:") {
            Some(bytes) => victim.send_binary(bytes.as_bytes()).await,
            None => victim.send(frame).await,
        }
    }
    victim.expect_closed().await;
    bystander.assert_echo("unaffected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_packets_close_only_that_connection() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (tx, mut reasons) = channel();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            add_echo(&socket);
            socket.on_disconnect(move |_: Socket, reason: DisconnectReason| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(reason);
                }
            });
        }
    });
    let cases: &[&[&str]] = &[
        &["4{"],
        &["4"],
        &["49"],
        &["42"],
        &["42[\"echo\""],
        &[r#"42{"not":"an array"}"#],
        &["42[]"],
        &["42[null]"],
        &[r#"42["connect"]"#],
        &[r#"42["disconnect",1]"#],
        &[r#"42["disconnecting"]"#],
        &[r#"44{"message":"clients do not send this"}"#],
        &["43[1]"],
        &["42abc[\"echo\"]"],
        &["41{}"],
    ];
    for frames in cases {
        assert_closes(&server, frames).await;
    }
    // Each victim left with a parse error; each bystander later with a transport close
    // (dropped at the end of its check).
    let mut parse_errors = 0;
    for _ in 0..2 * cases.len() {
        match next(&mut reasons).await {
            DisconnectReason::ParseError => parse_errors += 1,
            DisconnectReason::TransportClose => {}
            other => panic!("unexpected disconnect reason {other:?}"),
        }
    }
    assert_eq!(parse_errors, cases.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_event_names_are_refused() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move {
        add_echo(&socket);
        // Even with a handler registered for it.
        socket.on("connect", |socket: Socket| async move {
            socket.emit("reserved-handler-ran", &true).unwrap();
        });
    });
    assert_closes(&server, &[r#"42["connect"]"#]).await;
    assert_closes(&server, &[r#"421["newListener"]"#]).await;
    assert_closes(&server, &[r#"42["removeListener"]"#]).await;
    assert_closes(&server, &[r#"42["connect_error"]"#]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_attachments_close_the_connection() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move { add_echo(&socket) });
    let placeholders: Vec<String> =
        (0..11).map(|n| format!(r#"{{"_placeholder":true,"num":{n}}}"#)).collect();
    let header = format!(r#"4511-["echo",{}]"#, placeholders.join(","));
    assert_closes(&server, &[&header]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attachment_limit_is_configurable() {
    let (server, io) = serve(Ferrio::builder().max_attachments(2)).await;
    io.ns("/", |socket: Socket| async move { add_echo(&socket) });
    let two = r#"452-["echo",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    let (mut ok, _) = server.connect().await;
    ok.send(two).await;
    ok.send_binary(b"a").await;
    ok.send_binary(b"b").await;
    ok.expect(two).await;
    ok.expect_binary(b"a").await;
    ok.expect_binary(b"b").await;
    let three = r#"453-["echo",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]"#;
    assert_closes(&server, &[three]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_out_of_place_close_the_connection() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move { add_echo(&socket) });
    let header = r#"451-["echo",{"_placeholder":true,"num":0}]"#;
    // A binary frame nobody announced.
    assert_closes(&server, &["bin:stray"]).await;
    // A text packet while an attachment is still due.
    assert_closes(&server, &[header, r#"42["echo","too soon"]"#]).await;
    // A placeholder pointing past the announced count.
    assert_closes(&server, &[r#"451-["echo",{"_placeholder":true,"num":1}]"#]).await;
    // An announced attachment no placeholder refers to.
    assert_closes(&server, &[r#"451-["echo","no placeholder"]"#]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_packets_in_another_namespace_close_the_whole_connection() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket| async move { add_echo(&socket) });
    io.ns("/custom", |socket: Socket| async move { add_echo(&socket) });
    let mut victim = Client::open(server.addr).await;
    victim.join("/", None).await;
    victim.join("/custom", None).await;
    let (mut bystander, _) = server.connect().await;
    victim.send(r#"42/custom,["disconnect"]"#).await;
    victim.expect_closed().await;
    bystander.assert_echo("unaffected").await;
    assert_eq!(io.sockets().len(), 1);
    assert!(io.of("/custom").unwrap().sockets().is_empty());
}
