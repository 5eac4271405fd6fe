//! The per-session outbound queue: bounded in packets and in bytes, so a slow or stalled client
//! costs at most what the configuration allows.
//!
//! Each frame handed to an HTTP transport gets the session's next sequence number. A session
//! whose client confirms what it received (ferrio's client, through `lastEventId`) has the
//! frames it was handed kept "in flight" until confirmed: a re-attach that names an earlier
//! one rewinds them to the front of the queue, so a response lost with its connection is sent
//! again, in order, with the same numbers. In-flight frames count against the bounds.

use std::collections::VecDeque;

use ferrio_protocol::engine::{payload, Frame};

use crate::engine::QueueError;

/// Frames waiting for the session's transport, in send order, and those handed out but not yet
/// confirmed.
#[derive(Debug)]
pub(crate) struct OutboundQueue {
    frames: VecDeque<Frame>,
    /// Handed out, not confirmed, oldest first; their numbers run from
    /// `next_seq - in_flight.len()` to `next_seq - 1`.
    in_flight: VecDeque<Frame>,
    /// Bytes of `frames` and `in_flight`.
    bytes: usize,
    /// The number the next frame handed out gets.
    next_seq: u64,
    /// Whether handed-out frames are kept until confirmed.
    retain: bool,
    max_packets: usize,
    max_bytes: usize,
}

/// Frames taken for an HTTP transport, and the sequence number of the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Numbered {
    pub(crate) first_seq: u64,
    pub(crate) frames: Vec<Frame>,
}

impl Numbered {
    /// The sequence number of the last frame.
    pub(crate) fn last_seq(&self) -> u64 {
        self.first_seq + self.frames.len().saturating_sub(1) as u64
    }
}

/// Why a client's confirmation cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadConfirmation;

impl OutboundQueue {
    pub(crate) fn new(max_packets: usize, max_bytes: usize) -> Self {
        Self {
            frames: VecDeque::new(),
            in_flight: VecDeque::new(),
            bytes: 0,
            next_seq: 1,
            retain: false,
            max_packets,
            max_bytes,
        }
    }

    /// Appends all `frames` or none of them (a Socket.IO binary event and its attachments must
    /// never be split by an overflow).
    pub(crate) fn push_all(
        &mut self,
        frames: impl ExactSizeIterator<Item = Frame> + Clone,
    ) -> Result<(), QueueError> {
        let count = frames.len();
        let bytes: usize = frames.clone().map(|f| f.len()).sum();
        let held = self.frames.len() + self.in_flight.len();
        if held + count > self.max_packets || self.bytes + bytes > self.max_bytes {
            return Err(QueueError::Full);
        }
        self.bytes += bytes;
        self.frames.extend(frames);
        Ok(())
    }

