//! The Socket.IO side of one Engine.IO session: decodes packets, routes them to the sockets of
//! each namespace, and enforces the connect timeout.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ferrio_protocol::socket::{Decoder, Packet, PacketKind};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::emit::send_encoded;
use crate::engine::lock::lock;
use crate::engine::{CloseReason, EngineHandler, EngineSocket, Message};
use crate::namespace::Registry;
use crate::{DisconnectReason, Payload, Socket};

/// The decoder of a connection's packets, and the size of the packet it is assembling (its
/// Engine.IO messages, attachments included).
struct Decoding {
    decoder: Decoder,
    bytes: usize,
}

/// Where a client stands with one namespace.
enum Slot {
    /// A CONNECT is in the connect flow (middleware, restore): another one for the same
    /// namespace is ignored, as one for a namespace already joined is.
    Joining,
    /// Joined, with this socket.
    Joined(Socket),
}

/// Per-connection state, attached to the Engine.IO session.
pub(crate) struct Client {
    decoder: Mutex<Decoding>,
    namespaces: Mutex<HashMap<String, Slot>>,
    joined_once: AtomicBool,
    /// Ends the connect-timeout task when dropped: once the client joined a namespace, or
    /// when the session closed. The task holds the session (to close it on time) and must not
    /// keep a closed one alive for the rest of the timeout.
    connect_timer: Mutex<Option<oneshot::Sender<()>>>,
}

impl Client {
    fn namespaces(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        lock(&self.namespaces)
    }

    /// Marks namespace `path` as joining; `None` when the client already joined it or is
    /// joining it. The mark goes when the returned guard drops, unless the socket was
    /// [registered](Self::register) meanwhile.
    fn begin_join(&self, engine: &EngineSocket, path: &str) -> Option<Joining> {
        let mut namespaces = self.namespaces();
        if namespaces.contains_key(path) {
            return None;
        }
        namespaces.insert(path.to_owned(), Slot::Joining);
        Some(Joining { engine: engine.clone(), path: path.to_owned() })
    }

    /// Records `socket` as this client's socket of namespace `path`, which must be joining
    /// (it is not when the connection closed meanwhile).
    pub(crate) fn register(&self, path: &str, socket: Socket) -> bool {
        let mut namespaces = self.namespaces();
        match namespaces.get_mut(path) {
            Some(slot @ Slot::Joining) => *slot = Slot::Joined(socket),
            _ => return false,
        }
        drop(namespaces);
        self.joined_once.store(true, Ordering::Release);
        self.stop_connect_timer();
        true
    }

    /// Undoes [`register`](Self::register): the namespace is joining again.
    pub(crate) fn unregister(&self, path: &str, socket: &Socket) {
        if let Some(slot) = self.namespaces().get_mut(path) {
            if matches!(slot, Slot::Joined(s) if s == socket) {
                *slot = Slot::Joining;
            }
        }
    }

    /// Forgets `socket`, which left namespace `path`.
    pub(crate) fn forget(&self, path: &str, socket: &Socket) {
        let mut namespaces = self.namespaces();
        if matches!(namespaces.get(path), Some(Slot::Joined(s)) if s == socket) {
            namespaces.remove(path);
        }
    }

    fn stop_connect_timer(&self) {
        lock(&self.connect_timer).take();
    }

    /// The client's sockets, one per namespace it joined.
    pub(crate) fn sockets(&self) -> Vec<Socket> {
        let namespaces = self.namespaces();
        namespaces
            .values()
            .filter_map(|slot| match slot {
                Slot::Joined(socket) => Some(socket.clone()),
                Slot::Joining => None,
            })
            .collect()
    }

    fn socket(&self, path: &str) -> Option<Socket> {
        match self.namespaces().get(path) {
            Some(Slot::Joined(socket)) => Some(socket.clone()),
            _ => None,
        }
    }
}

/// A client's CONNECT for one namespace, from the moment it is dispatched until its connect
/// flow ends; dropping it clears the namespace's joining mark if no socket was registered.
pub(crate) struct Joining {
    engine: EngineSocket,
    path: String,
}

