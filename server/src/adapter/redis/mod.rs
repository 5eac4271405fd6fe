//! Several ferrio nodes as one, through Redis (cargo feature `redis`).
//!
//! ```no_run
//! use ferrio::adapter::redis::{RedisCluster, RedisConfig};
//! use ferrio::{Ferrio, Socket};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! let config = RedisConfig::new("redis://127.0.0.1:6379/", listener.local_addr()?);
//! let cluster = RedisCluster::connect(config).await?;
//! let (layer, io) = Ferrio::builder().cluster(&cluster).build_layer();
//! io.ns("/", |socket: Socket| async move {
//!     socket.join("lobby");
//! });
//! // Reaches the lobby on every node.
//! io.to("lobby").emit("hello", &"everyone")?;
//! ferrio::serve(listener, axum::Router::new().layer(layer)).await?;
//! # Ok(()) }
//! ```
//!
//! # What goes where
//!
//! With the prefix `P` (default `ferrio`):
//!
//! | key or channel | type | what |
//! |---|---|---|
//! | `P:stream:{namespace}` | stream | broadcasts, room changes and disconnects of one namespace, in order; trimmed by age (`XTRIM MINID ~`, every heartbeat) and capped in length (`MAXLEN ~` on each `XADD`) |
//! | `P:nodes` | sorted set | node id → time of its last heartbeat (ms); a node whose heartbeat is older than the node timeout is not live |
//! | `P:addrs` | hash | node id → the address it takes forwarded requests on |
//! | `P:session:{namespace}:{pid}` | string (JSON) | a socket's id and rooms, for connection state recovery on any node; expires |
//! | `P#req` | pub/sub channel | requests, which every node reads |
//! | `P#res#{node}` | pub/sub channel | the answers to one node's requests |
//!
//! Each node reads every namespace stream it serves with a blocking `XREAD` from the last id
//! it saw: a connection or Redis blip delays entries but loses none that Redis kept. A
//! broadcast is encoded once and added once (`XADD`, pipelined with the others queued
//! meanwhile); each node delivers it to its own sockets. Without connection state recovery the
//! sender's node delivers to its own sockets at once and skips its own entries when it reads
//! them; with recovery, every node delivers in stream order, stamping each event with its
//! stream id, which is the offset clients send back.
//!
//! Requests (`fetch_sockets`, `all_rooms`, `server_side_emit`, broadcasts with acks) are
//! published on `P#req`; the requester waits for as many answers as there are live nodes in
//! the registry (and subscribers to the channel), at most the request timeout. A node that
//! died stops being counted once its heartbeat is older than the node timeout.

mod wire;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::StreamReadReply;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, Notify};

use self::wire::{Entry, Message, WireOpts};
use super::{
    Adapter, BoxFuture, BroadcastOptions, ClusterSession, LocalAdapter, LocalNamespace, Outbound,
    RemoteAcks, Request, RequestError, Response, Room,
};
use crate::engine::lock::{lock, read, write};
use crate::engine::{NodeDirectory, Sid};
use crate::errors::AckError;
use crate::Payload;

/// Settings of a [`RedisCluster`]; every method documents its default.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    url: String,
    node_address: SocketAddr,
    prefix: String,
    request_timeout: Duration,
    heartbeat_interval: Duration,
    node_timeout: Duration,
    stream_max_age: Duration,
    stream_max_len: usize,
    read_count: usize,
    max_backlog_bytes: usize,
}

impl RedisConfig {
    /// Redis at `url` (`redis://host:port/db`), this node taking forwarded requests at
    /// `node_address` (where the other nodes can reach it: its listener's address).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ferrio::adapter::redis::RedisConfig;
    ///
    /// let me: std::net::SocketAddr = "10.0.0.7:3000".parse()?;
    /// let config = RedisConfig::new("redis://10.0.0.2:6379/", me)
    ///     .prefix("chat")
    ///     .request_timeout(Duration::from_secs(2))
    ///     .stream_max_age(Duration::from_secs(600));
    /// # let _ = config;
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn new(url: impl Into<String>, node_address: SocketAddr) -> Self {
        RedisConfig {
            url: url.into(),
            node_address,
            prefix: "ferrio".into(),
            request_timeout: Duration::from_secs(5),
            heartbeat_interval: Duration::from_secs(1),
            node_timeout: Duration::from_secs(5),
            stream_max_age: Duration::from_secs(300),
            stream_max_len: 100_000,
            read_count: 512,
            max_backlog_bytes: 32 << 20,
        }
    }

    /// Prefix of every key and channel, so several applications can share one Redis. Default
    /// `ferrio`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Longest wait for other nodes' answers to a request. Default 5 s.
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }

    /// Time between heartbeats (registry refresh, stream trimming). Default 1 s.
    pub fn heartbeat_interval(mut self, d: Duration) -> Self {
        self.heartbeat_interval = d;
        self
    }

    /// A node whose last heartbeat is older is not live: not counted, not forwarded to.
    /// Default 5 s. Keep it several heartbeats long.
    pub fn node_timeout(mut self, d: Duration) -> Self {
        self.node_timeout = d;
        self
    }

    /// Stream entries older than this are trimmed (approximately). Keep it at least the
    /// connection state recovery window: a client whose offset was trimmed gets a fresh
    /// session. Default 5 min.
    pub fn stream_max_age(mut self, d: Duration) -> Self {
        self.stream_max_age = d;
        self
    }

    /// Most entries a namespace stream keeps (approximately), whatever their age. Default
    /// 100 000.
    pub fn stream_max_len(mut self, n: usize) -> Self {
        self.stream_max_len = n.max(1);
        self
    }

    /// Most entries one `XREAD` returns. Default 512.
    pub fn read_count(mut self, n: usize) -> Self {
        self.read_count = n.max(1);
        self
    }

    /// Most bytes of missed events read back from Redis for one recovering client; a client
    /// that missed more gets a fresh session. Default 32 MiB.
    pub fn max_backlog_bytes(mut self, n: usize) -> Self {
        self.max_backlog_bytes = n;
        self
    }
}