    /// Appends a control frame (ping, noop, close) that bypasses the bounds: the engine itself
    /// must always be able to talk to the client.
    pub(crate) fn push_control(&mut self, frame: Frame) {
        self.bytes += frame.len();
        self.frames.push_back(frame);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Removes every queued frame, for a transport that writes them all at once (a websocket:
    /// nothing is kept in flight there).
    pub(crate) fn take_all(&mut self) -> VecDeque<Frame> {
        self.confirm_all();
        self.bytes = 0;
        std::mem::take(&mut self.frames)
    }

    /// Removes the frames a polling response (or a stream's next write) carries: at least one,
    /// then as many as fit in `max_payload` bytes once framed; numbered, and kept in flight
    /// when the session retains.
    pub(crate) fn drain_payload(&mut self, max_payload: usize) -> Numbered {
        let first_seq = self.next_seq;
        let mut out = Vec::new();
        let mut size = 0;
        while let Some(front) = self.frames.front() {
            let len = payload::encoded_len(front) + usize::from(!out.is_empty());
            if !out.is_empty() && size + len > max_payload {
                break;
            }
            size += len;
            let Some(frame) = self.frames.pop_front() else { break };
            if self.retain {
                self.in_flight.push_back(frame.clone());
            } else {
                self.bytes -= frame.len();
            }
            out.push(frame);
        }
        self.next_seq += out.len() as u64;
        Numbered { first_seq, frames: out }
    }

    /// From now on, keeps handed-out frames until the client confirms them.
    pub(crate) fn retain(&mut self) {
        self.retain = true;
    }

    /// The client received every frame up to `seq`: they are no longer kept. Confirming what
    /// was already confirmed is harmless.
    pub(crate) fn confirm(&mut self, seq: u64) {
        let oldest = self.next_seq - self.in_flight.len() as u64;
        let done = seq.saturating_add(1).saturating_sub(oldest).min(self.in_flight.len() as u64);
        for frame in self.in_flight.drain(..done as usize) {
            self.bytes -= frame.len();
        }
    }

    /// Confirms everything handed out (the client proved it received it, e.g. by completing an
    /// upgrade).
    pub(crate) fn confirm_all(&mut self) {
        self.confirm(self.next_seq.saturating_sub(1));
    }

    /// A client re-attaching says it received everything up to `seq`: confirms those, and puts
    /// the rest of what is in flight back at the front of the queue, to be handed out again
    /// with the same numbers. A `seq` beyond what was handed out is a lie or a bug.
    pub(crate) fn resume_after(&mut self, seq: u64) -> Result<(), BadConfirmation> {
        if seq >= self.next_seq {
            return Err(BadConfirmation);
        }
        self.confirm(seq);
        self.next_seq -= self.in_flight.len() as u64;
        while let Some(frame) = self.in_flight.pop_back() {
            self.frames.push_front(frame);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use ferrio_protocol::Str;

    fn text(s: &'static str) -> Frame {
        Frame::Text(Str::from_static(s))
    }

    #[test]
    fn overflow_in_packets_is_an_error_and_keeps_the_queue() {
        let mut q = OutboundQueue::new(2, 1000);
        q.push_all([text("4a"), text("4b")].into_iter()).unwrap();
        assert_eq!(q.push_all([text("4c")].into_iter()), Err(QueueError::Full));
        assert_eq!(q.drain_payload(1).frames, vec![text("4a")]);
    }

    #[test]
    fn overflow_in_bytes_rejects_the_whole_group() {
        let mut q = OutboundQueue::new(10, 5);
        let group = [text("4abc"), Frame::Binary(Bytes::from_static(b"xy"))];
        assert_eq!(q.push_all(group.into_iter()), Err(QueueError::Full));
        assert!(q.is_empty());
    }

    #[test]
    fn payload_batches_up_to_max_payload_but_at_least_one() {
        let mut q = OutboundQueue::new(10, 1000);
        q.push_all([text("4aaaa"), text("4bbbb"), text("4cccc")].into_iter()).unwrap();
        // 5 + 1 + 5 = 11 fits, the third would make 17.
        assert_eq!(q.drain_payload(11).frames, vec![text("4aaaa"), text("4bbbb")]);
        assert_eq!(q.drain_payload(1).frames, vec![text("4cccc")]);
        assert!(q.drain_payload(100).frames.is_empty());
    }

    #[test]
    fn handed_out_frames_are_numbered_and_kept_until_confirmed_when_retaining() {
        let mut q = OutboundQueue::new(3, 1000);
        q.retain();
        q.push_all([text("4a"), text("4b")].into_iter()).unwrap();
        let first = q.drain_payload(100);
        assert_eq!((first.first_seq, first.last_seq()), (1, 2));
        q.push_all([text("4c")].into_iter()).unwrap();
        // Two in flight and one queued fill the 3-packet bound.
        assert_eq!(q.push_all([text("4d")].into_iter()), Err(QueueError::Full));
        q.confirm(1);
        q.push_all([text("4d")].into_iter()).unwrap();
        assert_eq!(
            q.drain_payload(100),
            Numbered { first_seq: 3, frames: vec![text("4c"), text("4d")] }
        );
    }

    #[test]
    fn resuming_sends_what_followed_the_confirmation_again_with_the_same_numbers() {
        let mut q = OutboundQueue::new(10, 1000);
        q.retain();
        q.push_all([text("4a"), text("4b"), text("4c")].into_iter()).unwrap();
        assert_eq!(q.drain_payload(100).last_seq(), 3);
        q.push_all([text("4d")].into_iter()).unwrap();
        // The response carrying 1..3 was lost after the client got 1.
        q.resume_after(1).unwrap();
        assert_eq!(
            q.drain_payload(100),
            Numbered { first_seq: 2, frames: vec![text("4b"), text("4c"), text("4d")] }
        );
        assert_eq!(q.resume_after(9), Err(BadConfirmation), "never handed out");
        q.resume_after(4).unwrap();
        assert!(q.drain_payload(100).frames.is_empty());
        assert_eq!(q.bytes, 0);
    }

    #[test]
    fn without_retaining_handed_out_frames_are_forgotten() {
        let mut q = OutboundQueue::new(1, 1000);
        q.push_all([text("4a")].into_iter()).unwrap();
        assert_eq!(q.drain_payload(100).first_seq, 1);
        q.push_all([text("4b")].into_iter()).unwrap();
        assert_eq!(q.drain_payload(100).first_seq, 2);
        assert_eq!(q.bytes, 0);
    }
}
