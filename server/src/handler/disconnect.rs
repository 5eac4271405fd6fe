//! Disconnect handlers.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use super::BoxFuture;
use crate::{DisconnectReason, Socket};

/// An async function run once when a socket disconnects: `async fn()`,
/// `async fn(Socket)` or `async fn(Socket, DisconnectReason)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a disconnect handler",
    note = "a disconnect handler is an async fn or closure returning `()` taking `()`, `(Socket)` or \
            `(Socket, DisconnectReason)`"
)]
pub trait DisconnectHandler<T>: Send + Sync + 'static {
    /// Returns the handler's future.
    fn call(&self, socket: Socket, reason: DisconnectReason) -> BoxFuture;
}

impl<F, Fut> DisconnectHandler<()> for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, _: Socket, _: DisconnectReason) -> BoxFuture {
        Box::pin((self)())
    }
}

impl<F, Fut> DisconnectHandler<(Socket,)> for F
where
    F: Fn(Socket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, socket: Socket, _: DisconnectReason) -> BoxFuture {
        Box::pin((self)(socket))
    }
}

impl<F, Fut> DisconnectHandler<(Socket, DisconnectReason)> for F
where
    F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn call(&self, socket: Socket, reason: DisconnectReason) -> BoxFuture {
        Box::pin((self)(socket, reason))
    }
}

pub(crate) trait ErasedDisconnectHandler: Send + Sync + 'static {
    fn call(&self, socket: Socket, reason: DisconnectReason) -> BoxFuture;
}

struct Erased<H, T>(H, PhantomData<fn() -> T>);

impl<H: DisconnectHandler<T>, T: 'static> ErasedDisconnectHandler for Erased<H, T> {
    fn call(&self, socket: Socket, reason: DisconnectReason) -> BoxFuture {
        self.0.call(socket, reason)
    }
}

pub(crate) type BoxedDisconnectHandler = Arc<dyn ErasedDisconnectHandler>;

pub(crate) fn boxed<H: DisconnectHandler<T>, T: 'static>(handler: H) -> BoxedDisconnectHandler {
    Arc::new(Erased(handler, PhantomData))
}
