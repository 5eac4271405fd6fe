//! The namespaces of one server: those registered by path, the dynamic ones by matcher, and the
//! children a dynamic namespace made when clients first connected to them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::matcher::Matcher;
use super::{Namespace, NsHandlers};
use crate::adapter::Adapter;
use crate::config::SioConfig;
use crate::engine::lock::{read, write};
use crate::handler::{boxed_connect, BoxedConnectHandler};
use crate::recovery::Recovery;

/// Makes the adapter of each new namespace.
pub(crate) type AdapterFactory = Arc<dyn Fn() -> Arc<dyn Adapter> + Send + Sync>;

/// Every namespace of a server, and what a new one is made with.
pub(crate) struct Registry {
    pub(crate) config: Arc<SioConfig>,
    state: Arc<http::Extensions>,
    adapter: AdapterFactory,
    namespaces: RwLock<HashMap<String, Arc<Namespace>>>,
    dynamic: RwLock<Vec<(Matcher, Arc<NsHandlers>)>>,
}

impl Registry {
    pub(crate) fn new(
        config: SioConfig,
        state: http::Extensions,
        adapter: AdapterFactory,
    ) -> Registry {
        Registry {
            config: Arc::new(config),
            state: Arc::new(state),
            adapter,
            namespaces: RwLock::new(HashMap::new()),
            dynamic: RwLock::new(Vec::new()),
        }
    }

    fn new_namespace(&self, path: &str, handlers: Arc<NsHandlers>) -> Arc<Namespace> {
        Arc::new(Namespace {
            path: path.to_owned(),
            sockets: dashmap::DashMap::new(),
            adapter: (self.adapter)(),
            handlers,
            config: self.config.clone(),
            state: self.state.clone(),
            recovery: self.config.recovery.map(Recovery::new),
        })
    }

    /// Registers namespace `path` with `connect` as its handler, replacing one at that path.
    pub(crate) fn insert(&self, path: String, connect: BoxedConnectHandler) -> Arc<Namespace> {
        let ns = self.new_namespace(&path, NsHandlers::new(connect));
        write(&self.namespaces).insert(path, ns.clone());
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

    /// The namespace registered (or already made) at `path`.
    pub(crate) fn get(&self, path: &str) -> Option<Arc<Namespace>> {
        read(&self.namespaces).get(path).cloned()
    }

    /// The namespace a CONNECT for `path` joins: a registered one, or a new child of the first
    /// dynamic namespace that matches.
    pub(crate) fn namespace(&self, path: &str) -> Option<Arc<Namespace>> {
        if let Some(ns) = self.get(path) {
            return Some(ns);
        }
        let handlers = {
            let dynamic = read(&self.dynamic);
            dynamic.iter().find(|(m, _)| m.matches(path)).map(|(_, h)| h.clone())?
        };
        let mut namespaces = write(&self.namespaces);
        let ns =
            namespaces.entry(path.to_owned()).or_insert_with(|| self.new_namespace(path, handlers));
        Some(ns.clone())
    }

    /// The main namespace `/`, registered with a handler that does nothing if the application
    /// removed it.
    pub(crate) fn main(&self) -> Arc<Namespace> {
        self.get("/").unwrap_or_else(|| self.insert("/".to_owned(), boxed_connect(|| async {})))
    }

    /// Every namespace there is.
    pub(crate) fn all(&self) -> Vec<Arc<Namespace>> {
        read(&self.namespaces).values().cloned().collect()
    }

    /// The paths of every namespace there is.
    pub(crate) fn paths(&self) -> Vec<String> {
        read(&self.namespaces).keys().cloned().collect()
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
