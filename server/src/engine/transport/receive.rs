//! What the downstream side of an HTTP transport (a polling GET, a stream) waits for: frames
//! to send, or a reason to end. The decisions are the session's
//! ([`Session::poll_receive`]); this only waits between them.

use ferrio_protocol::engine::{Frame, Packet};

use crate::engine::session::queue::Numbered;
use crate::engine::session::{ReceiveStep, Receiver, Session, UPGRADE_NOOP_DELAY};

/// The next thing a receiver sends.
#[derive(Debug)]
pub(crate) enum Receive {
    /// Queued frames, at most `max_bytes` once framed (at least one), numbered. A close packet
    /// among them ends the session.
    Frames(Numbered),
    /// Nothing more for this receiver: send this last frame (a noop or a close) and end.
    End(Frame),
}

/// Waits for what `receiver` sends next, at most `max_bytes` of frames.
pub(crate) async fn next(session: &Session, receiver: &mut Receiver, max_bytes: usize) -> Receive {
    loop {
        let changed = session.changed();
        match session.poll_receive(receiver, max_bytes) {
            ReceiveStep::Frames(frames) => return Receive::Frames(frames),
            ReceiveStep::End(frame) => return Receive::End(frame),
            ReceiveStep::Wait => changed.await,
            ReceiveStep::WaitThenNoop => {
                if tokio::time::timeout(UPGRADE_NOOP_DELAY, changed).await.is_err() {
                    return Receive::End(Packet::Noop.encode());
                }
            }
        }
    }
}
