//! The `server_stats` event: who this server is, its clients, its namespaces, and the counts
//! of Engine.IO events since the last report, per second (`aggregatedEvents`).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};

use super::date;
use crate::engine::TransportKind;
use crate::namespace::Registry;

/// Time between two `server_stats`, as the official server.
pub(crate) const INTERVAL: Duration = Duration::from_secs(2);
/// Most distinct (second, type, subtype) counts kept between two reports.
const MAX_ENTRIES: usize = 1024;

/// The kinds of aggregated events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// An Engine.IO session opened.
    RawConnection,
    /// An Engine.IO session closed (its subtype: the reason).
    RawDisconnection,
    /// A message arrived.
    PacketsIn,
    /// Bytes of messages arrived.
    BytesIn,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::RawConnection => "rawConnection",
            Kind::RawDisconnection => "rawDisconnection",
            Kind::PacketsIn => "packetsIn",
            Kind::BytesIn => "bytesIn",
        }
    }
}

/// Counts of events by second, type and subtype, until the next report takes them.
#[derive(Debug, Default)]
pub(crate) struct EventBuffer {
    counts: HashMap<(u64, Kind, Option<&'static str>), u64>,
}

impl EventBuffer {
    /// Adds `count` events of `kind` (and `sub_type`) at `at`.
    pub(crate) fn push(
        &mut self,
        at: SystemTime,
        kind: Kind,
        sub_type: Option<&'static str>,
        count: u64,
    ) {
        let second = date::epoch_millis(at) / 1000 * 1000;
        let key = (second, kind, sub_type);
        if let Some(total) = self.counts.get_mut(&key) {
            *total = total.saturating_add(count);
        } else if self.counts.len() < MAX_ENTRIES {
            self.counts.insert(key, count);
        }
    }

    /// The counts as `aggregatedEvents` (`[{timestamp, type, subType?, count}]`, oldest
    /// first), emptying the buffer.
    pub(crate) fn take(&mut self) -> Value {
        let mut entries: Vec<_> = self.counts.drain().collect();
        entries.sort_by_key(|((second, kind, sub), _)| (*second, kind.as_str(), *sub));
        let entries = entries.into_iter().map(|((timestamp, kind, sub_type), count)| {
            let mut entry = Map::new();
            entry.insert("timestamp".into(), timestamp.into());
            entry.insert("type".into(), kind.as_str().into());
            if let Some(sub_type) = sub_type {
                entry.insert("subType".into(), sub_type.into());
            }
            entry.insert("count".into(), count.into());
            Value::Object(entry)
        });
        Value::Array(entries.collect())
    }
}

/// Who the server is: the first fields of `server_stats`.
#[derive(Debug, Clone)]
pub(crate) struct ServerInfo {
    pub(crate) server_id: String,
    pub(crate) hostname: String,
    pub(crate) started: std::time::Instant,
}

/// The `server_stats` payload: `{serverId, hostname, pid, uptime, clientsCount,
/// pollingClientsCount, aggregatedEvents, namespaces}`. `pollingClientsCount` counts the
/// connections on an HTTP transport (polling or ferrio's streaming): the UI shows the others
/// as websocket.
pub(crate) fn server_stats(info: &ServerInfo, registry: &Registry, aggregated: Value) -> Value {
    let sessions = registry.engine.get().map(|engine| engine.sockets()).unwrap_or_default();
    let polling = sessions.iter().filter(|s| s.transport() != TransportKind::WebSocket).count();
    let mut namespaces: Vec<(String, usize)> =
        registry.all().iter().map(|ns| (ns.path.clone(), ns.sockets.len())).collect();
    namespaces.sort();
    let namespaces: Vec<Value> = namespaces
        .into_iter()
        .map(|(name, count)| json!({ "name": name, "socketsCount": count }))
        .collect();
    json!({
        "serverId": info.server_id,
        "hostname": info.hostname,
        "pid": std::process::id(),
        "uptime": info.started.elapsed().as_secs_f64(),
        "clientsCount": sessions.len(),
        "pollingClientsCount": polling,
        "aggregatedEvents": aggregated,
        "namespaces": namespaces,
    })
}

/// The machine's host name (Node's `os.hostname()`): the kernel's, else `$HOSTNAME`, else
/// `localhost`.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|name| !name.is_empty()))
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn counts_are_aggregated_per_second_and_taken_once() {
        let mut buffer = EventBuffer::default();
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        buffer.push(t, Kind::PacketsIn, None, 1);
        buffer.push(t + Duration::from_millis(500), Kind::PacketsIn, None, 1);
        buffer.push(t, Kind::RawDisconnection, Some("transport close"), 1);
        assert_eq!(
            buffer.take(),
            json!([
                {"timestamp": 1_700_000_000_000_u64, "type": "packetsIn", "count": 2},
                {"timestamp": 1_700_000_000_000_u64, "type": "rawDisconnection", "subType": "transport close", "count": 1},
            ])
        );
        assert_eq!(buffer.take(), json!([]));
        for i in 0..(MAX_ENTRIES as u64 + 10) {
            buffer.push(t + Duration::from_secs(i), Kind::BytesIn, None, 3);
        }
        assert_eq!(buffer.take().as_array().map(Vec::len), Some(MAX_ENTRIES));
    }
}