/// Why joining a cluster failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The URL is not a Redis URL: fix the configuration.
    #[error("invalid Redis URL: {0}")]
    Url(String),
    /// Redis could not be reached or refused a command: check it runs and the URL, then
    /// retry.
    #[error("Redis is unreachable: {0}")]
    Redis(String),
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn random_tag() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes: [u8; crate::engine::NODE_TAG_LEN] = rand::random();
    bytes.iter().map(|b| ALPHABET[usize::from(b & 63)] as char).collect()
}

/// A namespace this node serves: its inbound handle, the last stream id read, and who
/// waits for the reader to pass an id.
struct Served {
    ns: LocalNamespace,
    /// `None` until the reader found where the stream ends.
    last_id: Option<String>,
}

/// What waits for answers to a request.
enum Waiting {
    Answers(mpsc::UnboundedSender<Response>),
    Acks(mpsc::UnboundedSender<AckMessage>),
}

enum AckMessage {
    Count(usize),
    Ack(Sid, Result<Payload, AckError>),
}

struct Shared {
    config: RedisConfig,
    tag: String,
    conn: ConnectionManager,
    /// Live nodes (this one included) by id, as of the last heartbeat.
    nodes: RwLock<HashMap<String, SocketAddr>>,
    served: Mutex<HashMap<String, Served>>,
    /// Wakes the reader when a namespace is added, and waiters when it read further.
    reader_news: Notify,
    read_progress: Notify,
    writes: mpsc::Sender<(String, Entry)>,
    waiting: Mutex<HashMap<u64, Waiting>>,
    next_request: AtomicU64,
    /// Sockets whose recovery state must be written: (namespace, socket id).
    dirty: Mutex<HashSet<(String, Sid)>>,
    /// Private ids of the live sockets that have a persisted session, per namespace.
    pids: Mutex<HashMap<(String, Sid), Sid>>,
    /// Wakes the session writer.
    sessions_news: Arc<Notify>,
    /// Set by [`RedisCluster::leave`]: no more heartbeats.
    left: std::sync::atomic::AtomicBool,
}

/// This node's membership of a cluster: Redis connections, the registry, and the tasks that
/// read the streams and answer requests. Cheap to clone; make one per process, pass it to
/// [`FerrioBuilder::cluster`](crate::FerrioBuilder::cluster). It implements
/// [`NodeDirectory`] from the registry, so the engine forwards requests for sessions of other
/// nodes (no sticky sessions needed).
#[derive(Clone)]
pub struct RedisCluster(Arc<Shared>);

impl std::fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCluster").field("node", &self.0.tag).finish_non_exhaustive()
    }
}

impl RedisCluster {
    /// Connects to Redis, registers this node and starts its tasks (on the current tokio
    /// runtime). Fails when Redis cannot be reached now; later outages are ridden out
    /// (connections come back by themselves, the streams are read from where they were).
    pub async fn connect(config: RedisConfig) -> Result<RedisCluster, ClusterError> {
        let url = if config.url.contains("protocol=") {
            config.url.clone()
        } else if config.url.contains('?') {
            format!("{}&protocol=resp3", config.url)
        } else {
            format!("{}?protocol=resp3", config.url)
        };
        let info = redis::IntoConnectionInfo::into_connection_info(url)
            .map_err(|e| ClusterError::Url(e.to_string()))?;
        // Small writes (one XADD, one PUBLISH) go out at once: no Nagle delay.
        let tcp = info.tcp_settings().clone().set_nodelay(true);
        let client = redis::Client::open(info.set_tcp_settings(tcp))
            .map_err(|e| ClusterError::Url(e.to_string()))?;
        let redis_err = |e: redis::RedisError| ClusterError::Redis(e.to_string());
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        let timeout = config.request_timeout.min(Duration::from_secs(5));
        let manager_config = ConnectionManagerConfig::new()
            .set_push_sender(push_tx)
            .set_automatic_resubscription()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let mut conn =
            client.get_connection_manager_with_config(manager_config).await.map_err(redis_err)?;
        let reader_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let reader =
            client.get_connection_manager_with_config(reader_config).await.map_err(redis_err)?;

        // A tag no live node has.
        let nodes_key = format!("{}:nodes", config.prefix);
        let mut tag = random_tag();
        for _ in 0..16 {
            let seen: Option<f64> = redis::cmd("ZSCORE")
                .arg(&nodes_key)
                .arg(&tag)
                .query_async(&mut conn)
                .await
                .map_err(redis_err)?;
            if seen.is_none_or(|ms| {
                (ms as u64) + (config.node_timeout.as_millis() as u64) * 4 < now_ms()
            }) {
                break;
            }
            tag = random_tag();
        }
        for channel in [format!("{}#req", config.prefix), format!("{}#res#{tag}", config.prefix)] {
            conn.subscribe(channel).await.map_err(redis_err)?;
        }
        let (writes, write_rx) = mpsc::channel(16_384);
        let shared = Arc::new(Shared {
            tag,
            conn,
            nodes: RwLock::new(HashMap::new()),
            served: Mutex::new(HashMap::new()),
            reader_news: Notify::new(),
            read_progress: Notify::new(),
            writes,
            waiting: Mutex::new(HashMap::new()),
            next_request: AtomicU64::new(1),
            dirty: Mutex::new(HashSet::new()),
            pids: Mutex::new(HashMap::new()),
            sessions_news: Arc::new(Notify::new()),
            left: std::sync::atomic::AtomicBool::new(false),
            config,
        });
        heartbeat_once(&shared).await.map_err(redis_err)?;
        let weak = Arc::downgrade(&shared);
        tokio::spawn(heartbeat_task(weak.clone()));
        tokio::spawn(writer_task(weak.clone(), write_rx));
        tokio::spawn(reader_task(weak.clone(), reader));
        tokio::spawn(pubsub_task(weak.clone(), push_rx));
        tokio::spawn(sessions_task(weak));
        tracing::info!(node = %shared.tag, "joined the cluster");
        Ok(RedisCluster(shared))
    }

