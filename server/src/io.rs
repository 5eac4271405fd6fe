//! [`Io`], the handle on a running Socket.IO server: register namespaces, and reach sockets
//! from anywhere in Rust code.

use std::sync::Arc;

use crate::adapter::BroadcastOptions;
use crate::engine::EngineIo;
use crate::handler::{boxed_connect, ConnectHandler};
use crate::namespace::{normalize, DynNamespace, Matcher, NamespaceRef, Registry};
use crate::operators::BroadcastOperators;

/// The handle on a running Socket.IO server: register namespaces, and emit, list or move
/// sockets from anywhere in Rust code. Cheap to clone.
///
/// Operators called on `Io` itself act on the main namespace `/`.
#[derive(Clone)]
pub struct Io {
    registry: Arc<Registry>,
    engine: EngineIo,
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io").field("namespaces", &self.namespaces()).finish_non_exhaustive()
    }
}

impl Io {
    pub(crate) fn new(registry: Arc<Registry>, engine: EngineIo) -> Io {
        Io { registry, engine }
    }

    /// Registers namespace `path`: `handler` runs for each socket that joins it. Registering a
    /// path again replaces its handler for new connections.
    pub fn ns<H, T>(&self, path: &str, handler: H) -> NamespaceRef
    where
        H: ConnectHandler<T>,
        T: 'static,
    {
        NamespaceRef(self.registry.insert(normalize(path), boxed_connect(handler)))
    }

    /// Registers a dynamic namespace: every path matching `pattern` (segments, where `{name}`
    /// stands for any one segment, e.g. `/rooms/{id}`) becomes a namespace with this handler
    /// once the middleware first lets a client in to it, and goes again with its last socket
    /// (see [`FerrioBuilder::cleanup_empty_child_namespaces`](crate::FerrioBuilder::cleanup_empty_child_namespaces)).
    pub fn dyn_ns<H, T>(&self, pattern: &str, handler: H) -> DynNamespace
    where
        H: ConnectHandler<T>,
        T: 'static,
    {
        let matcher = Matcher::pattern(&normalize(pattern));
        DynNamespace(self.registry.insert_dynamic(matcher, boxed_connect(handler)))
    }

    /// Registers a dynamic namespace whose paths are those for which `predicate` is true.
    pub fn dyn_ns_fn<P, H, T>(&self, predicate: P, handler: H) -> DynNamespace
    where
        P: Fn(&str) -> bool + Send + Sync + 'static,
        H: ConnectHandler<T>,
        T: 'static,
    {
        let matcher = Matcher::Predicate(Box::new(predicate));
        DynNamespace(self.registry.insert_dynamic(matcher, boxed_connect(handler)))
    }

    /// The namespace at `path`, if it exists (registered, or a dynamic child with sockets).
    pub fn of(&self, path: &str) -> Option<NamespaceRef> {
        self.registry.get(&normalize(path)).map(NamespaceRef)
    }

    /// Paths of the existing namespaces.
    pub fn namespaces(&self) -> Vec<String> {
        self.registry.paths()
    }

    /// The socket of the main namespace `/` with id `sid` (as the client knows it:
    /// `socket.id`), if connected. For another namespace: `io.of(path)?.get_socket(sid)`.
    ///
    /// ```
    /// use ferrio::Io;
    ///
    /// fn notify(io: &Io, id: &str) {
    ///     if let Some(socket) = io.get_socket(id) {
    ///         let _ = socket.emit("notice", "you have mail");
    ///     }
    /// }
    /// ```
    pub fn get_socket<Q: std::borrow::Borrow<str> + ?Sized>(
        &self,
        sid: &Q,
    ) -> Option<crate::Socket> {
        let ns = self.registry.get("/")?;
        let socket = ns.sockets.get(sid.borrow()).map(|s| s.value().clone());
        socket
    }

    /// The rooms with at least one socket of the main namespace `/` (each socket's own room,
    /// named after its id, is not listed). For another namespace: `io.of(path)?.rooms()`.
    ///
    /// ```
    /// use ferrio::{Ferrio, Socket};
    ///
    /// let (_layer, io) = Ferrio::builder().build_layer();
    /// io.ns("/", |socket: Socket| async move { socket.join("lobby") });
    /// assert!(io.rooms().is_empty(), "no socket yet");
    /// ```
    pub fn rooms(&self) -> Vec<crate::adapter::Room> {
        self.registry.get("/").map(|ns| ns.adapter.rooms()).unwrap_or_default()
    }

    /// Removes the namespace at `path` (a registered one, or a child of a dynamic namespace)
    /// and disconnects its sockets: each client gets a DISCONNECT (reason `io server
    /// disconnect`, so it does not reconnect by itself) and each socket's disconnect handlers
    /// run. Clients connecting to `path` afterwards get "Invalid namespace", unless it is
    /// registered again (or a dynamic namespace matches it). Returns whether there was one.
    ///
    /// ```
    /// use ferrio::{Ferrio, Socket};
    ///
    /// let (_layer, io) = Ferrio::builder().build_layer();
    /// io.ns("/beta", |_socket: Socket| async {});
    /// assert!(io.delete_ns("/beta"));
    /// assert!(io.of("/beta").is_none());
    /// ```
    pub fn delete_ns(&self, path: &str) -> bool {
        let Some(ns) = self.registry.remove(&normalize(path)) else { return false };
        let sockets: Vec<crate::Socket> = ns.sockets.iter().map(|s| s.value().clone()).collect();
        for socket in sockets {
            socket.disconnect();
        }
        true
    }

    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The Engine.IO layer underneath: session counts, raw sessions.
    pub fn engine(&self) -> &EngineIo {
        &self.engine
    }

    /// Shuts the server down: every socket of every namespace disconnects (its disconnect
    /// handler sees [`DisconnectReason::ServerShutdown`](crate::DisconnectReason)), then every
    /// Engine.IO session closes (see [`EngineIo::close`]). Clients see `transport close` and
    /// reconnect: to another node, in a rolling deploy. Call it when axum's graceful shutdown
    /// begins, which otherwise waits for long-polls and streams that do not end by themselves:
    ///
    /// ```
    /// use ferrio::{Ferrio, Socket};
    ///
    /// # async fn serve(signal: tokio::sync::oneshot::Receiver<()>) -> std::io::Result<()> {
    /// let (layer, io) = Ferrio::builder().build_layer();
    /// io.ns("/", |_socket: Socket| async {});
    /// let app = axum::Router::new().layer(layer);
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// axum::serve(listener, app)
    ///     .with_graceful_shutdown(async move {
    ///         let _ = signal.await; // Ctrl-C, SIGTERM…
    ///         io.close();
    ///     })
    ///     .await
    /// # }
    /// ```
    pub fn close(&self) {
        for ns in self.registry.all() {
            let sockets: Vec<crate::Socket> =
                ns.sockets.iter().map(|s| s.value().clone()).collect();
            for socket in sockets {
                socket.close(crate::DisconnectReason::ServerShutdown);
            }
        }
        self.engine.close();
    }

    fn operators(&self) -> BroadcastOperators {
        BroadcastOperators::new(self.registry.main(), BroadcastOptions::default())
    }
}

crate::operators::delegate_operators!(Io);
