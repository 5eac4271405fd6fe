//! Adapters keep room membership, decide which sockets a broadcast reaches and, in a cluster,
//! carry operations between nodes.
//!
//! The contract has three parts:
//!
//! - **The local index** (`add_socket` … `select`): which of this node's sockets are in which
//!   rooms. [`LocalAdapter`] is that index, in memory; a cluster adapter keeps one as well.
//! - **Outbound**: after an operation was applied to the local sockets, the namespace hands it
//!   to [`Adapter::publish`] ([`Outbound`]: an event, a room change, a disconnect); a cluster
//!   adapter sends it to the other nodes. Emits that connection state recovery keeps are,
//!   when the adapter [sequences events](Adapter::sequences_events), not delivered locally
//!   first: every node, this one included, delivers them in the cluster's order, stamped with
//!   the cluster's offset.
//! - **Inbound**: [`Adapter::init`] hands the adapter the namespace's [`LocalNamespace`], through
//!   which it applies what other nodes send (events, room changes, disconnects) to this node's
//!   sockets and answers their [`Request`]s.
//!
//! Requests gather answers from every live node ([`Adapter::request`]): the sockets matching a
//! selection, the rooms, a server-side event and its acknowledgements; a broadcast with
//! acknowledgements collects every client's answer wherever it is connected
//! ([`Adapter::broadcast_with_ack`]). The in-memory adapter answers them for one node: other
//! nodes answer nothing.

mod local;
mod remote;
#[cfg(test)]
mod tests;

#[cfg(feature = "redis")]
pub mod redis;

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use ferrio_protocol::engine::Frame;
use futures_util::stream::BoxStream;
use serde_json::Value;

pub use local::LocalAdapter;
pub use remote::{RemoteHandshake, RemoteSocket, RemoteSocketData};

use crate::engine::Sid;
use crate::errors::AckError;
use crate::namespace::Namespace;
use crate::Payload;

/// The futures of the adapter's requests.
pub type BoxFuture<T> = futures_util::future::BoxFuture<'static, T>;

/// A room name, shared cheaply between the indexes.
pub type Room = Arc<str>;

/// Which sockets an operation targets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BroadcastOptions {
    /// Only sockets in at least one of these rooms; every socket of the namespace when empty.
    pub rooms: Vec<Room>,
    /// Minus the sockets in any of these rooms.
    pub except: Vec<Room>,
    /// Minus this socket (the sender, for `socket.broadcast()`).
    pub except_socket: Option<Sid>,
    /// Only this node's sockets: the operation is not published to other nodes
    /// ([`BroadcastOperators::local`](crate::BroadcastOperators::local)).
    pub local: bool,
}

/// A change of room membership applied to selected sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoomChange {
    /// The sockets join these rooms.
    Join(Vec<Room>),
    /// The sockets leave these rooms.
    Leave(Vec<Room>),
}

/// An operation a namespace hands its adapter for the other nodes of a cluster.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Outbound<'a> {
    /// An event for the sockets `opts` selects, encoded once: its text frame then its binary
    /// attachments.
    Event {
        /// Whom it is for.
        opts: &'a BroadcastOptions,
        /// The encoded frames.
        frames: &'a [Frame],
        /// `false`: this node already delivered it to its own sockets; the others deliver it
        /// as it is. `true` (an event kept for connection state recovery, with an adapter that
        /// [sequences events](Adapter::sequences_events)): not delivered yet; every node, this
        /// one included, delivers it in the cluster's order with
        /// [`LocalNamespace::deliver`], stamped with the offset the cluster gave it.
        sequenced: bool,
    },
    /// A room change, already applied to this node's sockets.
    RoomChange {
        /// Which sockets.
        opts: &'a BroadcastOptions,
        /// The change.
        change: &'a RoomChange,
    },
    /// A disconnect, already applied to this node's sockets.
    Disconnect {
        /// Which sockets.
        opts: &'a BroadcastOptions,
    },
}