    /// This node's id (its session ids start with it).
    pub fn node_id(&self) -> &str {
        &self.0.tag
    }

    /// The live nodes as of the last heartbeat, this one included: id and address.
    pub fn nodes(&self) -> Vec<(String, SocketAddr)> {
        read(&self.0.nodes).iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// An adapter for one namespace, for [`FerrioBuilder::adapter`](crate::FerrioBuilder::adapter)
    /// (which [`FerrioBuilder::cluster`](crate::FerrioBuilder::cluster) sets).
    pub fn adapter(&self) -> RedisAdapter {
        RedisAdapter { index: LocalAdapter::new(), shared: self.0.clone(), ns: Mutex::new(None) }
    }

    /// Leaves the cluster at once: this node is removed from the registry (other nodes stop
    /// counting it and forwarding to it). Call it when shutting down.
    pub async fn leave(&self) -> Result<(), RequestError> {
        self.0.left.store(true, Ordering::Release);
        let mut conn = self.0.conn.clone();
        let p = &self.0.config.prefix;
        redis::pipe()
            .cmd("ZREM")
            .arg(format!("{p}:nodes"))
            .arg(&self.0.tag)
            .ignore()
            .cmd("HDEL")
            .arg(format!("{p}:addrs"))
            .arg(&self.0.tag)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

impl NodeDirectory for RedisCluster {
    fn node_tag(&self) -> &str {
        &self.0.tag
    }

    fn node_address(&self, tag: &str) -> Option<SocketAddr> {
        read(&self.0.nodes).get(tag).copied()
    }
}

fn unavailable(e: redis::RedisError) -> RequestError {
    RequestError::Unavailable(e.to_string())
}

// ===== registry =====

async fn heartbeat_once(shared: &Shared) -> redis::RedisResult<()> {
    let p = &shared.config.prefix;
    let now = now_ms();
    let oldest = now.saturating_sub(shared.config.node_timeout.as_millis() as u64);
    let mut conn = shared.conn.clone();
    let (_, _, _, live): ((), (), (), Vec<String>) = redis::pipe()
        .cmd("ZADD")
        .arg(format!("{p}:nodes"))
        .arg(now)
        .arg(&shared.tag)
        .cmd("HSET")
        .arg(format!("{p}:addrs"))
        .arg(&shared.tag)
        .arg(shared.config.node_address.to_string())
        // Nodes gone for long are forgotten.
        .cmd("ZREMRANGEBYSCORE")
        .arg(format!("{p}:nodes"))
        .arg("-inf")
        .arg(now.saturating_sub(3_600_000))
        .cmd("ZRANGEBYSCORE")
        .arg(format!("{p}:nodes"))
        .arg(oldest)
        .arg("+inf")
        .query_async(&mut conn)
        .await?;
    let addrs: Vec<Option<String>> = if live.is_empty() {
        Vec::new()
    } else {
        redis::cmd("HMGET").arg(format!("{p}:addrs")).arg(&live).query_async(&mut conn).await?
    };
    let nodes = live
        .into_iter()
        .zip(addrs)
        .filter_map(|(tag, addr)| Some((tag, addr?.parse().ok()?)))
        .collect();
    *write(&shared.nodes) = nodes;
    Ok(())
}

async fn heartbeat_task(shared: Weak<Shared>) {
    let Some(interval) = shared.upgrade().map(|s| s.config.heartbeat_interval) else { return };
    let mut beats = 0u64;
    loop {
        tokio::time::sleep(interval).await;
        let Some(shared) = shared.upgrade() else { return };
        if shared.left.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = heartbeat_once(&shared).await {
            tracing::warn!(error = %e, "cluster heartbeat failed; retrying");
            continue;
        }
        beats += 1;
        if beats % 5 == 1 {
            trim_streams(&shared).await;
        }
    }
}

/// Trims every served stream by age.
async fn trim_streams(shared: &Shared) {
    let keys: Vec<String> = lock(&shared.served).keys().map(|p| stream_key(shared, p)).collect();
    let min = now_ms().saturating_sub(shared.config.stream_max_age.as_millis() as u64);
    let mut pipe = redis::pipe();
    for key in keys {
        pipe.cmd("XTRIM").arg(key).arg("MINID").arg("~").arg(min).ignore();
    }
    let mut conn = shared.conn.clone();
    if let Err(e) = pipe.query_async::<()>(&mut conn).await {
        tracing::debug!(error = %e, "stream trimming failed");
    }
}

fn stream_key(shared: &Shared, path: &str) -> String {
    format!("{}:stream:{path}", shared.config.prefix)
}

fn session_key(shared: &Shared, path: &str, pid: &str) -> String {
    format!("{}:session:{path}:{pid}", shared.config.prefix)
}

// ===== writer: XADD, pipelined, in order =====

async fn writer_task(shared: Weak<Shared>, mut rx: mpsc::Receiver<(String, Entry)>) {
    let mut batch = Vec::new();
    loop {
        if rx.recv_many(&mut batch, 256).await == 0 {
            return;
        }
        let Some(shared) = shared.upgrade() else { return };
        let mut pipe = redis::pipe();
        for (path, entry) in &batch {
            let key = stream_key(&shared, path);
            let cmd = pipe
                .cmd("XADD")
                .arg(key)
                .arg("MAXLEN")
                .arg("~")
                .arg(shared.config.stream_max_len)
                .arg("*");
            for (name, value) in wire::entry_fields(&shared.tag, entry) {
                cmd.arg(name).arg(value.as_ref());
            }
            cmd.ignore();
        }
        // Redis down: keep the batch (in order) and retry, so a blip loses nothing; entries
        // queued meanwhile wait behind it (the queue is bounded: past it, emits are dropped
        // with a warning).
        let mut delay = Duration::from_millis(50);
        loop {
            let mut conn = shared.conn.clone();
            match pipe.query_async::<()>(&mut conn).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, entries = batch.len(), "XADD failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
            }
        }
        batch.clear();
    }
}

// ===== reader: XREAD BLOCK over every served stream =====

async fn reader_task(shared: Weak<Shared>, mut conn: ConnectionManager) {
    let mut delay = Duration::from_millis(50);
    loop {
        let Some(s) = shared.upgrade() else { return };
        // Streams whose end is not known yet: find it (entries added later are read).
        let unknown: Vec<String> = lock(&s.served)
            .iter()
            .filter(|(_, v)| v.last_id.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for path in unknown {
            let last: redis::RedisResult<redis::streams::StreamRangeReply> =
                redis::cmd("XREVRANGE")
                    .arg(stream_key(&s, &path))
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1)
                    .query_async(&mut conn)
                    .await;
            match last {
                Ok(reply) => {
                    let id = reply.ids.first().map_or_else(|| "0-0".to_owned(), |e| e.id.clone());
                    if let Some(served) = lock(&s.served).get_mut(&path) {
                        served.last_id = Some(id);
                    }
                }
                Err(e) => tracing::debug!(error = %e, "cannot find a stream's end"),
            }
        }
        let (keys, ids, paths): (Vec<String>, Vec<String>, Vec<String>) = {
            let served = lock(&s.served);
            let mut keys = Vec::new();
            let mut ids = Vec::new();
            let mut paths = Vec::new();
            for (path, v) in served.iter() {
                if let Some(id) = &v.last_id {
                    keys.push(stream_key(&s, path));
                    ids.push(id.clone());
                    paths.push(path.clone());
                }
            }
            (keys, ids, paths)
        };
        if keys.is_empty() {
            let shared_now = s.clone();
            drop(s);
            let news = shared_now.reader_news.notified();
            let _ = tokio::time::timeout(Duration::from_millis(500), news).await;
            continue;
        }
        let count = s.config.read_count;
        drop(s);
        let reply: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(1000)
            .arg("STREAMS")
            .arg(&keys)
            .arg(&ids)
            .query_async(&mut conn)
            .await;
        let Some(s) = shared.upgrade() else { return };
        match reply {
            Ok(reply) => {
                delay = Duration::from_millis(50);
                for stream in reply.map(|r| r.keys).unwrap_or_default() {
                    let Some(i) = keys.iter().position(|k| *k == stream.key) else { continue };
                    let path = &paths[i];
                    let Some(ns) = lock(&s.served).get(path).map(|v| v.ns.clone()) else {
                        continue;
                    };
                    let mut last = None;
                    for entry in stream.ids {
                        apply(&s, &ns, &entry.id, &entry.map);
                        last = Some(entry.id);
                    }
                    if let (Some(last), Some(served)) = (last, lock(&s.served).get_mut(path)) {
                        served.last_id = Some(last);
                    }
                }
                s.read_progress.notify_waiters();
            }
            Err(e) => {
                tracing::warn!(error = %e, "XREAD failed; reading again from the last id seen");
                drop(s);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Applies one stream entry to this node's sockets.
fn apply(shared: &Shared, ns: &LocalNamespace, id: &str, map: &HashMap<String, redis::Value>) {
    let Some((node, entry)) = wire::parse_entry(map) else {
        tracing::debug!(id, "a stream entry this version cannot read; skipped");
        return;
    };
    let own = node == shared.tag;
    match entry {
        Entry::Event { opts, frames, sequenced: true } => ns.deliver(&opts, frames, Some(id)),
        // Delivered already by the node that sent it.
        _ if own => {}
        Entry::Event { opts, frames, sequenced: false } => ns.deliver(&opts, frames, None),
        Entry::Rooms { opts, change } => ns.apply_room_change(&opts, &change),
        Entry::Disconnect { opts } => ns.disconnect(&opts),
    }
}

// ===== requests and responses on pub/sub =====

async fn publish(
    shared: &Shared,
    channel: String,
    message: &Message,
) -> Result<usize, RequestError> {
    let body = serde_json::to_vec(message).map_err(|e| RequestError::Decode(e.to_string()))?;
    let mut conn = shared.conn.clone();
    redis::cmd("PUBLISH").arg(channel).arg(body).query_async(&mut conn).await.map_err(unavailable)
}

async fn pubsub_task(shared: Weak<Shared>, mut rx: mpsc::UnboundedReceiver<redis::PushInfo>) {
    while let Some(push) = rx.recv().await {
        let Some(s) = shared.upgrade() else { return };
        if push.kind != redis::PushKind::Message {
            continue;
        }
        let [_, payload] = push.data.as_slice() else { continue };
        let redis::Value::BulkString(body) = payload else { continue };
        let Ok(message) = serde_json::from_slice::<Message>(body) else { continue };
        if message.from == s.tag {
            continue;
        }
        on_message(&s, message);
    }
}

fn on_message(s: &Arc<Shared>, m: Message) {
    match m.kind.as_str() {
        "fetch" | "rooms" | "sse" | "ackb" => {
            let ns = lock(&s.served).get(&m.nsp).map(|v| v.ns.clone());
            tokio::spawn(answer(s.clone(), ns, m));
        }
        "count" | "ack" => {
            let waiting = lock(&s.waiting);
            if let Some(Waiting::Acks(tx)) = waiting.get(&m.id) {
                let message = if m.kind == "count" {
                    AckMessage::Count(m.count.unwrap_or(0))
                } else {
                    let sid = Sid::from_wire(m.sid.as_deref().unwrap_or_default());
                    let answer = match &m.err {
                        Some(word) => Err(wire::ack_error_of(word)),
                        None => wire::payload_of(m.args, &m.bin).ok_or(AckError::Disconnected),
                    };
                    AckMessage::Ack(sid, answer)
                };
                let _ = tx.send(message);
            }
        }
        _ => {
            let response = match m.kind.as_str() {
                "sockets" => Response::Sockets(m.sockets.unwrap_or_default()),
                "rooms-of" => Response::Rooms(
                    m.rooms.unwrap_or_default().into_iter().map(Room::from).collect(),
                ),
                "sse-ack" => Response::ServerAck(m.value),
                _ => return,
            };
            if let Some(Waiting::Answers(tx)) = lock(&s.waiting).get(&m.id) {
                let _ = tx.send(response);
            }
        }
    }
}

/// Answers another node's request (a node that does not serve the namespace answers
/// empty-handed, so the requester does not wait for it).
async fn answer(s: Arc<Shared>, ns: Option<LocalNamespace>, m: Message) {
    let reply_to = format!("{}#res#{}", s.config.prefix, m.from);
    let reply = |kind: &str| Message {
        id: m.id,
        from: s.tag.clone(),
        kind: kind.to_owned(),
        ..Default::default()
    };
    let out = match m.kind.as_str() {
        "ackb" => {
            let opts: BroadcastOptions = m.opts.unwrap_or_default().into();
            let timeout = Duration::from_millis(m.timeout_ms.unwrap_or(5_000));
            let data = m.args.unwrap_or(Value::Null);
            let attachments = wire::decode_bin(&m.bin).unwrap_or_default();
            let (count, mut acks) = match &ns {
                Some(ns) => ns.broadcast_with_ack(&opts, data, attachments, timeout),
                None => (0, Box::pin(futures_util::stream::empty()) as RemoteAcks),
            };
            let mut counted = reply("count");
            counted.count = Some(count);
            if publish(&s, reply_to.clone(), &counted).await.is_err() {
                return;
            }
            while let Some((sid, result)) = acks.next().await {
                let mut ack = reply("ack");
                ack.sid = Some(sid.as_str().to_owned());
                match result {
                    Ok(payload) => {
                        ack.args = Some(Value::Array(payload.args));
                        ack.bin = wire::encode_bin(&payload.attachments);
                    }
                    Err(e) => ack.err = Some(wire::ack_error_word(&e).to_owned()),
                }
                let _ = publish(&s, reply_to.clone(), &ack).await;
            }
            return;
        }
        "fetch" => {
            let opts: BroadcastOptions = m.opts.unwrap_or_default().into();
            let mut out = reply("sockets");
            out.sockets = Some(match &ns {
                Some(ns) => match ns.answer(Request::FetchSockets(opts), &s.tag).await {
                    Response::Sockets(sockets) => sockets,
                    _ => Vec::new(),
                },
                None => Vec::new(),
            });
            out
        }
        "rooms" => {
            let mut out = reply("rooms-of");
            out.rooms = Some(match &ns {
                Some(ns) => match ns.answer(Request::AllRooms, &s.tag).await {
                    Response::Rooms(rooms) => rooms.iter().map(|r| r.to_string()).collect(),
                    _ => Vec::new(),
                },
                None => Vec::new(),
            });
            out
        }
        "sse" => {
            let payload = wire::payload_of(m.args, &m.bin).unwrap_or_default();
            let event = m.event.unwrap_or_default();
            let request = Request::ServerSideEmit { event, payload, ack: m.ack };
            let value = match &ns {
                Some(ns) => match ns.answer(request, &s.tag).await {
                    Response::ServerAck(v) => v,
                    _ => None,
                },
                None => None,
            };
            if !m.ack {
                return;
            }
            let mut out = reply("sse-ack");
            out.value = value;
            out
        }
        _ => return,
    };
    if let Err(e) = publish(&s, reply_to, &out).await {
        tracing::debug!(error = %e, "cannot answer a request");
    }
}

/// Removes a request's waiter when the request ends, however it ends.
struct Registered<'a>(&'a Shared, u64);

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        lock(&self.0.waiting).remove(&self.1);
    }
}

impl Shared {
    /// Publishes a request and reads the registry in the same round trip: how many other
    /// nodes will answer, i.e. the live ones (a node whose heartbeat stopped is not waited
    /// for) that received it (a node that subscribed to nothing cannot answer).
    async fn publish_request(
        &self,
        channel: String,
        message: &Message,
    ) -> Result<usize, RequestError> {
        let body = serde_json::to_vec(message).map_err(|e| RequestError::Decode(e.to_string()))?;
        let oldest = now_ms().saturating_sub(self.config.node_timeout.as_millis() as u64);
        let mut conn = self.conn.clone();
        let (live, receivers): (Vec<String>, usize) = redis::pipe()
            .cmd("ZRANGEBYSCORE")
            .arg(format!("{}:nodes", self.config.prefix))
            .arg(oldest)
            .arg("+inf")
            .cmd("PUBLISH")
            .arg(channel)
            .arg(body)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let others = live.iter().filter(|t| **t != self.tag).count();
        Ok(others.min(receivers.saturating_sub(1)))
    }

    async fn request(
        &self,
        path: &str,
        request: Request,
        timeout: Option<Duration>,
    ) -> Result<Vec<Response>, RequestError> {
        let timeout = timeout.unwrap_or(self.config.request_timeout);
        let id = self.next_request.fetch_add(1, Ordering::Relaxed);
        let mut m =
            Message { id, from: self.tag.clone(), nsp: path.to_owned(), ..Default::default() };
        let wants_answers = match request {
            Request::FetchSockets(opts) => {
                m.kind = "fetch".into();
                m.opts = Some(WireOpts::from(&opts));
                true
            }
            Request::AllRooms => {
                m.kind = "rooms".into();
                true
            }
            Request::ServerSideEmit { event, payload, ack } => {
                m.kind = "sse".into();
                m.event = Some(event);
                m.args = Some(Value::Array(payload.args));
                m.bin = wire::encode_bin(&payload.attachments);
                m.ack = ack;
                ack
            }
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        lock(&self.waiting).insert(id, Waiting::Answers(tx));
        let _registered = Registered(self, id);
        let channel = format!("{}#req", self.config.prefix);
        let receivers =
            tokio::time::timeout(timeout, self.publish_request(channel, &m))
                .await
                .map_err(|_| RequestError::Unavailable("Redis did not answer in time".into()))??;
        if !wants_answers {
            return Ok(Vec::new());
        }
        let expected = receivers;
        let mut answers = Vec::with_capacity(expected);
        let deadline = tokio::time::Instant::now() + timeout;
        while answers.len() < expected {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(answer)) => answers.push(answer),
                Ok(None) => break,
                Err(_) => {
                    return Err(RequestError::Timeout {
                        missing: expected - answers.len(),
                        partial: answers,
                    })
                }
            }
        }
        Ok(answers)
    }
}

// ===== sessions for recovery =====

/// Writes the recovery state of the sockets whose rooms changed, in batches, and refreshes
/// every live socket's state before it expires.
async fn sessions_task(shared: Weak<Shared>) {
    let mut last_refresh = tokio::time::Instant::now();
    let mut retry = false;
    loop {
        {
            let Some(s) = shared.upgrade() else { return };
            let news = s.sessions_news.clone();
            drop(s);
            // At once when a socket changed (what changes while a write is under way is
            // written by the next one: the batches form by themselves); a failed write is
            // retried a moment later; every second, a look at the refresh.
            let wait = if retry { Duration::from_millis(100) } else { Duration::from_secs(1) };
            let _ = tokio::time::timeout(wait, news.notified()).await;
        }
        let Some(s) = shared.upgrade() else { return };
        let window = session_ttl(&s);
        if last_refresh.elapsed() >= window / 3 {
            last_refresh = tokio::time::Instant::now();
            let live: Vec<(String, Sid)> = lock(&s.pids).keys().cloned().collect();
            lock(&s.dirty).extend(live);
        }
        retry = false;
        let dirty: Vec<(String, Sid)> = lock(&s.dirty).drain().collect();
        if dirty.is_empty() {
            continue;
        }
        let mut pipe = redis::pipe();
        let mut any = false;
        for (path, sid) in &dirty {
            let (path, sid) = (path.clone(), sid.clone());
            let Some(ns) = lock(&s.served).get(&path).map(|v| v.ns.clone()) else { continue };
            let Some((pid, rooms)) = ns.recovery_state(&sid) else { continue };
            lock(&s.pids).insert((path.clone(), sid.clone()), pid.clone());
            let rooms: Vec<&str> = rooms.iter().map(|r| &**r).collect();
            let body = serde_json::json!({ "sid": sid.as_str(), "rooms": rooms }).to_string();
            pipe.cmd("SET")
                .arg(session_key(&s, &path, pid.as_str()))
                .arg(body)
                .arg("PX")
                .arg(window.as_millis() as u64)
                .ignore();
            any = true;
        }
        if any {
            let mut conn = s.conn.clone();
            if let Err(e) = pipe.query_async::<()>(&mut conn).await {
                tracing::debug!(error = %e, "cannot persist sessions for recovery; retrying");
                // Written again soon (a socket gone meanwhile is skipped then).
                lock(&s.dirty).extend(dirty);
                retry = true;
            }
        }
    }
}

/// How long a persisted session lives without refresh: the recovery window (the session
/// of a node that died stays that long), bounded below so refreshes keep up.
fn session_ttl(s: &Shared) -> Duration {
    let window = lock(&s.served).values().find_map(|v| {
        v.ns.ns.upgrade().and_then(|ns| ns.recovery.as_ref().map(|r| r.max_disconnection()))
    });
    window.unwrap_or(Duration::from_secs(120)).max(Duration::from_secs(1))
}

impl Shared {
    /// Takes the session persisted under `pid` and reads the events after `offset` up to what
    /// this node's reader applied. `None`: no such session, or the offset was trimmed, or the
    /// backlog is past its bound: the client gets a fresh session.
    async fn take_session(
        &self,
        path: &str,
        pid: &str,
        offset: &str,
    ) -> Result<Option<ClusterSession>, RequestError> {
        let mut conn = self.conn.clone();
        let body: Option<String> = redis::cmd("GETDEL")
            .arg(session_key(self, path, pid))
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let Some(body) = body else { return Ok(None) };
        let Ok(v) = serde_json::from_str::<Value>(&body) else { return Ok(None) };
        let Some(sid) = v.get("sid").and_then(Value::as_str).map(Sid::from_wire) else {
            return Ok(None);
        };
        let rooms = v
            .get("rooms")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).map(Room::from).collect())
            .unwrap_or_default();
        let Some(from) = wire::parse_id(offset) else { return Ok(None) };
        // The reader must have passed the offset, or events up to it would come twice.
        let deadline = tokio::time::Instant::now() + self.config.request_timeout;
        let applied = loop {
            let progress = self.read_progress.notified();
            let last = lock(&self.served).get(path).and_then(|v| v.last_id.clone());
            if let Some(last) = last.filter(|l| wire::parse_id(l).is_some_and(|l| l >= from)) {
                break last;
            }
            if tokio::time::timeout_at(deadline, progress).await.is_err() {
                return Ok(None);
            }
        };
        let key = stream_key(self, path);
        // The offset itself must still be there: else earlier events may have been trimmed.
        let at: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&key)
            .arg(offset)
            .arg(offset)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if at.ids.is_empty() {
            return Ok(None);
        }
        let mut missed = Vec::new();
        let mut start = format!("({offset}");
        let mut bytes = 0;
        loop {
            let page: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(&key)
                .arg(&start)
                .arg(&applied)
                .arg("COUNT")
                .arg(self.config.read_count)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            let Some(last) = page.ids.last().map(|e| e.id.clone()) else { break };
            for entry in page.ids {
                if let Some((_, Entry::Event { opts, frames, sequenced: true })) =
                    wire::parse_entry(&entry.map)
                {
                    bytes += frames.iter().map(|f| f.len()).sum::<usize>();
                    if bytes > self.config.max_backlog_bytes {
                        return Ok(None);
                    }
                    missed.push((entry.id, opts, frames));
                }
            }
            start = format!("({last}");
        }
        Ok(Some(ClusterSession { sid, rooms, missed }))
    }
}

