//! [`DecodeError`]: everything a peer can get wrong on the wire.

/// Why bytes from the peer could not be decoded.
///
/// Every variant names what the *peer* did wrong. None of them is caused by
/// local state, so the right reaction is always the same: the input is
/// rejected, the offending session (not the process) is closed or answered
/// with an error, and other sessions are unaffected. The decoders stay usable
/// after an error unless a variant says otherwise.
///
/// The variant names are part of the golden wire vectors in `tests/vectors/`
/// (as strings), so other implementations can check they reject the same
/// inputs for the same reasons.
///
/// ```
/// use ferrio_protocol::{engine, DecodeError, Str};
///
/// let err = engine::Packet::decode_text(Str::from("abc")).unwrap_err();
/// assert_eq!(err, DecodeError::UnknownPacketType);
/// assert_eq!(err.to_string(), "unknown packet type");
/// ```
#[non_exhaustive]
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The peer sent an empty packet: an empty WebSocket text frame, an empty
    /// polling body, an empty item between two `\x1e` separators, an empty
    /// SSE event, or an empty Socket.IO packet.
    #[error("empty packet")]
    Empty,

    /// The first character of the packet is not a packet type of the protocol
    /// (`0`–`6`, or `b` for a base64 binary item of a payload).
    #[error("unknown packet type")]
    UnknownPacketType,

    /// The peer sent text that is not valid UTF-8 (a polling body, an SSE
    /// stream, or base64-wrapped text).
    #[error("invalid UTF-8")]
    InvalidUtf8,

    /// A `b…` binary item (or a `b64` SSE event) is not valid standard base64.
    #[error("invalid base64")]
    InvalidBase64,

    /// The peer attached data to an Engine.IO packet that carries none
    /// (only `2probe`/`3probe` and messages carry data besides the open
    /// packet), e.g. `1x` or `2ping`.
    #[error("unexpected data after the packet type")]
    UnexpectedData,

    /// An SSE line or event is longer than the parser's limit. The stream
    /// cannot be resynchronised: the parser returns this error from then on.
    #[error("payload too large")]
    PayloadTooLarge,

    /// A Socket.IO packet's text is longer than [`Limits::max_packet_len`].
    ///
    /// [`Limits::max_packet_len`]: crate::socket::Limits::max_packet_len
    #[error("packet too large")]
    PacketTooLarge,

    /// A polling body holds more packets than the decoder accepts.
    #[error("too many packets in the payload")]
    TooManyPackets,

    /// A binary packet announces more attachments than
    /// [`Limits::max_attachments`].
    ///
    /// [`Limits::max_attachments`]: crate::socket::Limits::max_attachments
    #[error("too many binary attachments")]
    TooManyAttachments,

    /// The attachment count of a `BINARY_EVENT`/`BINARY_ACK` is not a
    /// non-negative integer followed by `-` (e.g. `5-1-[…]`, `5abc-`, or
    /// `51[…]` without the dash).
    #[error("invalid attachment count")]
    InvalidAttachmentCount,

    /// A binary placeholder `{"_placeholder":true,"num":N}` has a `num` that
    /// is not an integer in `0..count` (negative, fractional, a string, or
    /// past the announced count).
    #[error("invalid binary placeholder")]
    InvalidPlaceholder,

    /// The placeholders of a binary packet do not match its attachment
    /// count: an attachment is referenced twice or never. (The reference
    /// encoder always emits one placeholder per attachment; Node's parser
    /// tolerates unreferenced attachments, ferrio does not keep bytes nothing
    /// refers to.)
    #[error("binary placeholders do not match the attachment count")]
    AttachmentMismatch,

    /// The namespace contains a control character (U+0000–U+001F or U+007F).
    #[error("invalid namespace")]
    InvalidNamespace,

    /// The ack id is missing on an `ACK`/`BINARY_ACK`, present on a packet
    /// kind that has none (`CONNECT`, `DISCONNECT`, `CONNECT_ERROR`), or does
    /// not fit in a `u64`.
    #[error("invalid ack id")]
    InvalidAckId,

    /// The packet's JSON (Socket.IO data or the Engine.IO handshake) does not
    /// parse.
    #[error("invalid JSON")]
    InvalidJson,

    /// The data has the wrong shape for the packet kind. `CONNECT`: an object
    /// or nothing; `DISCONNECT`: nothing; `EVENT`: an array whose first
    /// element is a string or a number; `ACK`: an array; `CONNECT_ERROR`: an
    /// object or a string.
    #[error("invalid data for the packet kind")]
    InvalidData,

    /// The event name is one Socket.IO reserves for itself
    /// (see [`RESERVED_EVENTS`](crate::socket::RESERVED_EVENTS)).
    #[error("reserved event name")]
    ReservedEvent,

    /// A binary frame arrived while no `BINARY_EVENT`/`BINARY_ACK` header was
    /// waiting for attachments.
    #[error("unexpected binary frame")]
    UnexpectedBinary,

    /// A text packet arrived while a binary packet was still waiting for its
    /// attachments. The half-assembled packet is dropped.
    #[error("unexpected text frame while reassembling a binary packet")]
    UnexpectedText,

    /// An Engine.IO v3 payload's length header is not a number, or does not
    /// match the packet that follows it.
    #[error("invalid length header")]
    InvalidLength,

    /// The input ended where the grammar requires more: an open packet
    /// without its handshake JSON, a binary packet header that stops before
    /// its `-`, or an SSE stream that stops in the middle of an event.
    #[error("truncated input")]
    Truncated,
}
