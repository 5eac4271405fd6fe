//! [`Limits`]: what a [`Decoder`](super::Decoder) accepts.

/// Bounds on what a [`Decoder`](super::Decoder) accepts from a peer.
///
/// ```
/// use ferrio_protocol::socket::Limits;
///
/// let limits = Limits::default().with_max_attachments(2);
/// assert_eq!(limits.max_attachments, 2);
/// assert_eq!(limits.max_packet_len, 1_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most binary attachments one packet may announce. Default 10.
    pub max_attachments: usize,
    /// Most bytes of a packet's text form (without the Engine.IO `4`).
    /// Default 1 000 000, Engine.IO's default `maxPayload`.
    pub max_packet_len: usize,
}

impl Limits {
    /// The defaults: 10 attachments, 1 000 000 bytes of text.
    pub const DEFAULT: Limits = Limits { max_attachments: 10, max_packet_len: 1_000_000 };

    /// Sets [`Limits::max_attachments`].
    pub const fn with_max_attachments(mut self, max_attachments: usize) -> Limits {
        self.max_attachments = max_attachments;
        self
    }

    /// Sets [`Limits::max_packet_len`].
    pub const fn with_max_packet_len(mut self, max_packet_len: usize) -> Limits {
        self.max_packet_len = max_packet_len;
        self
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}
