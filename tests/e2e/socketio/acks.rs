//! Acknowledgements the server waits for: one socket (`emit_with_ack`, `timeout`), and
//! broadcasts that collect one answer or timeout per socket.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ferrio::{AckError, Ferrio, Payload};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use super::transports::connect_and_stop_polling;
use super::{echo_ns, next, serve, Client};
use crate::support::{within, STEP};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ack_resolves_emit_with_ack() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;

    let answer = tokio::spawn(socket.emit_with_ack::<String>("ask", &"question?"));
    client.expect(r#"420["ask","question?"]"#).await;
    client.send(r#"430["answer"]"#).await;
    assert_eq!(within("the ack", STEP, answer).await.unwrap().unwrap(), "answer");

    // Ids go on increasing; several reply arguments read as a tuple.
    let answer = tokio::spawn(socket.emit_with_ack::<(String, u32)>("ask2", Payload::new()));
    client.expect(r#"421["ask2"]"#).await;
    client.send(r#"431["two",2]"#).await;
    assert_eq!(within("the ack", STEP, answer).await.unwrap().unwrap(), ("two".to_owned(), 2));

    // A raw Payload answer.
    let answer = tokio::spawn(socket.emit_with_ack::<Payload>("ask3", &1));
    client.expect(r#"422["ask3",1]"#).await;
    client.send(r#"432[{"a":1},null]"#).await;
    let payload = within("the ack", STEP, answer).await.unwrap().unwrap();
    assert_eq!(payload.args, vec![json!({"a": 1}), Value::Null]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_acks_resolve_by_id_in_any_order() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;

    let first = tokio::spawn(socket.emit_with_ack::<u32>("n", &0));
    client.expect(r#"420["n",0]"#).await;
    let second = tokio::spawn(socket.emit_with_ack::<u32>("n", &1));
    client.expect(r#"421["n",1]"#).await;
    client.send("431[11]").await;
    client.send("430[10]").await;
    assert_eq!(within("ack 0", STEP, first).await.unwrap().unwrap(), 10);
    assert_eq!(within("ack 1", STEP, second).await.unwrap().unwrap(), 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_of_the_wrong_type_is_a_decode_error() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;
    let answer = tokio::spawn(socket.emit_with_ack::<u32>("ask", &"q"));
    client.expect(r#"420["ask","q"]"#).await;
    client.send(r#"430["not a number"]"#).await;
    let result = within("the ack", STEP, answer).await.unwrap();
    assert!(matches!(result, Err(AckError::Decode(_))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_within_the_timeout_is_a_timeout_and_a_late_answer_is_ignored() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;

    let start = Instant::now();
    let answer = tokio::spawn(
        socket.timeout(Duration::from_millis(150)).emit_with_ack::<Value>("ask", &json!({"q": 1})),
    );
    client.expect(r#"420["ask",{"q":1}]"#).await;
    let result = within("the ack timeout", STEP, answer).await.unwrap();
    assert!(matches!(result, Err(AckError::Timeout)), "{result:?}");
    assert!(
        start.elapsed() >= Duration::from_millis(150),
        "timed out early: {:?}",
        start.elapsed()
    );

    // The late answer is dropped and the connection stays usable.
    client.send(r#"430["late"]"#).await;
    client.assert_echo("after late ack").await;
    assert!(socket.connected());
}

/// A server from `builder` whose socket asks its client `420["ask",1]` (already received):
/// the client, the pending answer, and the server (kept alive by the caller).
async fn asked(
    builder: ferrio::FerrioBuilder,
) -> (Client, JoinHandle<Result<Value, AckError>>, super::Server) {
    let (server, io) = serve(builder).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;
    let answer = tokio::spawn(socket.emit_with_ack::<Value>("ask", &1));
    client.expect(r#"420["ask",1]"#).await;
    (client, answer, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_ack_timeout_is_the_default() {
    let builder = Ferrio::builder().ack_timeout(Duration::from_millis(150));
    let (_client, answer, _server) = asked(builder).await;
    let result = within("the ack timeout", STEP, answer).await.unwrap();
    assert!(matches!(result, Err(AckError::Timeout)), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_connection_while_waiting_is_disconnected() {
    let (client, answer, _server) = asked(Ferrio::builder()).await;
    client.close().await;
    let result = within("the ack to fail", STEP, answer).await.unwrap();
    assert!(matches!(result, Err(AckError::Disconnected)), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_the_namespace_while_waiting_is_disconnected() {
    let (mut client, answer, _server) = asked(Ferrio::builder()).await;
    client.send("41").await;
    let result = within("the ack to fail", STEP, answer).await.unwrap();
    assert!(matches!(result, Err(AckError::Disconnected)), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emit_with_ack_on_a_closed_connection_fails_at_once() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (tx, mut disconnected) = super::channel();
    let mut sockets = echo_ns(&io, "/");
    let (client, _) = server.connect().await;
    let socket = next(&mut sockets).await;
    socket.on_disconnect(move || {
        let tx = tx.clone();
        async move {
            let _ = tx.send(());
        }
    });
    client.close().await;
    next(&mut disconnected).await;
    let result = within("emit_with_ack", STEP, socket.emit_with_ack::<Value>("ask", &1)).await;
    assert!(
        matches!(result, Err(AckError::Send(_) | AckError::Disconnected)),
        "expected a send failure, got {result:?}"
    );
}

/// `io.timeout(d).emit_with_ack` over 20 sockets: even ones answer, odd ones stay silent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_acks_one_result_per_socket() {
    const N: usize = 20;
    let (server, io) = serve(Ferrio::builder()).await;
    let _sockets = echo_ns(&io, "/");
    let mut clients = Vec::new();
    for _ in 0..N {
        clients.push(server.connect().await);
    }
    assert_eq!(io.sockets().len(), N);

    let start = Instant::now();
    let stream =
        io.timeout(Duration::from_millis(300)).emit_with_ack::<u32>("vote", &"yes?").unwrap();
    assert_eq!(stream.remaining(), N);
    let collector = tokio::spawn(async move { stream.await });

    let mut expected = HashMap::new();
    for (i, (client, sid)) in clients.iter_mut().enumerate() {
        client.expect(r#"420["vote","yes?"]"#).await;
        if i % 2 == 0 {
            client.send(&format!("430[{i}]")).await;
            expected.insert(sid.clone(), Some(i as u32));
        } else {
            expected.insert(sid.clone(), None);
        }
    }
    let results = within("every ack or timeout", STEP, collector).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(300), "timeouts came early");
    assert_eq!(results.len(), N, "one entry per socket");
    let mut seen = HashMap::new();
    for (sid, result) in results {
        let value = match result {
            Ok(n) => Some(n),
            Err(AckError::Timeout) => None,
            Err(other) => panic!("socket {sid}: unexpected {other:?}"),
        };
        assert!(seen.insert(sid.as_str().to_owned(), value).is_none(), "{sid} listed twice");
    }
    assert_eq!(seen, expected);
    // Everyone is still connected and usable.
    for (client, _) in &mut clients {
        client.assert_echo("after vote").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_ack_stream_yields_answers_as_they_arrive() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _sockets = echo_ns(&io, "/");
    let (mut fast, fast_sid) = server.connect().await;
    let (mut slow, slow_sid) = server.connect().await;
    let (mut silent, silent_sid) = server.connect().await;

    let mut stream = io
        .timeout(Duration::from_millis(400))
        .emit_with_ack::<String>("q", Payload::new())
        .unwrap();
    for client in [&mut fast, &mut slow, &mut silent] {
        client.expect(r#"420["q"]"#).await;
    }
    fast.send(r#"430["fast"]"#).await;
    let (sid, result) = within("first answer", STEP, stream.next()).await.unwrap();
    assert_eq!((sid.as_str(), result.unwrap().as_str()), (fast_sid.as_str(), "fast"));
    slow.send(r#"430["slow"]"#).await;
    let (sid, result) = within("second answer", STEP, stream.next()).await.unwrap();
    assert_eq!((sid.as_str(), result.unwrap().as_str()), (slow_sid.as_str(), "slow"));
    let (sid, result) = within("the timeout", STEP, stream.next()).await.unwrap();
    assert_eq!(sid.as_str(), silent_sid);
    assert!(matches!(result, Err(AckError::Timeout)), "{result:?}");
    assert!(within("end of stream", STEP, stream.next()).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_ack_to_a_room_and_a_disconnect_midway() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut a, a_sid) = server.connect().await;
    let (b, b_sid) = server.connect().await;
    let (mut outside, _) = server.connect().await;
    for _ in 0..2 {
        next(&mut sockets).await.join("voters");
    }
    next(&mut sockets).await; // `outside` joins no room

    let stream =
        io.to("voters").timeout(Duration::from_secs(3)).emit_with_ack::<u32>("v", &7).unwrap();
    assert_eq!(stream.remaining(), 2);
    let collector = tokio::spawn(async move { stream.await });
    a.expect(r#"420["v",7]"#).await;
    a.send("430[1]").await;
    // b leaves without answering: its entry is Disconnected, long before the 3 s timeout.
    b.close().await;
    let start = Instant::now();
    let mut results = within("the room's acks", STEP, collector).await.unwrap();
    assert!(start.elapsed() < Duration::from_secs(2), "waited for the timeout");
    results.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(results.len(), 2);
    for (sid, result) in results {
        if sid.as_str() == a_sid {
            assert_eq!(result.unwrap(), 1);
        } else {
            assert_eq!(sid.as_str(), b_sid);
            assert!(matches!(result, Err(AckError::Disconnected)), "{result:?}");
        }
    }
    // The socket outside the room got nothing.
    outside.assert_echo("not asked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_ack_to_nobody_is_empty() {
    let (_server, io) = serve(Ferrio::builder()).await;
    let stream = io.to("empty-room").emit_with_ack::<Value>("q", &1).unwrap();
    assert_eq!(stream.remaining(), 0);
    assert!(within("an empty collection", STEP, async { stream.await }).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_in_another_namespace_carries_the_namespace() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _root = echo_ns(&io, "/");
    let mut custom = echo_ns(&io, "/custom");
    let mut client = Client::open(server.addr).await;
    client.join("/", None).await;
    client.join("/custom", None).await;
    let socket = next(&mut custom).await;
    let answer = tokio::spawn(socket.emit_with_ack::<String>("ask", &"c"));
    client.expect(r#"42/custom,0["ask","c"]"#).await;
    // An ack for the same id on `/` does not resolve `/custom`'s.
    client.send(r#"430["wrong namespace"]"#).await;
    client.send(r#"43/custom,0["right"]"#).await;
    assert_eq!(within("the ack", STEP, answer).await.unwrap().unwrap(), "right");
}

/// One selected socket cannot take the packet (its queue is full: a client that stopped
/// reading). The others were sent the event with an ack id: their answers must still be
/// collectable, one entry per socket, the unreachable one as `AckError::Send`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_ack_with_one_full_queue_still_collects_the_others() {
    let (server, io) = serve(Ferrio::builder().queue_bounds(8, 1 << 20)).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut fast, fast_sid) = server.connect().await;
    next(&mut sockets).await;
    connect_and_stop_polling(server.addr).await;
    let stalled = next(&mut sockets).await;
    stalled.join("slow");
    let stalled_sid = stalled.id().as_str().to_owned();
    // The CONNECT reply holds the first of the 8 slots.
    for i in 1..8 {
        io.to("slow").emit("m", &i).unwrap_or_else(|err| panic!("emit #{i}: {err:?}"));
    }
    assert!(io.to("slow").emit("m", &8).is_err(), "the stalled client's queue is full");

    let result = io.timeout(Duration::from_millis(300)).emit_with_ack::<u32>("q", &1);
    // The reachable client was asked either way.
    fast.expect(r#"420["q",1]"#).await;
    fast.send("430[5]").await;
    let stream = match result {
        Ok(stream) => stream,
        Err(err) => panic!(
            "emit_with_ack returned {err:?}: the stream is dropped, so the answer of the \
             socket that was reached ({fast_sid}) can never be read"
        ),
    };
    let results = within("the acks", STEP, async { stream.await }).await;
    assert_eq!(results.len(), 2, "one entry per socket: {results:?}");
    for (sid, result) in results {
        if sid.as_str() == fast_sid {
            assert_eq!(result.unwrap(), 5);
        } else {
            assert_eq!(sid.as_str(), stalled_sid);
            assert!(matches!(result, Err(AckError::Send(_))), "{result:?}");
        }
    }
}
