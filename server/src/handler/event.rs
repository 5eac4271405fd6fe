//! Event handlers, socket middleware, and their extractors.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::{BoxFuture, ExtractError};
use crate::{EventError, Payload, Socket};

/// What an event handler's extractors read from.
#[derive(Debug)]
pub struct EventParts {
    pub(crate) socket: Socket,
    pub(crate) event: String,
    pub(crate) payload: EventPayload,
    pub(crate) ack_id: Option<u64>,
    /// Shared by the listeners of one event that may answer its acknowledgement (there are
    /// several): the first to send it sets it, and the others' sends do nothing.
    pub(crate) ack_sent: Option<Arc<AtomicBool>>,
}

/// The arguments of an event: the handler's own when it is the event's only listener, shared
/// when several listeners (or a middleware) read them.
#[derive(Debug)]
pub(crate) enum EventPayload {
    Owned(Payload),
    Shared(Arc<Payload>),
}

impl EventPayload {
    pub(crate) fn get(&self) -> &Payload {
        match self {
            EventPayload::Owned(payload) => payload,
            EventPayload::Shared(payload) => payload,
        }
    }

    /// The arguments, moved out (copied only when another listener still shares them).
    pub(crate) fn take(&mut self) -> Payload {
        match std::mem::replace(self, EventPayload::Owned(Payload::default())) {
            EventPayload::Owned(payload) => payload,
            EventPayload::Shared(shared) => Arc::unwrap_or_clone(shared),
        }
    }

    pub(crate) fn into_shared(self) -> Arc<Payload> {
        match self {
            EventPayload::Owned(payload) => Arc::new(payload),
            EventPayload::Shared(shared) => shared,
        }
    }
}

/// A value an event handler (or a socket middleware) can take as an argument.
pub trait FromEvent: Sized {
    /// Builds the value from the event; an error skips the handler.
    fn from_event(parts: &mut EventParts) -> Result<Self, ExtractError>;
}

/// An async function usable with [`Socket::on`](crate::Socket::on): its arguments implement
/// [`FromEvent`] (at most sixteen, in any order), it returns `()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event handler",
    note = "an event handler is an async fn or closure returning `()` whose arguments are extractors \
            such as `Socket`, `Event`, `Data<T>`, `TryData<T>`, `Payload`, `Ack`, `State<T>`, \
            `Extension<T>`, `HttpExtension<T>`, `Io` (at most 16)"
)]
pub trait EventHandler<T>: Send + Sync + 'static {
    /// Extracts the arguments and returns the handler's future.
    fn call(&self, parts: EventParts) -> Result<BoxFuture, ExtractError>;
}

/// An async function usable with [`Socket::use_middleware`](crate::Socket::use_middleware):
/// its arguments implement [`FromEvent`] (at most sixteen), it returns `Result<(), E>` where
/// `E: Into<EventError>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a socket middleware",
    note = "a socket middleware is an async fn or closure returning `Result<(), E>` with \
            `E: Into<EventError>`, whose arguments are extractors such as `Socket`, `Event`, \
            `Data<T>`, `Payload`, `State<T>` (at most 16)"
)]
pub trait EventMiddleware<T>: Send + Sync + 'static {
    /// Extracts the arguments and returns the middleware's future.
    fn call(&self, parts: EventParts) -> Result<BoxFuture<Result<(), EventError>>, ExtractError>;
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

        impl<F, Fut, E, $($ty,)*> EventMiddleware<($($ty,)*)> for F
        where
            F: Fn($($ty),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<(), E>> + Send + 'static,
            E: Into<EventError>,
            $($ty: FromEvent + Send + 'static,)*
        {
            #[allow(non_snake_case, unused_mut, unused_variables)]
            fn call(
                &self,
                mut parts: EventParts,
            ) -> Result<BoxFuture<Result<(), EventError>>, ExtractError> {
                $(let $ty = $ty::from_event(&mut parts)?;)*
                let fut = (self)($($ty),*);
                Ok(Box::pin(async move { fut.await.map_err(Into::into) }))
            }
        }
    };
}

all_the_tuples!(impl_event_handler);

/// A type-erased event handler.
pub(crate) trait ErasedEventHandler: Send + Sync + 'static {
    fn call(&self, parts: EventParts) -> Result<BoxFuture, ExtractError>;
}

/// A type-erased socket middleware.
pub(crate) trait ErasedEventMiddleware: Send + Sync + 'static {
    fn call(&self, parts: EventParts) -> Result<BoxFuture<Result<(), EventError>>, ExtractError>;
}

struct Erased<H, T>(H, PhantomData<fn() -> T>);

impl<H: EventHandler<T>, T: 'static> ErasedEventHandler for Erased<H, T> {
    fn call(&self, parts: EventParts) -> Result<BoxFuture, ExtractError> {
        self.0.call(parts)
    }
}

struct ErasedMw<H, T>(H, PhantomData<fn() -> T>);

impl<H: EventMiddleware<T>, T: 'static> ErasedEventMiddleware for ErasedMw<H, T> {
    fn call(&self, parts: EventParts) -> Result<BoxFuture<Result<(), EventError>>, ExtractError> {
        self.0.call(parts)
    }
}

pub(crate) type BoxedEventHandler = Arc<dyn ErasedEventHandler>;
pub(crate) type BoxedEventMiddleware = Arc<dyn ErasedEventMiddleware>;

pub(crate) fn boxed<H: EventHandler<T>, T: 'static>(handler: H) -> BoxedEventHandler {
    Arc::new(Erased(handler, PhantomData))
}

pub(crate) fn boxed_event_middleware<H: EventMiddleware<T>, T: 'static>(
    middleware: H,
) -> BoxedEventMiddleware {
    Arc::new(ErasedMw(middleware, PhantomData))
}