impl Drop for Joining {
    fn drop(&mut self) {
        if let Some(client) = self.engine.data::<Client>() {
            let mut namespaces = client.namespaces();
            if matches!(namespaces.get(&self.path), Some(Slot::Joining)) {
                namespaces.remove(&self.path);
            }
        }
    }
}

/// The Engine.IO handler of the Socket.IO layer.
pub(crate) struct SocketIoHandler(pub(crate) Arc<Registry>);

impl EngineHandler for SocketIoHandler {
    fn on_connect(&self, engine: EngineSocket) {
        let (stop, stopped) = oneshot::channel::<()>();
        let client = Client {
            decoder: Mutex::new(Decoding { decoder: Decoder::new(self.0.config.limits), bytes: 0 }),
            namespaces: Mutex::new(HashMap::new()),
            joined_once: AtomicBool::new(false),
            connect_timer: Mutex::new(Some(stop)),
        };
        let _ = engine.set_data(client);
        if let Some(observer) = self.0.observer.get() {
            observer.session_opened(&engine);
        }
        // A Socket.IO v2 client (Engine.IO v3) joins the main namespace without asking.
        if engine.protocol() == 3 {
            if let Some(client) = engine.data::<Client>() {
                self.dispatch(&engine, client, Packet::connect("/", None), 0);
            }
        }
        let timeout = self.0.config.connect_timeout;
        tokio::spawn(async move {
            tokio::select! {
                // Joined, or closed: `stop` was dropped.
                _ = stopped => {}
                () = tokio::time::sleep(timeout) => {
                    let joined = engine
                        .data::<Client>()
                        .is_some_and(|c| c.joined_once.load(Ordering::Acquire));
                    if !joined && !engine.is_closed() {
                        tracing::debug!(sid = %engine.id(), "no namespace joined within the connect timeout");
                        engine.close();
                    }
                }
            }
        });
    }

    fn on_message(&self, engine: &EngineSocket, message: Message) {
        let Some(client) = engine.data::<Client>() else { return };
        if let Some(observer) = self.0.observer.get() {
            observer.message_received(match &message {
                Message::Text(text) => text.len(),
                Message::Binary(data) => data.len(),
            });
        }
        let (decoded, bytes) = {
            let mut decoding = lock(&client.decoder);
            let Decoding { decoder, bytes } = &mut *decoding;
            let decoded = match message {
                Message::Text(text) => {
                    *bytes = bytes.saturating_add(text.len());
                    decoder.feed_text(&text)
                }
                Message::Binary(data) => {
                    *bytes = bytes.saturating_add(data.len());
                    decoder.feed_binary(data)
                }
            };
            let bytes = *bytes;
            if !matches!(decoded, Ok(None)) {
                decoding.bytes = 0;
            }
            (decoded, bytes)
        };
        match decoded {
            Ok(Some(packet)) => self.dispatch(engine, client, packet, bytes),
            Ok(None) => {}
            Err(err) => {
                tracing::debug!(sid = %engine.id(), %err, "invalid Socket.IO packet; closing the connection");
                engine.close_with(CloseReason::ParseError);
            }
        }
    }

    fn on_disconnect(&self, engine: &EngineSocket, reason: CloseReason) {
        let Some(client) = engine.data::<Client>() else { return };
        client.stop_connect_timer();
        let sockets: Vec<Socket> = client
            .namespaces()
            .drain()
            .filter_map(|(_, slot)| match slot {
                Slot::Joined(socket) => Some(socket),
                Slot::Joining => None,
            })
            .collect();
        for socket in sockets {
            socket.close(DisconnectReason::from(reason));
        }
        if let Some(observer) = self.0.observer.get() {
            observer.session_closed(engine, reason);
        }
    }

    fn on_upgrade(&self, engine: &EngineSocket) {
        let Some(observer) = self.0.observer.get() else { return };
        let Some(client) = engine.data::<Client>() else { return };
        for socket in client.sockets() {
            observer.transport_changed(&socket);
        }
    }
}

