//! Socket.IO v5: namespaces, events, acks and binary attachments.
//!
//! A Socket.IO packet travels in an Engine.IO message. Its text form is
//!
//! ```text
//! <kind>[<attachment count>-][<namespace>,][<ack id>][<JSON data>]
//! ```
//!
//! | packet | text |
//! |---|---|
//! | CONNECT to `/` | `0` |
//! | CONNECT to `/admin` with auth | `0/admin,{"token":"123"}` |
//! | DISCONNECT from `/admin` | `1/admin,` |
//! | EVENT `foo` with ack id 12 | `212["foo"]` |
//! | ACK 12 | `312[]` |
//! | CONNECT_ERROR | `4{"message":"Not authorized"}` |
//! | BINARY_EVENT with one buffer | `51-["baz",{"_placeholder":true,"num":0}]` + 1 binary frame |
//! | BINARY_ACK 15 | `61-15["bar",{"_placeholder":true,"num":0}]` + 1 binary frame |
//!
//! The namespace is written only when it is not `/`. Binary arguments stay
//! in [`Packet::data`] as [`placeholder`] objects; the bytes are in
//! [`Packet::attachments`], sent as binary frames right after the text.
//! [`Decoder`] validates every packet and reassembles binary ones.

mod decode;
mod encode;
mod json;
mod limits;
mod packet;
mod placeholder;

pub use decode::Decoder;
pub use limits::Limits;
pub use packet::{Packet, PacketKind};
pub use placeholder::placeholder;

/// Event names Socket.IO reserves for itself: a peer may not emit them.
pub const RESERVED_EVENTS: &[&str] =
    &["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];
