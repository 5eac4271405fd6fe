//! Leaf helpers for the HTTP side of the engine: response bodies, the engine's own responses,
//! query parameters and the cross-origin policy. They know HTTP and the wire format, nothing
//! of sessions.

pub(crate) mod body;
pub(crate) mod cors;
pub(crate) mod query;
pub(crate) mod response;
