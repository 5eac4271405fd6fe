//! Namespaces: the connect flow (middleware, CONNECT reply, connect handler) and the handle
//! applications use to reach a namespace's sockets.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use dashmap::DashMap;
use ferrio_protocol::socket::{Limits, Packet};
use serde_json::{json, Value};

use crate::adapter::{Adapter, BroadcastOptions, Room};
use crate::client::Client;
use crate::engine::{EngineSocket, SendError, Sid};
use crate::handler::{
    boxed_middleware, run_inline, BoxFuture, BoxedConnectHandler, BoxedMiddleware,
    ConnectMiddleware,
};
use crate::operators::BroadcastOperators;
use crate::poison::{read, write};
use crate::recovery::Recovery;
use crate::socket::{encoded_frames, send_encoded};
use crate::Socket;
use ferrio_protocol::engine::Frame;

/// Settings of the Socket.IO layer every namespace reads.
#[derive(Debug, Clone)]
pub(crate) struct SioConfig {
    pub(crate) connect_timeout: Duration,
    pub(crate) ack_timeout: Duration,
    pub(crate) limits: Limits,
    /// How long a disconnected socket can be recovered; `None` turns recovery off.
    pub(crate) recovery: Option<Duration>,
}

/// The handlers of a namespace, shared by the children of a dynamic namespace.
pub(crate) struct NsHandlers {
    pub(crate) connect: BoxedConnectHandler,
    pub(crate) middlewares: RwLock<Vec<BoxedMiddleware>>,
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
}

impl Namespace {
    /// Builds the event packet of `data` and `attachments` and hands it, with its encoded
    /// frames, to `send`. When `keep` is given and recovery is on, the event is first stamped
    /// with its offset (appended as a last argument, as Socket.IO does) and kept for the
    /// clients `keep` selects that may come back ([`Recovery::keep_and_send`]).
    pub(crate) fn send_event<R>(
        &self,
        mut data: Value,
        attachments: Vec<Bytes>,
        keep: Option<&BroadcastOptions>,
        send: impl FnOnce(&Packet, &[Frame]) -> R,
    ) -> R {
        let (Some(recovery), Some(opts)) = (&self.recovery, keep) else {
            let packet = Packet::event(&self.path, data, attachments, None);
            return send(&packet, &encoded_frames(&packet));
        };
        recovery.keep_and_send(
            opts,
            |offset| {
                if let Value::Array(args) = &mut data {
                    args.push(Value::String(offset.to_string()));
                }
                let packet = Packet::event(&self.path, data, attachments, None);
                let frames = encoded_frames(&packet);
                (packet, frames)
            },
            send,
        )
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
        let reply = match socket.pid() {
            Some(pid) => json!({ "sid": socket.id().as_str(), "pid": pid.as_str() }),
            None => json!({ "sid": socket.id().as_str() }),
        };
        let mut frames = encoded_frames(&Packet::connect(&self.path, Some(reply)));
        frames.extend(missed.iter().flat_map(|event| event.iter().cloned()));
        if let Err(err) = engine.try_send_frames(&frames) {
            client.forget(&self.path);
            return match err {
                SendError::QueueFull => Admission::NoRoom,
                _ => Admission::Gone,
            };
        }
        self.sockets.insert(socket.id().clone(), socket.clone());
        socket.mark_connected();
        self.adapter.add_socket(socket.id());
        if !rooms.is_empty() {
            self.adapter.join(socket.id(), rooms);
        }
        Admission::Done
    }

    /// The connect handler's future for `socket`, or `None` after refusing the socket with a
    /// CONNECT_ERROR because the handler's arguments could not be extracted.
    fn connect_handler(&self, engine: &EngineSocket, socket: &Socket) -> Option<BoxFuture> {
        match self.handlers.connect.call(socket) {
            Ok(handler) => Some(handler),
            Err(err) => {
                let _ = send_encoded(engine, &Packet::connect_error(&self.path, &err.0, None));
                None
            }
        }
    }

