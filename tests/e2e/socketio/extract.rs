//! Extractors: `Data<T>` (struct, tuple), `TryData<T>`, `Payload`, `Ack`, `State<T>`,
//! `Extension<T>`, and what happens when one cannot be built.

use ferrio::extract::{Ack, Data, Extension, State, TryData};
use ferrio::{Ferrio, Payload, Socket};
use serde::Deserialize;
use serde_json::Value;

use super::{add_echo, serve};

#[derive(Debug, Deserialize)]
struct Chat {
    room: String,
    text: String,
}

#[derive(Debug, Clone)]
struct AppName(&'static str);

#[derive(Debug, Clone)]
struct User(String);

#[derive(Debug, Clone)]
struct NeverStored;

async fn on_connect(socket: Socket) {
    add_echo(&socket);
    socket
        .insert_extension(User(format!("user-{}", socket.auth()["name"].as_str().unwrap_or("?"))));
    socket.on("chat", |socket: Socket, Data(chat): Data<Chat>| async move {
        let reply = Payload::new().arg(&chat.room).unwrap().arg(&chat.text).unwrap();
        socket.emit("chat-ok", reply).unwrap();
    });
    socket.on("pair", |socket: Socket, Data((word, n)): Data<(String, u32)>| async move {
        socket.emit("pair-ok", &format!("{word}:{n}")).unwrap();
    });
    socket.on("try", |socket: Socket, TryData(chat): TryData<Chat>| async move {
        match chat {
            Ok(chat) => socket.emit("try", &format!("ok:{}", chat.room)).unwrap(),
            Err(err) => socket.emit("try", &format!("err:{}", err.is_data())).unwrap(),
        }
    });
    socket.on("raw", |socket: Socket, payload: Payload| async move {
        assert!(payload.attachments.is_empty());
        socket.emit("raw-count", &payload.args.len()).unwrap();
    });
    socket.on("add", |Data((a, b)): Data<(i64, i64)>, ack: Ack| async move {
        let _ = ack.send(&(a + b));
    });
    socket.on("ack-many", |ack: Ack| async move {
        let _ = ack.send(Payload::new().arg(&"a").unwrap().arg(&1).unwrap());
    });
    socket.on("ack-none", |ack: Ack| async move {
        let _ = ack.send(Payload::new());
    });
    socket.on("ack-expected", |socket: Socket, ack: Ack| async move {
        socket.emit("expected", &ack.expected()).unwrap();
        let _ = ack.send("answered");
    });
    socket.on("state", |socket: Socket, State(name): State<AppName>| async move {
        socket.emit("state", name.0).unwrap();
    });
    socket.on("missing-state", |socket: Socket, State(_): State<NeverStored>| async move {
        socket.emit("missing-state", "called").unwrap();
    });
    socket.on("whoami", |socket: Socket, Extension(user): Extension<User>| async move {
        socket.emit("whoami", &user.0).unwrap();
    });
    socket.on(
        "missing-extension",
        |socket: Socket, Extension(_): Extension<NeverStored>| async move {
            socket.emit("missing-extension", "called").unwrap();
        },
    );
    socket.on(
        "everything",
        |socket: Socket,
         Data(chat): Data<Chat>,
         State(name): State<AppName>,
         Extension(user): Extension<User>,
         ack: Ack| async move {
            let text = format!("{}/{}/{}/{}", chat.room, chat.text, name.0, user.0);
            socket.emit("everything", &text).unwrap();
            let _ = ack.send("done");
        },
    );
}

async fn server() -> (super::Server, super::Client) {
    let (server, io) = serve(Ferrio::builder().with_state(AppName("ferrio"))).await;
    io.ns("/", on_connect);
    let mut client = server.open().await;
    client.join("/", Some(r#"{"name":"ada"}"#)).await;
    (server, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_deserializes_a_struct() {
    let (_server, mut client) = server().await;
    client.send(r#"42["chat",{"room":"r1","text":"hello"}]"#).await;
    client.expect(r#"42["chat-ok","r1","hello"]"#).await;
    // Unknown fields are ignored by serde's default.
    client.send(r#"42["chat",{"room":"r2","text":"x","extra":[1]}]"#).await;
    client.expect(r#"42["chat-ok","r2","x"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_tuple_takes_several_arguments_in_order() {
    let (_server, mut client) = server().await;
    client.send(r#"42["pair","a",3]"#).await;
    client.expect(r#"42["pair-ok","a:3"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_whose_data_does_not_deserialize_is_not_called() {
    let (_server, mut client) = server().await;
    for bad in [
        r#"42["chat","not an object"]"#,
        r#"42["chat",{"room":"r1"}]"#,
        r#"42["chat"]"#,
        r#"42["pair","a","not a number"]"#,
        r#"42["pair","a"]"#,
        r#"42["pair","a",-1]"#,
    ] {
        client.send(bad).await;
        // Had the handler run, its reply would come before the echo.
        client.assert_echo("usable").await;
    }
    client.send(r#"42["chat",{"room":"ok","text":"t"}]"#).await;
    client.expect(r#"42["chat-ok","ok","t"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_data_hands_the_error_to_the_handler() {
    let (_server, mut client) = server().await;
    client.send(r#"42["try",{"room":"r1","text":"t"}]"#).await;
    client.expect(r#"42["try","ok:r1"]"#).await;
    client.send(r#"42["try",{"room":"r1"}]"#).await;
    client.expect(r#"42["try","err:true"]"#).await;
    client.send(r#"42["try",42]"#).await;
    client.expect(r#"42["try","err:true"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_gives_the_raw_arguments() {
    let (_server, mut client) = server().await;
    client.send(r#"42["raw",1,"two",[3],{"four":4},null]"#).await;
    client.expect(r#"42["raw-count",5]"#).await;
    client.send(r#"42["raw"]"#).await;
    client.expect(r#"42["raw-count",0]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_answers_with_the_event_id() {
    let (_server, mut client) = server().await;
    client.send(r#"421["add",2,3]"#).await;
    client.expect("431[5]").await;
    client.send(r#"4212345["add",-2,3]"#).await;
    client.expect("4312345[1]").await;
    client.send(r#"427["ack-many"]"#).await;
    client.expect(r#"437["a",1]"#).await;
    client.send(r#"428["ack-none"]"#).await;
    client.expect("438[]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_without_id_sends_nothing() {
    let (_server, mut client) = server().await;
    client.send(r#"429["ack-expected"]"#).await;
    client.expect(r#"42["expected",true]"#).await;
    client.expect(r#"439["answered"]"#).await;
    client.send(r#"42["ack-expected"]"#).await;
    client.expect(r#"42["expected",false]"#).await;
    // No ack packet follows: the next message is the echo.
    client.assert_echo("no ack").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_comes_from_the_builder() {
    let (_server, mut client) = server().await;
    client.send(r#"42["state"]"#).await;
    client.expect(r#"42["state","ferrio"]"#).await;
    // A state type never given to the builder: the handler is not called.
    client.send(r#"42["missing-state"]"#).await;
    client.assert_echo("no state").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extension_set_in_the_connect_handler_reaches_event_handlers() {
    let (_server, mut client) = server().await;
    client.send(r#"42["whoami"]"#).await;
    client.expect(r#"42["whoami","user-ada"]"#).await;
    client.send(r#"42["missing-extension"]"#).await;
    client.assert_echo("no extension").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_extractors_in_one_handler() {
    let (_server, mut client) = server().await;
    client.send(r#"423["everything",{"room":"r","text":"t"}]"#).await;
    client.expect(r#"42["everything","r/t/ferrio/user-ada"]"#).await;
    client.expect(r#"433["done"]"#).await;
    // When one extractor fails, nothing runs (and no ack is sent).
    client.send(r#"424["everything","bad"]"#).await;
    client.assert_echo("nothing ran").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_handler_data_extracts_the_auth_payload() {
    #[derive(Debug, Deserialize)]
    struct Auth {
        token: String,
    }
    let (server, io) = serve(Ferrio::builder()).await;
    io.ns("/", |socket: Socket, Data(auth): Data<Auth>| async move {
        socket.emit("token", &auth.token).unwrap();
    });
    let mut client = server.open().await;
    client.join("/", Some(r#"{"token":"t-1"}"#)).await;
    client.expect(r#"42["token","t-1"]"#).await;

    // An auth payload that does not deserialize refuses the connection with CONNECT_ERROR.
    let mut refused = server.open().await;
    refused.send(r#"40{"nope":1}"#).await;
    let reply = refused.recv_text().await;
    let json = reply.strip_prefix("44").unwrap_or_else(|| panic!("CONNECT_ERROR, got {reply:?}"));
    let data: Value = serde_json::from_str(json).unwrap();
    let message = data["message"].as_str().unwrap();
    assert!(message.contains("token"), "message names the missing field: {reply:?}");
    // The connection stays open: a valid CONNECT now succeeds.
    refused.join("/", Some(r#"{"token":"t-2"}"#)).await;
    refused.expect(r#"42["token","t-2"]"#).await;
}