// ===== the adapter of one namespace =====

/// The adapter of one namespace in a Redis cluster: the local index of [`LocalAdapter`], plus
/// the namespace's stream and the cluster's requests. From [`RedisCluster::adapter`].
pub struct RedisAdapter {
    index: LocalAdapter,
    shared: Arc<Shared>,
    ns: Mutex<Option<LocalNamespace>>,
}

impl std::fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapter").field("node", &self.shared.tag).finish_non_exhaustive()
    }
}

impl RedisAdapter {
    fn path(&self) -> Option<String> {
        lock(&self.ns).as_ref().map(|ns| ns.path().to_owned())
    }

    fn recovers(&self) -> bool {
        lock(&self.ns).as_ref().is_some_and(LocalNamespace::recovers)
    }

    fn queue(&self, entry: Entry) {
        let Some(path) = self.path() else { return };
        if let Err(e) = self.shared.writes.try_send((path, entry)) {
            tracing::warn!(error = %e, "the cluster's write queue is full (Redis down for long?); an operation for the other nodes was dropped");
        }
    }

    fn mark_dirty(&self, sid: &Sid) {
        if let (true, Some(path)) = (self.recovers(), self.path()) {
            lock(&self.shared.dirty).insert((path, sid.clone()));
            self.shared.sessions_news.notify_one();
        }
    }
}

