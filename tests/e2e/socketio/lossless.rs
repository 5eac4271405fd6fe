//! What connection state recovery adds for a client that comes back before the server noticed
//! it was gone (polling and streaming only notice by the heartbeat): it takes its socket over
//! from the dead session; the emits with acknowledgement it missed are replayed and their
//! answers reach the server's waiters; and a call it retries runs once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferrio::extract::Ack;
use ferrio::{Ferrio, Socket};
use serde_json::Value;

use super::{next, serve, transports, Client};

/// A recovery server whose heartbeat would take a minute to notice a dead client.
fn builder() -> ferrio::FerrioBuilder {
    Ferrio::builder()
        .connection_state_recovery(Duration::from_secs(30))
        .ping_interval(Duration::from_secs(60))
}

/// The `sid` and `pid` of a CONNECT reply.
fn reply_ids(reply: &str) -> (String, String) {
    let data: Value = reply
        .strip_prefix("40")
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_else(|| panic!("expected the CONNECT reply, got {reply:?}"));
    let field = |name: &str| data[name].as_str().unwrap_or_else(|| panic!("{name}?")).to_owned();
    (field("sid"), field("pid"))
}

/// The offset an event carries as its last argument.
fn offset_of(event: &str) -> String {
    let args: Value = serde_json::from_str(event.trim_start_matches(|c: char| c.is_ascii_digit()))
        .unwrap_or_else(|_| panic!("an event: {event:?}"));
    args.as_array().and_then(|a| a.last()).and_then(Value::as_str).expect("an offset").to_owned()
}

/// The client comes back (over websocket) before the server noticed its old session was dead:
/// it takes its socket over, with the same id and rooms and the events it missed, and the old
/// session is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_back_before_its_loss_was_noticed_takes_its_socket_over() {
    let (server, io) = serve(builder()).await;
    let (mut sockets, _gone) = super::watched_ns(&io, "/");
    let engine_sid = transports::connect_and_stop_polling(server.addr).await;
    let (sid, pid) = reply_ids(transports::get(server.addr, &engine_sid).await.text());
    let old = next(&mut sockets).await;
    old.join("room");
    old.emit("seen", &1).unwrap();
    let offset = offset_of(transports::get(server.addr, &engine_sid).await.text());
    io.to("room").emit("missed", &2).unwrap();

    let mut client = Client::open(server.addr).await;
    client.send(&format!(r#"40{{"pid":"{pid}","offset":"{offset}"}}"#)).await;
    assert_eq!(reply_ids(&client.recv_text().await), (sid.clone(), pid), "recovered");
    let missed = client.recv_text().await;
    assert!(missed.starts_with(r#"42["missed",2,"#), "{missed}");
    let socket = next(&mut sockets).await;
    assert!(socket.recovered());
    assert_eq!(socket.id().as_str(), sid);
    assert!(socket.rooms().iter().any(|r| &**r == "room"), "its rooms came back");
    assert!(!old.connected());
    let gone = crate::support::http::send(
        server.addr,
        &crate::support::Request::new(
            "GET",
            &format!("/socket.io/?EIO=4&transport=polling&sid={engine_sid}"),
        ),
    )
    .await;
    assert_ne!(gone.text(), "", "the old session was closed");
    io.to("room").emit("after", &3).unwrap();
    assert!(client.recv_text().await.starts_with(r#"42["after",3,"#));
}

/// An emit with acknowledgement sent while the client was silently gone is replayed when it
/// comes back, with the same ack id, and its answer resolves the server's original wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_emit_with_ack_is_replayed_and_answers_the_original_wait() {
    let (server, io) = serve(builder()).await;
    let (mut sockets, _gone) = super::watched_ns(&io, "/");
    let engine_sid = transports::connect_and_stop_polling(server.addr).await;
    let (_, pid) = reply_ids(transports::get(server.addr, &engine_sid).await.text());
    let socket = next(&mut sockets).await;
    let (sid, offset) = {
        socket.emit("seen", &1).unwrap();
        let offset = offset_of(transports::get(server.addr, &engine_sid).await.text());
        (socket.id().clone(), offset)
    };
    let answer = tokio::spawn(
        socket.timeout(Duration::from_secs(10)).emit_with_ack::<String>("question", &"?"),
    );

    let mut client = Client::open(server.addr).await;
    client.send(&format!(r#"40{{"pid":"{pid}","offset":"{offset}"}}"#)).await;
    assert_eq!(reply_ids(&client.recv_text().await).0, sid.as_str());
    let replayed = client.recv_text().await;
    // `42<id>["question","?","<offset>"]`
    let id: String =
        replayed.trim_start_matches("42").chars().take_while(char::is_ascii_digit).collect();
    assert!(!id.is_empty(), "the replayed emit asks for an ack: {replayed}");
    assert!(replayed[2 + id.len()..].starts_with(r#"["question","?","#), "{replayed}");
    client.send(&format!(r#"43{id}["yes"]"#)).await;
    let answer = crate::support::within("the answer", crate::support::STEP, answer).await.unwrap();
    assert_eq!(answer.unwrap(), "yes");
}

/// A call the client retries with the same ack id runs once: a repeat while it runs is dropped,
/// a repeat after it answered gets the same answer again, also after the client recovered its
/// socket on a new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_call_runs_once_and_is_answered_again() {
    let (server, io) = serve(builder()).await;
    let runs = Arc::new(AtomicUsize::new(0));
    io.ns("/", {
        let runs = runs.clone();
        move |socket: Socket| {
            let runs = runs.clone();
            async move {
                socket.on("inc", move |ack: Ack| {
                    let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                    async move {
                        let _ = ack.send(&n);
                    }
                });
                socket.emit("hello", &()).unwrap();
            }
        }
    });
    let mut client = Client::open(server.addr).await;
    client.send("40").await;
    let (_, pid) = reply_ids(&client.recv_text().await);
    let offset = offset_of(&client.recv_text().await);
    client.send(r#"425["inc"]"#).await;
    client.expect("435[1]").await;
    client.send(r#"425["inc"]"#).await;
    client.expect("435[1]").await;
    client.send(r#"426["inc"]"#).await;
    client.expect("436[2]").await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // The connection drops; the client recovers its socket and retries call 6.
    drop(client);
    let mut client = Client::open(server.addr).await;
    client.send(&format!(r#"40{{"pid":"{pid}","offset":"{offset}"}}"#)).await;
    client.recv_text().await; // the CONNECT reply
    assert!(client.recv_text().await.starts_with(r#"42["hello""#), "the connect handler ran");
    client.send(r#"426["inc"]"#).await;
    client.expect("436[2]").await;
    assert_eq!(runs.load(Ordering::SeqCst), 2, "not run again");
}
