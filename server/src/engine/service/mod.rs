//! The tower service: routes Engine.IO requests by `EIO`, `transport` and `sid`, answers them,
//! and forwards everything else to the wrapped service.

mod client_files;
mod future;
mod layer;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use ferrio_protocol::engine::ErrorCode;
use http::{Method, Request, Response};
use http_body::Body;
use tower_service::Service;

pub use future::ResponseFuture;
pub use layer::EngineLayer;

use crate::engine::cluster::{Forwarder, FORWARDED};
use crate::engine::http::body::{BoxError, ResponseBody};
use crate::engine::http::cors;
use crate::engine::http::query::EngineQuery;
use crate::engine::http::response::{self, EngineResponse};
use crate::engine::revision::Revision;
use crate::engine::session::Session;
use crate::engine::shared::Shared;
use crate::engine::slots::Full;
use crate::engine::transport::{polling, streaming, websocket};
use crate::engine::{HandshakeRequest, Sid, TransportKind};

/// The engine in front of an inner service `S`; made by [`EngineLayer`].
#[derive(Debug, Clone)]
pub struct EngineService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> EngineService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for EngineService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let config = &self.shared.config;
        let path = req.uri().path();
        if is_mount_path(path, &config.path) {
            return ResponseFuture::engine(Box::pin(handle(self.shared.clone(), req)));
        }
        if config.serve_client {
            if let Some(name) = path.strip_prefix(config.path.as_str()) {
                if let Some(res) = client_files::serve(req.method(), name, req.headers(), config) {
                    return ResponseFuture::engine(Box::pin(std::future::ready(res)));
                }
            }
        }
        ResponseFuture::inner(self.inner.call(req))
    }
}

fn is_mount_path(path: &str, mount: &str) -> bool {
    path == mount || path.len() + 1 == mount.len() && mount.starts_with(path)
}

/// Answers one Engine.IO request, with CORS headers when configured.
async fn handle<B, R>(shared: Arc<Shared>, req: Request<B>) -> EngineResponse<R>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let request_headers = shared.config.cors.as_ref().map(|_| req.headers().clone());
    let mut res = route(&shared, req).await;
    if let (Some(cors), Some(headers)) = (&shared.config.cors, request_headers) {
        cors.apply(&headers, res.headers_mut());
    }
    res
}

async fn route<B, R>(shared: &Arc<Shared>, req: Request<B>) -> EngineResponse<R>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = &shared.config;
    if req.method() == Method::OPTIONS {
        if let Some(cors) = &config.cors {
            let mut res = response::no_content();
            cors.apply_preflight(req.headers(), res.headers_mut());
            return res;
        }
    }
    let query = EngineQuery::parse(req.uri().query());
    let Some(transport) = query
        .transport
        .as_deref()
        .and_then(TransportKind::from_query)
        .filter(|t| config.is_enabled(*t))
    else {
        return response::error(ErrorCode::TransportUnknown);
    };
    let is_upgrade = websocket::is_upgrade_request(&req);
    // Requests that act on a session must come from the server's own pages, or from a site
    // the CORS policy lets in: CORS does not protect WebSocket upgrades, and browsers send
    // cross-site POSTs without asking.
    if (is_upgrade || req.method() == Method::POST)
        && !cors::origin_allowed(config.cors.as_ref(), req.headers())
    {
        return response::error(ErrorCode::Forbidden);
    }

    // What a ferrio client received last on an HTTP transport: the query parameter (an
    // `EventSource` cannot set headers), else the header an `EventSource` reconnecting sends.
    let received = query
        .last_event_id
        .as_deref()
        .or_else(|| req.headers().get("last-event-id").and_then(|v| v.to_str().ok()));
    let received = match received.map(str::parse::<u64>) {
        None => None,
        Some(Ok(seq)) => Some(seq),
        Some(Err(_)) => return response::error(ErrorCode::BadRequest),
    };

    if let Some(sid) = &query.sid {
        let Some(session) = shared.sessions.get(sid.as_str()).map(|s| s.value().clone()) else {
            // Another node's session: forwarded there (once: a forwarded request that does not
            // find its session here gets the same answer as any unknown sid).
            if let Some((owner, forwarder)) = owner_elsewhere(shared, sid, req.headers()) {
                return forwarder.forward(owner, req, is_upgrade).await;
            }
            return response::error(ErrorCode::UnknownSid);
        };
        return route_session(session, transport, is_upgrade, received, req).await;
    }

    // A handshake: a GET that opens a new session.
    if req.method() != Method::GET {
        return response::error(ErrorCode::BadHandshakeMethod);
    }
    if transport == TransportKind::WebSocket && !is_upgrade {
        return response::error(ErrorCode::BadRequest);
    }
    let (parts, body) = req.into_parts();
    if let Some(allow) = &config.allow_request {
        if let Err(reason) = allow(&parts).await {
            tracing::debug!(%reason, "handshake rejected by allow_request");
            return response::error(ErrorCode::Forbidden);
        }
    }
    let revision = match query.eio.as_deref() {
        Some("4") => Revision::V4,
        Some("3") if config.allow_eio3 => Revision::V3 { binary: query.b64.is_none() },
        _ => return response::error(ErrorCode::UnsupportedProtocolVersion),
    };
    if query.jsonp.is_some() {
        return response::jsonp_unsupported();
    }
    if transport == TransportKind::Streaming && revision != Revision::V4 {
        return response::error(ErrorCode::TransportUnknown);
    }
    let handshake = HandshakeRequest::from_parts(&parts);
    let slot = match shared.take_slot(&handshake) {
        Ok(slot) => slot,
        Err(full) => return response::too_many_sessions(full == Full::PerAddress),
    };
    let slot = (slot, revision);
    match transport {
        TransportKind::WebSocket => {
            websocket::accept_new(shared.clone(), Request::from_parts(parts, body), handshake, slot)
        }
        TransportKind::Polling => {
            let session = Session::open(shared, TransportKind::Polling, handshake, slot);
            polling::get(session, received).await
        }
        TransportKind::Streaming => {
            let session = Session::open(shared, TransportKind::Streaming, handshake, slot);
            streaming::get(session, received)
        }
    }
}

/// The node that owns session `sid`, when it is another live node of the cluster, and the
/// forwarder that reaches it.
fn owner_elsewhere<'a>(
    shared: &'a Shared,
    sid: &str,
    headers: &http::HeaderMap,
) -> Option<(std::net::SocketAddr, &'a Forwarder)> {
    let directory = shared.config.directory.as_ref()?;
    let forwarder = shared.forwarder.as_ref()?;
    let tag = Sid::node_tag(sid)?;
    if tag == directory.node_tag() || headers.contains_key(FORWARDED) {
        return None;
    }
    Some((directory.node_address(tag)?, forwarder))
}

/// A request for an existing session.
async fn route_session<B, R>(
    session: Arc<Session>,
    transport: TransportKind,
    is_upgrade: bool,
    received: Option<u64>,
    req: Request<B>,
) -> EngineResponse<R>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    if is_upgrade {
        if transport != TransportKind::WebSocket {
            return response::error(ErrorCode::BadRequest);
        }
        return websocket::accept_upgrade(session, req);
    }
    if session.transport() != transport {
        return response::error(ErrorCode::BadRequest);
    }
    match (transport, req.method()) {
        (TransportKind::Polling, &Method::GET) => polling::get(session, received).await,
        (TransportKind::Polling | TransportKind::Streaming, &Method::POST) => {
            polling::post(session, req).await
        }
        (TransportKind::Streaming, &Method::GET) => streaming::get(session, received),
        _ => response::error(ErrorCode::BadRequest),
    }
}
