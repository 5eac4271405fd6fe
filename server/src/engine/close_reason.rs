//! Why an Engine.IO session ended.

use std::fmt;

/// Why a session closed, with the names Engine.IO uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client sent a close packet.
    ClientClose,
    /// The transport's connection went away (WebSocket closed, client stopped polling).
    TransportClose,
    /// The client broke the protocol: overlapping requests, a packet in the wrong place, a
    /// payload over `max_payload`.
    TransportError,
    /// The client sent bytes that do not decode.
    ParseError,
    /// The client did not answer a ping within `ping_timeout`.
    PingTimeout,
    /// The application closed the session.
    ServerClose,
}

impl CloseReason {
    /// The reason's name as Engine.IO and Socket.IO report it.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::ClientClose => "transport close",
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::ParseError => "parse error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ServerClose => "forced close",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