impl Drop for RedisAdapter {
    fn drop(&mut self) {
        if let Some(path) = self.path() {
            let mut served = lock(&self.shared.served);
            if served.get(&path).is_some_and(|v| !v.ns.is_alive()) {
                served.remove(&path);
            }
        }
    }
}

impl Adapter for RedisAdapter {
    fn add_socket(&self, sid: &Sid) {
        self.index.add_socket(sid);
        self.mark_dirty(sid);
    }

    fn join(&self, sid: &Sid, rooms: &[Room]) {
        self.index.join(sid, rooms);
        self.mark_dirty(sid);
    }

    fn leave(&self, sid: &Sid, rooms: &[Room]) {
        self.index.leave(sid, rooms);
        self.mark_dirty(sid);
    }

    fn remove_socket(&self, sid: &Sid) {
        self.index.remove_socket(sid);
        let Some(path) = self.path() else { return };
        lock(&self.shared.dirty).remove(&(path.clone(), sid.clone()));
        let pid = lock(&self.shared.pids).remove(&(path.clone(), sid.clone()));
        let Some(pid) = pid else { return };
        // Kept for recovery here: its persisted session stays for the window, so the client
        // can come back on any node; otherwise it goes.
        let kept = lock(&self.ns)
            .as_ref()
            .and_then(|ns| ns.ns.upgrade())
            .and_then(|ns| ns.recovery.as_ref().map(|r| r.is_saved(pid.as_str())))
            .unwrap_or(false);
        let shared = self.shared.clone();
        let key = session_key(&shared, &path, pid.as_str());
        let ttl = session_ttl(&shared);
        tokio::spawn(async move {
            let mut conn = shared.conn.clone();
            let done: redis::RedisResult<()> = if kept {
                redis::cmd("PEXPIRE")
                    .arg(key)
                    .arg(ttl.as_millis() as u64)
                    .query_async(&mut conn)
                    .await
            } else {
                redis::cmd("DEL").arg(key).query_async(&mut conn).await
            };
            if let Err(e) = done {
                tracing::debug!(error = %e, "cannot update a persisted session");
            }
        });
    }

