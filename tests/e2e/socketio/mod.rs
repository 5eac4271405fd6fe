//! The Socket.IO layer and its Rust API, end to end: each test builds its own server in-process
//! with `Ferrio::builder()`, serves it on `127.0.0.1:0`, and drives it with the raw WebSocket
//! client of [`client`], asserting on literal wire strings.

pub(crate) mod client;

mod acks;
mod admin_ui;
mod binary;
mod broadcast;
mod connect_timeout;
mod dynamic_children;
mod eio3;
mod extract;
mod handler_limit;
mod handlers;
mod invalid;
mod lossless;
mod middleware;
mod namespaces;
mod porting_args;
mod porting_handlers;
mod porting_operators;
mod porting_request;
mod recovery;
mod repeated_connect;
mod rooms;
mod shutdown;
mod transports;

use std::net::SocketAddr;

use ferrio::{FerrioBuilder, Io, Payload, Socket};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use crate::support::{within, STEP};
pub(crate) use client::Client;

/// A server under test, serving until dropped.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// A server serving on `addr` from `task` (aborted when the server drops).
    pub(crate) fn from_parts(addr: SocketAddr, task: JoinHandle<()>) -> Server {
        Server { addr, task }
    }

    /// A client that opened an Engine.IO session and joined nothing.
    pub(crate) async fn open(&self) -> Client {
        Client::open(self.addr).await
    }

    /// A client that joined `/`, and its socket id.
    pub(crate) async fn connect(&self) -> (Client, String) {
        Client::connect(self.addr).await
    }
}

/// Builds `builder`'s layer and serves `axum::Router::new().layer(layer)` on `127.0.0.1:0`.
pub(crate) async fn serve(builder: FerrioBuilder) -> (Server, Io) {
    let (layer, io) = builder.build_layer();
    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    (Server { addr, task }, io)
}

/// Registers namespace `path` with a connect handler that adds an `echo` handler (the event's
/// arguments are emitted back under the same name) and hands each socket to the test.
pub(crate) fn echo_ns(io: &Io, path: &str) -> UnboundedReceiver<Socket> {
    let (tx, rx) = unbounded_channel();
    io.ns(path, move |socket: Socket| {
        let tx = tx.clone();
        async move {
            add_echo(&socket);
            let _ = tx.send(socket);
        }
    });
    rx
}

/// Registers namespace `path` with a connect handler that hands each socket to the test, and
/// then the reason of each disconnect.
pub(crate) fn watched_ns(
    io: &Io,
    path: &str,
) -> (UnboundedReceiver<Socket>, UnboundedReceiver<ferrio::DisconnectReason>) {
    let (sockets_tx, sockets) = unbounded_channel();
    let (reasons_tx, reasons) = unbounded_channel();
    io.ns(path, move |socket: Socket| {
        let (sockets_tx, reasons_tx) = (sockets_tx.clone(), reasons_tx.clone());
        async move {
            socket.on_disconnect(move |_: Socket, reason: ferrio::DisconnectReason| {
                let reasons_tx = reasons_tx.clone();
                async move {
                    let _ = reasons_tx.send(reason);
                }
            });
            let _ = sockets_tx.send(socket);
        }
    });
    (sockets, reasons)
}

/// `echo`: emits the event's arguments back to the sender under the same name.
pub(crate) fn add_echo(socket: &Socket) {
    socket.on("echo", |socket: Socket, payload: Payload| async move {
        socket.emit("echo", payload).expect("echo back");
    });
}

/// The next value of `rx`, within [`STEP`].
pub(crate) async fn next<T>(rx: &mut UnboundedReceiver<T>) -> T {
    within("a value from the server side", STEP, rx.recv()).await.expect("channel open")
}

/// A channel whose sender handlers can capture.
pub(crate) fn channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    unbounded_channel()
}

/// The socket ids of `sockets`, sorted.
pub(crate) fn ids(sockets: &[Socket]) -> Vec<String> {
    let mut ids: Vec<String> = sockets.iter().map(|s| s.id().as_str().to_owned()).collect();
    ids.sort();
    ids
}
