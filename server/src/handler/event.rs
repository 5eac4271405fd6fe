//! Event handlers and their extractors.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use super::{BoxFuture, ExtractError};
use crate::{Payload, Socket};

/// What an event handler's extractors read from.
#[derive(Debug)]
pub struct EventParts {
    pub(crate) socket: Socket,
    pub(crate) event: String,
    pub(crate) payload: Payload,
    pub(crate) ack_id: Option<u64>,
}

/// A value an event handler can take as an argument.
pub trait FromEvent: Sized {
    /// Builds the value from the event; an error skips the handler.
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError>;
}

/// An async function usable with [`Socket::on`](crate::Socket::on): its arguments implement
/// [`FromEvent`], it returns `()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event handler",
    note = "an event handler is an async fn or closure returning `()` whose arguments are extractors \
            such as `Socket`, `Event`, `Data<T>`, `TryData<T>`, `Payload`, `Ack`, `State<T>` (at most 8)"
)]
pub trait EventHandler<T>: Send + Sync + 'static {
    /// Extracts the arguments and returns the handler's future.
    fn call(&self, parts: EventParts) -> Result<BoxFuture, ExtractError>;
}

macro_rules! impl_event_handler {
    ($($ty:ident),*) => {
        impl<F, Fut, $($ty,)*> EventHandler<($($ty,)*)> for F
        where
            F: Fn($($ty),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
            $($ty: FromEvent + Send + 'static,)*
        {
            #[allow(non_snake_case, unused_mut, unused_variables)]
            fn call(&self, mut parts: EventParts) -> Result<BoxFuture, ExtractError> {
                $(let $ty = $ty::from_event(&mut parts)?;)*
                Ok(Box::pin((self)($($ty),*)))
            }
        }
    };
}

impl_event_handler!();
impl_event_handler!(T1);
impl_event_handler!(T1, T2);
impl_event_handler!(T1, T2, T3);
impl_event_handler!(T1, T2, T3, T4);
impl_event_handler!(T1, T2, T3, T4, T5);
impl_event_handler!(T1, T2, T3, T4, T5, T6);
impl_event_handler!(T1, T2, T3, T4, T5, T6, T7);
impl_event_handler!(T1, T2, T3, T4, T5, T6, T7, T8);

/// A type-erased event handler.
pub(crate) trait ErasedEventHandler: Send + Sync + 'static {
    fn call(&self, parts: EventParts) -> Result<BoxFuture, ExtractError>;
}

struct Erased<H, T>(H, PhantomData<fn() -> T>);

impl<H: EventHandler<T>, T: 'static> ErasedEventHandler for Erased<H, T> {
    fn call(&self, parts: EventParts) -> Result<BoxFuture, ExtractError> {
        self.0.call(parts)
    }
}

pub(crate) type BoxedEventHandler = Arc<dyn ErasedEventHandler>;

pub(crate) fn boxed<H: EventHandler<T>, T: 'static>(handler: H) -> BoxedEventHandler {
    Arc::new(Erased(handler, PhantomData))
}