    fn socket_rooms(&self, sid: &Sid) -> Vec<Room> {
        self.index.socket_rooms(sid)
    }

    fn rooms(&self) -> Vec<Room> {
        self.index.rooms()
    }

    fn select(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.index.select(opts)
    }

    fn init(&self, ns: LocalNamespace) {
        let path = ns.path().to_owned();
        *lock(&self.ns) = Some(ns.clone());
        lock(&self.shared.served).insert(path, Served { ns, last_id: None });
        self.shared.reader_news.notify_waiters();
    }

    fn sequences_events(&self) -> bool {
        true
    }

    fn publish(&self, op: Outbound<'_>) {
        let entry = match op {
            Outbound::Event { opts, frames, sequenced } => {
                Entry::Event { opts: opts.clone(), frames: frames.to_vec(), sequenced }
            }
            Outbound::RoomChange { opts, change } => {
                Entry::Rooms { opts: opts.clone(), change: change.clone() }
            }
            Outbound::Disconnect { opts } => Entry::Disconnect { opts: opts.clone() },
        };
        self.queue(entry);
    }

    fn request(
        &self,
        request: Request,
        timeout: Option<Duration>,
    ) -> BoxFuture<Result<Vec<Response>, RequestError>> {
        let shared = self.shared.clone();
        let path = self.path().unwrap_or_default();
        Box::pin(async move { shared.request(&path, request, timeout).await })
    }

