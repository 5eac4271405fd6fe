//! The per-session outbound queue: bounded in packets and in bytes, so a slow or stalled client
//! costs at most what the configuration allows.

use std::collections::VecDeque;

use ferrio_protocol::engine::{payload, Frame};

use crate::engine::QueueError;

/// Frames waiting for the session's transport, in send order.
#[derive(Debug)]
pub(crate) struct OutboundQueue {
    frames: VecDeque<Frame>,
    bytes: usize,
    max_packets: usize,
    max_bytes: usize,
}

impl OutboundQueue {
    pub(crate) fn new(max_packets: usize, max_bytes: usize) -> Self {
        Self { frames: VecDeque::new(), bytes: 0, max_packets, max_bytes }
    }

    /// Appends all `frames` or none of them (a Socket.IO binary event and its attachments must
    /// never be split by an overflow).
    pub(crate) fn push_all(
        &mut self,
        frames: impl ExactSizeIterator<Item = Frame> + Clone,
    ) -> Result<(), QueueError> {
        let count = frames.len();
        let bytes: usize = frames.clone().map(|f| f.len()).sum();
        if self.frames.len() + count > self.max_packets || self.bytes + bytes > self.max_bytes {
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

    pub(crate) fn pop(&mut self) -> Option<Frame> {
        let frame = self.frames.pop_front()?;
        self.bytes -= frame.len();
        Some(frame)
    }

    /// Removes every queued frame, for a transport that writes them all at once.
    pub(crate) fn take_all(&mut self) -> VecDeque<Frame> {
        self.bytes = 0;
        std::mem::take(&mut self.frames)
    }

    /// Removes the frames a polling response carries: at least one, then as many as fit in
    /// `max_payload` bytes once framed.
    pub(crate) fn drain_payload(&mut self, max_payload: usize) -> Vec<Frame> {
        let mut out = Vec::new();
        let mut size = 0;
        while let Some(front) = self.frames.front() {
            let len = payload::encoded_len(front) + usize::from(!out.is_empty());
            if !out.is_empty() && size + len > max_payload {
                break;
            }
            size += len;
            if let Some(frame) = self.pop() {
                out.push(frame);
            }
        }
        out
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
        assert_eq!(q.pop(), Some(text("4a")));
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
        assert_eq!(q.drain_payload(11), vec![text("4aaaa"), text("4bbbb")]);
        assert_eq!(q.drain_payload(1), vec![text("4cccc")]);
        assert!(q.drain_payload(100).is_empty());
    }
}