/// A question a node asks every other live node of a cluster about one namespace.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Request {
    /// The sockets `opts` selects.
    FetchSockets(BroadcastOptions),
    /// Every room with at least one socket.
    AllRooms,
    /// A server-side event for the handlers registered with
    /// [`Io::on_server_event`](crate::Io::on_server_event); `ack` when the emitter waits for
    /// their answers.
    ServerSideEmit {
        /// The event name.
        event: String,
        /// Its arguments.
        payload: Payload,
        /// Whether an answer is expected.
        ack: bool,
    },
}

/// One node's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Response {
    /// The node's sockets that matched.
    Sockets(Vec<RemoteSocketData>),
    /// The node's rooms.
    Rooms(Vec<Room>),
    /// The node's handler's answer to a server-side event (`None`: no handler there).
    ServerAck(Option<Value>),
}

/// A socket's session taken back from a cluster ([`Adapter::take_session`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct ClusterSession {
    /// The socket's id.
    pub sid: Sid,
    /// Its rooms, its own room excluded.
    pub rooms: Vec<Room>,
    /// The sequenced events after the client's offset, oldest first: the offset the cluster
    /// gave each, its recipients and its frames (not stamped).
    pub missed: Vec<(String, BroadcastOptions, Vec<Frame>)>,
}

impl ClusterSession {
    /// A session of socket `sid` in `rooms`, with the events it `missed`.
    pub fn new(
        sid: Sid,
        rooms: Vec<Room>,
        missed: Vec<(String, BroadcastOptions, Vec<Frame>)>,
    ) -> Self {
        ClusterSession { sid, rooms, missed }
    }
}

/// The answers of other nodes' clients to a broadcast with acknowledgement, as they arrive.
/// The stream ends once every node that received the broadcast has reported all its clients'
/// answers (or timeouts), or when the request's time is up.
pub type RemoteAcks = BoxStream<'static, (Sid, Result<Payload, AckError>)>;

/// Why a request to the other nodes of a cluster failed.
///
/// ```
/// use ferrio::adapter::RequestError;
///
/// # async fn demo(io: ferrio::Io) {
/// let ids: Vec<String> = match io.fetch_sockets().await {
///     Ok(sockets) => sockets.iter().map(|s| s.id().to_owned()).collect(),
///     // A stalled node: use what the others said.
///     Err(RequestError::Timeout { partial, .. }) => {
///         tracing::warn!(answered = partial.len(), "a node did not answer");
///         Vec::new()
///     }
///     // Redis is down: try again later.
///     Err(err) => {
///         tracing::warn!(%err, "cannot list the sockets now");
///         Vec::new()
///     }
/// };
/// # let _ = ids;
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Some nodes did not answer within the request timeout (they are alive in the registry
    /// but stalled, or the answers were lost). The answers that did arrive are kept in
    /// `partial`: use them knowing they are incomplete, or retry later.
    #[error("{missing} node(s) did not answer within the request timeout")]
    Timeout {
        /// How many nodes did not answer.
        missing: usize,
        /// The answers that arrived in time.
        partial: Vec<Response>,
    },
    /// The cluster's broker cannot be reached (Redis down, connection lost): nothing was
    /// asked. Retry once it is back; the adapter reconnects by itself.
    #[error("the cluster is unreachable: {0}")]
    Unavailable(String),
    /// An answer could not be read (a node of another version, say). Check that every node
    /// runs the same version.
    #[error("an answer could not be read: {0}")]
    Decode(String),
}

