#![doc = "ferrio: realtime events for axum over WebSocket, streaming and long-polling."]
#![forbid(unsafe_code)]

mod config;
pub mod engine;
mod service;
mod transport;

pub use config::{AllowRequest, EngineConfig};
pub use service::cors::Cors;
pub use service::{BoxError, EngineLayer, EngineService, ResponseBody, ResponseFuture};
