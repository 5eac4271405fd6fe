//! Namespaces: the connect flow (middleware, CONNECT reply, connect handler) and the handle
//! applications use to reach a namespace's sockets.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use dashmap::DashMap;
use ferrio_protocol::socket::{Limits, Packet};
use serde_json::{json, Value};

use crate::adapter::{Adapter, BroadcastOptions, Room};
use crate::client::Client;
use crate::engine::{EngineSocket, Sid};
use crate::handler::{
    boxed_middleware, run_inline, BoxFuture, BoxedConnectHandler, BoxedMiddleware,
    ConnectMiddleware,
};
use crate::operators::BroadcastOperators;
use crate::recovery::Recovery;
use crate::socket::send_encoded;
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

/// A socket a returning client gets back, its rooms, and the events it missed.
struct Restored {
    socket: Socket,
    rooms: Vec<Room>,
    missed: Vec<Arc<[Frame]>>,
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
    /// With recovery on, gives an event its offset (appended as a last argument, as
    /// Socket.IO does) so a client can say what it last received.
    pub(crate) fn stamp(&self, data: &mut Value) -> Option<u64> {
        let offset = self.recovery.as_ref()?.next_offset();
        if let Value::Array(args) = data {
            args.push(Value::String(offset.to_string()));
        }
        Some(offset)
    }

    /// Keeps a stamped event for clients that may come back.
    pub(crate) fn record(&self, offset: Option<u64>, opts: &BroadcastOptions, frames: &[Frame]) {
        if let (Some(recovery), Some(offset)) = (&self.recovery, offset) {
            recovery.record(offset, opts, frames);
        }
    }

    /// Registers `socket`, sends the CONNECT reply (with the private id when recovery is on),
    /// then whatever `missed` holds. Returns `false` when the connection is gone.
    fn admit(&self, engine: &EngineSocket, socket: &Socket, missed: Vec<Arc<[Frame]>>) -> bool {
        let Some(client) = engine.data::<Client>() else { return false };
        if engine.is_closed() || !client.register(&self.path, socket.clone()) {
            return false;
        }
        self.sockets.insert(socket.id().clone(), socket.clone());
        self.adapter.add_socket(socket.id());
        socket.mark_connected();
        let reply = match socket.pid() {
            Some(pid) => json!({ "sid": socket.id().as_str(), "pid": pid.as_str() }),
            None => json!({ "sid": socket.id().as_str() }),
        };
        if send_encoded(engine, &Packet::connect(&self.path, Some(reply))).is_err()
            || missed.iter().any(|frames| engine.send_frames(frames).is_err())
        {
            socket.close(crate::DisconnectReason::TransportClose);
            return false;
        }
        true
    }

    /// A returning client: its saved socket, if recovery is on and it can be restored.
    fn try_restore(self: &Arc<Self>, engine: &EngineSocket, auth: &Value) -> Option<Restored> {
        let recovery = self.recovery.as_ref()?;
        let (Some(Value::String(pid)), Some(Value::String(offset))) =
            (auth.get("pid"), auth.get("offset"))
        else {
            return None;
        };
        let (mut saved, missed) = recovery.restore(pid, offset)?;
        let rooms = std::mem::take(&mut saved.rooms);
        let socket = Socket::restored(self.clone(), engine.clone(), auth.clone(), saved);
        Some(Restored { socket, rooms, missed })
    }
    /// Runs the connect flow of a client that sent CONNECT for this namespace.
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

    pub(crate) fn connect(self: &Arc<Self>, engine: EngineSocket, auth: Value) {
        let ns = self.clone();
        if let Some(Restored { socket, rooms, missed }) = self.try_restore(&engine, &auth) {
            // A recovered socket skips the middleware, as in Socket.IO: it passed them before.
            let Some(handler) = ns.connect_handler(&engine, &socket) else { return };
            if ns.admit(&engine, &socket, missed) {
                ns.adapter.join(socket.id(), &rooms);
                run_inline(handler);
            }
            return;
        }
        let socket = Socket::new(ns.clone(), engine.clone(), auth);
        let middlewares: Vec<BoxedMiddleware> =
            ns.handlers.middlewares.read().unwrap_or_else(|p| p.into_inner()).clone();
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
            if ns.admit(&engine, &socket, Vec::new()) {
                handler.await;
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
        self.0
            .handlers
            .middlewares
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(boxed_middleware(middleware));
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
