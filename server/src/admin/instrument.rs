//! The instrumentation: the observer that turns what happens on the server into the admin
//! namespace's events, the connect flow of an admin socket, and the tasks that send.
//!
//! Hooks only queue: what they report goes through a bounded channel to a task that emits
//! to the admin namespace, in order. (A hook can run under a namespace's locks, the recovery
//! log's among them, where emitting could deadlock.) Nothing is queued, counted or sent
//! while no admin socket is connected.

use std::collections::hash_map::RandomState;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::SystemTime;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::auth::NewSession;
use super::stats::{self, EventBuffer, Kind, ServerInfo};
use super::{actions, date, serialize, AdminMode};
use crate::adapter::Room;
use crate::engine::lock::lock;
use crate::engine::{CloseReason, EngineSocket, Sid};
use crate::namespace::Registry;
use crate::observer::Observer;
use crate::{DisconnectReason, NamespaceRef, Payload, Socket};

/// Most reports waiting to be emitted; past that they are dropped (and the UI is stale until
/// it reconnects and gets `all_sockets` again).
const FEED_CAPACITY: usize = 4096;

/// An event for the admin namespace: its name and arguments.
type Report = (&'static str, Payload);

/// The admin UI's side of a server.
pub(crate) struct Admin {
    /// The admin namespace's path.
    pub(crate) path: String,
    mode: AdminMode,
    read_only: bool,
    info: ServerInfo,
    registry: Weak<Registry>,
    /// Admin sockets connected now.
    admins: AtomicUsize,
    feed: mpsc::Sender<Report>,
    /// The feed's receiving end, until the first admin socket starts the task that drains it.
    feed_rx: Mutex<Option<mpsc::Receiver<Report>>>,
    events: Mutex<EventBuffer>,
    /// Whether the `server_stats` task runs.
    ticking: AtomicBool,
    /// The key of the hash that gives connections their `clientId`.
    client_ids: RandomState,
}

impl Admin {
    pub(crate) fn new(
        path: String,
        (mode, read_only): (AdminMode, bool),
        info: ServerInfo,
        registry: Weak<Registry>,
    ) -> Admin {
        let (feed, feed_rx) = mpsc::channel(FEED_CAPACITY);
        Admin {
            path,
            mode,
            read_only,
            info,
            registry,
            admins: AtomicUsize::new(0),
            feed,
            feed_rx: Mutex::new(Some(feed_rx)),
            events: Mutex::new(EventBuffer::default()),
            ticking: AtomicBool::new(false),
            client_ids: RandomState::new(),
        }
    }

    /// The features the UI may offer, as the official server lists them for Socket.IO v4.
    pub(crate) fn supported_features(&self) -> Vec<&'static str> {
        let mut features = Vec::new();
        if !self.read_only {
            features.extend([
                "EMIT",
                "JOIN",
                "LEAVE",
                "DISCONNECT",
                "MJOIN",
                "MLEAVE",
                "MDISCONNECT",
            ]);
        }
        features.push("AGGREGATED_EVENTS");
        if self.mode == AdminMode::Development {
            features.push("ALL_EVENTS");
        }
        features
    }

    /// Whether an admin socket is connected: aggregated counts are kept.
    fn recording(&self) -> bool {
        self.admins.load(Ordering::Acquire) > 0
    }

    /// Whether socket events are reported: development mode, with an admin socket connected.
    fn watching(&self) -> bool {
        self.mode == AdminMode::Development && self.recording()
    }

    /// Queues `event` with `args` (and their `attachments`) for the admin namespace.
    fn report(&self, event: &'static str, args: Vec<Value>, attachments: Vec<Bytes>) {
        if self.feed.try_send((event, Payload { args, attachments })).is_err() {
            tracing::debug!(event, "admin UI report dropped: the feed is full");
        }
    }

    fn count(&self, kind: Kind, sub_type: Option<&'static str>, count: u64) {
        lock(&self.events).push(SystemTime::now(), kind, sub_type, count);
    }

    /// Every socket of every namespace, serialized.
    fn all_sockets(&self, registry: &Registry) -> Vec<Value> {
        let mut sockets = Vec::new();
        for ns in registry.all() {
            let members: Vec<Socket> = ns.sockets.iter().map(|s| s.value().clone()).collect();
            sockets.extend(members.iter().map(|s| serialize::socket(s, &self.client_ids)));
        }
        sockets
    }

    /// The connect handler of the admin namespace: counts the admin, registers the actions
    /// (unless read-only), sends `session` (after a login with the password), `config`,
    /// `all_sockets` (development mode) and fresh `server_stats`, and starts the tasks.
    pub(crate) fn admitted(self: &Arc<Self>, socket: Socket) {
        self.admins.fetch_add(1, Ordering::AcqRel);
        let admin = Arc::downgrade(self);
        socket.on_disconnect(move || {
            if let Some(admin) = admin.upgrade() {
                admin.admins.fetch_sub(1, Ordering::AcqRel);
            }
            std::future::ready(())
        });
        if !self.read_only {
            actions::register(&socket);
        }
        if let Some(NewSession(id)) = socket.remove_extension::<NewSession>() {
            let _ = socket.emit("session", &id);
        }
        let _ = socket.emit("config", &json!({ "supportedFeatures": self.supported_features() }));
        if let Some(registry) = self.registry.upgrade() {
            if self.mode == AdminMode::Development {
                let _ = socket.emit("all_sockets", &self.all_sockets(&registry));
            }
        }
        self.start_tasks();
        self.emit_stats();
    }

    /// Starts the task that emits the feed (once) and the `server_stats` task (unless it
    /// runs).
    fn start_tasks(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        if let Some(rx) = lock(&self.feed_rx).take() {
            runtime.spawn(drain(rx, self.registry.clone(), self.path.clone()));
        }
        if !self.ticking.swap(true, Ordering::AcqRel) {
            runtime.spawn(tick(Arc::downgrade(self)));
        }
    }

    /// Emits `server_stats` to the admin namespace, with the counts since the last one.
    fn emit_stats(&self) {
        let Some(registry) = self.registry.upgrade() else { return };
        let Some(ns) = registry.get(&self.path) else { return };
        let aggregated = lock(&self.events).take();
        let stats = stats::server_stats(&self.info, &registry, aggregated);
        let _ = NamespaceRef(ns).emit("server_stats", &stats);
    }
}

