//! Sockets as seen from any node of a cluster: what `fetch_sockets` returns.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{BroadcastOptions, Room};
use crate::engine::Sid;
use crate::errors::BroadcastError;
use crate::namespace::Namespace;
use crate::operators::BroadcastOperators;
use crate::payload::IntoPayload;
use crate::Socket;

/// The parts of a socket's handshake that travel between nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RemoteHandshake {
    /// The request URI of the connection's first request, query included.
    pub url: String,
    /// Its headers (values that are not UTF-8 are left out; a repeated header keeps its last
    /// value).
    pub headers: BTreeMap<String, String>,
    /// The peer address, when the server was started with connect info.
    pub address: Option<String>,
}

/// A socket's description, on whichever node it is connected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RemoteSocketData {
    /// The socket's id.
    pub id: String,
    /// The id of the node it is connected to.
    pub node: String,
    /// Its rooms (its own room, named after its id, included).
    pub rooms: Vec<String>,
    /// Its handshake.
    pub handshake: RemoteHandshake,
    /// The auth payload the client sent when connecting.
    pub auth: Value,
}

impl RemoteSocketData {
    pub(crate) fn of(socket: &Socket, node: &str) -> RemoteSocketData {
        let handshake = socket.handshake();
        let headers = handshake
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        RemoteSocketData {
            id: socket.id().as_str().to_owned(),
            node: node.to_owned(),
            rooms: socket.rooms().iter().map(|r| r.to_string()).collect(),
            handshake: RemoteHandshake {
                url: handshake.uri.to_string(),
                headers,
                address: handshake.remote_addr.map(|a| a.to_string()),
            },
            auth: socket.auth().clone(),
        }
    }
}

/// A socket returned by [`BroadcastOperators::fetch_sockets`]: its description, and the
/// operations that reach it on whichever node it is connected (they go through the adapter
/// like any broadcast to the room named after its id).
///
/// ```
/// # async fn demo(io: ferrio::Io) -> Result<(), Box<dyn std::error::Error>> {
/// for socket in io.to("lobby").fetch_sockets().await? {
///     println!("{} on node {} in {:?}", socket.id(), socket.data().node, socket.data().rooms);
///     socket.emit("hello", &"from another node")?;
///     socket.join("seen");
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RemoteSocket {
    data: RemoteSocketData,
    ns: Arc<Namespace>,
}

impl std::fmt::Debug for RemoteSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSocket").field("data", &self.data).finish()
    }
}

impl RemoteSocket {
    pub(crate) fn new(data: RemoteSocketData, ns: Arc<Namespace>) -> RemoteSocket {
        RemoteSocket { data, ns }
    }

    /// The socket's id.
    pub fn id(&self) -> &str {
        &self.data.id
    }

    /// Its description: node, rooms, handshake, auth.
    pub fn data(&self) -> &RemoteSocketData {
        &self.data
    }

    fn operators(&self) -> BroadcastOperators {
        let opts = BroadcastOptions {
            rooms: vec![Room::from(self.data.id.as_str())],
            ..Default::default()
        };
        BroadcastOperators::new(self.ns.clone(), opts)
    }

    /// Emits `event` to this socket.
    pub fn emit(&self, event: &str, data: impl IntoPayload) -> Result<(), BroadcastError> {
        self.operators().emit(event, data)
    }

    /// Makes the socket join `rooms`.
    pub fn join(&self, rooms: impl crate::RoomParam) {
        self.operators().join(rooms);
    }

    /// Makes the socket leave `rooms`.
    pub fn leave(&self, rooms: impl crate::RoomParam) {
        self.operators().leave(rooms);
    }

    /// Disconnects the socket from its namespace.
    pub fn disconnect(&self) {
        self.operators().disconnect_sockets();
    }

    /// The socket's id as a [`Sid`].
    pub fn sid(&self) -> Sid {
        Sid::from_wire(&self.data.id)
    }
}