    /// A returning client: with recovery on and its saved socket restorable, registers that
    /// socket again (its id, rooms, extensions), sends what it missed and runs the connect
    /// handler. Returns `false` when there is nothing to restore.
    fn try_restore(self: &Arc<Self>, engine: &EngineSocket, auth: &Value) -> bool {
        let Some(recovery) = self.recovery.as_ref() else { return false };
        let (Some(Value::String(pid)), Some(Value::String(offset))) =
            (auth.get("pid"), auth.get("offset"))
        else {
            return false;
        };
        let restored = recovery.restore(pid, offset, |mut saved, missed| {
            let rooms = std::mem::take(&mut saved.rooms);
            let socket = Socket::restored(self.clone(), engine.clone(), auth.clone(), saved);
            // A recovered socket skips the middleware, as in Socket.IO: it passed them before.
            let handler = self.connect_handler(engine, &socket)?;
            let admission = self.admit(engine, &socket, &rooms, &missed);
            Some((handler, admission))
        });
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

    /// Runs the connect flow of a client that sent CONNECT for this namespace.
    pub(crate) fn connect(self: &Arc<Self>, engine: EngineSocket, auth: Value) {
        if self.try_restore(&engine, &auth) {
            return;
        }
        let ns = self.clone();
        let socket = Socket::new(ns.clone(), engine.clone(), auth);
        let middlewares: Vec<BoxedMiddleware> = read(&ns.handlers.middlewares).clone();
        run_inline(Box::pin(async move {
            for middleware in middlewares {
                let verdict = match middleware.call(&socket) {
                    Ok(future) => future.await,
                    Err(err) => Err(crate::ConnectError::new(err.0)),
                };
                if let Err(err) = verdict {
                    let _ = send_encoded(
                        &engine,
                        &Packet::connect_error(&ns.path, err.message(), err.data().cloned()),
                    );
                    return;
                }
            }
            let Some(handler) = ns.connect_handler(&engine, &socket) else { return };
            match ns.admit(&engine, &socket, &[], &[]) {
                Admission::Done => handler.await,
                // The client would wait for a CONNECT reply that cannot be queued: a slow
                // consumer. Closing tells it to reconnect.
                Admission::NoRoom => engine.close(),
                Admission::Gone => {}
            }
        }));
    }
}

/// A handle on a namespace: add middleware, reach its sockets. From
/// [`Io::ns`](crate::Io::ns) or [`Io::of`](crate::Io::of).
#[derive(Clone)]
pub struct NamespaceRef(pub(crate) Arc<Namespace>);

impl std::fmt::Debug for NamespaceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamespaceRef").field("path", &self.0.path).finish()
    }
}

impl NamespaceRef {
    /// The namespace's path.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// Adds a connect middleware, run in order before the connect handler; an `Err` refuses
    /// the connection with a CONNECT_ERROR. Add middleware before serving requests.
    ///
    /// ```
    /// use ferrio::extract::Data;
    /// use ferrio::{ConnectError, Ferrio, Socket};
    /// use serde_json::{json, Value};
    ///
    /// let (_layer, io) = Ferrio::builder().build_layer();
    /// io.ns("/admin", |_socket: Socket| async {}).middleware(|Data(auth): Data<Value>| async move {
    ///     if auth == json!({"token": "secret"}) {
    ///         Ok(())
    ///     } else {
    ///         Err(ConnectError::new("unauthorized").with_data(json!({"code": "E_UNAUTHORIZED"})))
    ///     }
    /// });
    /// ```
    pub fn middleware<M, T>(&self, middleware: M) -> &Self
    where
        M: ConnectMiddleware<T>,
        T: 'static,
    {
        write(&self.0.handlers.middlewares).push(boxed_middleware(middleware));
        self
    }

    /// Operators over every socket of the namespace.
    pub fn operators(&self) -> BroadcastOperators {
        BroadcastOperators::new(self.0.clone(), BroadcastOptions::default())
    }

    /// The socket with id `sid`, if connected here.
    pub fn get_socket(&self, sid: &Sid) -> Option<Socket> {
        self.0.sockets.get(sid).map(|s| s.value().clone())
    }
}

crate::operators::delegate_operators!(NamespaceRef);
