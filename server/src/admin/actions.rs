//! What the admin UI asks the server to do, on sockets of any namespace: `emit`, `join`,
//! `leave` and `_disconnect`, with the arguments the official server takes (a filter is a
//! room, a socket id being the room of its socket; none means every socket of the
//! namespace). None of them is registered in read-only mode.
//!
//! The official server never acknowledges them; ferrio answers an acknowledgement, with no
//! arguments, once the action is done, when the client asks for one (the UI does not).

use serde_json::Value;

use crate::client::Client;
use crate::extract::Ack;
use crate::{BroadcastOperators, Io, NamespaceRef, Payload, Socket};

/// Registers the action handlers on an admin socket.
pub(crate) fn register(socket: &Socket) {
    socket.on("emit", |io: Io, payload: Payload, ack: Ack| async move {
        emit(&io, payload);
        let _ = ack.send(Payload::new());
    });
    socket.on("join", |io: Io, payload: Payload, ack: Ack| async move {
        change_rooms(&io, &payload, Change::Join);
        let _ = ack.send(Payload::new());
    });
    socket.on("leave", |io: Io, payload: Payload, ack: Ack| async move {
        change_rooms(&io, &payload, Change::Leave);
        let _ = ack.send(Payload::new());
    });
    socket.on("_disconnect", |io: Io, payload: Payload, ack: Ack| async move {
        disconnect(&io, &payload);
        let _ = ack.send(Payload::new());
    });
}

/// The string argument at `index`.
fn text(payload: &Payload, index: usize) -> Option<&str> {
    payload.args.get(index).and_then(Value::as_str)
}

/// The sockets of namespace `nsp` that `filter` (a room, or a socket id) selects: all of
/// them without one, as the official server (an empty filter is none).
fn selected(io: &Io, nsp: Option<&str>, filter: Option<&str>) -> Option<BroadcastOperators> {
    let Some(ns) = nsp.and_then(|nsp| io.of(nsp)) else {
        tracing::debug!(nsp, "admin UI action on a namespace that does not exist");
        return None;
    };
    Some(match filter.filter(|f| !f.is_empty()) {
        Some(filter) => ns.to(filter),
        None => NamespaceRef::operators(&ns),
    })
}

/// `emit(nsp, filter, event, ...args)`: emits `event` with `args` to the selected sockets.
fn emit(io: &Io, payload: Payload) {
    let (Some(event), Some(targets)) =
        (text(&payload, 2), selected(io, text(&payload, 0), text(&payload, 1)))
    else {
        return;
    };
    let event = event.to_owned();
    let Payload { mut args, attachments } = payload;
    let args = args.split_off(args.len().min(3));
    if let Err(err) = targets.emit(&event, Payload { args, attachments }) {
        tracing::debug!(event, %err, "admin UI emit not sent to every socket");
    }
}

enum Change {
    Join,
    Leave,
}

/// `join(nsp, room, filter)` and `leave(nsp, room, filter)`: the selected sockets join or
/// leave `room`.
fn change_rooms(io: &Io, payload: &Payload, change: Change) {
    let (Some(room), Some(targets)) =
        (text(payload, 1), selected(io, text(payload, 0), text(payload, 2)))
    else {
        return;
    };
    match change {
        Change::Join => targets.join(room),
        Change::Leave => targets.leave(room),
    }
}

/// `_disconnect(nsp, close, filter)`: the selected sockets leave their namespace; with
/// `close`, their whole connection closes too (each of its sockets is told first), as
/// Socket.IO's `disconnectSockets(true)`.
fn disconnect(io: &Io, payload: &Payload) {
    let close = payload.args.get(1).and_then(Value::as_bool).unwrap_or(false);
    let Some(targets) = selected(io, text(payload, 0), text(payload, 2)) else { return };
    if !close {
        return targets.disconnect_sockets();
    }
    for socket in targets.sockets() {
        let engine = socket.engine().clone();
        let sockets = engine.data::<Client>().map(Client::sockets).unwrap_or_default();
        for socket in sockets {
            socket.disconnect();
        }
        engine.close();
    }
}
