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

    #[cfg(test)]
    pub(crate) fn registry(&self) -> &Registry {
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