    fn broadcast_with_ack(
        &self,
        opts: &BroadcastOptions,
        data: &Value,
        attachments: &[Bytes],
        timeout: Duration,
    ) -> RemoteAcks {
        let shared = self.shared.clone();
        let id = shared.next_request.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&shared.waiting).insert(id, Waiting::Acks(tx));
        let m = Message {
            id,
            from: shared.tag.clone(),
            kind: "ackb".into(),
            nsp: self.path().unwrap_or_default(),
            opts: Some(WireOpts::from(opts)),
            args: Some(data.clone()),
            bin: wire::encode_bin(attachments),
            timeout_ms: Some(timeout.as_millis() as u64),
            ..Default::default()
        };
        let (expected_tx, expected_rx) = oneshot::channel();
        let publisher = shared.clone();
        tokio::spawn(async move {
            let channel = format!("{}#req", publisher.config.prefix);
            let sent = tokio::time::timeout(timeout, publisher.publish_request(channel, &m)).await;
            let expected = match sent {
                Ok(Ok(expected)) => expected,
                _ => 0,
            };
            let _ = expected_tx.send(expected);
        });
        // Each node reports its count, then its sockets' answers, each within `timeout`;
        // a little more is allowed for the trip back.
        let deadline = tokio::time::Instant::now() + timeout + Duration::from_millis(500);
        struct State {
            shared: Arc<Shared>,
            id: u64,
            rx: mpsc::UnboundedReceiver<AckMessage>,
            expected: Option<oneshot::Receiver<usize>>,
            nodes_left: usize,
            acks_left: usize,
            deadline: tokio::time::Instant,
        }
        impl Drop for State {
            fn drop(&mut self) {
                lock(&self.shared.waiting).remove(&self.id);
            }
        }
        let state = State {
            shared,
            id,
            rx,
            expected: Some(expected_rx),
            nodes_left: 0,
            acks_left: 0,
            deadline,
        };
        Box::pin(futures_util::stream::unfold(state, |mut st| async move {
            if let Some(expected) = st.expected.take() {
                st.nodes_left = tokio::time::timeout_at(st.deadline, expected).await.ok()?.ok()?;
            }
            loop {
                if st.nodes_left == 0 && st.acks_left == 0 {
                    return None;
                }
                match tokio::time::timeout_at(st.deadline, st.rx.recv()).await.ok()?? {
                    AckMessage::Count(n) => {
                        st.nodes_left = st.nodes_left.saturating_sub(1);
                        st.acks_left += n;
                    }
                    AckMessage::Ack(sid, answer) => {
                        st.acks_left = st.acks_left.saturating_sub(1);
                        return Some(((sid, answer), st));
                    }
                }
            }
        }))
    }

    fn node_id(&self) -> &str {
        &self.shared.tag
    }

    fn server_count(&self) -> usize {
        read(&self.shared.nodes).len().max(1)
    }

    fn fetch_server_count(&self) -> BoxFuture<Result<usize, RequestError>> {
        let shared = self.shared.clone();
        Box::pin(async move {
            let oldest = now_ms().saturating_sub(shared.config.node_timeout.as_millis() as u64);
            let mut conn = shared.conn.clone();
            let mut cmd = redis::cmd("ZCOUNT");
            cmd.arg(format!("{}:nodes", shared.config.prefix)).arg(oldest).arg("+inf");
            let count = cmd.query_async::<usize>(&mut conn);
            tokio::time::timeout(shared.config.request_timeout, count)
                .await
                .map_err(|_| RequestError::Unavailable("Redis did not answer in time".into()))?
                .map_err(unavailable)
        })
    }

    fn take_session(
        &self,
        pid: &str,
        offset: &str,
    ) -> BoxFuture<Result<Option<ClusterSession>, RequestError>> {
        let shared = self.shared.clone();
        let path = self.path().unwrap_or_default();
        let (pid, offset) = (pid.to_owned(), offset.to_owned());
        Box::pin(async move { shared.take_session(&path, &pid, &offset).await })
    }
}
