//! Acknowledgements the server waits for: ids, the pending map, timeouts, and the stream of
//! replies to a broadcast.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{BoxStream, FuturesUnordered, Stream, StreamExt};
use tokio::sync::oneshot;

use crate::engine::lock::lock;
use crate::engine::Sid;
use crate::errors::AckError;
use crate::handler::BoxFuture;
use crate::{Payload, Socket};

/// The acknowledgements one socket still waits for.
#[derive(Debug, Default)]
pub(crate) struct PendingAcks {
    next_id: AtomicU64,
    waiting: Mutex<HashMap<u64, oneshot::Sender<Payload>>>,
}

impl PendingAcks {
    /// A fresh ack id and the receiver of its reply.
    pub(crate) fn register(&self) -> (u64, oneshot::Receiver<Payload>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.waiting).insert(id, tx);
        (id, rx)
    }

    /// Delivers the client's reply; a reply to an unknown or expired id is ignored.
    pub(crate) fn resolve(&self, id: u64, payload: Payload) {
        if let Some(tx) = lock(&self.waiting).remove(&id) {
            let _ = tx.send(payload);
        }
    }

    pub(crate) fn forget(&self, id: u64) {
        lock(&self.waiting).remove(&id);
    }

    /// Drops every pending reply: their waiters see [`AckError::Disconnected`].
    pub(crate) fn clear(&self) {
        lock(&self.waiting).clear();
    }
}

/// An acknowledgement a waiter expects: its id in its socket's pending map, and where the
/// reply arrives. Dropping it forgets the id — after the reply, after the timeout, or when the
/// application dropped the future (or [`AckStream`]) waiting for it — so an abandoned wait
/// holds nothing until the socket disconnects.
pub(crate) struct PendingAck {
    socket: Socket,
    id: u64,
    reply: oneshot::Receiver<Payload>,
}

impl PendingAck {
    pub(crate) fn new(socket: Socket, id: u64, reply: oneshot::Receiver<Payload>) -> Self {
        PendingAck { socket, id, reply }
    }
}

impl Drop for PendingAck {
    fn drop(&mut self) {
        self.socket.0.acks.forget(self.id);
    }
}

/// Waits for the reply to `pending`, at most `timeout`.
pub(crate) async fn wait<T: crate::payload::FromPayload>(
    mut pending: PendingAck,
    timeout: Duration,
) -> Result<T, AckError> {
    match tokio::time::timeout(timeout, &mut pending.reply).await {
        Ok(Ok(payload)) => T::from_payload(payload).map_err(AckError::Decode),
        Ok(Err(_)) => Err(AckError::Disconnected),
        Err(_) => Err(AckError::Timeout),
    }
}

/// The replies to a broadcast `emit_with_ack`, one per socket, in arrival order.
///
/// It is a [`Stream`] of `(socket id, result)`; awaiting it directly collects them all into a
/// `Vec` (each socket answers or times out, so it always ends).
#[must_use = "streams do nothing unless polled or awaited"]
pub struct AckStream<T> {
    pending: FuturesUnordered<BoxFuture<(Sid, Result<T, AckError>)>>,
    /// The answers of other nodes' sockets, in a cluster.
    remote: Option<BoxStream<'static, (Sid, Result<T, AckError>)>>,
}

impl<T> std::fmt::Debug for AckStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckStream").field("pending", &self.pending.len()).finish()
    }
}

impl<T: crate::payload::FromPayload + Send + 'static> AckStream<T> {
    pub(crate) fn new() -> Self {
        AckStream { pending: FuturesUnordered::new(), remote: None }
    }

    /// Adds the answers other nodes report.
    pub(crate) fn set_remote(&mut self, remote: crate::adapter::RemoteAcks) {
        let decoded = remote.map(|(sid, answer)| {
            (sid, answer.and_then(|p| T::from_payload(p).map_err(AckError::Decode)))
        });
        self.remote = Some(decoded.boxed());
    }

    pub(crate) fn push(&mut self, pending: PendingAck, timeout: Duration) {
        let sid = pending.socket.id().clone();
        self.pending.push(Box::pin(async move { (sid, wait(pending, timeout).await) }));
    }

    /// Records a socket the event could not be sent to.
    pub(crate) fn push_failed(&mut self, sid: Sid, error: crate::SendError) {
        self.pending.push(Box::pin(std::future::ready((sid, Err(AckError::Send(error))))));
    }

    /// How many replies of this node's sockets are still awaited (those of other nodes are
    /// not counted: they are known as they arrive).
    pub fn remaining(&self) -> usize {
        self.pending.len()
    }
}

impl<T> Stream for AckStream<T> {
    type Item = (Sid, Result<T, AckError>);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let local = this.pending.poll_next_unpin(cx);
        if let Poll::Ready(Some(item)) = local {
            return Poll::Ready(Some(item));
        }
        let Some(remote) = this.remote.as_mut() else { return local };
        match remote.poll_next_unpin(cx) {
            Poll::Ready(Some(item)) => Poll::Ready(Some(item)),
            Poll::Ready(None) => {
                this.remote = None;
                local
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: Send + 'static> IntoFuture for AckStream<T> {
    type Output = Vec<(Sid, Result<T, AckError>)>;
    type IntoFuture = BoxFuture<Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.collect())
    }
}

impl<T> Unpin for AckStream<T> {}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;
    use serde_json::Value;

    use crate::testing::TestServer;
    use crate::{Ferrio, Socket};

    impl super::PendingAcks {
        fn len(&self) -> usize {
            super::lock(&self.waiting).len()
        }
    }

    /// Every `emit_with_ack` whose future (or, for a broadcast, `AckStream`) is dropped before
    /// the reply forgets its pending entry: nothing is held until the socket disconnects.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acks_whose_waiter_was_dropped_are_forgotten() {
        const CALLS: usize = 10_000;
        let server = TestServer::new(Ferrio::builder().queue_bounds(1 << 20, 1 << 30));
        let (tx, mut sockets) = tokio::sync::mpsc::unbounded_channel();
        server.io.ns("/", move |socket: Socket| {
            let _ = tx.send(socket);
            async {}
        });
        let sid = server.handshake().await;
        server.post(&sid, "40").await;
        let socket = sockets.recv().await.expect("the socket");
        assert!(server.poll(&sid).await.starts_with("40{"), "the CONNECT reply");

        for _ in 0..CALLS {
            // Never polled.
            drop(socket.emit_with_ack::<Value>("never-polled", &1));
            // Polled once (waiting for the reply), then dropped.
            let waiting = socket.emit_with_ack::<Value>("polled", &1).now_or_never();
            assert!(waiting.is_none(), "no reply yet");
        }
        for _ in 0..CALLS / 10 {
            drop(server.io.emit_with_ack::<Value>("broadcast", &1).expect("sent"));
        }
        assert_eq!(socket.0.acks.len(), 0, "acks still pending after {CALLS} dropped waiters");

        // The timeout and the reply still work.
        let timed_out =
            socket.timeout(std::time::Duration::from_millis(10)).emit_with_ack::<Value>("t", &1);
        assert!(matches!(timed_out.await, Err(crate::AckError::Timeout)));
        assert_eq!(socket.0.acks.len(), 0);
    }
}
