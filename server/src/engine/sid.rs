//! Session ids: 128 bits from the operating system's CSPRNG, base64url without padding.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// An Engine.IO session id (`sid`): 22 base64url characters encoding 128 random bits. Also
/// used for Socket.IO socket ids. Clones share one allocation: an id is copied into every
/// index that names its socket, and once per socket a broadcast selects.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid(Arc<str>);

impl Sid {
    /// Draws a fresh id from the CSPRNG.
    pub(crate) fn random() -> Self {
        let bytes: [u8; 16] = rand::random();
        Sid(Arc::from(URL_SAFE_NO_PAD.encode(bytes)))
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
    fn ids_are_22_url_safe_chars_and_distinct() {
        let a = Sid::random();
        let b = Sid::random();
        assert_eq!(a.as_str().len(), 22);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }
}
