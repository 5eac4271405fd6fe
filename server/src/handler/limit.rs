//! The bound on one socket's event handlers running at once, and the bounded backlog of
//! handler calls waiting for a slot.
//!
//! A call gets a slot before its handler is even called, and keeps it until the handler's
//! future ends, inline (it did not await) or on its own task. With a slot free and nothing
//! waiting, a call runs at once on the caller's task (the connection's), as
//! [`run_inline`] does. Otherwise it joins the backlog, which one task drains in order as
//! slots free up; a call that would take the backlog past its bounds is refused, and the
//! caller closes the connection.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use super::{run_inline, BoxFuture};
use crate::engine::lock::lock;

/// A handler call: extracts the arguments and calls the handler; `None` when it could not be
/// called (an extractor failed).
pub(crate) type Call = Box<dyn FnOnce() -> Option<BoxFuture> + Send>;

/// The backlog is full: the client sends faster than its handlers finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

struct Waiting {
    call: Call,
    bytes: usize,
}

#[derive(Default)]
struct Backlog {
    calls: VecDeque<Waiting>,
    bytes: usize,
    /// A task drains the backlog; new calls queue behind it, to keep their order.
    draining: bool,
}

/// One socket's handler slots and backlog.
pub(crate) struct HandlerLimit {
    slots: Arc<Semaphore>,
    backlog: Mutex<Backlog>,
    max_waiting: usize,
    max_waiting_bytes: usize,
}

impl std::fmt::Debug for HandlerLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerLimit")
            .field("free", &self.slots.available_permits())
            .field("waiting", &lock(&self.backlog).calls.len())
            .finish()
    }
}

impl HandlerLimit {
    /// At most `running` handlers at once (at least 1), and at most `max_waiting` calls and
    /// `max_waiting_bytes` bytes waiting — though one call is always let in an empty backlog.
    pub(crate) fn new(running: usize, max_waiting: usize, max_waiting_bytes: usize) -> Self {
        HandlerLimit {
            slots: Arc::new(Semaphore::new(running.clamp(1, Semaphore::MAX_PERMITS))),
            backlog: Mutex::new(Backlog::default()),
            max_waiting: max_waiting.max(1),
            max_waiting_bytes,
        }
    }

    /// Runs `call` now if a slot is free and no call waits; queues it otherwise (`bytes` is
    /// its size, counted against the backlog's bound). Calls after [`close`](Self::close)
    /// are dropped.
    pub(crate) fn submit(self: &Arc<Self>, call: Call, bytes: usize) -> Result<(), Overflow> {
        let mut backlog = lock(&self.backlog);
        if self.slots.is_closed() {
            return Ok(());
        }
        if !backlog.draining {
            match self.slots.clone().try_acquire_owned() {
                Ok(slot) => {
                    drop(backlog);
                    run(call, slot);
                    return Ok(());
                }
                Err(TryAcquireError::Closed) => return Ok(()),
                Err(TryAcquireError::NoPermits) => {}
            }
        }
        if !backlog.calls.is_empty()
            && (backlog.calls.len() >= self.max_waiting
                || backlog.bytes.saturating_add(bytes) > self.max_waiting_bytes)
        {
            return Err(Overflow);
        }
        backlog.bytes += bytes;
        backlog.calls.push_back(Waiting { call, bytes });
        if !backlog.draining {
            backlog.draining = true;
            tokio::spawn(self.clone().drain());
        }
        Ok(())
    }

    /// Runs the waiting calls in order, each once a slot frees up.
    async fn drain(self: Arc<Self>) {
        loop {
            // Closed: `close` dropped the waiting calls.
            let Ok(slot) = self.slots.clone().acquire_owned().await else { return };
            let call = {
                let mut backlog = lock(&self.backlog);
                let Some(next) = backlog.calls.pop_front() else {
                    backlog.draining = false;
                    return;
                };
                backlog.bytes -= next.bytes;
                next.call
            };
            run(call, slot);
        }
    }

    /// Drops the waiting calls (their handlers never run) and refuses new ones: the socket
    /// left. Handlers already running carry on.
    pub(crate) fn close(&self) {
        let dropped = {
            let mut backlog = lock(&self.backlog);
            self.slots.close();
            backlog.bytes = 0;
            std::mem::take(&mut backlog.calls)
        };
        // Outside the lock: the calls hold clones of the socket, whose drop may run anything.
        drop(dropped);
    }
}

/// Calls the handler and runs its future with `slot`, given back when the future ends.
fn run(call: Call, slot: OwnedSemaphorePermit) {
    match std::panic::catch_unwind(AssertUnwindSafe(call)) {
        Ok(Some(future)) => run_inline(Box::pin(async move {
            let _slot = slot;
            future.await;
        })),
        Ok(None) => {}
        Err(_) => {
            tracing::error!("a handler panicked; it was dropped and the connection carries on")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn counting(counter: &Arc<AtomicUsize>) -> Call {
        let counter = counter.clone();
        Box::new(move || {
            Some(Box::pin(async move {
                counter.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }))
        })
    }

    #[tokio::test]
    async fn the_backlog_refuses_calls_past_its_bounds_but_always_takes_one() {
        let started = Arc::new(AtomicUsize::new(0));
        let limit = Arc::new(HandlerLimit::new(1, 2, 10));
        assert_eq!(limit.submit(counting(&started), 100), Ok(()), "runs at once");
        assert_eq!(started.load(Ordering::SeqCst), 1);
        assert_eq!(limit.submit(counting(&started), 100), Ok(()), "one call over the bytes");
        assert_eq!(limit.submit(counting(&started), 1), Err(Overflow), "bytes");
        let limit = Arc::new(HandlerLimit::new(1, 2, 10));
        assert_eq!(limit.submit(counting(&started), 0), Ok(()));
        assert_eq!(limit.submit(counting(&started), 0), Ok(()));
        assert_eq!(limit.submit(counting(&started), 0), Ok(()));
        assert_eq!(limit.submit(counting(&started), 0), Err(Overflow), "count");
        limit.close();
        assert_eq!(limit.submit(counting(&started), 0), Ok(()), "dropped once closed");
        assert!(lock(&limit.backlog).calls.is_empty());
    }
}
