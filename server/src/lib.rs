#![doc = include_str!("../docs/crate.md")]
#![forbid(unsafe_code)]

mod ack;
pub mod adapter;
mod binary;
mod client;
mod config;
mod disconnect_reason;
pub mod engine;
mod errors;
pub mod extract;
pub mod handler;
mod io;
mod namespace;
mod operators;
mod payload;
mod poison;
mod recovery;
mod service;
mod socket;
#[cfg(test)]
mod task_size;
mod transport;

pub use ack::AckStream;
pub use binary::Binary;
pub use config::{AllowRequest, EngineConfig};
pub use disconnect_reason::DisconnectReason;
pub use errors::{AckError, BroadcastError, ConnectError, SendError};
pub use io::{DynNamespace, Ferrio, FerrioBuilder, FerrioLayer, Io};
pub use namespace::NamespaceRef;
pub use operators::{BroadcastOperators, RoomParam};
pub use payload::{FromPayload, IntoPayload, Payload};
pub use service::cors::Cors;
pub use service::{BoxError, EngineLayer, EngineService, ResponseBody, ResponseFuture};
pub use socket::{Socket, SocketWithTimeout};
