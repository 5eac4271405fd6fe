//! Running handler futures so that replies keep the order of requests.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::Context;

use futures_util::task::noop_waker_ref;

pub(crate) type BoxFuture<T = ()> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Polls `future` once on the caller's task and spawns it only if it has to wait. A handler
/// that does not await (an echo, an ack) thus answers before the next packet is read, so
/// replies leave in the order requests came in; one that awaits continues on its own task.
///
/// A handler that panics on this first poll is dropped, and the panic stays inside it: the
/// connection's task, and so the connection, carry on. (A panic after the handler moved to
/// its own task ends only that task, as tokio does.)
pub(crate) fn run_inline(mut future: BoxFuture) {
    let mut cx = Context::from_waker(noop_waker_ref());
    match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx))) {
        // The spawned task polls again at once and registers its real waker.
        Ok(poll) if poll.is_pending() => {
            tokio::spawn(future);
        }
        Ok(_) => {}
        Err(_) => {
            tracing::error!("a handler panicked; it was dropped and the connection carries on")
        }
    }
}
