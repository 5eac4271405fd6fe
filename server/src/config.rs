//! Settings of the Socket.IO layer, read by every namespace.

use std::time::Duration;

use ferrio_protocol::socket::Limits;

/// What [`FerrioBuilder`](crate::FerrioBuilder) sets for the Socket.IO layer.
#[derive(Debug, Clone)]
pub(crate) struct SioConfig {
    pub(crate) connect_timeout: Duration,
    pub(crate) ack_timeout: Duration,
    pub(crate) limits: Limits,
    /// How long a disconnected socket can be recovered; `None` turns recovery off.
    pub(crate) recovery: Option<Duration>,
    /// Most event handlers of one socket running at once.
    pub(crate) max_concurrent_handlers: usize,
    /// Most handler calls, and bytes of their events, waiting for a slot on one socket.
    pub(crate) handler_backlog: (usize, usize),
    /// Whether a dynamic child namespace is removed when its last socket leaves.
    pub(crate) cleanup_empty_children: bool,
    /// Longest namespace name a client may send in a CONNECT, in bytes.
    pub(crate) max_namespace_len: usize,
}
