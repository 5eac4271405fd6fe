//! Hooks that let one crate-internal observer watch every socket of a server: connections,
//! disconnections, room changes, events in both directions, transport upgrades, and the
//! Engine.IO sessions underneath. The [admin UI](crate::admin) is that observer.
//!
//! Each hook point is one `if let Some(observer) = slot.get()` — a single atomic load — so a
//! server without an observer pays nothing else. Hooks run where the change happens, on the
//! caller's thread, possibly under the locks of the code around them: an observer must not
//! block, and must not emit from the hook itself (it queues what it sends for a task of its own).

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde_json::Value;

use crate::adapter::Room;
use crate::engine::{CloseReason, EngineSocket, Sid};
use crate::namespace::Namespace;
use crate::{DisconnectReason, Payload, Socket};

/// What an observer is told. Every method has a default that ignores the news.
pub(crate) trait Observer: Send + Sync + 'static {
    /// `socket` was let into its namespace: its CONNECT reply is queued and the rooms it
    /// starts in (its own, and a recovered socket's) are joined.
    fn connected(&self, socket: &Socket) {
        let _ = socket;
    }

    /// `socket` left its namespace for `reason`; it was in `rooms` (its own room included).
    fn disconnected(&self, socket: &Socket, reason: DisconnectReason, rooms: &[Room]) {
        let _ = (socket, reason, rooms);
    }

    /// Socket `sid` of namespace `ns` joined `rooms`, none of which it was in before.
    fn joined(&self, ns: &str, sid: &Sid, rooms: &[Room]) {
        let _ = (ns, sid, rooms);
    }

    /// Socket `sid` of namespace `ns` left `rooms`, all of which it was in before.
    fn left(&self, ns: &str, sid: &Sid, rooms: &[Room]) {
        let _ = (ns, sid, rooms);
    }

    /// The client of `socket` emitted `event` with `payload`.
    fn event_received(&self, socket: &Socket, event: &str, payload: &Payload) {
        let _ = (socket, event, payload);
    }

    /// `socket.emit` (or `emit_with_ack`) queued an event for its client: `data` is the
    /// event's array, `["name", args…]`, with `attachments` for its binary placeholders.
    fn event_sent(&self, socket: &Socket, data: &Value, attachments: &[Bytes]) {
        let _ = (socket, data, attachments);
    }

    /// The connection of `socket` now runs on another transport (an upgrade completed).
    fn transport_changed(&self, socket: &Socket) {
        let _ = socket;
    }

    /// An Engine.IO session opened.
    fn session_opened(&self, engine: &EngineSocket) {
        let _ = engine;
    }

    /// An Engine.IO session closed.
    fn session_closed(&self, engine: &EngineSocket, reason: CloseReason) {
        let _ = (engine, reason);
    }

    /// An Engine.IO message of `bytes` bytes arrived (a Socket.IO packet or one of its
    /// attachments).
    fn message_received(&self, bytes: usize) {
        let _ = bytes;
    }
}

/// The observer of a server, once one is installed; shared by its registry and every
/// namespace.
pub(crate) type ObserverSlot = Arc<OnceLock<Arc<dyn Observer>>>;

/// The hook points of room changes: every join and leave of a socket goes through these, so an
/// observer sees each change once, whoever made it.
impl Namespace {
    /// Adds socket `sid` to `rooms`.
    pub(crate) fn join_rooms(&self, sid: &Sid, rooms: &[Room]) {
        let Some(observer) = self.observer.get() else {
            return self.adapter.join(sid, rooms);
        };
        let before = self.adapter.socket_rooms(sid);
        self.adapter.join(sid, rooms);
        let after = self.adapter.socket_rooms(sid);
        let joined = changed(rooms, |r| after.contains(r) && !before.contains(r));
        if !joined.is_empty() {
            observer.joined(&self.path, sid, &joined);
        }
    }

    /// Removes socket `sid` from `rooms`.
    pub(crate) fn leave_rooms(&self, sid: &Sid, rooms: &[Room]) {
        let Some(observer) = self.observer.get() else {
            return self.adapter.leave(sid, rooms);
        };
        let before = self.adapter.socket_rooms(sid);
        self.adapter.leave(sid, rooms);
        let after = self.adapter.socket_rooms(sid);
        let left = changed(rooms, |r| before.contains(r) && !after.contains(r));
        if !left.is_empty() {
            observer.left(&self.path, sid, &left);
        }
    }
}

/// The rooms of `rooms` for which `is_changed` holds, each once, in order.
fn changed(rooms: &[Room], is_changed: impl Fn(&Room) -> bool) -> Vec<Room> {
    let mut out: Vec<Room> = Vec::new();
    for room in rooms {
        if is_changed(room) && !out.contains(room) {
            out.push(room.clone());
        }
    }
    out
}
