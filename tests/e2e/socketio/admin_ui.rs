//! The server side of the official Socket.IO Admin UI (`io.admin_ui`), on the wire: the login
//! and its refusal, the session id, `config` in each mode, `all_sockets`, the reports of
//! development mode (sockets, rooms, events, upgrades), `server_stats`, and the actions.
//! What the admin client sends is what `@socket.io/admin-ui` 0.5's UI sends; what it expects
//! back, what the package's own server (`instrument()`) sends.

use std::net::SocketAddr;
use std::sync::OnceLock;

use ferrio::admin::{hash_password, AdminMode, AdminUi, AdminUiError};
use ferrio::{Ferrio, Io, Socket};
use ferrio_protocol::socket::PacketKind;
use serde_json::{json, Value};

use super::{add_echo, channel, next, serve, Client, Server};
use crate::support::http::{send, Request};
use crate::support::ws;

const PASSWORD: &str = "changeit";

/// The bcrypt hash of [`PASSWORD`], made once for all tests.
fn hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(PASSWORD).expect("bcrypt")).clone()
}

const ALL_FEATURES: [&str; 9] = [
    "EMIT",
    "JOIN",
    "LEAVE",
    "DISCONNECT",
    "MJOIN",
    "MLEAVE",
    "MDISCONNECT",
    "AGGREGATED_EVENTS",
    "ALL_EVENTS",
];

/// A server with `/` (echo, and its sockets handed to the test) and the admin UI as
/// `options` make it.
async fn admin_server(
    options: AdminUi,
) -> (Server, Io, tokio::sync::mpsc::UnboundedReceiver<Socket>) {
    let (server, io) = serve(Ferrio::builder()).await;
    let (tx, sockets) = channel();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            add_echo(&socket);
            let _ = tx.send(socket);
        }
    });
    io.admin_ui(options).expect("admin UI installed");
    (server, io, sockets)
}

fn login() -> String {
    json!({ "username": "admin", "password": PASSWORD }).to_string()
}

/// The next event of the admin namespace: its name, arguments and binary attachments
/// (`server_stats` skipped).
async fn event_with_attachments(admin: &mut Client) -> (String, Vec<Value>, Vec<bytes::Bytes>) {
    loop {
        let packet = admin.recv_packet().await;
        assert!(
            matches!(packet.kind, PacketKind::Event | PacketKind::BinaryEvent),
            "expected an event, got {packet:?}"
        );
        assert_eq!(packet.nsp, "/admin");
        let Some(Value::Array(mut data)) = packet.data else { panic!("event data: {packet:?}") };
        let Value::String(name) = data.remove(0) else { panic!("event name: {data:?}") };
        if name != "server_stats" {
            return (name, data, packet.attachments);
        }
    }
}

/// The next event of the admin namespace: its name and arguments (`server_stats` skipped).
async fn event(admin: &mut Client) -> (String, Vec<Value>) {
    let (name, args, _) = event_with_attachments(admin).await;
    (name, args)
}

/// Expects the acknowledgement `43/admin,{id}[]` and the event `name`, in either order (the
/// action answers at once; reports go through the admin UI's feed); returns the event's
/// arguments.
async fn expect_ack_and_event(admin: &mut Client, id: u64, name: &str) -> Vec<Value> {
    let mut acked = false;
    let mut args = None;
    while !acked || args.is_none() {
        let packet = admin.recv_packet().await;
        match (packet.kind, packet.data) {
            (PacketKind::Ack, Some(data)) => {
                assert_eq!((packet.nsp.as_str(), packet.id, data), ("/admin", Some(id), json!([])));
                acked = true;
            }
            (PacketKind::Event, Some(Value::Array(mut data))) => {
                let Value::String(got) = data.remove(0) else { panic!("event name: {data:?}") };
                if got != "server_stats" {
                    assert_eq!(got, name, "{data:?}");
                    args = Some(data);
                }
            }
            other => panic!("expected ack {id} and {name}, got {other:?}"),
        }
    }
    args.unwrap_or_default()
}

