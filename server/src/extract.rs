//! Extractors: what handlers take as arguments.
//!
//! ```
//! use ferrio::extract::{Ack, Data, State};
//! use ferrio::Socket;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Chat { room: String, text: String }
//!
//! #[derive(Clone)]
//! struct Db;
//!
//! async fn on_chat(socket: Socket, Data(msg): Data<Chat>, State(_db): State<Db>, ack: Ack) {
//!     let _ = socket.to(msg.room.as_str()).emit("chat", &msg.text);
//!     let _ = ack.send(&"delivered");
//! }
//! # fn register(socket: Socket) { socket.on("chat", on_chat); }
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::engine::TransportKind;
use crate::errors::SendError;
use crate::handler::{EventParts, ExtractError, FromConnect, FromDisconnect, FromEvent};
use crate::{DisconnectReason, Io, Payload, Socket};

impl FromEvent for Socket {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(parts.socket.clone())
    }
}

impl FromConnect for Socket {
    fn from_connect(socket: &Socket) -> Result<Self, ExtractError> {
        Ok(socket.clone())
    }
}

impl FromDisconnect for Socket {
    fn from_disconnect(socket: &Socket, _: DisconnectReason) -> Result<Self, ExtractError> {
        Ok(socket.clone())
    }
}

impl FromDisconnect for DisconnectReason {
    fn from_disconnect(_: &Socket, reason: DisconnectReason) -> Result<Self, ExtractError> {
        Ok(reason)
    }
}

/// The transport the connection uses when the handler is called.
impl FromEvent for TransportKind {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(parts.socket.transport())
    }
}

/// The transport the connection uses when the handler is called.
impl FromConnect for TransportKind {
    fn from_connect(socket: &Socket) -> Result<Self, ExtractError> {
        Ok(socket.transport())
    }
}

/// The transport the connection used last.
impl FromDisconnect for TransportKind {
    fn from_disconnect(socket: &Socket, _: DisconnectReason) -> Result<Self, ExtractError> {
        Ok(socket.transport())
    }
}

/// The event's arguments (or, in a connect handler, the auth payload) deserialized as `T`. A
/// tuple type reads the arguments in order (a missing one as `null`, extra ones ignored); any
/// other type reads the first argument: `Data<(String, u32)>` for `socket.emit("e", "a", 1)`,
/// `Data<Vec<u32>>` for `socket.emit("e", [1, 2])`. Byte strings (`bytes::Bytes`,
/// `serde_bytes`, [`Binary`](crate::Binary)) read binary attachments at any depth. A handler
/// whose `Data` does not deserialize is not called; use [`TryData`] to see the error.
#[derive(Debug, Clone)]
pub struct Data<T>(pub T);

impl<T: DeserializeOwned> FromEvent for Data<T> {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        parts
            .payload
            .get()
            .deserialize()
            .map(Data)
            .map_err(|e| ExtractError::new(format!("invalid event data: {e}")))
    }
}

impl<T: DeserializeOwned> FromConnect for Data<T> {
    fn from_connect(socket: &Socket) -> Result<Self, ExtractError> {
        T::deserialize(socket.auth())
            .map(Data)
            .map_err(|e| ExtractError::new(format!("invalid auth payload: {e}")))
    }
}

/// Like [`Data`], but the handler is always called, with the deserialization result.
#[derive(Debug)]
pub struct TryData<T>(pub Result<T, serde_json::Error>);

impl<T: DeserializeOwned> FromEvent for TryData<T> {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(TryData(parts.payload.get().deserialize()))
    }
}

impl<T: DeserializeOwned> FromConnect for TryData<T> {
    fn from_connect(socket: &Socket) -> Result<Self, ExtractError> {
        Ok(TryData(T::deserialize(socket.auth())))
    }
}

/// The name of the event, for a handler that serves several: [`Socket::on_any`].
///
/// ```
/// use ferrio::extract::Event;
/// use ferrio::{Payload, Socket};
///
/// fn log_everything(socket: &Socket) {
///     socket.on_any(|Event(name): Event, payload: Payload| async move {
///         println!("{name}: {:?}", payload.args);
///     });
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event(pub String);

impl FromEvent for Event {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(Event(std::mem::take(&mut parts.event)))
    }
}

impl FromEvent for Payload {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(parts.payload.take())
    }
}

/// Answers the client's acknowledgement callback of this event, once. When the client asked
/// for no acknowledgement, sending does nothing.
///
/// When an event has several listeners (see [`Socket::on`]), each gets an `Ack` and the
/// first to send it answers the client; the others' sends do nothing, as a second call of the
/// callback does in Socket.IO. A socket middleware gets one that answers nothing: it answers
/// by refusing the event (see [`Socket::use_middleware`]).
#[derive(Debug)]
#[must_use = "the client waits for the acknowledgement until its timeout"]
pub struct Ack {
    socket: Socket,
    id: Option<u64>,
    sent: Option<Arc<AtomicBool>>,
}

