//! The namespaces of one server: those registered by path, the dynamic ones by matcher, and the
//! children a dynamic namespace makes for the paths clients connect to.
//!
//! A child is bounded by its users: it exists only while a connect flow or a socket holds a
//! [`ChildLease`] on it. It is made, unseen, when a CONNECT for its path arrives; it is shown
//! (in [`Registry::get`], [`Registry::paths`]…) once the middleware let a socket in; it is
//! removed when its last lease goes: at once if it never let anyone in, and when its last
//! socket left if `cleanup_empty_children` is on. With connection state recovery, a socket
//! kept for its client's return holds a lease until it is recovered or expires, so the child
//! (with its rooms and its log of events) waits for it.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock, Weak};

use super::matcher::Matcher;
use super::{Namespace, NsHandlers, ServerEvents};
use crate::adapter::{Adapter, LocalNamespace};
use crate::config::SioConfig;
use crate::engine::lock::{read, write};
use crate::engine::EngineIo;
use crate::handler::{boxed_connect, BoxedConnectHandler};
use crate::observer::ObserverSlot;
use crate::recovery::Recovery;

/// Makes the adapter of each new namespace.
pub(crate) type AdapterFactory = Arc<dyn Fn() -> Arc<dyn Adapter> + Send + Sync>;

/// A namespace in the registry; `child` for those a dynamic namespace made.
struct Entry {
    ns: Arc<Namespace>,
    child: Option<Child>,
}

/// How a dynamic child is used.
struct Child {
    /// The [`ChildLease`]s on it.
    leases: usize,
    /// Whether a socket was let in (until then, only connect flows use it and it is not shown).
    shown: bool,
}

/// Every namespace of a server, and what a new one is made with.
pub(crate) struct Registry {
    pub(crate) config: Arc<SioConfig>,
    state: Arc<http::Extensions>,
    adapter: AdapterFactory,
    namespaces: RwLock<HashMap<String, Entry>>,
    dynamic: RwLock<Vec<(Matcher, Arc<NsHandlers>)>>,
    /// This registry, for the leases on its children.
    me: Weak<Registry>,
    /// The engine underneath, set once the layer is built, so handlers can be given an
    /// [`Io`](crate::Io). (The engine's handler holds this registry: the two live as long as
    /// each other, which is as long as the server.)
    pub(crate) engine: OnceLock<EngineIo>,
    /// The server's observer, if one is installed; every namespace shares it.
    pub(crate) observer: ObserverSlot,
}

/// A use of a dynamic child namespace — a connect flow, a socket, a socket kept for recovery —
/// that keeps it in the registry; the last one dropped removes it (see the module docs).
pub(crate) struct ChildLease {
    registry: Weak<Registry>,
    path: String,
    /// Which child: another may have replaced it at the same path.
    ns: Weak<Namespace>,
}

impl std::fmt::Debug for ChildLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildLease").field("path", &self.path).finish()
    }
}

impl ChildLease {
    /// The child let a socket in: it is shown from now on.
    pub(crate) fn show(&self) {
        self.with_child(|child| child.shown = true);
    }

    /// Another lease on the same child.
    pub(crate) fn another(&self) -> ChildLease {
        self.with_child(|child| child.leases += 1);
        ChildLease { registry: self.registry.clone(), path: self.path.clone(), ns: self.ns.clone() }
    }

    fn with_child(&self, f: impl FnOnce(&mut Child)) {
        let Some(registry) = self.registry.upgrade() else { return };
        let mut namespaces = write(&registry.namespaces);
        if let Some(Entry { child: Some(child), ns }) = namespaces.get_mut(&self.path) {
            if std::ptr::eq(Arc::as_ptr(ns), self.ns.as_ptr()) {
                f(child);
            }
        }
    }
}

impl Drop for ChildLease {
    fn drop(&mut self) {
        let Some(registry) = self.registry.upgrade() else { return };
        let cleanup = registry.config.cleanup_empty_children;
        let removed = {
            let mut namespaces = write(&registry.namespaces);
            let Some(entry) = namespaces.get_mut(&self.path) else { return };
            if !std::ptr::eq(Arc::as_ptr(&entry.ns), self.ns.as_ptr()) {
                return;
            }
            let Some(child) = entry.child.as_mut() else { return };
            child.leases = child.leases.saturating_sub(1);
            if child.leases > 0 || (child.shown && !cleanup) {
                return;
            }
            namespaces.remove(&self.path)
        };
        // Outside the lock: the namespace's drop drops what it holds, leases included.
        drop(removed);
    }
}

impl Registry {
    pub(crate) fn new(
        config: SioConfig,
        state: http::Extensions,
        adapter: AdapterFactory,
    ) -> Arc<Registry> {
        Arc::new_cyclic(|me| Registry {
            config: Arc::new(config),
            state: Arc::new(state),
            adapter,
            namespaces: RwLock::new(HashMap::new()),
            dynamic: RwLock::new(Vec::new()),
            me: me.clone(),
            engine: OnceLock::new(),
            observer: ObserverSlot::default(),
        })
    }

    fn new_namespace(&self, path: &str, handlers: Arc<NsHandlers>) -> Arc<Namespace> {
        let ns = Arc::new(Namespace {
            path: path.to_owned(),
            sockets: dashmap::DashMap::new(),
            adapter: (self.adapter)(),
            handlers,
            config: self.config.clone(),
            state: self.state.clone(),
            recovery: self.config.recovery.map(Recovery::new),
            server_events: ServerEvents::default(),
            registry: self.me.clone(),
            observer: self.observer.clone(),
        });
        ns.adapter.init(LocalNamespace { ns: Arc::downgrade(&ns), path: Arc::from(path) });
        ns
    }

