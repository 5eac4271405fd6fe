//! Namespaces: the connect flow (middleware, CONNECT reply, connect handler), the registry of a
//! server's namespaces, dynamic namespaces' matchers, and the handles applications hold.

mod cluster;
mod handle;
mod matcher;
mod registry;

use std::sync::{Arc, RwLock, Weak};

use bytes::Bytes;
use dashmap::DashMap;
use ferrio_protocol::engine::Frame;
use ferrio_protocol::socket::Packet;
use serde_json::{json, Value};

pub(crate) use cluster::{ServerEventHandler, ServerEvents};
pub use handle::{DynNamespace, NamespaceRef};
pub(crate) use matcher::Matcher;
pub(crate) use registry::{normalize, AdapterFactory, ChildLease, Registry};

use crate::adapter::{Adapter, BroadcastOptions, Outbound, Room};
use crate::client::{Client, Joining};
use crate::config::SioConfig;
use crate::emit::{connect_error, encoded_frames, send_encoded};
use crate::engine::lock::read;
use crate::engine::{CloseReason, EngineSocket, QueueError, Sid};
use crate::handler::{run_inline, BoxFuture, BoxedConnectHandler, BoxedMiddleware};
use crate::observer::ObserverSlot;
use crate::recovery::Recovery;
use crate::Socket;

/// The handlers of a namespace, shared by the children of a dynamic namespace.
pub(crate) struct NsHandlers {
    pub(crate) connect: BoxedConnectHandler,
    pub(crate) middlewares: RwLock<Vec<BoxedMiddleware>>,
}

impl NsHandlers {
    pub(crate) fn new(connect: BoxedConnectHandler) -> Arc<NsHandlers> {
        Arc::new(NsHandlers { connect, middlewares: RwLock::new(Vec::new()) })
    }
}

/// How admitting a socket to its namespace went.
enum Admission {
    /// Registered, its CONNECT reply (and missed events) queued.
    Done,
    /// The CONNECT reply and missed events do not fit the connection's queue; nothing was
    /// queued or registered.
    NoRoom,
    /// The connection closed, or the client already has a socket in this namespace.
    Gone,
}

pub(crate) struct Namespace {
    pub(crate) path: String,
    pub(crate) sockets: DashMap<Sid, Socket>,
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(crate) handlers: Arc<NsHandlers>,
    pub(crate) config: Arc<SioConfig>,
    pub(crate) state: Arc<http::Extensions>,
    pub(crate) recovery: Option<Recovery>,
    /// The handlers of server-side events other nodes emit.
    pub(crate) server_events: ServerEvents,
    /// The registry this namespace is in, for handlers that take the [`Io`](crate::Io).
    pub(crate) registry: Weak<Registry>,
    /// The server's observer, if one is installed (see [`crate::observer`]).
    pub(crate) observer: ObserverSlot,
}

impl Namespace {
    /// Builds the event packet of `data` and `attachments` and hands it, with its encoded
    /// frames, to `send`. When `keep` is given and recovery is on, the event is first stamped
    /// with its offset (appended as a last argument, as Socket.IO does) and kept for the
    /// clients `keep` selects that may come back ([`Recovery::keep_and_send`]).
    ///
    /// With an adapter that sequences events, such an event is not sent here: it is published
    /// unstamped, and every node (this one included) delivers it in the cluster's order with
    /// the cluster's offset ([`Namespace::deliver`]); `None` is returned. (A broadcast asking
    /// for acknowledgements does not come here in a cluster: each socket's emit has its own
    /// ack id, so it is sent at once, unstamped; see [`Socket::send_asking_ack_now`].)
    pub(crate) fn send_event<R>(
        &self,
        mut data: Value,
        attachments: Vec<Bytes>,
        (keep, ack_id): (Option<&BroadcastOptions>, Option<u64>),
        send: impl FnOnce(&Packet, &[Frame]) -> R,
    ) -> Option<R> {
        let (Some(recovery), Some(opts)) = (&self.recovery, keep) else {
            let packet = Packet::event(&self.path, data, attachments, ack_id);
            return Some(send(&packet, &encoded_frames(&packet)));
        };
        if self.adapter.sequences_events() {
            let packet = Packet::event(&self.path, data, attachments, ack_id);
            let frames = encoded_frames(&packet);
            if opts.local {
                return Some(send(&packet, &frames));
            }
            self.adapter.publish(Outbound::Event { opts, frames: &frames, sequenced: true });
            return None;
        }
        recovery
            .keep_and_send(
                opts,
                |offset| {
                    if let Value::Array(args) = &mut data {
                        args.push(Value::String(offset.to_string()));
                    }
                    let packet = Packet::event(&self.path, data, attachments, ack_id);
                    let frames = encoded_frames(&packet);
                    (packet, frames)
                },
                send,
            )
            .into()
    }

