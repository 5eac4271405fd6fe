//! Adapters keep room membership and decide which sockets a broadcast reaches.
//!
//! The default, [`LocalAdapter`], lives in memory and serves one process. A cross-node adapter
//! (Redis, say) implements the same trait: it keeps the local index like `LocalAdapter` and
//! uses the `publish_*` hooks to reach other nodes.

mod local;

use std::sync::Arc;

use ferrio_protocol::socket::Packet;

pub use local::LocalAdapter;

use crate::engine::Sid;

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

/// Room membership and broadcast targeting for one namespace.
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

    /// Called after `packet` was delivered to the local sockets `opts` selects; a cross-node
    /// adapter forwards it to the other nodes. Does nothing by default.
    fn publish_broadcast(&self, packet: &Packet, opts: &BroadcastOptions) {
        let _ = (packet, opts);
    }

    /// Called after a room change was applied to the local sockets `opts` selects. Does
    /// nothing by default.
    fn publish_room_change(&self, opts: &BroadcastOptions, change: &RoomChange) {
        let _ = (opts, change);
    }

    /// Called after the local sockets `opts` selects were disconnected. Does nothing by
    /// default.
    fn publish_disconnect(&self, opts: &BroadcastOptions) {
        let _ = opts;
    }
}