/// The arguments of the next event, which must be `name`.
async fn expect_event(admin: &mut Client, name: &str) -> Vec<Value> {
    let (got, args) = event(admin).await;
    assert_eq!(got, name, "expected {name}, got {got} {args:?}");
    args
}

/// The arguments of the next `server_stats`, skipping other events.
async fn server_stats(admin: &mut Client) -> Value {
    loop {
        let packet = admin.recv_packet().await;
        if let Some(Value::Array(data)) = packet.data {
            if data.first() == Some(&json!("server_stats")) {
                return data[1].clone();
            }
        }
    }
}

/// Logs in to `/admin` with the right password: the CONNECT reply, then `session` (its id
/// returned), then `config` (its features checked against `features`).
async fn log_in(addr: SocketAddr, features: &[&str]) -> (Client, String) {
    let mut admin = Client::open(addr).await;
    admin.join("/admin", Some(&login())).await;
    let session = expect_event(&mut admin, "session").await;
    let config = expect_event(&mut admin, "config").await;
    assert_eq!(config, [json!({ "supportedFeatures": features })]);
    let id = session[0].as_str().expect("a session id").to_owned();
    (admin, id)
}

/// An ISO 8601 timestamp as JavaScript writes it: `2024-02-29T13:05:09.042Z`.
fn assert_timestamp(value: &Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("a timestamp string: {value:?}"));
    let b = text.as_bytes();
    assert!(
        text.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z',
        "not a JavaScript ISO date: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installing_needs_an_auth_choice_and_a_bcrypt_hash_and_happens_once() {
    let (_layer, io) = Ferrio::builder().build_layer();
    assert_eq!(io.admin_ui(AdminUi::new()).err(), Some(AdminUiError::NoAuth));
    let invalid = io.admin_ui(AdminUi::new().auth("admin", "changeit"));
    assert!(matches!(invalid, Err(AdminUiError::InvalidHash(_))), "{invalid:?}");
    assert!(io.of("/admin").is_none(), "nothing installed after a refusal");
    let ns = io.admin_ui(AdminUi::new().auth("admin", hash())).expect("installed");
    assert_eq!(ns.path(), "/admin");
    assert_eq!(io.admin_ui(AdminUi::new().no_auth()).err(), Some(AdminUiError::AlreadyInstalled));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_or_missing_credentials_get_invalid_credentials() {
    let (server, _io, _sockets) = admin_server(AdminUi::new().auth("admin", hash())).await;
    let mut client = Client::open(server.addr).await;
    for auth in [
        None,
        Some(r#"{"username":"admin","password":"wrong"}"#),
        Some(r#"{"username":"root","password":"changeit"}"#),
        Some(r#"{"username":"admin"}"#),
        Some(r#"{"sessionId":"1234"}"#),
    ] {
        client.send(&super::client::connect_packet("/admin", auth)).await;
        client.expect(r#"44/admin,{"message":"invalid credentials"}"#).await;
    }
    // The connection stays usable: the right credentials get in.
    client.join("/admin", Some(&login())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_gets_a_session_the_config_and_every_socket_and_the_session_logs_in_again() {
    let (server, _io, mut sockets) = admin_server(AdminUi::new().auth("admin", hash())).await;
    let mut user = Client::open(server.addr).await;
    let user_id = user.join("/", None).await;
    next(&mut sockets).await.join(["lobby", "vip"]);

    let (mut admin, session) = log_in(server.addr, &ALL_FEATURES).await;
    let all = expect_event(&mut admin, "all_sockets").await;
    let all = all[0].as_array().expect("a list of sockets");
    assert_eq!(all.len(), 2, "the user's socket and the admin's own: {all:?}");
    let mine = all.iter().find(|s| s["nsp"] == "/").expect("the socket of /");
    assert_eq!(mine["id"], user_id.as_str());
    assert_eq!(mine["transport"], "websocket");
    assert_eq!(mine["data"], json!({}));
    let mut rooms: Vec<&str> =
        mine["rooms"].as_array().expect("rooms").iter().filter_map(Value::as_str).collect();
    rooms.sort_unstable();
    let mut expected = vec![user_id.as_str(), "lobby", "vip"];
    expected.sort_unstable();
    assert_eq!(rooms, expected);
    let client_id = mine["clientId"].as_str().expect("a clientId");
    assert!(client_id.len() == 12 && client_id.bytes().all(|c| c.is_ascii_hexdigit()));
    assert!(!client_id.contains(&user.engine_sid[..12]), "no part of the Engine.IO sid");
    let handshake = &mine["handshake"];
    let keys: Vec<&str> =
        handshake.as_object().expect("handshake").keys().map(String::as_str).collect();
    // No `address`: the e2e server does not give peer addresses (axum::serve without
    // ConnectInfo) and sends no forwarding header.
    assert_eq!(keys, ["headers", "query", "issued", "secure", "time", "url", "xdomain"]);
    assert_eq!(handshake["query"]["EIO"], "4");
    assert_eq!(handshake["query"]["transport"], "websocket");
    assert!(handshake["url"].as_str().is_some_and(|u| u.starts_with("/socket.io/?EIO=4")));
    assert!(handshake["headers"]["host"].is_string());
    assert_eq!(
        (handshake["secure"].clone(), handshake["xdomain"].clone()),
        (json!(false), json!(false))
    );
    assert!(handshake["issued"].as_u64().is_some_and(|ms| ms > 1_600_000_000_000));
    assert!(handshake["time"]
        .as_str()
        .is_some_and(|t| t.ends_with("GMT+0000 (Coordinated Universal Time)")));
    let admin_entry = all.iter().find(|s| s["nsp"] == "/admin").expect("the admin's socket");
    assert_ne!(admin_entry["clientId"], mine["clientId"]);

    let stats = server_stats(&mut admin).await;
    assert_eq!(stats["clientsCount"], 2);
    assert_eq!(stats["pollingClientsCount"], 0);
    assert_eq!(stats["pid"], std::process::id());
    assert!(stats["serverId"].is_string() && stats["hostname"].is_string());
    assert!(stats["uptime"].is_number() && stats["aggregatedEvents"].is_array());
    let namespaces = stats["namespaces"].as_array().expect("namespaces");
    assert!(namespaces.contains(&json!({"name": "/", "socketsCount": 1})), "{namespaces:?}");
    assert!(namespaces.contains(&json!({"name": "/admin", "socketsCount": 1})), "{namespaces:?}");

    // The UI reconnects with its session id alone; it gets no new session.
    let mut again = Client::open(server.addr).await;
    again.join("/admin", Some(&json!({ "sessionId": session }).to_string())).await;
    expect_event(&mut again, "config").await;
    expect_event(&mut again, "all_sockets").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_and_production_modes_restrict_the_features() {
    let (server, _io, mut sockets) =
        admin_server(AdminUi::new().no_auth().read_only(true).mode(AdminMode::Production)).await;
    let (mut user, user_id) = Client::connect(server.addr).await;
    let _socket = next(&mut sockets).await;
    let mut admin = Client::open(server.addr).await;
    admin.join("/admin", None).await;
    // No credentials, no session; no `all_sockets` in production mode.
    admin.expect(r#"42/admin,["config",{"supportedFeatures":["AGGREGATED_EVENTS"]}]"#).await;
    let stats = server_stats(&mut admin).await;
    assert_eq!(stats["clientsCount"], 2);
    // Read-only: the actions are not there (and not acknowledged).
    admin.send(&format!(r#"42/admin,["_disconnect","/",false,"{user_id}"]"#)).await;
    admin.send(&format!(r#"42/admin,["emit","/","{user_id}","hello"]"#)).await;
    user.assert_echo("still connected").await;
    // Production mode reports no socket: a new one goes unnoticed.
    let (_other, _) = Client::connect(server.addr).await;
    let _ = next(&mut sockets).await;
    let stats = server_stats(&mut admin).await;
    assert_eq!(
        stats["namespaces"],
        json!([{"name": "/", "socketsCount": 2}, {"name": "/admin", "socketsCount": 1}])
    );

    let (server, _io, _sockets) = admin_server(AdminUi::new().no_auth().read_only(true)).await;
    let mut admin = Client::open(server.addr).await;
    admin.join("/admin", None).await;
    admin
        .expect(r#"42/admin,["config",{"supportedFeatures":["AGGREGATED_EVENTS","ALL_EVENTS"]}]"#)
        .await;
    let (server, _io, _sockets) = admin_server(AdminUi::new().no_auth()).await;
    let mut admin = Client::open(server.addr).await;
    admin.join("/admin", None).await;
    let features = json!({ "supportedFeatures": ALL_FEATURES });
    admin.expect(&format!(r#"42/admin,["config",{features}]"#)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_rooms_and_events_are_reported_as_they_happen() {
    let (server, _io, mut sockets) = admin_server(AdminUi::new().auth("admin", hash())).await;
    let (mut admin, _) = log_in(server.addr, &ALL_FEATURES).await;
    expect_event(&mut admin, "all_sockets").await;

    let (mut user, user_id) = Client::connect(server.addr).await;
    let socket = next(&mut sockets).await;
    let args = expect_event(&mut admin, "room_joined").await;
    assert_eq!(args[..3], [json!("/"), json!(user_id), json!(user_id)], "its own room first");
    assert_timestamp(&args[3]);
    let args = expect_event(&mut admin, "socket_connected").await;
    assert_eq!((args[0]["id"].clone(), args[0]["nsp"].clone()), (json!(user_id), json!("/")));
    assert_eq!(args[0]["rooms"], json!([user_id]));
    assert_timestamp(&args[1]);

    socket.join(["a", "b"]);
    socket.join("a"); // already in it: not reported again
    socket.leave(["b", "never"]);
    for (event, room) in [("room_joined", "a"), ("room_joined", "b"), ("room_left", "b")] {
        let args = expect_event(&mut admin, event).await;
        assert_eq!(args[..3], [json!("/"), json!(room), json!(user_id)]);
    }

    // Events in both directions, binary included; the echo is `socket.emit`.
    user.send(r#"451-["echo","hi",{"_placeholder":true,"num":0}]"#).await;
    user.send_binary(&[1, 2, 3]).await;
    for expected in ["event_received", "event_sent"] {
        let (name, args, attachments) = event_with_attachments(&mut admin).await;
        assert_eq!(name, expected);
        assert_eq!(args[..2], [json!("/"), json!(user_id)]);
        assert_eq!(args[2], json!(["echo", "hi", {"_placeholder": true, "num": 0}]));
        assert_timestamp(&args[3]);
        assert_eq!(attachments, [bytes::Bytes::from_static(&[1, 2, 3])]);
    }
    user.recv_packet().await;

    user.send("41").await;
    let args = expect_event(&mut admin, "socket_disconnected").await;
    assert_eq!(args[..3], [json!("/"), json!(user_id), json!("client namespace disconnect")]);
    assert_timestamp(&args[3]);
    let mut left = Vec::new();
    for _ in 0..2 {
        let args = expect_event(&mut admin, "room_left").await;
        assert_eq!((args[0].clone(), args[2].clone()), (json!("/"), json!(user_id)));
        left.push(args[1].as_str().expect("a room").to_owned());
    }
    left.sort();
    let mut expected = vec!["a".to_owned(), user_id.clone()];
    expected.sort();
    assert_eq!(left, expected, "the rooms it was in, its own included");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_from_polling_is_reported_as_a_socket_update() {
    let (server, _io, mut sockets) = admin_server(AdminUi::new().no_auth()).await;
    let mut admin = Client::open(server.addr).await;
    admin.join("/admin", None).await;
    expect_event(&mut admin, "config").await;
    expect_event(&mut admin, "all_sockets").await;

    let polling = |sid: Option<&str>| match sid {
        Some(sid) => format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
        None => "/socket.io/?EIO=4&transport=polling".to_owned(),
    };
    let open = send(server.addr, &Request::new("GET", &polling(None))).await;
    let open: Value = serde_json::from_str(open.text().trim_start_matches('0')).expect("open");
    let sid = open["sid"].as_str().expect("sid").to_owned();
    let posted = send(server.addr, &Request::new("POST", &polling(Some(&sid))).body("40")).await;
    assert_eq!(posted.text(), "ok");
    let socket = next(&mut sockets).await;
    expect_event(&mut admin, "room_joined").await;
    let args = expect_event(&mut admin, "socket_connected").await;
    assert_eq!(args[0]["transport"], "polling");
    assert_eq!(args[0]["handshake"]["query"]["transport"], "polling");

    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket&sid={sid}", server.addr);
    let mut ws = ws::connect(&url).await.expect("websocket");
    ws.send_text("2probe").await;
    assert_eq!(ws.recv_text().await, "3probe");
    ws.send_text("5").await;
    let args = expect_event(&mut admin, "socket_updated").await;
    assert_eq!(args, [json!({ "id": socket.id().as_str(), "nsp": "/", "transport": "websocket" })]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_actions_emit_join_leave_and_disconnect() {
    let (server, _io, mut sockets) = admin_server(AdminUi::new().auth("admin", hash())).await;
    let (mut user, user_id) = Client::connect(server.addr).await;
    let socket = next(&mut sockets).await;
    let (mut admin, _) = log_in(server.addr, &ALL_FEATURES).await;
    expect_event(&mut admin, "all_sockets").await;

    // emit(nsp, filter, event, ...args), binary included.
    admin
        .send(&format!(
            r#"451-/admin,["emit","/","{user_id}","hello","world",{{"_placeholder":true,"num":0}}]"#
        ))
        .await;
    admin.send_binary(&[9, 8]).await;
    user.expect(r#"451-["hello","world",{"_placeholder":true,"num":0}]"#).await;
    user.expect_binary(&[9, 8]).await;

    // join / leave (nsp, room, filter), acknowledged when asked.
    admin.send(&format!(r#"42/admin,1["join","/","room1","{user_id}"]"#)).await;
    let args = expect_ack_and_event(&mut admin, 1, "room_joined").await;
    assert_eq!(args[..3], [json!("/"), json!("room1"), json!(user_id)]);
    assert!(socket.rooms().iter().any(|r| &**r == "room1"));
    admin.send(r#"42/admin,2["leave","/","room1"]"#).await;
    let args = expect_ack_and_event(&mut admin, 2, "room_left").await;
    assert_eq!(args[..3], [json!("/"), json!("room1"), json!(user_id)]);
    assert!(!socket.rooms().iter().any(|r| &**r == "room1"));
    // Unknown namespaces are ignored.
    admin.send(r#"42/admin,3["join","/nowhere","room1"]"#).await;
    admin.expect("43/admin,3[]").await;

    // _disconnect(nsp, close, filter): the socket leaves, the connection stays.
    admin.send(&format!(r#"42/admin,["_disconnect","/",false,"{user_id}"]"#)).await;
    user.expect("41").await;
    let args = expect_event(&mut admin, "socket_disconnected").await;
    assert_eq!(args[..3], [json!("/"), json!(user_id), json!("server namespace disconnect")]);
    let user_id = user.join("/", None).await;
    let _ = next(&mut sockets).await;
    // With `close`, the whole connection goes.
    admin.send(&format!(r#"42/admin,["_disconnect","/",true,"{user_id}"]"#)).await;
    user.expect("41").await;
    user.expect_closed().await;
}
