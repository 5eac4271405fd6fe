//! Engine.IO v4: the session layer under Socket.IO.
//!
//! An Engine.IO packet is a type digit followed by its data:
//!
//! | packet | text form | direction |
//! |---|---|---|
//! | [`Packet::Open`] | `0{"sid":…,"upgrades":…,"pingInterval":…,"pingTimeout":…,"maxPayload":…}` | server → client |
//! | [`Packet::Close`] | `1` | both |
//! | [`Packet::Ping`] / [`Packet::PingProbe`] | `2` / `2probe` | server → client / client → server |
//! | [`Packet::Pong`] / [`Packet::PongProbe`] | `3` / `3probe` | client → server / server → client |
//! | [`Packet::Message`] | `4<text>` | both |
//! | [`Packet::Binary`] | raw bytes (WebSocket) or `b<base64>` (payloads) | both |
//! | [`Packet::Upgrade`] | `5` | client → server |
//! | [`Packet::Noop`] | `6` | server → client |
//!
//! On a WebSocket each packet is one [`Frame`]. Long-polling bodies join
//! packets with `\x1e` ([`payload`]); the `streaming` transport sends one SSE
//! event per packet ([`sse`]). Bad HTTP requests are answered with an
//! [`ErrorCode`] body.

mod error_code;
mod frame;
mod handshake;
mod packet;
pub mod payload;
pub mod sse;
pub mod v3;

pub use error_code::{ErrorCode, PAYLOAD_TOO_LARGE_JSON, PAYLOAD_TOO_LARGE_STATUS};
pub use frame::Frame;
pub use handshake::OpenPacket;
pub use packet::{Packet, PacketType};
