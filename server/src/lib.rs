#![doc = include_str!("../docs/crate.md")]
#![forbid(unsafe_code)]

mod ack;
pub mod adapter;
pub mod admin;
mod binary;
mod builder;
mod client;
mod config;
mod disconnect_reason;
mod emit;
pub mod engine;
mod errors;
pub mod extract;
pub mod handler;
mod io;
mod namespace;
mod observer;
mod operators;
mod payload;
mod recent_calls;
mod recovery;
mod serve;
mod socket;
#[cfg(test)]
mod testing;

pub use ack::AckStream;
pub use admin::AdminUi;
pub use binary::Binary;
pub use builder::{Ferrio, FerrioBuilder, FerrioLayer};
pub use disconnect_reason::DisconnectReason;
pub use engine::{Cors, TransportKind};
pub use errors::{AckError, BroadcastError, ConnectError, EventError, SendError};
pub use io::Io;
pub use namespace::{DynNamespace, NamespaceRef};
pub use operators::{BroadcastOperators, RoomParam};
pub use payload::{FromPayload, IntoPayload, Payload};
pub use serve::{serve, Serve, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_WRITE_TIMEOUT};
pub use socket::{Socket, SocketOperators, SocketWithTimeout};
