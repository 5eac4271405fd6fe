//! Per-connection memory, guarded: every open session keeps its heartbeat task alive, and
//! every websocket its connection task, so what their futures hold across awaits is paid per
//! idle connection. An 8 KiB buffer in the websocket task once doubled that cost.

use super::session::drive_heartbeat;
use super::transport::websocket::run;

/// The size of the future `f` returns, without calling it.
fn future_size<Args, F: std::future::Future>(_: impl FnOnce(Args) -> F) -> usize {
    std::mem::size_of::<F>()
}

#[test]
fn the_heartbeat_task_stays_small() {
    let size = future_size(drive_heartbeat);
    assert!(size <= 512, "drive_heartbeat's future is {size} bytes");
}

#[test]
fn the_websocket_connection_task_stays_small() {
    let size = future_size(|(session, ws)| run(session, ws));
    assert!(size <= 2048, "the websocket task's future is {size} bytes");
}
