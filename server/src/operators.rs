//! Broadcast operators: choose sockets (rooms, exceptions), then emit to them, collect their
//! acknowledgements, list them, move them between rooms or disconnect them.

use std::sync::Arc;
use std::time::Duration;

use ferrio_protocol::socket::Packet;

use crate::ack::AckStream;
use crate::adapter::{
    BroadcastOptions, Outbound, RemoteSocket, RemoteSocketData, Request, RequestError, Response,
    Room, RoomChange,
};
use crate::engine::QueueError;
use crate::errors::{BroadcastError, SendError};
use crate::namespace::Namespace;
use crate::payload::IntoPayload;
use crate::Socket;

/// Room names accepted by `to`, `except`, `join` and `leave`: a `&str`, a `String`, a
/// [`Room`], or an array, slice or `Vec` of them.
pub trait RoomParam {
    /// The rooms.
    fn into_rooms(self) -> Vec<Room>;
}

impl RoomParam for &str {
    fn into_rooms(self) -> Vec<Room> {
        vec![Room::from(self)]
    }
}

impl RoomParam for String {
    fn into_rooms(self) -> Vec<Room> {
        vec![Room::from(self)]
    }
}

impl RoomParam for &String {
    fn into_rooms(self) -> Vec<Room> {
        vec![Room::from(self.as_str())]
    }
}

impl RoomParam for Room {
    fn into_rooms(self) -> Vec<Room> {
        vec![self]
    }
}

impl<T: RoomParam> RoomParam for Vec<T> {
    fn into_rooms(self) -> Vec<Room> {
        self.into_iter().flat_map(RoomParam::into_rooms).collect()
    }
}

impl<T: RoomParam, const N: usize> RoomParam for [T; N] {
    fn into_rooms(self) -> Vec<Room> {
        self.into_iter().flat_map(RoomParam::into_rooms).collect()
    }
}

impl<T: RoomParam + Clone> RoomParam for &[T] {
    fn into_rooms(self) -> Vec<Room> {
        self.iter().cloned().flat_map(RoomParam::into_rooms).collect()
    }
}

