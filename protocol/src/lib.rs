//! Sans-I/O codecs of the Engine.IO v4 / Socket.IO v5 wire protocol, as
//! spoken by ferrio: bytes in, values out. No sockets, no clock, no tasks:
//! the `ferrio` server crate (or a test, or a fuzzer) drives these types.
//!
//! # The two layers
//!
//! **Engine.IO** ([`engine`]) is the session: a handshake, heartbeats,
//! transport upgrades and messages. Its packets are a type digit plus data:
//! `0{…}` open, `1` close, `2`/`3` ping/pong, `4…` message, `5` upgrade,
//! `6` noop; binary messages are raw WebSocket frames. Long-polling bodies
//! join packets with `\x1e`, binary ones as `b<base64>`
//! ([`engine::payload`]); ferrio's `streaming` transport sends one
//! Server-Sent Event per packet ([`engine::sse`]).
//!
//! **Socket.IO** ([`socket`]) rides in Engine.IO messages. Its packets are
//! `<kind>[<attachments>-][<namespace>,][<ack id>][<JSON>]`, e.g.
//! `2/chat,12["message",{"text":"hi"}]`; binary arguments are replaced by
//! `{"_placeholder":true,"num":N}` and follow as separate binary messages,
//! reassembled by [`socket::Decoder`].
//!
//! Text is carried as [`Str`], a `Bytes`-backed string, so an encoded
//! broadcast is shared by every recipient and decoded messages are slices of
//! the frame they arrived in. Every decoder reports bad input with a typed
//! [`DecodeError`], never a panic, and bounds what it buffers.
//!
//! # A round trip
//!
//! ```
//! use bytes::Bytes;
//! use ferrio_protocol::engine::{self, Frame};
//! use ferrio_protocol::socket::{self, Decoder, Limits};
//! use serde_json::json;
//!
//! // The server emits `ask("photo", <bytes>)` with an ack id to namespace /chat…
//! let packet = socket::Packet::event(
//!     "/chat",
//!     json!(["ask", "photo", socket::placeholder(0)]),
//!     vec![Bytes::from_static(b"\x89PNG")],
//!     Some(7),
//! );
//! let text = packet.encode_message();
//! assert_eq!(text, r#"451-/chat,7["ask","photo",{"_placeholder":true,"num":0}]"#);
//! let frames = [Frame::Text(text), Frame::Binary(packet.attachments[0].clone())];
//!
//! // …the frames cross a WebSocket, and the peer decodes them.
//! let mut decoder = Decoder::new(Limits::default());
//! let mut received = None;
//! for frame in frames {
//!     received = match engine::Packet::decode(frame)? {
//!         engine::Packet::Message(text) => decoder.feed_text(&text)?,
//!         engine::Packet::Binary(bytes) => decoder.feed_binary(bytes)?,
//!         other => panic!("unexpected {other:?}"),
//!     };
//! }
//! assert_eq!(received, Some(packet));
//! # Ok::<(), ferrio_protocol::DecodeError>(())
//! ```
#![forbid(unsafe_code)]

mod b64;
mod decimal;
pub mod engine;
mod error;
pub mod socket;
mod str;

pub use crate::error::DecodeError;
pub use crate::str::Str;