/// Room membership and broadcast targeting for one namespace, and, in a cluster, the link to
/// the other nodes (see the module docs). Only the local index must be implemented: the
/// cluster methods default to a single node.
///
/// An adapter that keeps the in-memory index and watches what would go to other nodes:
///
/// ```
/// use ferrio::adapter::{Adapter, BroadcastOptions, LocalAdapter, Outbound, Room};
/// use ferrio::engine::Sid;
/// use ferrio::Ferrio;
///
/// #[derive(Default)]
/// struct Watched(LocalAdapter);
///
/// impl Adapter for Watched {
///     fn add_socket(&self, sid: &Sid) { self.0.add_socket(sid) }
///     fn join(&self, sid: &Sid, rooms: &[Room]) { self.0.join(sid, rooms) }
///     fn leave(&self, sid: &Sid, rooms: &[Room]) { self.0.leave(sid, rooms) }
///     fn remove_socket(&self, sid: &Sid) { self.0.remove_socket(sid) }
///     fn socket_rooms(&self, sid: &Sid) -> Vec<Room> { self.0.socket_rooms(sid) }
///     fn rooms(&self) -> Vec<Room> { self.0.rooms() }
///     fn select(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.0.select(opts) }
///
///     fn publish(&self, op: Outbound<'_>) {
///         if let Outbound::Event { opts, frames, .. } = op {
///             tracing::debug!(rooms = ?opts.rooms, frames = frames.len(), "an event for other nodes");
///         }
///     }
/// }
///
/// let (_layer, io) = Ferrio::builder().adapter(Watched::default).build_layer();
/// io.to("lobby").emit("hello", &1)?;
/// # Ok::<(), ferrio::BroadcastError>(())
/// ```
pub trait Adapter: Send + Sync + 'static {
    /// A socket joined the namespace.
    fn add_socket(&self, sid: &Sid);
    /// Adds `sid` to `rooms`.
    fn join(&self, sid: &Sid, rooms: &[Room]);
    /// Removes `sid` from `rooms`.
    fn leave(&self, sid: &Sid, rooms: &[Room]);
    /// Removes `sid` from every room and from the namespace.
    fn remove_socket(&self, sid: &Sid);
    /// The rooms `sid` is in.
    fn socket_rooms(&self, sid: &Sid) -> Vec<Room>;
    /// Every room with at least one local socket.
    fn rooms(&self) -> Vec<Room>;
    /// The local sockets `opts` selects.
    fn select(&self, opts: &BroadcastOptions) -> Vec<Sid>;

    /// Called once, when the namespace is made, with the handle through which the adapter
    /// delivers what other nodes send. Does nothing by default.
    fn init(&self, ns: LocalNamespace) {
        let _ = ns;
    }

    /// Whether events kept for connection state recovery go through the cluster before any
    /// node delivers them (see [`Outbound::Event`]). Default `false`.
    fn sequences_events(&self) -> bool {
        false
    }

    /// Hands an operation to the other nodes; it was applied locally already, except a
    /// sequenced event. Must not wait (queue it). Does nothing by default.
    fn publish(&self, op: Outbound<'_>) {
        let _ = op;
    }

    /// Asks every other live node; resolves to their answers, within `timeout`. By default
    /// there is no other node: no answers.
    /// `timeout`: `None` for the adapter's own request timeout.
    fn request(
        &self,
        request: Request,
        timeout: Option<Duration>,
    ) -> BoxFuture<Result<Vec<Response>, RequestError>> {
        let _ = (request, timeout);
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    /// Emits the event `data` (its `["name", args…]` array and attachments) with an
    /// acknowledgement request to the sockets `opts` selects on every other live node; the
    /// stream yields their answers. By default there is no other node: an empty stream.
    fn broadcast_with_ack(
        &self,
        opts: &BroadcastOptions,
        data: &Value,
        attachments: &[Bytes],
        timeout: Duration,
    ) -> RemoteAcks {
        let _ = (opts, data, attachments, timeout);
        Box::pin(futures_util::stream::empty())
    }

    /// This node's id in the cluster (recorded in [`RemoteSocketData::node`]). Default empty.
    fn node_id(&self) -> &str {
        ""
    }

    /// How many nodes serve this namespace, this one included, as last seen (see
    /// [`Io::server_count`](crate::Io::server_count) for an up-to-date count). Default 1.
    fn server_count(&self) -> usize {
        1
    }

    /// Takes the session a socket persisted in the cluster under private id `pid` (its node
    /// died, say) with the events sent to the namespace after `offset`, for a client that
    /// comes back to this node: `None` when there is none, or the events after `offset` are
    /// no longer all known (the client then gets a fresh session, never a partial replay).
    /// By default there is no cluster: `None`.
    fn take_session(
        &self,
        pid: &str,
        offset: &str,
    ) -> BoxFuture<Result<Option<ClusterSession>, RequestError>> {
        let _ = (pid, offset);
        Box::pin(std::future::ready(Ok(None)))
    }

    /// Asks the cluster how many nodes are live now. Default 1.
    fn fetch_server_count(&self) -> BoxFuture<Result<usize, RequestError>> {
        Box::pin(std::future::ready(Ok(1)))
    }
}