impl Ack {
    /// Whether the client asked for an acknowledgement (and no other listener of the event
    /// answered it yet).
    pub fn expected(&self) -> bool {
        self.id.is_some() && !self.sent.as_ref().is_some_and(|sent| sent.load(Ordering::Acquire))
    }

    /// Sends the acknowledgement with `data` as its arguments: a tuple is several (see
    /// [`Payload`] for the rule), a [`Payload`] its own.
    pub fn send(self, data: impl crate::payload::IntoPayload) -> Result<(), SendError> {
        let Some(id) = self.id else { return Ok(()) };
        if self.sent.as_ref().is_some_and(|sent| sent.swap(true, Ordering::AcqRel)) {
            return Ok(());
        }
        self.socket.send_ack(id, data.into_payload()?)
    }
}

impl FromEvent for Ack {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        let id = parts.ack_id.take();
        Ok(Ack { socket: parts.socket.clone(), id, sent: parts.ack_sent.clone() })
    }
}

/// Application state given to [`FerrioBuilder::with_state`](crate::FerrioBuilder::with_state),
/// cloned for each handler call.
#[derive(Debug, Clone)]
pub struct State<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromEvent for State<T> {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        State::from_connect(&parts.socket)
    }
}

impl<T: Clone + Send + Sync + 'static> FromConnect for State<T> {
    fn from_connect(socket: &Socket) -> Result<Self, ExtractError> {
        socket.io_state::<T>().map(State).ok_or_else(|| {
            ExtractError::new(format!(
                "no state of type {} was given to the builder",
                std::any::type_name::<T>()
            ))
        })
    }
}

impl<T: Clone + Send + Sync + 'static> FromDisconnect for State<T> {
    fn from_disconnect(socket: &Socket, _: DisconnectReason) -> Result<Self, ExtractError> {
        State::from_connect(socket)
    }
}

/// A value stored on the socket with [`Socket::insert_extension`], cloned.
#[derive(Debug, Clone)]
pub struct Extension<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromEvent for Extension<T> {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Extension::from_connect(&parts.socket)
    }
}

impl<T: Clone + Send + Sync + 'static> FromConnect for Extension<T> {
    fn from_connect(socket: &Socket) -> Result<Self, ExtractError> {
        socket.extension::<T>().map(Extension).ok_or_else(|| {
            ExtractError::new(format!(
                "no extension of type {} on the socket",
                std::any::type_name::<T>()
            ))
        })
    }
}

impl<T: Clone + Send + Sync + 'static> FromDisconnect for Extension<T> {
    fn from_disconnect(socket: &Socket, _: DisconnectReason) -> Result<Self, ExtractError> {
        Extension::from_connect(socket)
    }
}

/// A value stored on the socket with [`Socket::insert_extension`], cloned, or `None` when
/// there is none: unlike [`Extension`], the handler is called either way.
///
/// ```
/// use ferrio::extract::MaybeExtension;
/// use ferrio::Socket;
///
/// #[derive(Clone)]
/// struct Username(String);
///
/// fn register(socket: &Socket) {
///     socket.on("whoami", |socket: Socket, MaybeExtension(name): MaybeExtension<Username>| async move {
///         let name = name.map_or_else(|| "anonymous".to_owned(), |n| n.0);
///         let _ = socket.emit("you-are", &name);
///     });
/// }
/// ```
#[derive(Debug, Clone)]
pub struct MaybeExtension<T>(pub Option<T>);

impl<T: Clone + Send + Sync + 'static> FromEvent for MaybeExtension<T> {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(MaybeExtension(parts.socket.extension::<T>()))
    }
}

impl<T: Clone + Send + Sync + 'static> FromConnect for MaybeExtension<T> {
    fn from_connect(socket: &Socket) -> Result<Self, ExtractError> {
        Ok(MaybeExtension(socket.extension::<T>()))
    }
}

impl<T: Clone + Send + Sync + 'static> FromDisconnect for MaybeExtension<T> {
    fn from_disconnect(socket: &Socket, _: DisconnectReason) -> Result<Self, ExtractError> {
        Ok(MaybeExtension(socket.extension::<T>()))
    }
}

