//! Why a socket left its namespace.

use std::fmt;

use crate::engine::CloseReason;

/// Why a [`Socket`](crate::Socket) disconnected, with Socket.IO's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The connection went away (a closed WebSocket, a client that stopped polling).
    TransportClose,
    /// The connection broke the protocol.
    TransportError,
    /// The client sent something that does not decode.
    ParseError,
    /// The client did not answer pings.
    PingTimeout,
    /// The client left the namespace (`socket.disconnect()` in the browser).
    ClientNamespaceDisconnect,
    /// The server called [`Socket::disconnect`](crate::Socket::disconnect).
    ServerNamespaceDisconnect,
    /// The server closed the whole connection.
    ForcedClose,
    /// The server is shutting down: [`Io::close`](crate::Io::close).
    ServerShutdown,
}

impl DisconnectReason {
    /// The reason's name as Socket.IO reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ServerShutdown => "server shutting down",
        }
    }
}

impl DisconnectReason {
    /// Whether the socket left because its connection failed (not by anyone's choice), so its
    /// client may recover it.
    pub(crate) fn is_recoverable(self) -> bool {
        matches!(
            self,
            DisconnectReason::TransportClose
                | DisconnectReason::TransportError
                | DisconnectReason::PingTimeout
                | DisconnectReason::ForcedClose
                | DisconnectReason::ServerShutdown
        )
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(r: CloseReason) -> Self {
        match r {
            CloseReason::ClientClose | CloseReason::TransportClose => {
                DisconnectReason::TransportClose
            }
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            _ => DisconnectReason::ForcedClose,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
