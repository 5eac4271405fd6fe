//! What the downstream side of an HTTP transport (a polling GET, a stream) waits for: frames
//! to send, or a reason to end.

use std::time::Duration;

use ferrio_protocol::engine::{Frame, Packet};

use crate::engine::session::{Session, Upgrade};
use crate::engine::TransportKind;

/// How long a receiver that arrives during an upgrade waits before it is answered with a noop,
/// so an old client that keeps polling does not spin.
const UPGRADE_NOOP_DELAY: Duration = Duration::from_millis(100);

/// The next thing a receiver sends.
#[derive(Debug)]
pub(crate) enum Receive {
    /// Queued frames, at most `max_bytes` once framed (at least one). A close packet among them
    /// ends the session.
    Frames(Vec<Frame>),
    /// Nothing more for this receiver: send this last frame (a noop or a close) and end.
    End(Frame),
}

/// Waits for frames for a receiver attached to `transport`. `arrived_during_upgrade` tells
/// whether the receiver was attached while a probe was already done (a stream passes it on its
/// first call only).
pub(crate) async fn next(
    session: &Session,
    transport: TransportKind,
    max_bytes: usize,
    arrived_during_upgrade: bool,
    still_current: impl Fn(&crate::engine::session::State) -> bool,
) -> Receive {
    loop {
        let notified = session.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let wait_for_noop = {
            let mut state = session.lock();
            // Checked before the queue: after an upgrade the frames belong to the websocket.
            if state.transport != transport || !still_current(&state) {
                return Receive::End(Packet::Noop.encode());
            }
            // A stream would keep delivering while traffic flows and never let the client
            // pause: once the probe is answered it ends, and what is queued waits for the
            // websocket (or, if the upgrade fails, for the next stream). A stream attached
            // during the probe takes what is queued once (pings included, so the session
            // lives on if the upgrade is abandoned), then ends.
            if transport == TransportKind::Streaming && state.upgrade == Upgrade::Probed {
                if arrived_during_upgrade && !state.queue.is_empty() {
                    return Receive::Frames(state.queue.drain_payload(max_bytes));
                }
                return Receive::End(Packet::Noop.encode());
            }
            if !state.queue.is_empty() {
                return Receive::Frames(state.queue.drain_payload(max_bytes));
            }
            if state.closed.is_some() {
                return Receive::End(Packet::Close.encode());
            }
            match state.upgrade {
                // The probe succeeded: answer so the client can pause this transport.
                Upgrade::Probed if !arrived_during_upgrade => {
                    return Receive::End(Packet::Noop.encode())
                }
                Upgrade::Probed => true,
                _ => false,
            }
        };
        if wait_for_noop {
            if tokio::time::timeout(UPGRADE_NOOP_DELAY, notified).await.is_err() {
                return Receive::End(Packet::Noop.encode());
            }
        } else {
            notified.await;
        }
    }
}
