//! Several nodes as one, without sticky sessions: every session id starts with its owner
//! node's tag, and a node that gets a request for another node's session forwards it there
//! (polling and streaming requests with their bodies unbuffered, websockets by upgrading both
//! sides). Where the nodes are comes from a [`NodeDirectory`] — a cluster adapter's registry —
//! never from the request.

mod forward;

use std::net::SocketAddr;

pub(crate) use forward::Forwarder;

/// Where the nodes of a cluster are: a cluster adapter provides it, from its registry, so the
/// engine can tag the sessions it makes and forward requests for those of other nodes.
///
/// ```
/// use std::net::SocketAddr;
/// use ferrio::engine::NodeDirectory;
///
/// /// Two nodes that know each other (a real directory reads a registry).
/// struct Pair { me: &'static str, other: (&'static str, SocketAddr) }
///
/// impl NodeDirectory for Pair {
///     fn node_tag(&self) -> &str {
///         self.me
///     }
///     fn node_address(&self, tag: &str) -> Option<SocketAddr> {
///         (tag == self.other.0).then_some(self.other.1)
///     }
/// }
/// ```
pub trait NodeDirectory: Send + Sync + 'static {
    /// This node's tag: [`NODE_TAG_LEN`](super::NODE_TAG_LEN) base64url characters, put at the
    /// start of every session id it makes.
    fn node_tag(&self) -> &str;

    /// Where the live node tagged `tag` takes requests; `None` when no live node has it (its
    /// sessions are gone: the client is told its session is unknown, reconnects and recovers).
    fn node_address(&self, tag: &str) -> Option<SocketAddr>;
}

/// The header a forwarded request carries, so it is never forwarded twice.
pub(crate) const FORWARDED: &str = "x-ferrio-forwarded";
