//! Session ids: 128 bits from the operating system's CSPRNG, base64url without padding; in a
//! cluster, the owner node's tag followed by 120 random bits.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// An Engine.IO session id (`sid`): 22 base64url characters encoding 128 random bits. Also
/// used for Socket.IO socket ids. Clones share one allocation: an id is copied into every
/// index that names its socket, and once per socket a broadcast selects.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid(Arc<str>);

/// Length of a node tag at the start of a clustered session id.
pub const NODE_TAG_LEN: usize = 4;

impl Sid {
    /// Draws a fresh id from the CSPRNG.
    pub(crate) fn random() -> Self {
        let bytes: [u8; 16] = rand::random();
        Sid(Arc::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Draws a fresh id for a session owned by the node tagged `tag` ([`NODE_TAG_LEN`]
    /// base64url characters): the tag, then 120 random bits, so any node can tell the owner.
    pub(crate) fn random_tagged(tag: &str) -> Self {
        let bytes: [u8; 15] = rand::random();
        let mut id = String::with_capacity(NODE_TAG_LEN + 20);
        id.push_str(tag);
        URL_SAFE_NO_PAD.encode_string(bytes, &mut id);
        Sid(Arc::from(id))
    }

    /// An id received from elsewhere (another node, a client), as is.
    pub fn from_wire(id: &str) -> Self {
        Sid(Arc::from(id))
    }

    /// The owner's node tag of an id made by [`random_tagged`](Self::random_tagged): its first
    /// [`NODE_TAG_LEN`] characters.
    pub(crate) fn node_tag(id: &str) -> Option<&str> {
        id.get(..NODE_TAG_LEN)
    }

    /// Whether `tag` can be a node tag: [`NODE_TAG_LEN`] base64url characters.
    pub fn is_node_tag(tag: &str) -> bool {
        tag.len() == NODE_TAG_LEN
            && tag.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    }

    /// The id as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.0)
    }
}

impl std::borrow::Borrow<str> for Sid {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_ids_start_with_their_tag_and_keep_120_random_bits() {
        let id = Sid::random_tagged("n0de");
        assert_eq!(id.as_str().len(), NODE_TAG_LEN + 20);
        assert_eq!(Sid::node_tag(id.as_str()), Some("n0de"));
        assert_ne!(id, Sid::random_tagged("n0de"));
        assert!(Sid::is_node_tag("n0de") && !Sid::is_node_tag("n0d") && !Sid::is_node_tag("n0d!"));
    }

    #[test]
    fn ids_are_22_url_safe_chars_and_distinct() {
        let a = Sid::random();
        let b = Sid::random();
        assert_eq!(a.as_str().len(), 22);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }
}