    /// Registers `socket` with its client, queues the CONNECT reply (with the private id when
    /// recovery is on) together with what the socket `missed`, all or nothing, and only then
    /// adds it to the adapter and to `rooms`: no broadcast reaches the client before its
    /// CONNECT reply. Closing the socket after a failure is left to the caller: its disconnect
    /// handler may emit, which must not happen under the recovery log's lock `admit` may run
    /// under.
    fn admit(
        &self,
        engine: &EngineSocket,
        socket: &Socket,
        rooms: &[Room],
        missed: &[Arc<[Frame]>],
    ) -> Admission {
        let Some(client) = engine.data::<Client>() else { return Admission::Gone };
        if engine.is_closed() || !client.register(&self.path, socket.clone()) {
            return Admission::Gone;
        }
        // Socket.IO v2 clients (Engine.IO v3) get a CONNECT without data.
        let reply = match (engine.protocol(), socket.pid()) {
            (3, _) => None,
            (_, Some(pid)) => Some(json!({ "sid": socket.id().as_str(), "pid": pid.as_str() })),
            (_, None) => Some(json!({ "sid": socket.id().as_str() })),
        };
        let mut frames = encoded_frames(&Packet::connect(&self.path, reply));
        frames.extend(missed.iter().flat_map(|event| event.iter().cloned()));
        if let Err(err) = engine.try_send_frames(&frames) {
            client.unregister(&self.path, socket);
            return match err {
                QueueError::Full => Admission::NoRoom,
                _ => Admission::Gone,
            };
        }
        socket.show_child();
        self.sockets.insert(socket.id().clone(), socket.clone());
        if let (Some(recovery), Some(pid)) = (&self.recovery, socket.pid()) {
            recovery.track_live(pid, socket.id());
        }
        socket.mark_connected();
        self.adapter.add_socket(socket.id());
        if !rooms.is_empty() {
            self.adapter.join(socket.id(), rooms);
        }
        if let Some(observer) = self.observer.get() {
            observer.connected(socket);
        }
        Admission::Done
    }

    /// The connect handler's future for `socket`, or `None` after refusing the socket with a
    /// CONNECT_ERROR because the handler's arguments could not be extracted.
    fn connect_handler(&self, engine: &EngineSocket, socket: &Socket) -> Option<BoxFuture> {
        match self.handlers.connect.call(socket) {
            Ok(handler) => Some(handler),
            Err(err) => {
                let _ = send_encoded(engine, &connect_error(engine, &self.path, &err.0, None));
                None
            }
        }
    }

    /// A returning client: with recovery on and its saved socket restorable, registers that
    /// socket again (its id, rooms, extensions), sends what it missed and runs the connect
    /// handler. Returns `false` when there is nothing to restore. The restored socket gets a
    /// lease of its own on this namespace if `child` (the connect flow's) is one.
    fn try_restore(
        self: &Arc<Self>,
        engine: &EngineSocket,
        auth: &Value,
        child: Option<&ChildLease>,
    ) -> bool {
        let Some(recovery) = self.recovery.as_ref() else { return false };
        let (Some(Value::String(pid)), Some(Value::String(offset))) =
            (auth.get("pid"), auth.get("offset"))
        else {
            return false;
        };
        let mut restored = self.restore(recovery, engine, auth, child, (pid, offset));
        // The socket may still be attached to the client's old session, when the client came
        // back before the server noticed the loss (polling and streaming can only tell by the
        // heartbeat): that session is dead, so it is closed, which keeps the socket for
        // recovery, and the socket is taken over.
        if restored.is_none() && self.close_old_session(recovery, engine, pid) {
            restored = self.restore(recovery, engine, auth, child, (pid, offset));
        }
        match restored {
            // Nothing to restore; or what the socket missed does not fit its queue: either
            // way the client gets a fresh socket (and sees `recovered` false).
            None | Some(Some((_, Admission::NoRoom))) => false,
            // Refused: the CONNECT_ERROR is sent.
            Some(None) => true,
            Some(Some((handler, Admission::Done))) => {
                run_inline(handler);
                true
            }
            Some(Some((_, Admission::Gone))) => true,
        }
    }

    /// Restores the socket saved under `pid` for `engine`, with what it missed after `offset`:
    /// its connect handler and how its admission went; `Some(None)` when the handler refused it;
    /// `None` when there is nothing to restore.
    fn restore(
        self: &Arc<Self>,
        recovery: &Recovery,
        engine: &EngineSocket,
        auth: &Value,
        child: Option<&ChildLease>,
        (pid, offset): (&str, &str),
    ) -> Option<Option<(BoxFuture, Admission)>> {
        recovery.restore(pid, offset, |mut saved, missed| {
            let rooms = std::mem::take(&mut saved.rooms);
            let lease = child.map(ChildLease::another);
            let socket = Socket::restored(self.clone(), engine.clone(), auth.clone(), saved, lease);
            // A recovered socket skips the middleware, as in Socket.IO: it passed them before.
            let handler = self.connect_handler(engine, &socket)?;
            let admission = self.admit(engine, &socket, &rooms, &missed);
            Some((handler, admission))
        })
    }

