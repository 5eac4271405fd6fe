//! Running handler futures so that replies keep the order of requests.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;

use futures_util::task::noop_waker_ref;

pub(crate) type BoxFuture<T = ()> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Polls `future` once on the caller's task and spawns it only if it has to wait. A handler
/// that does not await (an echo, an ack) thus answers before the next packet is read, so
/// replies leave in the order requests came in; one that awaits continues on its own task.
pub(crate) fn run_inline(mut future: BoxFuture) {
    let mut cx = Context::from_waker(noop_waker_ref());
    if future.as_mut().poll(&mut cx).is_pending() {
        // The spawned task polls again at once and registers its real waker.
        tokio::spawn(future);
    }
}
