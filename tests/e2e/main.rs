//! Black-box end-to-end tests of ferrio over real sockets (one binary, one module per area).
//!
//! Run against the in-process conformance app: `cargo test -p ferrio-tests --test e2e`.
//! Run against another server (e.g. the Node reference in tests/js/reference/):
//! `FERRIO_E2E_URL=http://127.0.0.1:3111 cargo test -p ferrio-tests --test e2e`.

// Test code: a failed expectation should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod bounds;
mod channels;
mod errors;
mod forwarding;
mod handshake;
mod heartbeat;
mod hostile;
mod lifecycle;
mod limits;
mod polling;
mod slow_clients;
mod streaming;
mod upgrade;
mod websocket;

mod socketio;
