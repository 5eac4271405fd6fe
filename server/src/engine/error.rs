//! Errors of the Engine.IO layer's operations.

/// Why frames could not be queued for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The session's outbound queue is at its packet or byte bound: the client reads slower
    /// than the application writes. Retry later, drop the message, or close the session.
    #[error("the session's outbound queue is full")]
    Full,
    /// The session is closed; nothing more can be sent to it.
    #[error("the session is closed")]
    Closed,
}