/// A value an HTTP layer put in the extensions of the request that opened the connection
/// (see [`HandshakeRequest::extensions`](crate::engine::HandshakeRequest::extensions)),
/// cloned: an authenticated user, a session… The handler is not called (a connect handler or
/// middleware refuses the socket) when there is none: use [`MaybeHttpExtension`] to be
/// called either way.
///
/// ```
/// use axum::Extension as AxumExtension;
/// use ferrio::extract::HttpExtension;
/// use ferrio::{Ferrio, Socket};
///
/// #[derive(Clone)]
/// struct User {
///     name: String,
/// }
///
/// let (layer, io) = Ferrio::builder().build_layer();
/// io.ns("/", |socket: Socket, HttpExtension(user): HttpExtension<User>| async move {
///     let _ = socket.emit("welcome", &user.name);
/// });
/// // An auth layer in front of ferrio's (here one that lets everybody in as "ada").
/// let app: axum::Router = axum::Router::new()
///     .layer(layer)
///     .layer(AxumExtension(User { name: "ada".into() }));
/// ```
#[derive(Debug, Clone)]
pub struct HttpExtension<T>(pub T);

/// Like [`HttpExtension`], but `None` when the request had no such extension: the handler is
/// called either way.
///
/// ```
/// use ferrio::extract::MaybeHttpExtension;
/// use ferrio::Socket;
///
/// #[derive(Clone)]
/// struct User(String);
///
/// async fn on_connect(socket: Socket, MaybeHttpExtension(user): MaybeHttpExtension<User>) {
///     match user {
///         Some(User(name)) => socket.join(name),
///         None => socket.join("guests"),
///     }
/// }
/// # let (_layer, io) = ferrio::Ferrio::builder().build_layer();
/// # io.ns("/", on_connect);
/// ```
#[derive(Debug, Clone)]
pub struct MaybeHttpExtension<T>(pub Option<T>);

fn http_extension<T: Clone + Send + Sync + 'static>(socket: &Socket) -> Option<T> {
    socket.handshake().extensions.get::<T>().cloned()
}

fn http_extension_required<T: Clone + Send + Sync + 'static>(
    socket: &Socket,
) -> Result<HttpExtension<T>, ExtractError> {
    http_extension(socket).map(HttpExtension).ok_or_else(|| {
        ExtractError::new(format!(
            "no extension of type {} in the handshake request",
            std::any::type_name::<T>()
        ))
    })
}

impl<T: Clone + Send + Sync + 'static> FromEvent for HttpExtension<T> {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        http_extension_required(&parts.socket)
    }
}

impl<T: Clone + Send + Sync + 'static> FromConnect for HttpExtension<T> {
    fn from_connect(socket: &Socket) -> Result<Self, ExtractError> {
        http_extension_required(socket)
    }
}

impl<T: Clone + Send + Sync + 'static> FromDisconnect for HttpExtension<T> {
    fn from_disconnect(socket: &Socket, _: DisconnectReason) -> Result<Self, ExtractError> {
        http_extension_required(socket)
    }
}

impl<T: Clone + Send + Sync + 'static> FromEvent for MaybeHttpExtension<T> {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(MaybeHttpExtension(http_extension(&parts.socket)))
    }
}

impl<T: Clone + Send + Sync + 'static> FromConnect for MaybeHttpExtension<T> {
    fn from_connect(socket: &Socket) -> Result<Self, ExtractError> {
        Ok(MaybeHttpExtension(http_extension(socket)))
    }
}

impl<T: Clone + Send + Sync + 'static> FromDisconnect for MaybeHttpExtension<T> {
    fn from_disconnect(socket: &Socket, _: DisconnectReason) -> Result<Self, ExtractError> {
        Ok(MaybeHttpExtension(http_extension(socket)))
    }
}

fn io_of(socket: &Socket) -> Result<Io, ExtractError> {
    socket.io().ok_or_else(|| ExtractError::new("the server is gone"))
}

/// The server's [`Io`] handle, in any handler: emit to rooms, reach other sockets and
/// namespaces without capturing a clone of `io` in every closure.
///
/// ```
/// use ferrio::extract::Data;
/// use ferrio::{Ferrio, Io, Socket};
///
/// async fn announce(io: Io, Data(text): Data<String>) {
///     let _ = io.to("news").emit("announcement", &text);
/// }
///
/// let (_layer, io) = Ferrio::builder().build_layer();
/// io.ns("/", |socket: Socket| async move { socket.on("announce", announce) });
/// ```
impl FromEvent for Io {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        io_of(&parts.socket)
    }
}

/// The server's [`Io`] handle.
impl FromConnect for Io {
    fn from_connect(socket: &Socket) -> Result<Self, ExtractError> {
        io_of(socket)
    }
}

/// The server's [`Io`] handle.
impl FromDisconnect for Io {
    fn from_disconnect(socket: &Socket, _: DisconnectReason) -> Result<Self, ExtractError> {
        io_of(socket)
    }
}
