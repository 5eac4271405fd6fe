//! State shared by every request and task of one engine.

use std::sync::Arc;

use dashmap::DashMap;

use super::cluster::Forwarder;
use super::session::Session;
use super::slots::{Full, SessionSlots, Slot};
use super::{EngineConfig, EngineHandler, HandshakeRequest, Sid};

pub(crate) struct Shared {
    pub(crate) config: EngineConfig,
    /// Live sessions, sharded so lookups from many connections do not contend.
    pub(crate) sessions: DashMap<Sid, Arc<Session>>,
    pub(crate) handler: Arc<dyn EngineHandler>,
    slots: Arc<SessionSlots>,
    /// Sends requests for other nodes' sessions there (in a cluster).
    pub(crate) forwarder: Option<Forwarder>,
}

impl Shared {
    pub(crate) fn new(config: EngineConfig, handler: Arc<dyn EngineHandler>) -> Shared {
        let forwarder = config.directory.as_ref().map(|_| Forwarder::new());
        Shared { config, sessions: DashMap::new(), handler, slots: Arc::default(), forwarder }
    }

    /// A slot for a new session of the client that sent `handshake`, within the configured
    /// bounds.
    pub(crate) fn take_slot(&self, handshake: &HandshakeRequest) -> Result<Slot, Full> {
        let address = handshake.remote_addr.map(|a| a.ip());
        let config = &self.config;
        self.slots.take(address, config.max_sessions, config.max_sessions_per_ip)
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}
