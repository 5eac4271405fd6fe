//! The inbound side of a namespace in a cluster: what other nodes send, applied to this node's
//! sockets, and this node's answers to their requests.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use ferrio_protocol::engine::Frame;
use ferrio_protocol::socket::Packet;
use ferrio_protocol::Str;
use futures_util::StreamExt;
use serde_json::Value;

use super::Namespace;
use crate::ack::AckStream;
use crate::adapter::{
    BoxFuture, BroadcastOptions, RemoteAcks, RemoteSocketData, Request, RequestError, Response,
    Room, RoomChange,
};
use crate::engine::lock::read;
use crate::recovery::Offset;
use crate::{Payload, Socket};

/// A handler of a server-side event: the event's arguments in, the answer out (sent back to
/// the emitter when it asked for one).
pub(crate) type ServerEventHandler = Arc<dyn Fn(Payload) -> BoxFuture<Value> + Send + Sync>;

/// The server-side event handlers of a namespace, by event name.
#[derive(Default)]
pub(crate) struct ServerEvents(pub(crate) RwLock<HashMap<String, ServerEventHandler>>);

/// `frames` with `offset` appended to the event's arguments: the text frame `…["ev",…]`
/// becomes `…["ev",…,"offset"]`, the bytes serde_json would have written had the offset been
/// pushed before encoding (as [`Namespace::send_event`] does on a single node).
pub(crate) fn stamped(mut frames: Vec<Frame>, offset: &str) -> Vec<Frame> {
    if let Some(Frame::Text(text)) = frames.first_mut() {
        if let Some(head) = text.as_str().strip_suffix(']') {
            let mut out = String::with_capacity(text.len() + offset.len() + 3);
            out.push_str(head);
            if !head.ends_with('[') {
                out.push(',');
            }
            out.push('"');
            out.push_str(offset);
            out.push_str("\"]");
            *text = Str::from(out);
        }
    }
    frames
}

impl Namespace {
    /// This node's id in its cluster (empty on a single node).
    pub(crate) fn node_id(&self) -> String {
        self.adapter.node_id().to_owned()
    }

    /// Every room with a socket, on every node.
    pub(crate) async fn all_rooms(&self) -> Result<Vec<Room>, RequestError> {
        let mut rooms: HashSet<Room> = self.adapter.rooms().into_iter().collect();
        for answer in self.adapter.request(Request::AllRooms, None).await? {
            if let Response::Rooms(more) = answer {
                rooms.extend(more);
            }
        }
        Ok(rooms.into_iter().collect())
    }

    /// Emits a server-side event to the other nodes; their handlers' answers when `ack`.
    pub(crate) async fn server_side_emit(
        &self,
        event: &str,
        payload: Payload,
        ack: bool,
        timeout: Option<Duration>,
    ) -> Result<Vec<Value>, RequestError> {
        let request = Request::ServerSideEmit { event: event.to_owned(), payload, ack };
        let answers = self.adapter.request(request, timeout).await?;
        Ok(answers
            .into_iter()
            .filter_map(|a| match a {
                Response::ServerAck(Some(v)) => Some(v),
                _ => None,
            })
            .collect())
    }

    fn selected_sockets(&self, opts: &BroadcastOptions) -> Vec<Socket> {
        self.adapter
            .select(opts)
            .iter()
            .filter_map(|sid| self.sockets.get(sid).map(|s| s.value().clone()))
            .collect()
    }

    /// Delivers an event another node sent, or one the cluster sequenced (with its
    /// `offset`: stamped, kept for recovery and sent under the log's lock).
    pub(crate) fn deliver(
        &self,
        opts: &BroadcastOptions,
        frames: Vec<Frame>,
        offset: Option<&str>,
    ) {
        let send = |frames: &[Frame]| {
            for sid in self.adapter.select(opts) {
                if let Some(socket) = self.sockets.get(&sid).map(|s| s.value().clone()) {
                    let _ = socket.engine().send_frames(frames);
                }
            }
        };
        match (&self.recovery, offset) {
            (Some(recovery), Some(text)) => match Offset::parse(text) {
                Some(at) => recovery.keep_and_send_at(at, opts, stamped(frames, text), send),
                None => send(&frames),
            },
            _ => send(&frames),
        }
    }

    /// Applies a room change another node sent.
    pub(crate) fn apply_room_change(&self, opts: &BroadcastOptions, change: &RoomChange) {
        for sid in self.adapter.select(opts) {
            match change {
                RoomChange::Join(rooms) => self.join_rooms(&sid, rooms),
                RoomChange::Leave(rooms) => self.leave_rooms(&sid, rooms),
            }
        }
    }

    /// Disconnects the local sockets `opts` selects.
    pub(crate) fn disconnect_local(&self, opts: &BroadcastOptions) {
        for socket in self.selected_sockets(opts) {
            socket.disconnect();
        }
    }

    /// This node's answer to another node's request.
    pub(crate) fn answer(&self, request: Request, node: &str) -> BoxFuture<Response> {
        match request {
            Request::FetchSockets(opts) => {
                let sockets = self.selected_sockets(&opts);
                let data = sockets.iter().map(|s| RemoteSocketData::of(s, node)).collect();
                Box::pin(std::future::ready(Response::Sockets(data)))
            }
            Request::AllRooms => {
                Box::pin(std::future::ready(Response::Rooms(self.adapter.rooms())))
            }
            Request::ServerSideEmit { event, payload, .. } => {
                let handler = read(&self.server_events.0).get(&event).cloned();
                match handler {
                    Some(handler) => {
                        let answer = handler(payload);
                        Box::pin(async move { Response::ServerAck(Some(answer.await)) })
                    }
                    None => Box::pin(std::future::ready(Response::ServerAck(None))),
                }
            }
        }
    }

    /// Emits `data` with an acknowledgement request to the local sockets `opts` selects: how
    /// many it went to, and their answers.
    pub(crate) fn local_broadcast_with_ack(
        &self,
        opts: &BroadcastOptions,
        data: Value,
        attachments: Vec<Bytes>,
        timeout: Duration,
    ) -> (usize, RemoteAcks) {
        let mut stream = AckStream::<Payload>::new();
        let mut packet = Packet::event(&self.path, data, attachments, None);
        let sockets = self.selected_sockets(opts);
        for socket in &sockets {
            match socket.send_asking_ack_now(&mut packet) {
                Ok(pending) => stream.push(pending, timeout),
                Err(e) => stream.push_failed(socket.id().clone(), e),
            }
        }
        (sockets.len(), stream.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamping_appends_the_offset_as_serde_json_would() {
        let text = |s: &str| vec![Frame::Text(Str::from(s))];
        let out = stamped(text("42[\"ev\",{\"a\":1}]"), "1700-3");
        assert!(matches!(&out[0], Frame::Text(t) if t == "42[\"ev\",{\"a\":1},\"1700-3\"]"));
        let out = stamped(text("451-/n,7[\"ev\",{\"_placeholder\":true,\"num\":0}]"), "9-0");
        assert!(
            matches!(&out[0], Frame::Text(t) if t == "451-/n,7[\"ev\",{\"_placeholder\":true,\"num\":0},\"9-0\"]")
        );
    }
}
