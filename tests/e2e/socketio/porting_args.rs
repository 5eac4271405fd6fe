//! Arguments and binary as a socketioxide or Node user expects them: a tuple or a fixed-size
//! array is several arguments, a `Vec` one; reading takes a tuple's elements from the
//! arguments in order and any other type from the first one; `bytes::Bytes`, `serde_bytes`
//! and `ferrio::Binary` are binary attachments wherever they sit, in both directions.

use bytes::Bytes;
use ferrio::extract::{Ack, Data};
use ferrio::{Binary, Ferrio, Payload, Socket};
use serde::{Deserialize, Serialize};

use super::{channel, echo_ns, next, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tuple_or_an_array_is_several_arguments_and_a_vec_is_one() {
    let (server, io) = serve(Ferrio::builder()).await;
    let mut sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    let socket = next(&mut sockets).await;

    socket.emit("tuple", &("a", 1, true)).unwrap();
    client.expect(r#"42["tuple","a",1,true]"#).await;
    socket.emit("array", &[1, 2, 3]).unwrap();
    client.expect(r#"42["array",1,2,3]"#).await;
    socket.emit("vec", &vec![1, 2, 3]).unwrap();
    client.expect(r#"42["vec",[1,2,3]]"#).await;
    socket.emit("slice", &[1, 2, 3][..]).unwrap();
    client.expect(r#"42["slice",[1,2,3]]"#).await;
    socket.emit("array-as-one", &([1, 2],)).unwrap();
    client.expect(r#"42["array-as-one",[1,2]]"#).await;
    socket.emit("one", "text").unwrap();
    client.expect(r#"42["one","text"]"#).await;

    // A tuple struct is a tuple; a newtype around a tuple is one argument.
    #[derive(Serialize)]
    struct Move(i32, i32);
    #[derive(Serialize)]
    struct Wrapped((i32, i32));
    socket.emit("move", &Move(3, 4)).unwrap();
    client.expect(r#"42["move",3,4]"#).await;
    socket.emit("wrapped", &Wrapped((3, 4))).unwrap();
    client.expect(r#"42["wrapped",[3,4]]"#).await;

    // The same rule for broadcasts and acknowledgements.
    io.emit("everyone", &("x", 2)).unwrap();
    client.expect(r#"42["everyone","x",2]"#).await;
    socket.on("sum", |Data((a, b)): Data<(i64, i64)>, ack: Ack| async move {
        ack.send(&(a + b, "sum")).unwrap();
    });
    client.send(r#"421["sum",2,3]"#).await;
    client.expect(r#"431[5,"sum"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tuple_reads_the_arguments_in_order_and_another_type_the_first_one() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (tx, mut seen) = channel::<String>();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            let first = tx.clone();
            socket.on("first", move |Data(text): Data<String>| {
                let tx = first.clone();
                async move {
                    let _ = tx.send(format!("first {text}"));
                }
            });
            let tuple = tx.clone();
            socket.on("tuple", move |Data((a, b, c)): Data<(String, u32, Option<bool>)>| {
                let tx = tuple.clone();
                async move {
                    let _ = tx.send(format!("tuple {a} {b} {c:?}"));
                }
            });
            let list = tx.clone();
            socket.on("list", move |Data(numbers): Data<Vec<u32>>| {
                let tx = list.clone();
                async move {
                    let _ = tx.send(format!("list {numbers:?}"));
                }
            });
            socket.on("none", move |Data(nothing): Data<Option<u32>>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(format!("none {nothing:?}"));
                }
            });
        }
    });
    let (mut client, _) = server.connect().await;
    // Extra arguments are ignored, as a JavaScript listener ignores them.
    client.send(r#"42["first","a","b"]"#).await;
    assert_eq!(next(&mut seen).await, "first a");
    // A missing trailing argument reads as null.
    client.send(r#"42["tuple","a",2]"#).await;
    assert_eq!(next(&mut seen).await, "tuple a 2 None");
    client.send(r#"42["tuple","a",2,true,"extra"]"#).await;
    assert_eq!(next(&mut seen).await, "tuple a 2 Some(true)");
    // A Vec is one argument: the first.
    client.send(r#"42["list",[1,2],"extra"]"#).await;
    assert_eq!(next(&mut seen).await, "list [1, 2]");
    client.send(r#"42["none"]"#).await;
    assert_eq!(next(&mut seen).await, "none None");
}

/// Binary fields of every kind users reach for. Fields in alphabetical order, so the
/// expected wire text does not depend on field order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Upload {
    bin: Binary,
    bytes: Bytes,
    chunks: Vec<Bytes>,
    kind: Kind,
    maybe: Option<Bytes>,
    #[serde(with = "serde_bytes")]
    raw: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Kind {
    Image(Bytes),
}

fn upload() -> Upload {
    Upload {
        bin: Binary::from(&b"bin"[..]),
        bytes: Bytes::from_static(b"bytes"),
        chunks: vec![Bytes::from_static(b"c0"), Bytes::from_static(b"c1")],
        kind: Kind::Image(Bytes::from_static(b"img")),
        maybe: Some(Bytes::from_static(b"maybe")),
        raw: b"raw".to_vec(),
    }
}

fn placeholder(num: usize) -> String {
    format!(r#"{{"_placeholder":true,"num":{num}}}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_and_serde_bytes_are_attachments_nested_anywhere_both_ways() {
    let (server, io) = serve(Ferrio::builder()).await;
    let (tx, mut received) = channel::<Upload>();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            socket.on("upload", move |Data(upload): Data<Upload>, ack: Ack| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(upload.clone());
                    // Back as two arguments, binary in both.
                    ack.send(&(upload.bytes.clone(), upload)).unwrap();
                }
            });
            // Bytes alone, as the only argument.
            socket.emit("hello", &Bytes::from_static(b"hi")).unwrap();
        }
    });
    let (mut client, _) = server.connect().await;
    client.expect(&format!(r#"451-["hello",{}]"#, placeholder(0))).await;
    client.expect_binary(b"hi").await;

    let p = placeholder;
    let data = format!(
        r#"{{"bin":{},"bytes":{},"chunks":[{},{}],"kind":{{"Image":{}}},"maybe":{},"raw":{}}}"#,
        p(0),
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6)
    );
    client.send(&format!(r#"457-1["upload",{data}]"#)).await;
    for part in ["bin", "bytes", "c0", "c1", "img", "maybe", "raw"] {
        client.send_binary(part.as_bytes()).await;
    }
    assert_eq!(next(&mut received).await, upload());

    let reply = format!(
        r#"{{"bin":{},"bytes":{},"chunks":[{},{}],"kind":{{"Image":{}}},"maybe":{},"raw":{}}}"#,
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(7)
    );
    client.expect(&format!(r#"468-1[{},{reply}]"#, p(0))).await;
    for part in ["bytes", "bin", "bytes", "c0", "c1", "img", "maybe", "raw"] {
        client.expect_binary(part.as_bytes()).await;
    }
}

#[test]
fn payload_arg_keeps_a_tuple_as_one_argument_and_takes_bytes_as_attachments() {
    let payload = Payload::new().arg(&(1, 2)).unwrap().arg(&Bytes::from_static(b"b")).unwrap();
    assert_eq!(payload.args.len(), 2);
    assert_eq!(payload.args[0], serde_json::json!([1, 2]));
    assert_eq!(payload.args[1], serde_json::json!({"_placeholder": true, "num": 0}));
    assert_eq!(payload.attachments, vec![Bytes::from_static(b"b")]);
    let (pair, bytes): ((i32, i32), Bytes) = payload.deserialize().unwrap();
    assert_eq!((pair, &bytes[..]), ((1, 2), &b"b"[..]));
}
