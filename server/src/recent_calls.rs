//! The events with acknowledgement a socket ran lately, by their ack id: a client that retries
//! an emit (after an ack timeout, a cut, a reconnect) sends it again with the same ack id, and
//! the handler must not run twice. A repeat of a call still running is dropped (its answer will
//! come); a repeat of one already answered gets that answer again (the first may have been lost
//! with the connection).
//!
//! Bounded: the last [`MAX_CALLS`] calls and at most [`MAX_ANSWER_BYTES`] of answers; older ones
//! are forgotten first. Kept with the socket for connection state recovery, so retries across a
//! reconnect are recognised too.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use ferrio_protocol::engine::Frame;

/// How many calls are remembered per socket.
const MAX_CALLS: usize = 256;
/// How many bytes of answers are remembered per socket.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// What to do with an event carrying an ack id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallState {
    /// Not seen lately: run its handlers.
    New,
    /// A repeat of a call still running: drop it, the first run answers.
    Running,
    /// A repeat of a call already answered: send this answer again, run nothing.
    Answered(Arc<[Frame]>),
}

/// The calls a socket ran lately.
#[derive(Debug, Default)]
pub(crate) struct RecentCalls {
    /// Ack ids in the order they were first seen.
    order: VecDeque<u64>,
    /// Each remembered call's answer, once sent.
    answers: HashMap<u64, Option<Arc<[Frame]>>>,
    answer_bytes: usize,
}

fn len(frames: &[Frame]) -> usize {
    frames.iter().map(Frame::len).sum()
}

impl RecentCalls {
    /// Records an event with ack id `id`, and says whether to run it.
    pub(crate) fn begin(&mut self, id: u64) -> CallState {
        match self.answers.get(&id) {
            Some(Some(answer)) => return CallState::Answered(answer.clone()),
            Some(None) => return CallState::Running,
            None => {}
        }
        self.answers.insert(id, None);
        self.order.push_back(id);
        while self.order.len() > MAX_CALLS {
            self.forget_oldest();
        }
        CallState::New
    }

    /// Records the answer sent to call `id` (if still remembered).
    pub(crate) fn answered(&mut self, id: u64, frames: &Arc<[Frame]>) {
        let Some(slot) = self.answers.get_mut(&id) else { return };
        if slot.is_none() {
            self.answer_bytes += len(frames);
            *slot = Some(frames.clone());
        }
        while self.answer_bytes > MAX_ANSWER_BYTES && !self.order.is_empty() {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some(old) = self.order.pop_front() {
            if let Some(Some(answer)) = self.answers.remove(&old) {
                self.answer_bytes -= len(&answer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrio_protocol::Str;

    fn answer(text: &'static str) -> Arc<[Frame]> {
        vec![Frame::Text(Str::from_static(text))].into()
    }

    #[test]
    fn repeats_are_dropped_while_running_and_answered_again_after() {
        let mut calls = RecentCalls::default();
        assert_eq!(calls.begin(7), CallState::New);
        assert_eq!(calls.begin(7), CallState::Running);
        calls.answered(7, &answer("437[1]"));
        assert_eq!(calls.begin(7), CallState::Answered(answer("437[1]")));
        assert_eq!(calls.begin(8), CallState::New);
    }

    #[test]
    fn old_calls_are_forgotten_past_the_bounds() {
        let mut calls = RecentCalls::default();
        for id in 0..=MAX_CALLS as u64 {
            assert_eq!(calls.begin(id), CallState::New);
        }
        assert_eq!(calls.begin(0), CallState::New, "the oldest was forgotten");
        assert_eq!(calls.order.len(), MAX_CALLS);

        let mut calls = RecentCalls::default();
        let big: Arc<[Frame]> = vec![Frame::Text(Str::from("4".repeat(MAX_ANSWER_BYTES)))].into();
        calls.begin(1);
        calls.answered(1, &big);
        calls.begin(2);
        calls.answered(2, &answer("432[]"));
        assert_eq!(calls.begin(1), CallState::New, "the big answer went first");
        assert!(calls.answer_bytes <= MAX_ANSWER_BYTES);
    }
}
