//! The handles applications hold on namespaces: add middleware, reach their sockets.

use std::borrow::Borrow;
use std::sync::Arc;

use super::{Namespace, NsHandlers};
use crate::adapter::{BroadcastOptions, Room};
use crate::engine::lock::write;
use crate::handler::{boxed_middleware, ConnectMiddleware};
use crate::operators::BroadcastOperators;
use crate::Socket;

/// A handle on a namespace: add middleware, reach its sockets. From
/// [`Io::ns`](crate::Io::ns) or [`Io::of`](crate::Io::of).
#[derive(Clone)]
pub struct NamespaceRef(pub(crate) Arc<Namespace>);

impl std::fmt::Debug for NamespaceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamespaceRef").field("path", &self.0.path).finish()
    }
}

impl NamespaceRef {
    /// The namespace's path.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// Adds a connect middleware, run in order before the connect handler; an `Err` refuses
    /// the connection with a CONNECT_ERROR. Add middleware before serving requests.
    ///
    /// ```
    /// use ferrio::extract::Data;
    /// use ferrio::{ConnectError, Ferrio, Socket};
    /// use serde_json::{json, Value};
    ///
    /// let (_layer, io) = Ferrio::builder().build_layer();
    /// io.ns("/admin", |_socket: Socket| async {}).middleware(|Data(auth): Data<Value>| async move {
    ///     if auth == json!({"token": "secret"}) {
    ///         Ok(())
    ///     } else {
    ///         Err(ConnectError::new("unauthorized").with_data(json!({"code": "E_UNAUTHORIZED"})))
    ///     }
    /// });
    /// ```
    pub fn middleware<M, T>(&self, middleware: M) -> &Self
    where
        M: ConnectMiddleware<T>,
        T: 'static,
    {
        write(&self.0.handlers.middlewares).push(boxed_middleware(middleware));
        self
    }

    /// Operators over every socket of the namespace.
    pub fn operators(&self) -> BroadcastOperators {
        BroadcastOperators::new(self.0.clone(), BroadcastOptions::default())
    }

    /// The socket with id `sid` (as the client knows it: `socket.id`; a `&str`, a `&String`
    /// or a [`&Sid`](crate::engine::Sid)), if connected here.
    ///
    /// ```
    /// use ferrio::Io;
    ///
    /// fn kick(io: &Io, id: &str) -> bool {
    ///     let socket = io.of("/chat").and_then(|chat| chat.get_socket(id));
    ///     socket.map(|socket| socket.disconnect()).is_some()
    /// }
    /// ```
    pub fn get_socket<Q: Borrow<str> + ?Sized>(&self, sid: &Q) -> Option<Socket> {
        self.0.sockets.get(sid.borrow()).map(|s| s.value().clone())
    }
}

impl NamespaceRef {
    /// The rooms with at least one socket of this namespace (each socket's own room, named
    /// after its id, is not listed).
    ///
    /// ```
    /// use ferrio::Io;
    ///
    /// fn busy_rooms(io: &Io) -> usize {
    ///     io.of("/chat").map_or(0, |chat| chat.rooms().len())
    /// }
    /// ```
    pub fn rooms(&self) -> Vec<Room> {
        self.0.adapter.rooms()
    }
}

crate::operators::delegate_operators!(NamespaceRef);

/// A handle on a dynamic namespace, to add middleware shared by all its children.
#[derive(Clone)]
pub struct DynNamespace(pub(crate) Arc<NsHandlers>);

impl std::fmt::Debug for DynNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynNamespace").finish_non_exhaustive()
    }
}

impl DynNamespace {
    /// Adds a connect middleware to every child namespace (see [`NamespaceRef::middleware`]).
    pub fn middleware<M, T>(&self, middleware: M) -> &Self
    where
        M: ConnectMiddleware<T>,
        T: 'static,
    {
        write(&self.0.middlewares).push(boxed_middleware(middleware));
        self
    }
}