impl SocketIoHandler {
    /// Routes `packet` (`bytes` long as received) to its namespace's socket.
    fn dispatch(&self, engine: &EngineSocket, client: &Client, packet: Packet, bytes: usize) {
        let Packet { kind, nsp, id, data, attachments } = packet;
        match kind {
            PacketKind::Connect => {
                // A Socket.IO v2 client (Engine.IO v3) names the namespace with its query
                // (`/admin?token=x`), which stands for the auth payload.
                let (nsp, legacy_auth) = match nsp.split_once('?') {
                    Some((path, query)) if engine.protocol() == 3 => {
                        let auth: serde_json::Map<String, Value> =
                            form_urlencoded::parse(query.as_bytes())
                                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                                .collect();
                        (path.to_owned(), Value::Object(auth))
                    }
                    _ => (nsp, json!({})),
                };
                if nsp.len() > self.0.config.max_namespace_len {
                    // Refusing it would echo the name back (the reply names its namespace);
                    // no client of the application's namespaces sends such a name.
                    tracing::debug!(sid = %engine.id(), len = nsp.len(), "CONNECT names a namespace past the length limit; closing the connection");
                    engine.close_with(CloseReason::ParseError);
                    return;
                }
                // Already joined, or joining: ignored.
                let Some(joining) = client.begin_join(engine, &nsp) else { return };
                let Some((ns, child)) = self.0.namespace(&nsp) else {
                    let refusal = Packet::connect_error(&nsp, "Invalid namespace", None);
                    let _ = send_encoded(engine, &refusal);
                    return;
                };
                let auth = match data {
                    Some(auth @ Value::Object(_)) => auth,
                    _ => legacy_auth,
                };
                ns.connect(engine.clone(), auth, joining, child);
            }
            PacketKind::Event | PacketKind::BinaryEvent => {
                let Some(socket) = client.socket(&nsp) else {
                    return not_joined(engine, &nsp);
                };
                let (name, payload) = Payload::from_event_data(data, attachments);
                if let Some(name) = name {
                    socket.on_event(name, payload, id, bytes);
                }
            }
            PacketKind::Ack | PacketKind::BinaryAck => {
                let Some(socket) = client.socket(&nsp) else {
                    return not_joined(engine, &nsp);
                };
                if let Some(id) = id {
                    socket.on_ack(id, Payload::from_ack_data(data, attachments));
                }
            }
            PacketKind::Disconnect => {
                if let Some(socket) = client.socket(&nsp) {
                    socket.close(DisconnectReason::ClientNamespaceDisconnect);
                }
            }
            PacketKind::ConnectError => {
                // Only servers send CONNECT_ERROR.
                engine.close_with(CloseReason::ParseError);
            }
        }
    }
}

/// An EVENT or ACK for a namespace the client has not joined: an invalid state, which closes
/// the connection, as Socket.IO does (other clients are unaffected).
fn not_joined(engine: &EngineSocket, nsp: &str) {
    tracing::debug!(sid = %engine.id(), nsp, "a packet for a namespace the client has not joined; closing the connection");
    engine.close();
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use crate::testing::TestServer;
    use crate::Ferrio;

    /// Sessions opened and closed at once, long before their connect timeout, are freed at
    /// once: the connect timer does not keep them (an open-and-close flood would otherwise
    /// hold every session's memory for the whole timeout).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_session_closed_before_its_connect_timeout_is_freed_at_once() {
        const SESSIONS: usize = 200;
        let server = TestServer::new(Ferrio::builder().connect_timeout(Duration::from_secs(3600)));
        let mut sessions = Vec::new();
        for _ in 0..SESSIONS {
            let sid = server.handshake().await;
            let session = server.io.engine().get(&sid).expect("an open session");
            sessions.push(Arc::downgrade(&session.0));
            drop(session);
            server.post(&sid, "1").await;
        }
        let start = Instant::now();
        let held = || sessions.iter().filter(|s| s.strong_count() > 0).count();
        while held() > 0 && start.elapsed() < Duration::from_secs(2) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(held(), 0, "closed sessions still held, of {SESSIONS}");
    }
}