/// A selection of sockets of one namespace, built by chaining `to`, `except`, `volatile` and
/// `timeout`, then acted on.
///
/// ```
/// # use ferrio::{Ferrio, Socket};
/// # use std::time::Duration;
/// # async fn demo(io: ferrio::Io) -> Result<(), ferrio::BroadcastError> {
/// io.to("lobby").except("muted").emit("chat", &"hello")?;
/// let answers = io.timeout(Duration::from_secs(2)).emit_with_ack::<u32>("vote", &"yes or no?")?.await;
/// for (sid, answer) in answers {
///     println!("{sid}: {answer:?}");
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BroadcastOperators {
    ns: Arc<Namespace>,
    opts: BroadcastOptions,
    volatile: bool,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for BroadcastOperators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastOperators")
            .field("ns", &self.ns.path)
            .field("opts", &self.opts)
            .field("volatile", &self.volatile)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl BroadcastOperators {
    pub(crate) fn new(ns: Arc<Namespace>, opts: BroadcastOptions) -> Self {
        BroadcastOperators { ns, opts, volatile: false, timeout: None }
    }

    /// Only sockets in `rooms` (added to rooms chosen before).
    pub fn to(mut self, rooms: impl RoomParam) -> Self {
        self.opts.rooms.extend(rooms.into_rooms());
        self
    }

    /// Same as [`to`](Self::to).
    pub fn within(self, rooms: impl RoomParam) -> Self {
        self.to(rooms)
    }

    /// Minus the sockets in `rooms`.
    pub fn except(mut self, rooms: impl RoomParam) -> Self {
        self.opts.except.extend(rooms.into_rooms());
        self
    }

    /// The message may be dropped for sockets that are not ready to take it right now (their
    /// queue is not empty, or full): for data where only the latest value matters.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Acknowledgement timeout of [`emit_with_ack`](Self::emit_with_ack), and the time
    /// [`fetch_sockets`](Self::fetch_sockets) waits for other nodes' answers.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Only this node's sockets: with a cluster adapter, the operation is not sent to the
    /// other nodes. (On a single node it changes nothing.) An emit made `local` while a
    /// cluster sequences events for connection state recovery is sent at once and not kept:
    /// it carries no offset.
    ///
    /// ```
    /// # fn demo(io: ferrio::Io) -> Result<(), ferrio::BroadcastError> {
    /// io.local().to("lobby").emit("node-news", &"only the clients of this node")?;
    /// # Ok(()) }
    /// ```
    pub fn local(mut self) -> Self {
        self.opts.local = true;
        self
    }

    /// The namespace operated on.
    pub(crate) fn namespace(&self) -> &Arc<Namespace> {
        &self.ns
    }

    fn selected(&self) -> Vec<Socket> {
        self.ns
            .adapter
            .select(&self.opts)
            .iter()
            .filter_map(|sid| self.ns.sockets.get(sid).map(|s| s.clone()))
            .collect()
    }

    /// Emits `event` to every selected socket. The packet is encoded once; every recipient
    /// gets the same bytes.
    pub fn emit(&self, event: &str, data: impl IntoPayload) -> Result<(), BroadcastError> {
        let (data, attachments) = data.into_payload()?.into_event_data(event);
        // Volatile events may be lost anyway: they are not kept for recovery.
        let keep = (!self.volatile).then_some(&self.opts);
        let failed = self.ns.send_event(data, attachments, (keep, None), |_, frames| {
            // The other nodes first: their trip through the cluster overlaps with the
            // delivery to this node's sockets.
            if !self.opts.local {
                self.ns.adapter.publish(Outbound::Event {
                    opts: &self.opts,
                    frames,
                    sequenced: false,
                });
            }
            let mut failed = Vec::new();
            for sid in self.ns.adapter.select(&self.opts) {
                let Some(socket) = self.ns.sockets.get(&sid).map(|s| s.clone()) else { continue };
                let engine = socket.engine();
                if self.volatile && !engine.is_idle() {
                    continue;
                }
                match engine.send_frames(frames) {
                    Ok(()) => {}
                    // Kept for recovery: a client that comes back for its socket gets it.
                    Err(QueueError::Closed) if keep.is_some() && self.ns.recovery.is_some() => {}
                    Err(_) if self.volatile => {}
                    Err(e) => failed.push((sid, SendError::from(e))),
                }
            }
            failed
        });
        // `None`: the cluster sequences the event and every node delivers it in its order.
        let failed = failed.unwrap_or_default();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(BroadcastError::Partial(failed))
        }
    }

    /// Emits `event` to every selected socket with an acknowledgement request, and returns the
    /// stream of their answers (await it to collect them all): one entry per socket, an
    /// [`AckError::Send`](crate::AckError::Send) for a socket the event could not be queued
    /// for. Each answer times out after [`timeout`](Self::timeout), else the configured ack
    /// timeout. Only a payload that does not serialize fails the whole call. Dropping the
    /// stream forgets the acknowledgements it still waited for.
    ///
    /// With a cluster adapter, the sockets of every node are asked: their answers arrive in
    /// the same stream, as the other nodes report them. A node that does not report within
    /// the timeout adds no entries for its sockets.
    pub fn emit_with_ack<T>(
        &self,
        event: &str,
        data: impl IntoPayload,
    ) -> Result<AckStream<T>, BroadcastError>
    where
        T: crate::payload::FromPayload + Send + 'static,
    {
        let (data, attachments) = data.into_payload()?.into_event_data(event);
        let timeout = self.timeout.unwrap_or(self.ns.config.ack_timeout);
        let mut stream = AckStream::new();
        if !self.opts.local {
            stream.set_remote(self.ns.adapter.broadcast_with_ack(
                &self.opts,
                &data,
                &attachments,
                timeout,
            ));
        }
        let mut packet = Packet::event(&self.ns.path, data, attachments, None);
        for socket in self.selected() {
            match socket.send_asking_ack_now(&mut packet) {
                Ok(pending) => stream.push(pending, timeout),
                Err(e) => stream.push_failed(socket.id().clone(), e),
            }
        }
        Ok(stream)
    }

    /// The selected sockets of this node. See [`fetch_sockets`](Self::fetch_sockets) for
    /// those of every node.
    pub fn sockets(&self) -> Vec<Socket> {
        self.selected()
    }

    /// The selected sockets of every node of the cluster (of this node alone, with the
    /// in-memory adapter or after [`local`](Self::local)): their ids, nodes, rooms and
    /// handshakes, and operations that reach them wherever they are. Waits at most
    /// [`timeout`](Self::timeout) (else the adapter's request timeout) for the other nodes.
    ///
    /// ```
    /// # async fn demo(io: ferrio::Io) -> Result<(), ferrio::adapter::RequestError> {
    /// let everyone = io.fetch_sockets().await?;
    /// let in_lobby = io.to("lobby").fetch_sockets().await?;
    /// println!("{} connected, {} in the lobby", everyone.len(), in_lobby.len());
    /// # Ok(()) }
    /// ```
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, RequestError> {
        let node = self.ns.node_id();
        let mut all: Vec<RemoteSocket> = self
            .selected()
            .iter()
            .map(|s| RemoteSocket::new(RemoteSocketData::of(s, &node), self.ns.clone()))
            .collect();
        if self.opts.local {
            return Ok(all);
        }
        let answers =
            self.ns.adapter.request(Request::FetchSockets(self.opts.clone()), self.timeout).await?;
        for answer in answers {
            if let Response::Sockets(sockets) = answer {
                all.extend(sockets.into_iter().map(|d| RemoteSocket::new(d, self.ns.clone())));
            }
        }
        Ok(all)
    }

    /// Disconnects the selected sockets from the namespace (as [`Socket::disconnect`]), on
    /// every node.
    pub fn disconnect_sockets(&self) {
        for socket in self.selected() {
            socket.disconnect();
        }
        if !self.opts.local {
            self.ns.adapter.publish(Outbound::Disconnect { opts: &self.opts });
        }
    }

    /// Makes the selected sockets join `rooms`, on every node.
    pub fn join(&self, rooms: impl RoomParam) {
        self.change_rooms(RoomChange::Join(rooms.into_rooms()));
    }

    /// Makes the selected sockets leave `rooms`, on every node.
    pub fn leave(&self, rooms: impl RoomParam) {
        self.change_rooms(RoomChange::Leave(rooms.into_rooms()));
    }

    fn change_rooms(&self, change: RoomChange) {
        self.ns.apply_room_change(&self.opts, &change);
        if !self.opts.local {
            self.ns.adapter.publish(Outbound::RoomChange { opts: &self.opts, change: &change });
        }
    }
}