/// Emits the feed's reports to the admin namespace, in order, until the server is gone.
async fn drain(mut rx: mpsc::Receiver<Report>, registry: Weak<Registry>, path: String) {
    let mut batch = Vec::with_capacity(64);
    while rx.recv_many(&mut batch, 64).await > 0 {
        let Some(registry) = registry.upgrade() else { return };
        if let Some(ns) = registry.get(&path).map(NamespaceRef) {
            for (event, payload) in batch.drain(..) {
                let _ = ns.emit(event, payload);
            }
        }
        batch.clear();
    }
}

/// Emits `server_stats` every [`stats::INTERVAL`] while an admin socket is connected.
async fn tick(admin: Weak<Admin>) {
    loop {
        tokio::time::sleep(stats::INTERVAL).await;
        let Some(admin) = admin.upgrade() else { return };
        if !admin.recording() {
            admin.ticking.store(false, Ordering::Release);
            // An admin that connected meanwhile either saw the task running and relies on
            // it (carry on), or started another (stop).
            if !admin.recording() || admin.ticking.swap(true, Ordering::AcqRel) {
                return;
            }
        }
        admin.emit_stats();
    }
}

fn now() -> Value {
    Value::String(date::iso(SystemTime::now()))
}

impl Observer for Admin {
    fn connected(&self, socket: &Socket) {
        if !self.watching() {
            return;
        }
        let (nsp, id, at) = (Value::from(socket.ns()), Value::from(socket.id().as_str()), now());
        for room in socket.rooms() {
            let args = vec![nsp.clone(), Value::from(&*room), id.clone(), at.clone()];
            self.report("room_joined", args, Vec::new());
        }
        let args = vec![serialize::socket(socket, &self.client_ids), at];
        self.report("socket_connected", args, Vec::new());
    }

    fn disconnected(&self, socket: &Socket, reason: DisconnectReason, rooms: &[Room]) {
        if !self.watching() {
            return;
        }
        let (nsp, id, at) = (Value::from(socket.ns()), Value::from(socket.id().as_str()), now());
        let args = vec![nsp.clone(), id.clone(), reason.as_str().into(), at.clone()];
        self.report("socket_disconnected", args, Vec::new());
        for room in rooms {
            let args = vec![nsp.clone(), Value::from(&**room), id.clone(), at.clone()];
            self.report("room_left", args, Vec::new());
        }
    }

    fn joined(&self, ns: &str, sid: &Sid, rooms: &[Room]) {
        if !self.watching() {
            return;
        }
        let at = now();
        for room in rooms {
            let args = vec![ns.into(), Value::from(&**room), sid.as_str().into(), at.clone()];
            self.report("room_joined", args, Vec::new());
        }
    }

    fn left(&self, ns: &str, sid: &Sid, rooms: &[Room]) {
        if !self.watching() {
            return;
        }
        let at = now();
        for room in rooms {
            let args = vec![ns.into(), Value::from(&**room), sid.as_str().into(), at.clone()];
            self.report("room_left", args, Vec::new());
        }
    }

    fn event_received(&self, socket: &Socket, event: &str, payload: &Payload) {
        if !self.watching() || socket.ns() == self.path {
            return;
        }
        let mut data = Vec::with_capacity(payload.args.len() + 1);
        data.push(Value::from(event));
        data.extend(payload.args.iter().cloned());
        let args = vec![socket.ns().into(), socket.id().as_str().into(), Value::Array(data), now()];
        self.report("event_received", args, payload.attachments.clone());
    }

    fn event_sent(&self, socket: &Socket, data: &Value, attachments: &[Bytes]) {
        if !self.watching() || socket.ns() == self.path {
            return;
        }
        let args = vec![socket.ns().into(), socket.id().as_str().into(), data.clone(), now()];
        self.report("event_sent", args, attachments.to_vec());
    }

    fn transport_changed(&self, socket: &Socket) {
        if !self.watching() {
            return;
        }
        let update = json!({
            "id": socket.id().as_str(),
            "nsp": socket.ns(),
            "transport": socket.transport().as_str(),
        });
        self.report("socket_updated", vec![update], Vec::new());
    }

    fn session_opened(&self, _engine: &EngineSocket) {
        if self.recording() {
            self.count(Kind::RawConnection, None, 1);
        }
    }

    fn session_closed(&self, _engine: &EngineSocket, reason: CloseReason) {
        if self.recording() {
            self.count(Kind::RawDisconnection, Some(reason.as_str()), 1);
        }
    }

    fn message_received(&self, bytes: usize) {
        if self.recording() {
            let mut events = lock(&self.events);
            let at = SystemTime::now();
            events.push(at, Kind::PacketsIn, None, 1);
            events.push(at, Kind::BytesIn, None, u64::try_from(bytes).unwrap_or(u64::MAX));
        }
    }
}
