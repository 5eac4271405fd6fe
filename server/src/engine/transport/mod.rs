//! The transports. Each moves frames between a session's queue and the client, through the
//! session's transitions, and hands what the client sends to
//! [`Session::on_packet`](super::session::Session::on_packet).

pub(crate) mod polling;
mod receive;
pub(crate) mod streaming;
pub(crate) mod websocket;
