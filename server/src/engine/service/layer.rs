//! The tower layer that puts the engine in front of a service.

use std::sync::Arc;

use tower_layer::Layer;

use super::EngineService;
use crate::engine::shared::Shared;

/// A [`tower_layer::Layer`] that answers Engine.IO requests under the mount path and passes
/// every other request to the inner service. Add it to an axum router with `.layer(layer)`.
#[derive(Debug, Clone)]
pub struct EngineLayer {
    shared: Arc<Shared>,
}

impl EngineLayer {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

impl<S> Layer<S> for EngineLayer {
    type Service = EngineService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EngineService::new(inner, self.shared.clone())
    }
}
