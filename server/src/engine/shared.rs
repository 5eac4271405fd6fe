//! State shared by every request and task of one engine.

use std::sync::Arc;

use dashmap::DashMap;

use super::session::Session;
use super::{EngineConfig, EngineHandler, Sid};

pub(crate) struct Shared {
    pub(crate) config: EngineConfig,
    /// Live sessions, sharded so lookups from many connections do not contend.
    pub(crate) sessions: DashMap<Sid, Arc<Session>>,
    pub(crate) handler: Arc<dyn EngineHandler>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}