    /// Registers namespace `path` with `connect` as its handler, replacing one at that path.
    pub(crate) fn insert(&self, path: String, connect: BoxedConnectHandler) -> Arc<Namespace> {
        let ns = self.new_namespace(&path, NsHandlers::new(connect));
        let replaced = write(&self.namespaces).insert(path, Entry { ns: ns.clone(), child: None });
        drop(replaced);
        ns
    }

    /// Registers a dynamic namespace: paths `matcher` accepts, served by `connect`.
    pub(crate) fn insert_dynamic(
        &self,
        matcher: Matcher,
        connect: BoxedConnectHandler,
    ) -> Arc<NsHandlers> {
        let handlers = NsHandlers::new(connect);
        write(&self.dynamic).push((matcher, handlers.clone()));
        handlers
    }

    /// The namespace registered at `path`, or the child made there that let a socket in.
    pub(crate) fn get(&self, path: &str) -> Option<Arc<Namespace>> {
        read(&self.namespaces).get(path).filter(|e| e.shown()).map(|e| e.ns.clone())
    }

    /// The namespace a CONNECT for `path` joins: a registered one, or a child of the first
    /// dynamic namespace that matches — with a lease on it, held by the connect flow and
    /// then by the socket it lets in.
    pub(crate) fn namespace(&self, path: &str) -> Option<(Arc<Namespace>, Option<ChildLease>)> {
        let lease = |ns: &Arc<Namespace>| ChildLease {
            registry: self.me.clone(),
            path: path.to_owned(),
            ns: Arc::downgrade(ns),
        };
        {
            let namespaces = read(&self.namespaces);
            match namespaces.get(path) {
                Some(Entry { ns, child: None }) => return Some((ns.clone(), None)),
                Some(_) => {}
                None => {
                    let dynamic = read(&self.dynamic);
                    if !dynamic.iter().any(|(m, _)| m.matches(path)) {
                        return None;
                    }
                }
            }
        }
        let handlers = {
            let dynamic = read(&self.dynamic);
            dynamic.iter().find(|(m, _)| m.matches(path)).map(|(_, h)| h.clone())
        };
        let mut namespaces = write(&self.namespaces);
        match namespaces.get_mut(path) {
            Some(Entry { ns, child: None }) => Some((ns.clone(), None)),
            Some(Entry { ns, child: Some(child) }) => {
                child.leases += 1;
                Some((ns.clone(), Some(lease(ns))))
            }
            None => {
                let ns = self.new_namespace(path, handlers?);
                let child = Child { leases: 1, shown: false };
                namespaces.insert(path.to_owned(), Entry { ns: ns.clone(), child: Some(child) });
                Some((ns.clone(), Some(lease(&ns))))
            }
        }
    }

    /// Removes the namespace at `path`, registered or a dynamic child; returns it.
    pub(crate) fn remove(&self, path: &str) -> Option<Arc<Namespace>> {
        let removed = write(&self.namespaces).remove(path);
        removed.map(|entry| entry.ns)
    }

    /// The main namespace `/`, registered with a handler that does nothing if the application
    /// removed it.
    pub(crate) fn main(&self) -> Arc<Namespace> {
        self.get("/").unwrap_or_else(|| self.insert("/".to_owned(), boxed_connect(|| async {})))
    }

    /// Every namespace there is.
    pub(crate) fn all(&self) -> Vec<Arc<Namespace>> {
        read(&self.namespaces).values().filter(|e| e.shown()).map(|e| e.ns.clone()).collect()
    }

    /// The paths of every namespace there is.
    pub(crate) fn paths(&self) -> Vec<String> {
        read(&self.namespaces).iter().filter(|(_, e)| e.shown()).map(|(p, _)| p.clone()).collect()
    }
}

impl Entry {
    /// Whether the application sees this namespace.
    fn shown(&self) -> bool {
        self.child.as_ref().is_none_or(|child| child.shown)
    }
}

/// `path` with its leading `/`.
pub(crate) fn normalize(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::TestServer;
    use crate::{ConnectError, Ferrio, Socket};

    /// Connects a middleware refused leave no child behind, not even an unseen one — though
    /// the middleware left a handler holding the socket on it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refused_connects_leave_no_child_at_all() {
        const NAMES: usize = 1000;
        let server = TestServer::new(Ferrio::builder());
        server.io.dyn_ns("/rooms/{id}", |_: Socket| async {}).middleware(
            |socket: Socket| async move {
                let held = socket.clone();
                socket.on("never", move || {
                    let _ = &held;
                    async {}
                });
                Err::<(), _>(ConnectError::new("no"))
            },
        );
        let sid = server.handshake().await;
        let connects: Vec<String> = (0..NAMES).map(|i| format!("40/rooms/{i},")).collect();
        server.post(&sid, &connects.join("\x1e")).await;
        let replies = server.poll(&sid).await;
        assert_eq!(replies.split('\x1e').count(), NAMES, "a CONNECT_ERROR for each");
        let entries = crate::engine::lock::read(&server.io.registry().namespaces).len();
        assert_eq!(entries, 1, "namespaces in the registry after {NAMES} refused connects");
    }
}