    /// Closes the session another connection of the client left behind, whose socket holds
    /// `pid`; `true` when there was one.
    fn close_old_session(&self, recovery: &Recovery, engine: &EngineSocket, pid: &str) -> bool {
        let Some(sid) = recovery.live_socket(pid) else { return false };
        let Some(old) = self.sockets.get(&sid).map(|s| s.value().clone()) else { return false };
        if old.engine() == engine {
            return false;
        }
        tracing::debug!(ns = %self.path, "a returning client takes its socket over from its old session");
        old.engine().close_with(CloseReason::TransportClose);
        true
    }

    /// Runs the connect flow of a client that sent CONNECT for this namespace; `joining`
    /// marks the namespace as joining for that client until the flow ends, and `child` is the
    /// flow's lease on this namespace if it is a dynamic child (the socket it lets in keeps
    /// it).
    pub(crate) fn connect(
        self: &Arc<Self>,
        engine: EngineSocket,
        auth: Value,
        joining: Joining,
        child: Option<ChildLease>,
    ) {
        if self.try_restore(&engine, &auth, child.as_ref()) {
            return;
        }
        // Not kept here: a cluster may have kept it (its node died, or the client came back
        // through another node).
        if let (Some(_), true, Some(Value::String(pid)), Some(Value::String(offset))) =
            (&self.recovery, self.adapter.sequences_events(), auth.get("pid"), auth.get("offset"))
        {
            let (pid, offset) = (pid.clone(), offset.clone());
            let ns = self.clone();
            run_inline(Box::pin(async move {
                match ns.adapter.take_session(&pid, &offset).await {
                    Ok(Some(session)) => {
                        if ns.restore_from_cluster(
                            &engine,
                            &auth,
                            child.as_ref(),
                            (&pid, &offset),
                            session,
                        ) {
                            return;
                        }
                    }
                    Ok(None) => {}
                    Err(err) => {
                        tracing::debug!(%err, "cannot read the cluster's session; a fresh one is made")
                    }
                }
                ns.connect_fresh(engine, auth, joining, child);
            }));
            return;
        }
        self.connect_fresh(engine, auth, joining, child);
    }

    /// Restores a socket whose session the cluster kept, with the events it missed; `false`
    /// when it cannot be (the client then gets a fresh socket).
    fn restore_from_cluster(
        self: &Arc<Self>,
        engine: &EngineSocket,
        auth: &Value,
        child: Option<&ChildLease>,
        (pid, offset): (&str, &str),
        session: crate::adapter::ClusterSession,
    ) -> bool {
        let Some(recovery) = self.recovery.as_ref() else { return false };
        let Some(after) = crate::recovery::Offset::parse(offset) else { return false };
        let mut fetched = Vec::with_capacity(session.missed.len());
        for (id, opts, frames) in session.missed {
            let Some(at) = crate::recovery::Offset::parse(&id) else { return false };
            let frames: Arc<[Frame]> = cluster::stamped(frames, &id).into();
            fetched.push((at, opts, frames));
        }
        let saved = crate::recovery::Saved::new(
            session.sid,
            Sid::from_wire(pid),
            session.rooms,
            http::Extensions::new(),
        );
        let restored = recovery.restore_fetched(saved, after, fetched, |mut saved, missed| {
            let rooms = std::mem::take(&mut saved.rooms);
            let lease = child.map(ChildLease::another);
            let socket = Socket::restored(self.clone(), engine.clone(), auth.clone(), saved, lease);
            let handler = self.connect_handler(engine, &socket)?;
            let admission = self.admit(engine, &socket, &rooms, &missed);
            Some((handler, admission))
        });
        match restored {
            None => true,
            Some((_, Admission::NoRoom)) => false,
            Some((handler, Admission::Done)) => {
                run_inline(handler);
                true
            }
            Some((_, Admission::Gone)) => true,
        }
    }

    /// The connect flow of a socket that recovers nothing: middleware, then admission.
    fn connect_fresh(
        self: &Arc<Self>,
        engine: EngineSocket,
        auth: Value,
        joining: Joining,
        child: Option<ChildLease>,
    ) {
        let ns = self.clone();
        let socket = Socket::new(ns.clone(), engine.clone(), auth, child);
        let middlewares: Vec<BoxedMiddleware> = read(&ns.handlers.middlewares).clone();
        run_inline(Box::pin(async move {
            let admitted = async {
                for middleware in middlewares {
                    let verdict = match middleware.call(&socket) {
                        Ok(future) => future.await,
                        Err(err) => Err(crate::ConnectError::new(err.0)),
                    };
                    if let Err(err) = verdict {
                        let _ = send_encoded(
                            &engine,
                            &connect_error(&engine, &ns.path, err.message(), err.data().cloned()),
                        );
                        return None;
                    }
                }
                let handler = ns.connect_handler(&engine, &socket)?;
                match ns.admit(&engine, &socket, &[], &[]) {
                    Admission::Done => Some(handler),
                    // The client would wait for a CONNECT reply that cannot be queued: a slow
                    // consumer. Closing tells it to reconnect.
                    Admission::NoRoom => {
                        engine.close();
                        None
                    }
                    Admission::Gone => None,
                }
            }
            .await;
            drop(joining);
            match admitted {
                Some(handler) => handler.await,
                None => socket.discard(),
            }
        }));
    }
}
