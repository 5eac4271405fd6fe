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

use serde::de::DeserializeOwned;

use crate::errors::SendError;
use crate::handler::{EventParts, ExtractError, FromConnect, FromEvent};
use crate::{Payload, Socket};

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
        Ok(TryData(parts.payload.deserialize()))
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
        Ok(std::mem::take(&mut parts.payload))
    }
}

/// Answers the client's acknowledgement callback of this event, once. When the client asked
/// for no acknowledgement, sending does nothing.
#[derive(Debug)]
#[must_use = "the client waits for the acknowledgement until its timeout"]
pub struct Ack {
    socket: Socket,
    id: Option<u64>,
}

impl Ack {
    /// Whether the client asked for an acknowledgement.
    pub fn expected(&self) -> bool {
        self.id.is_some()
    }

    /// Sends the acknowledgement with `data` as its arguments (a [`Payload`] for several).
    pub fn send(self, data: impl crate::payload::IntoPayload) -> Result<(), SendError> {
        match self.id {
            Some(id) => self.socket.send_ack(id, data.into_payload()?),
            None => Ok(()),
        }
    }
}

impl FromEvent for Ack {
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError> {
        Ok(Ack { socket: parts.socket.clone(), id: parts.ack_id.take() })
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
