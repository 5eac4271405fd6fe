//! Broadcast operators: choose sockets (rooms, exceptions), then emit to them, collect their
//! acknowledgements, list them, move them between rooms or disconnect them.

use std::sync::Arc;
use std::time::Duration;

use ferrio_protocol::socket::Packet;

use crate::ack::AckStream;
use crate::adapter::{BroadcastOptions, Room, RoomChange};
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

    /// Acknowledgement timeout of [`emit_with_ack`](Self::emit_with_ack).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
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
        let failed = self.ns.send_event(data, attachments, (keep, None), |packet, frames| {
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
            self.ns.adapter.publish_broadcast(packet, &self.opts);
            failed
        });
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
        let mut packet = Packet::event(&self.ns.path, data, attachments, None);
        for socket in self.selected() {
            match socket.send_asking_ack(&mut packet) {
                Ok(pending) => stream.push(pending, timeout),
                Err(e) => stream.push_failed(socket.id().clone(), e),
            }
        }
        self.ns.adapter.publish_broadcast(&packet, &self.opts);
        Ok(stream)
    }

    /// The selected local sockets.
    pub fn sockets(&self) -> Vec<Socket> {
        self.selected()
    }

    /// Disconnects the selected sockets from the namespace (as [`Socket::disconnect`]).
    pub fn disconnect_sockets(&self) {
        for socket in self.selected() {
            socket.disconnect();
        }
        self.ns.adapter.publish_disconnect(&self.opts);
    }

    /// Makes the selected sockets join `rooms`.
    pub fn join(&self, rooms: impl RoomParam) {
        let rooms = rooms.into_rooms();
        for sid in self.ns.adapter.select(&self.opts) {
            self.ns.join_rooms(&sid, &rooms);
        }
        self.ns.adapter.publish_room_change(&self.opts, &RoomChange::Join(rooms));
    }

    /// Makes the selected sockets leave `rooms`.
    pub fn leave(&self, rooms: impl RoomParam) {
        let rooms = rooms.into_rooms();
        for sid in self.ns.adapter.select(&self.opts) {
            self.ns.leave_rooms(&sid, &rooms);
        }
        self.ns.adapter.publish_room_change(&self.opts, &RoomChange::Leave(rooms));
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

            /// Every connected socket.
            pub fn sockets(&self) -> Vec<$crate::Socket> {
                self.operators().sockets()
            }

            /// Disconnects every socket.
            pub fn disconnect_sockets(&self) {
                self.operators().disconnect_sockets()
            }
        }
    };
}

pub(crate) use delegate_operators;
