//! Disconnect and disconnecting handlers, and their extractors.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use super::{BoxFuture, ExtractError};
use crate::{DisconnectReason, Socket};

/// A value a disconnect (or disconnecting) handler can take as an argument.
pub trait FromDisconnect: Sized {
    /// Builds the value from the socket leaving and why; an error skips the handler.
    fn from_disconnect(socket: &Socket, reason: DisconnectReason) -> Result<Self, ExtractError>;
}

/// An async function run once when a socket disconnects
/// ([`Socket::on_disconnect`](crate::Socket::on_disconnect)) or is about to
/// ([`Socket::on_disconnecting`](crate::Socket::on_disconnecting)): its arguments implement
/// [`FromDisconnect`] ([`Socket`], [`DisconnectReason`], [`State<T>`](crate::extract::State),
/// [`Extension<T>`](crate::extract::Extension)…; at most sixteen, in any order), it returns
/// `()`.
///
/// ```
/// use ferrio::extract::{Extension, State};
/// use ferrio::{DisconnectReason, Socket};
///
/// #[derive(Clone)]
/// struct Username(String);
/// #[derive(Clone)]
/// struct Stats;
///
/// fn register(socket: &Socket) {
///     socket.on_disconnect(
///         |Extension(Username(name)): Extension<Username>, reason: DisconnectReason, State(_stats): State<Stats>| async move {
///             println!("{name} left: {reason}");
///         },
///     );
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a disconnect handler",
    note = "a disconnect handler is an async fn or closure returning `()` whose arguments are \
            extractors such as `Socket`, `DisconnectReason`, `State<T>`, `Extension<T>`, \
            `MaybeExtension<T>`, `HttpExtension<T>`, `Io` (at most 16)"
)]
pub trait DisconnectHandler<T>: Send + Sync + 'static {
    /// Extracts the arguments and returns the handler's future.
    fn call(&self, socket: &Socket, reason: DisconnectReason) -> Result<BoxFuture, ExtractError>;
}

macro_rules! impl_disconnect {
    ($($ty:ident),*) => {
        impl<F, Fut, $($ty,)*> DisconnectHandler<($($ty,)*)> for F
        where
            F: Fn($($ty),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
            $($ty: FromDisconnect + Send + 'static,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call(&self, socket: &Socket, reason: DisconnectReason) -> Result<BoxFuture, ExtractError> {
                $(let $ty = $ty::from_disconnect(socket, reason)?;)*
                Ok(Box::pin((self)($($ty),*)))
            }
        }
    };
}

all_the_tuples!(impl_disconnect);

pub(crate) trait ErasedDisconnectHandler: Send + Sync + 'static {
    fn call(&self, socket: &Socket, reason: DisconnectReason) -> Result<BoxFuture, ExtractError>;
}

struct Erased<H, T>(H, PhantomData<fn() -> T>);

impl<H: DisconnectHandler<T>, T: 'static> ErasedDisconnectHandler for Erased<H, T> {
    fn call(&self, socket: &Socket, reason: DisconnectReason) -> Result<BoxFuture, ExtractError> {
        self.0.call(socket, reason)
    }
}

pub(crate) type BoxedDisconnectHandler = Arc<dyn ErasedDisconnectHandler>;

pub(crate) fn boxed<H: DisconnectHandler<T>, T: 'static>(handler: H) -> BoxedDisconnectHandler {
    Arc::new(Erased(handler, PhantomData))
}
