//! Namespaces: unknown ones are refused (the connection stays open), several share one
//! connection, and dynamic namespaces are created on first connect.

use ferrio::{ConnectError, Ferrio, Socket};

use super::{channel, echo_ns, next, serve, Client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_namespace_is_refused_and_the_connection_stays_open() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _sockets = echo_ns(&io, "/");
    let mut client = server.open().await;
    client.send("40/nope,").await;
    client.expect(r#"44/nope,{"message":"Invalid namespace"}"#).await;
    client.send(r#"40/nope,{"token":"x"}"#).await;
    client.expect(r#"44/nope,{"message":"Invalid namespace"}"#).await;
    // Without the trailing comma, as some clients send it.
    client.send("40/nope").await;
    client.expect(r#"44/nope,{"message":"Invalid namespace"}"#).await;
    assert!(io.of("/nope").is_none(), "a refused path is not created");

    client.join("/", None).await;
    client.assert_echo("still open").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_main_namespace_exists_by_default() {
    let (server, io) = serve(Ferrio::builder()).await;
    assert_eq!(io.namespaces(), vec!["/".to_owned()]);
    let mut client = server.open().await;
    // `/` works without any handler registered…
    client.join("/", None).await;
    // …while any other path is unknown.
    client.send("40/custom,").await;
    client.expect(r#"44/custom,{"message":"Invalid namespace"}"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_namespaces_over_one_connection() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut root = echo_ns(&io, "/");
    let mut custom = echo_ns(&io, "/custom");
    let mut client = Client::open(server.addr).await;
    // Joining `/custom` first does not join `/`.
    let custom_sid = client.join("/custom", None).await;
    assert!(io.sockets().is_empty());
    let root_sid = client.join("/", None).await;
    assert_ne!(root_sid, custom_sid);
    let root_socket = next(&mut root).await;
    let custom_socket = next(&mut custom).await;
    assert_eq!((root_socket.ns(), custom_socket.ns()), ("/", "/custom"));
    assert_eq!(root_socket.engine().id(), custom_socket.engine().id(), "one Engine.IO session");

    client.send(r#"42["echo","a"]"#).await;
    client.send(r#"42/custom,["echo","b"]"#).await;
    client.expect(r#"42["echo","a"]"#).await;
    client.expect(r#"42/custom,["echo","b"]"#).await;

    // Leaving `/custom` leaves `/` alone.
    client.send("41/custom,").await;
    client.assert_echo("root alive").await;
    assert!(io.of("/custom").unwrap().sockets().is_empty());
    assert_eq!(io.sockets().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_or_ack_for_a_namespace_not_joined_closes_the_connection() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _root = echo_ns(&io, "/");
    let _custom = echo_ns(&io, "/custom");
    // As Socket.IO: an invalid state, and the whole connection closes (its other namespaces
    // too); other clients carry on.
    let (mut witness, _) = server.connect().await;
    for packet in [
        r#"42/custom,["echo","not joined"]"#,
        r#"42/unknown,["echo","no such namespace"]"#,
        r#"43/custom,0["stray ack"]"#,
    ] {
        let (mut client, _) = server.connect().await;
        client.send(packet).await;
        client.expect_closed().await;
    }
    // A DISCONNECT for a namespace not joined is ignored (a client that left twice).
    let (mut client, _) = server.connect().await;
    client.send("41/custom,").await;
    client.assert_echo("still here").await;
    witness.assert_echo("unaffected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_namespace_by_pattern() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (tx, mut sockets) = channel();
    io.dyn_ns("/rooms/{id}", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            super::add_echo(&socket);
            socket.emit("where", socket.ns()).unwrap();
            let _ = tx.send(socket);
        }
    });
    let mut client = server.open().await;
    client.join("/rooms/42", None).await;
    client.expect(r#"42/rooms/42,["where","/rooms/42"]"#).await;
    client.join("/rooms/abc", None).await;
    client.expect(r#"42/rooms/abc,["where","/rooms/abc"]"#).await;
    let first = next(&mut sockets).await;
    let second = next(&mut sockets).await;
    assert_eq!((first.ns(), second.ns()), ("/rooms/42", "/rooms/abc"));

    // Each child is its own namespace.
    let child = io.of("/rooms/42").expect("the child exists after the first connect");
    assert_eq!(child.sockets().len(), 1);
    child.emit("only-42", &1).unwrap();
    io.of("/rooms/abc").unwrap().emit("only-abc", &2).unwrap();
    client.expect(r#"42/rooms/42,["only-42",1]"#).await;
    client.expect(r#"42/rooms/abc,["only-abc",2]"#).await;
    let mut namespaces = io.namespaces();
    namespaces.sort();
    assert_eq!(namespaces, ["/", "/rooms/42", "/rooms/abc"]);

    // Paths that do not match the pattern.
    for path in ["/rooms", "/rooms/", "/rooms/1/2", "/other/1"] {
        client.send(&format!("40{path},")).await;
        client.expect(&format!(r#"44{path},{{"message":"Invalid namespace"}}"#)).await;
    }

    // A second client joins the same child.
    let mut other = server.open().await;
    other.join("/rooms/42", None).await;
    other.expect(r#"42/rooms/42,["where","/rooms/42"]"#).await;
    assert_eq!(child.sockets().len(), 2);
    child.emit("both", &3).unwrap();
    client.expect(r#"42/rooms/42,["both",3]"#).await;
    other.expect(r#"42/rooms/42,["both",3]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_namespace_by_predicate_with_middleware() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.dyn_ns_fn(
        |path: &str| path.starts_with("/tenant-"),
        |socket: Socket| async move {
            socket.emit("tenant", socket.ns().trim_start_matches("/tenant-")).unwrap();
        },
    )
    .middleware(|socket: Socket| async move {
        if socket.ns() == "/tenant-blocked" {
            Err(ConnectError::new("blocked"))
        } else {
            Ok(())
        }
    });
    let mut client = server.open().await;
    client.join("/tenant-acme", None).await;
    client.expect(r#"42/tenant-acme,["tenant","acme"]"#).await;
    client.send("40/tenant-blocked,").await;
    client.expect(r#"44/tenant-blocked,{"message":"blocked"}"#).await;
    client.send("40/tenants,").await;
    client.expect(r#"44/tenants,{"message":"Invalid namespace"}"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_namespace_wins_over_a_dynamic_one() {
    let (server, io) = serve(Ferrio::builder()).await;
    io.dyn_ns("/ns/{x}", |socket: Socket| async move {
        socket.emit("from", "dynamic").unwrap();
    });
    io.ns("/ns/fixed", |socket: Socket| async move {
        socket.emit("from", "static").unwrap();
    });
    let mut client = server.open().await;
    client.join("/ns/fixed", None).await;
    client.expect(r#"42/ns/fixed,["from","static"]"#).await;
    client.join("/ns/other", None).await;
    client.expect(r#"42/ns/other,["from","dynamic"]"#).await;
}
