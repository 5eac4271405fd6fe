//! The adapter contract, driven end to end in one process: two servers whose adapters are
//! linked in memory (what one publishes, the other applies through its `LocalNamespace`;
//! what one asks, the other answers), and the in-memory adapter alone.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::*;
use crate::testing::TestServer;
use crate::{Ferrio, Socket};

/// The namespaces of every "node", by node id.
#[derive(Default)]
struct Wire(Mutex<Vec<(String, LocalNamespace)>>);

/// A node of an in-memory cluster: the local index, plus the wire to the others.
struct Linked {
    index: LocalAdapter,
    node: String,
    wire: Arc<Wire>,
}

impl Linked {
    fn others(&self) -> Vec<LocalNamespace> {
        let all = self.wire.0.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().filter(|(n, _)| *n != self.node).map(|(_, ns)| ns.clone()).collect()
    }
}

impl Adapter for Linked {
    fn add_socket(&self, sid: &Sid) {
        self.index.add_socket(sid);
    }
    fn join(&self, sid: &Sid, rooms: &[Room]) {
        self.index.join(sid, rooms);
    }
    fn leave(&self, sid: &Sid, rooms: &[Room]) {
        self.index.leave(sid, rooms);
    }
    fn remove_socket(&self, sid: &Sid) {
        self.index.remove_socket(sid);
    }
    fn socket_rooms(&self, sid: &Sid) -> Vec<Room> {
        self.index.socket_rooms(sid)
    }
    fn rooms(&self) -> Vec<Room> {
        self.index.rooms()
    }
    fn select(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.index.select(opts)
    }
    fn init(&self, ns: LocalNamespace) {
        let mut all = self.wire.0.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|(n, _)| *n != self.node);
        all.push((self.node.clone(), ns));
    }
    fn publish(&self, op: Outbound<'_>) {
        for ns in self.others() {
            match op {
                Outbound::Event { opts, frames, .. } => ns.deliver(opts, frames.to_vec(), None),
                Outbound::RoomChange { opts, change } => ns.apply_room_change(opts, change),
                Outbound::Disconnect { opts } => ns.disconnect(opts),
            }
        }
    }
    fn request(
        &self,
        request: Request,
        _timeout: Option<Duration>,
    ) -> BoxFuture<Result<Vec<Response>, RequestError>> {
        let others = self.others();
        let node = self.node.clone();
        Box::pin(async move {
            let mut answers = Vec::new();
            for ns in others {
                answers.push(ns.answer(request.clone(), &format!("not-{node}")).await);
            }
            Ok(answers)
        })
    }
    fn node_id(&self) -> &str {
        &self.node
    }
}

fn node(wire: &Arc<Wire>, name: &str) -> TestServer {
    let (wire, name) = (wire.clone(), name.to_owned());
    TestServer::new(Ferrio::builder().adapter(move || Linked {
        index: LocalAdapter::new(),
        node: name.clone(),
        wire: wire.clone(),
    }))
}

/// Connects a client to `/` of `server`; returns its Engine.IO sid and its socket.
async fn client(server: &TestServer) -> (String, Socket) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    server.io.ns("/", move |socket: Socket| {
        let _ = tx.send(socket);
        async {}
    });
    let sid = server.handshake().await;
    server.post(&sid, "40").await;
    let socket = rx.recv().await.expect("the socket");
    assert!(server.poll(&sid).await.starts_with("40{"), "the CONNECT reply");
    (sid, socket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_nodes_share_broadcasts_rooms_and_requests() {
    let wire = Arc::new(Wire::default());
    let (a, b) = (node(&wire, "a"), node(&wire, "b"));
    let (_, on_a) = client(&a).await;
    let (sid_b, on_b) = client(&b).await;

    // A broadcast on a reaches b's client; a local one does not.
    a.io.local().emit("only-a", &1).expect("sent");
    a.io.emit("hello", "from a").expect("sent");
    assert_eq!(b.poll(&sid_b).await, r#"42["hello","from a"]"#);

    // A remote join, then a room broadcast.
    a.io.to(on_b.id().as_str()).join("blue");
    assert!(on_b.rooms().iter().any(|r| &**r == "blue"));
    a.io.to("blue").emit("in-blue", &2).expect("sent");
    assert_eq!(b.poll(&sid_b).await, r#"42["in-blue",2]"#);

    // fetch_sockets sees both nodes' sockets, with their nodes.
    let all = a.io.fetch_sockets().await.expect("answers");
    let mut seen: Vec<(String, String)> =
        all.iter().map(|s| (s.id().to_owned(), s.data().node.clone())).collect();
    seen.sort();
    let mut expected = vec![
        (on_a.id().as_str().to_owned(), "a".to_owned()),
        (on_b.id().as_str().to_owned(), "not-a".to_owned()),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    assert!(a.io.all_rooms().await.expect("rooms").iter().any(|r| &**r == "blue"));

    // Server-side events reach the other node's handler only; its answer comes back.
    b.io.on_server_event("load", |_args: crate::Payload| async { json!(0.5) });
    a.io.on_server_event("load", |_args: crate::Payload| async { json!("never") });
    let answers =
        a.io.server_side_emit_with_ack("load", crate::Payload::new(), None).await.expect("answers");
    assert_eq!(answers, vec![json!(0.5)]);

    // A remote disconnect.
    a.io.to(on_b.id().as_str()).disconnect_sockets();
    assert!(!on_b.connected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_memory_adapter_answers_for_one_node() {
    let server = TestServer::new(Ferrio::builder());
    let (_, socket) = client(&server).await;
    socket.join("red");
    assert_eq!(server.io.server_count().await.expect("a count"), 1);
    let fetched = server.io.fetch_sockets().await.expect("sockets");
    assert_eq!(fetched.len(), 1);
    assert_eq!(fetched[0].id(), socket.id().as_str());
    assert!(fetched[0].data().rooms.contains(&"red".to_owned()));
    assert_eq!(server.io.all_rooms().await.expect("rooms"), vec![Room::from("red")]);
    let none: Vec<Value> = server
        .io
        .server_side_emit_with_ack("x", crate::Payload::new(), None)
        .await
        .expect("no other node");
    assert!(none.is_empty());
    // A fetched socket can be moved like any other.
    fetched[0].join("green");
    assert!(socket.rooms().iter().any(|r| &**r == "green"));
}
