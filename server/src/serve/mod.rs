//! [`serve`]: runs an axum app (or any tower service) on a TCP listener with the timeouts a
//! realtime server needs, which `axum::serve` does not set: a deadline for reading request
//! headers, and a deadline for writes that make no progress, so a client that connects and
//! says nothing, or stops reading, cannot hold a connection for ever.

mod write_deadline;

use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use axum::extract::ConnectInfo;
use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service;

use crate::engine::BoxError;
use write_deadline::WriteDeadline;

/// Default time a client has to send a request's headers.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a write may make no progress before the connection is closed: Socket.IO's
/// default ping interval plus ping timeout, the time after which a silent client's session
/// is closed anyway.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(45);

type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Serves `service` on `listener`: HTTP/1.1 with upgrades (WebSocket), the peer address in
/// each request's extensions (`ConnectInfo<SocketAddr>`, read by
/// [`HandshakeRequest::remote_addr`](crate::engine::HandshakeRequest) and per-IP limits), a
/// header read timeout and a write timeout. Await it to run the server.
///
/// ```no_run
/// use ferrio::{Ferrio, Socket};
///
/// # async fn run() -> std::io::Result<()> {
/// let (layer, io) = Ferrio::builder().build_layer();
/// io.ns("/", |_socket: Socket| async {});
/// let app = axum::Router::new().layer(layer);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// ferrio::serve(listener, app)
///     .with_graceful_shutdown(async move {
///         let _ = tokio::signal::ctrl_c().await;
///         io.close();
///     })
///     .await
/// # }
/// ```
pub fn serve<S>(listener: TcpListener, service: S) -> Serve<S> {
    Serve {
        listener,
        service,
        header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        write_timeout: DEFAULT_WRITE_TIMEOUT,
        shutdown: None,
    }
}

/// A server being set up by [`serve`]; await it to run.
#[must_use = "await the server to run it"]
pub struct Serve<S> {
    listener: TcpListener,
    service: S,
    header_read_timeout: Duration,
    write_timeout: Duration,
    shutdown: Option<Signal>,
}

impl<S> std::fmt::Debug for Serve<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("write_timeout", &self.write_timeout)
            .finish_non_exhaustive()
    }
}

impl<S> Serve<S> {
    /// Time a client has to send a request's headers (also the first request on a new
    /// connection, and the next one on an idle keep-alive connection) before its connection is
    /// closed. Default 10 s.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Time a write (a response, a stream, a WebSocket frame) may make no progress before its
    /// connection is closed: a client that stops reading is let go. Default 45 s; keep it at
    /// least the ping interval plus the ping timeout, which also bound the engine's own
    /// writes.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Stops accepting connections when `signal` completes, then waits for the open ones to
    /// finish (call [`Io::close`](crate::Io::close) in the signal so long-polls, streams and
    /// WebSockets end).
    pub fn with_graceful_shutdown<F>(mut self, signal: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.shutdown = Some(Box::pin(signal));
        self
    }
}

impl<S, B> IntoFuture for Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = std::io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl<S, B> Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    async fn run(self) -> std::io::Result<()> {
        let Serve { listener, service, header_read_timeout, write_timeout, shutdown } = self;
        let mut shutdown = shutdown.unwrap_or_else(|| Box::pin(std::future::pending()));
        // Every connection task holds a receiver: the sender sees them all gone once the
        // connections have finished.
        let (stop, stopping) = watch::channel(());
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
        loop {
            let (stream, addr) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of file descriptors, say: wait a little for some to be freed
                        // rather than spin.
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let io = TokioIo::new(WriteDeadline::new(stream, write_timeout));
            let connection =
                http.serve_connection(io, with_connect_info(service.clone(), addr)).with_upgrades();
            let mut stopping = stopping.clone();
            tokio::spawn(async move {
                tokio::pin!(connection);
                let ended = tokio::select! {
                    ended = connection.as_mut() => ended,
                    _ = stopping.changed() => {
                        // Finish the request in flight, then close.
                        connection.as_mut().graceful_shutdown();
                        connection.await
                    }
                };
                if let Err(err) = ended {
                    tracing::trace!(%err, "connection ended with an error");
                }
                drop(stopping);
            });
        }
        drop(listener);
        drop(stopping);
        let _ = stop.send(());
        stop.closed().await;
        Ok(())
    }
}

/// A hyper service calling `service` with the peer address in each request's extensions.
fn with_connect_info<S, B>(
    service: S,
    addr: SocketAddr,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<B>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<B>, Infallible>> + Send,
> + Clone
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Clone + Send,
    S::Future: Send,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(addr));
        let mut service = service.clone();
        async move {
            std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
            service.call(req).await
        }
    })
}
