//! Unit-test support for the Socket.IO layer: a server built with [`FerrioBuilder`] and driven
//! request by request over long-polling with `tower::ServiceExt::oneshot` (no TCP), so tests
//! can look at crate-internal state (sessions, pending acks) that no client can see.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::{service_fn, Layer, ServiceExt};

use crate::engine::EngineService;
use crate::{FerrioBuilder, Io};

type Inner = tower::util::ServiceFn<
    fn(Request<Full<Bytes>>) -> std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>,
>;

fn not_found(
    _: Request<Full<Bytes>>,
) -> std::future::Ready<Result<Response<Full<Bytes>>, Infallible>> {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::NOT_FOUND;
    std::future::ready(Ok(res))
}

/// Awaits `fut`, panicking with `what` if it takes longer than `limit`.
pub(crate) async fn within<F: Future>(what: &str, limit: Duration, fut: F) -> F::Output {
    match tokio::time::timeout(limit, fut).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {limit:?} waiting for {what}"),
    }
}

/// A Socket.IO server under test, reached through its tower service.
pub(crate) struct TestServer {
    svc: EngineService<Inner>,
    pub(crate) io: Io,
}

impl TestServer {
    pub(crate) fn new(builder: FerrioBuilder) -> TestServer {
        let (layer, io) = builder.build_layer();
        let svc = layer.layer(service_fn(not_found as fn(_) -> _));
        TestServer { svc, io }
    }

    async fn request(&self, method: Method, query: &str, body: &str) -> (StatusCode, String) {
        let req = Request::builder()
            .method(method)
            .uri(format!("/socket.io/?EIO=4&transport=polling{query}"))
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("a valid request");
        let res = within("a response", Duration::from_secs(5), self.svc.clone().oneshot(req))
            .await
            .expect("infallible");
        let (parts, body) = res.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        (parts.status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Opens a polling session; returns its sid.
    pub(crate) async fn handshake(&self) -> String {
        let (status, body) = self.request(Method::GET, "", "").await;
        assert_eq!(status, StatusCode::OK, "handshake: {body}");
        let open: serde_json::Value = serde_json::from_str(&body[1..]).expect("an open packet");
        open["sid"].as_str().expect("a sid").to_owned()
    }

    /// POSTs `body` (Engine.IO packets) to session `sid`.
    pub(crate) async fn post(&self, sid: &str, body: &str) {
        let (status, reply) = self.request(Method::POST, &format!("&sid={sid}"), body).await;
        assert_eq!(status, StatusCode::OK, "POST {body:?}: {reply}");
    }

    /// GETs what session `sid` has queued (waits while nothing is).
    pub(crate) async fn poll(&self, sid: &str) -> String {
        let (status, body) = self.request(Method::GET, &format!("&sid={sid}"), "").await;
        assert_eq!(status, StatusCode::OK, "GET: {body}");
        body
    }
}