/// The inbound side of a namespace, handed to its adapter by [`Adapter::init`]: apply what
/// other nodes send to this node's sockets, answer their requests. It does not keep the
/// namespace alive; once the namespace is gone every method does nothing.
#[derive(Clone)]
pub struct LocalNamespace {
    pub(crate) ns: Weak<Namespace>,
    pub(crate) path: Arc<str>,
}

impl std::fmt::Debug for LocalNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalNamespace").field("path", &self.path).finish()
    }
}

impl LocalNamespace {
    /// The namespace's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the namespace still exists.
    pub fn is_alive(&self) -> bool {
        self.ns.strong_count() > 0
    }

    /// Whether this namespace keeps events for connection state recovery.
    pub fn recovers(&self) -> bool {
        self.ns.upgrade().is_some_and(|ns| ns.recovery.is_some())
    }

    /// Delivers an event to the local sockets `opts` selects. `offset` is the cluster's offset
    /// of a sequenced event: the event is then stamped with it (appended as a last argument,
    /// as Socket.IO does) and kept for recovery, under the recovery log's lock, so a socket
    /// restored meanwhile gets it exactly once. `frames` are the event's text frame then its
    /// attachments, as [`Outbound::Event`] carried them.
    pub fn deliver(&self, opts: &BroadcastOptions, frames: Vec<Frame>, offset: Option<&str>) {
        if let Some(ns) = self.ns.upgrade() {
            ns.deliver(opts, frames, offset);
        }
    }

    /// Applies a room change to the local sockets `opts` selects.
    pub fn apply_room_change(&self, opts: &BroadcastOptions, change: &RoomChange) {
        if let Some(ns) = self.ns.upgrade() {
            ns.apply_room_change(opts, change);
        }
    }

    /// Disconnects the local sockets `opts` selects from the namespace.
    pub fn disconnect(&self, opts: &BroadcastOptions) {
        if let Some(ns) = self.ns.upgrade() {
            ns.disconnect_local(opts);
        }
    }

    /// This node's answer to `request`, `node` being this node's id in the cluster (it is
    /// recorded in the sockets returned).
    pub fn answer(&self, request: Request, node: &str) -> BoxFuture<Response> {
        match self.ns.upgrade() {
            Some(ns) => ns.answer(request, node),
            None => Box::pin(std::future::ready(match request {
                Request::FetchSockets(_) => Response::Sockets(Vec::new()),
                Request::AllRooms => Response::Rooms(Vec::new()),
                Request::ServerSideEmit { .. } => Response::ServerAck(None),
            })),
        }
    }

    /// Emits the event `data` with an acknowledgement request to the local sockets `opts`
    /// selects: how many it was sent to, and the stream of their answers (each socket answers
    /// or times out after `timeout`).
    pub fn broadcast_with_ack(
        &self,
        opts: &BroadcastOptions,
        data: Value,
        attachments: Vec<Bytes>,
        timeout: Duration,
    ) -> (usize, RemoteAcks) {
        match self.ns.upgrade() {
            Some(ns) => ns.local_broadcast_with_ack(opts, data, attachments, timeout),
            None => (0, Box::pin(futures_util::stream::empty())),
        }
    }

    /// The state of the local socket `sid` that a cluster persists for connection state
    /// recovery: its private id and rooms (its own room excluded). `None` when the socket is
    /// not here, or recovery is off.
    pub fn recovery_state(&self, sid: &Sid) -> Option<(Sid, Vec<Room>)> {
        let ns = self.ns.upgrade()?;
        let socket = ns.sockets.get(sid).map(|s| s.value().clone())?;
        let pid = socket.pid()?.clone();
        let rooms = ns.adapter.socket_rooms(sid).into_iter().filter(|r| **r != *sid.as_str());
        Some((pid, rooms.collect()))
    }
}
