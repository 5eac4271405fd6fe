//! The names of the transports a session can use.

use std::fmt;

/// A transport an Engine.IO session can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling: one pending GET receives, POSTs send.
    Polling,
    /// A WebSocket connection.
    WebSocket,
    /// ferrio's `streaming` transport: a Server-Sent Events response receives, POSTs send.
    Streaming,
}

impl TransportKind {
    /// The name used in the `transport` query parameter and in `upgrades`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
            TransportKind::Streaming => "streaming",
        }
    }

    /// Parses a `transport` query value.
    pub fn from_query(name: &str) -> Option<Self> {
        match name {
            "polling" => Some(TransportKind::Polling),
            "websocket" => Some(TransportKind::WebSocket),
            "streaming" => Some(TransportKind::Streaming),
            _ => None,
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