/// Gives a handle type the operator methods, each starting from `self.operators()`.
macro_rules! delegate_operators {
    ($ty:ty) => {
        impl $ty {
            /// Sockets in `rooms`.
            pub fn to(
                &self,
                rooms: impl $crate::operators::RoomParam,
            ) -> $crate::BroadcastOperators {
                self.operators().to(rooms)
            }

            /// Every socket but those in `rooms`.
            pub fn except(
                &self,
                rooms: impl $crate::operators::RoomParam,
            ) -> $crate::BroadcastOperators {
                self.operators().except(rooms)
            }

            /// Every socket, with messages that may be dropped for busy sockets.
            pub fn volatile(&self) -> $crate::BroadcastOperators {
                self.operators().volatile()
            }

            /// Every socket, with this acknowledgement timeout.
            pub fn timeout(&self, timeout: std::time::Duration) -> $crate::BroadcastOperators {
                self.operators().timeout(timeout)
            }

            /// Emits `event` to every socket.
            pub fn emit(
                &self,
                event: &str,
                data: impl $crate::payload::IntoPayload,
            ) -> Result<(), $crate::BroadcastError> {
                self.operators().emit(event, data)
            }

            /// Emits `event` to every socket and collects their acknowledgements.
            pub fn emit_with_ack<T>(
                &self,
                event: &str,
                data: impl $crate::payload::IntoPayload,
            ) -> Result<$crate::AckStream<T>, $crate::BroadcastError>
            where
                T: $crate::payload::FromPayload + Send + 'static,
            {
                self.operators().emit_with_ack(event, data)
            }

            /// Every socket of this node.
            pub fn sockets(&self) -> Vec<$crate::Socket> {
                self.operators().sockets()
            }

            /// Only this node's sockets (see [`BroadcastOperators::local`]).
            ///
            /// [`BroadcastOperators::local`]: $crate::BroadcastOperators::local
            pub fn local(&self) -> $crate::BroadcastOperators {
                self.operators().local()
            }

            /// Every room with at least one socket, on every node of the cluster.
            ///
            /// ```
            /// # async fn demo(io: ferrio::Io) -> Result<(), ferrio::adapter::RequestError> {
            /// let rooms = io.all_rooms().await?;
            /// # Ok(()) }
            /// ```
            pub async fn all_rooms(
                &self,
            ) -> Result<Vec<$crate::adapter::Room>, $crate::adapter::RequestError> {
                self.operators().namespace().clone().all_rooms().await
            }

            /// How many live nodes the cluster has, this one included (1 on a single node),
            /// as the cluster's registry says now.
            pub async fn server_count(&self) -> Result<usize, $crate::adapter::RequestError> {
                self.operators().namespace().adapter.fetch_server_count().await
            }

            /// Emits a server-side event to the other nodes of the cluster: their handlers
            /// (see [`on_server_event`](Self::on_server_event)) run; this node's do not.
            /// Resolves once it was handed to every live node.
            ///
            /// ```
            /// # async fn demo(io: ferrio::Io) -> Result<(), Box<dyn std::error::Error>> {
            /// io.server_side_emit("cache-flush", ferrio::Payload::from_data(&"users")?).await?;
            /// # Ok(()) }
            /// ```
            pub async fn server_side_emit(
                &self,
                event: &str,
                payload: $crate::Payload,
            ) -> Result<(), $crate::adapter::RequestError> {
                let ns = self.operators().namespace().clone();
                ns.server_side_emit(event, payload, false, None).await.map(|_| ())
            }

            /// Emits a server-side event to the other nodes and collects their handlers'
            /// answers, one per node that has a handler for it; waits at most `timeout` (else
            /// the adapter's request timeout).
            ///
            /// ```
            /// # async fn demo(io: ferrio::Io) -> Result<(), Box<dyn std::error::Error>> {
            /// let loads = io
            ///     .server_side_emit_with_ack("load", ferrio::Payload::new(), None)
            ///     .await?;
            /// println!("{} other nodes answered", loads.len());
            /// # Ok(()) }
            /// ```
            pub async fn server_side_emit_with_ack(
                &self,
                event: &str,
                payload: $crate::Payload,
                timeout: Option<std::time::Duration>,
            ) -> Result<Vec<serde_json::Value>, $crate::adapter::RequestError> {
                let ns = self.operators().namespace().clone();
                ns.server_side_emit(event, payload, true, timeout).await
            }

            /// Handles the server-side `event` other nodes emit (see
            /// [`server_side_emit`](Self::server_side_emit)); the value the handler returns is
            /// the answer an emitter waiting for acknowledgements receives. Replaces an
            /// earlier handler of the same event.
            ///
            /// ```
            /// # fn demo(io: ferrio::Io) {
            /// io.on_server_event("load", |_args: ferrio::Payload| async move {
            ///     serde_json::json!({ "sockets": 42 })
            /// });
            /// # }
            /// ```
            pub fn on_server_event<F, Fut>(&self, event: &str, handler: F)
            where
                F: Fn($crate::Payload) -> Fut + Send + Sync + 'static,
                Fut: std::future::Future<Output = serde_json::Value> + Send + 'static,
            {
                let ns = self.operators().namespace().clone();
                let handler: $crate::namespace::ServerEventHandler =
                    std::sync::Arc::new(move |payload| Box::pin(handler(payload)));
                $crate::engine::lock::write(&ns.server_events.0).insert(event.to_owned(), handler);
            }

            /// Every socket of every node (see [`BroadcastOperators::fetch_sockets`]).
            ///
            /// [`BroadcastOperators::fetch_sockets`]: $crate::BroadcastOperators::fetch_sockets
            pub async fn fetch_sockets(
                &self,
            ) -> Result<Vec<$crate::adapter::RemoteSocket>, $crate::adapter::RequestError> {
                self.operators().fetch_sockets().await
            }

            /// Disconnects every socket.
            pub fn disconnect_sockets(&self) {
                self.operators().disconnect_sockets()
            }
        }
    };
}

pub(crate) use delegate_operators;
