//! Errors of the Socket.IO layer, one type per family of operations.

use crate::engine::{QueueError, Sid};

/// Why an emit to one socket failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The data could not be serialized to JSON.
    #[error("cannot serialize the payload: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The socket's outbound queue is full (a slow client): retry later, drop, or disconnect.
    #[error("the socket's outbound queue is full")]
    QueueFull,
    /// The socket is disconnected.
    #[error("the socket is disconnected")]
    Disconnected,
}

impl From<QueueError> for SendError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Full => SendError::QueueFull,
            _ => SendError::Disconnected,
        }
    }
}

/// Why waiting for an acknowledgement failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No acknowledgement arrived within the timeout.
    #[error("no acknowledgement within the timeout")]
    Timeout,
    /// The socket disconnected before acknowledging.
    #[error("the socket disconnected before acknowledging")]
    Disconnected,
    /// The acknowledgement's arguments do not deserialize to the expected type.
    #[error("cannot deserialize the acknowledgement: {0}")]
    Decode(serde_json::Error),
    /// The event could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
}

/// Why a broadcast failed, entirely or for some sockets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BroadcastError {
    /// The data could not be serialized to JSON; nothing was sent.
    #[error("cannot serialize the payload: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The packet was sent to every selected socket but these, whose queues were full or which
    /// disconnected meanwhile.
    #[error("the broadcast failed for {} socket(s)", .0.len())]
    Partial(Vec<(Sid, SendError)>),
}

/// Why a connection to a namespace was refused; sent to the client as CONNECT_ERROR
/// `{"message": …, "data": …}`.
///
/// ```
/// use ferrio::ConnectError;
///
/// let err = ConnectError::new("unauthorized").with_data(serde_json::json!({"code": "E_UNAUTHORIZED"}));
/// assert_eq!(err.message(), "unauthorized");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    message: String,
    data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with this message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError { message: message.into(), data: None }
    }

    /// Adds the `data` the client receives with the error.
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The data, if any.
    pub fn data(&self) -> Option<&serde_json::Value> {
        self.data.as_ref()
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

impl From<&str> for ConnectError {
    fn from(message: &str) -> Self {
        ConnectError::new(message)
    }
}

impl From<String> for ConnectError {
    fn from(message: String) -> Self {
        ConnectError::new(message)
    }
}

/// Why a socket middleware (see [`Socket::use_middleware`](crate::Socket::use_middleware))
/// refused an event: the event's listeners do not run, and when the client asked for an
/// acknowledgement it gets this error as the acknowledgement's one argument,
/// `{"message": …, "data": …}` (`data` only when set).
///
/// ```
/// use ferrio::EventError;
///
/// let err = EventError::new("forbidden").with_data(serde_json::json!({"event": "admin:reset"}));
/// assert_eq!(err.message(), "forbidden");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EventError {
    message: String,
    data: Option<serde_json::Value>,
}

impl EventError {
    /// A refusal with this message.
    pub fn new(message: impl Into<String>) -> Self {
        EventError { message: message.into(), data: None }
    }

    /// Adds the `data` the client receives with the error.
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The data, if any.
    pub fn data(&self) -> Option<&serde_json::Value> {
        self.data.as_ref()
    }

    /// The acknowledgement's arguments: `[{"message": …, "data": …}]`.
    pub(crate) fn to_payload(&self) -> crate::Payload {
        let mut object = serde_json::Map::new();
        object.insert("message".to_owned(), serde_json::Value::String(self.message.clone()));
        if let Some(data) = &self.data {
            object.insert("data".to_owned(), data.clone());
        }
        crate::Payload { args: vec![serde_json::Value::Object(object)], attachments: Vec::new() }
    }
}

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EventError {}

impl From<&str> for EventError {
    fn from(message: &str) -> Self {
        EventError::new(message)
    }
}

impl From<String> for EventError {
    fn from(message: String) -> Self {
        EventError::new(message)
    }
}
