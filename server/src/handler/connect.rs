//! Connect handlers, connect middleware, and their extractors.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use super::{BoxFuture, ExtractError};
use crate::{ConnectError, Socket};

/// A value a connect handler or middleware can take as an argument.
pub trait FromConnect: Sized {
    /// Builds the value from the connecting socket; an error refuses the connection.
    fn from_connect(socket: &Socket) -> Result<Self, ExtractError>;
}

/// An async function run for each socket that joins a namespace: its arguments implement
/// [`FromConnect`] ([`Socket`], [`Data<T>`](crate::extract::Data) of the auth payload,
/// [`State<T>`](crate::extract::State)…; at most sixteen, in any order), it returns `()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a connect handler",
    note = "a connect handler is an async fn or closure returning `()` whose arguments are extractors \
            such as `Socket`, `Data<T>` (the auth payload), `TryData<T>`, `State<T>`, \
            `HttpExtension<T>`, `Io` (at most 16)"
)]
pub trait ConnectHandler<T>: Send + Sync + 'static {
    /// Extracts the arguments and returns the handler's future. The handler itself runs only
    /// when the future is first polled: after the client was told it is connected, so even
    /// what a handler does before its first `.await` (emits included) follows the CONNECT.
    fn call(self: Arc<Self>, socket: &Socket) -> Result<BoxFuture, ExtractError>;
}

/// An async function that decides whether a socket may join a namespace: its arguments
/// implement [`FromConnect`]; it returns `Result<(), E>` where `E: Into<ConnectError>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a connect middleware",
    note = "a middleware is an async fn or closure returning `Result<(), E>` with `E: Into<ConnectError>`, \
            whose arguments are extractors such as `Socket`, `Data<T>`, `State<T>`, \
            `HttpExtension<T>` (at most 16)"
)]
pub trait ConnectMiddleware<T>: Send + Sync + 'static {
    /// Extracts the arguments and returns the middleware's future.
    fn call(&self, socket: &Socket) -> Result<BoxFuture<Result<(), ConnectError>>, ExtractError>;
}

macro_rules! impl_connect {
    ($($ty:ident),*) => {
        impl<F, Fut, $($ty,)*> ConnectHandler<($($ty,)*)> for F
        where
            F: Fn($($ty),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
            $($ty: FromConnect + Send + 'static,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call(self: Arc<Self>, socket: &Socket) -> Result<BoxFuture, ExtractError> {
                $(let $ty = $ty::from_connect(socket)?;)*
                Ok(Box::pin(async move { (*self)($($ty),*).await }))
            }
        }

        impl<F, Fut, E, $($ty,)*> ConnectMiddleware<($($ty,)*)> for F
        where
            F: Fn($($ty),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<(), E>> + Send + 'static,
            E: Into<ConnectError>,
            $($ty: FromConnect + Send + 'static,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call(&self, socket: &Socket) -> Result<BoxFuture<Result<(), ConnectError>>, ExtractError> {
                $(let $ty = $ty::from_connect(socket)?;)*
                let fut = (self)($($ty),*);
                Ok(Box::pin(async move { fut.await.map_err(Into::into) }))
            }
        }
    };
}

all_the_tuples!(impl_connect);

pub(crate) trait ErasedConnectHandler: Send + Sync + 'static {
    fn call(&self, socket: &Socket) -> Result<BoxFuture, ExtractError>;
}

pub(crate) trait ErasedMiddleware: Send + Sync + 'static {
    fn call(&self, socket: &Socket) -> Result<BoxFuture<Result<(), ConnectError>>, ExtractError>;
}

struct Erased<H, T>(Arc<H>, PhantomData<fn() -> T>);

impl<H: ConnectHandler<T>, T: 'static> ErasedConnectHandler for Erased<H, T> {
    fn call(&self, socket: &Socket) -> Result<BoxFuture, ExtractError> {
        self.0.clone().call(socket)
    }
}

struct ErasedMw<H, T>(H, PhantomData<fn() -> T>);

impl<H: ConnectMiddleware<T>, T: 'static> ErasedMiddleware for ErasedMw<H, T> {
    fn call(&self, socket: &Socket) -> Result<BoxFuture<Result<(), ConnectError>>, ExtractError> {
        self.0.call(socket)
    }
}

pub(crate) type BoxedConnectHandler = Arc<dyn ErasedConnectHandler>;
pub(crate) type BoxedMiddleware = Arc<dyn ErasedMiddleware>;

pub(crate) fn boxed_connect<H: ConnectHandler<T>, T: 'static>(handler: H) -> BoxedConnectHandler {
    Arc::new(Erased(Arc::new(handler), PhantomData))
}

pub(crate) fn boxed_middleware<H: ConnectMiddleware<T>, T: 'static>(mw: H) -> BoxedMiddleware {
    Arc::new(ErasedMw(mw, PhantomData))
}
