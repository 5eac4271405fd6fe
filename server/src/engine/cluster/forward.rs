//! Forwarding a request to the node that owns its session: an HTTP reverse proxy whose bodies
//! stream through as they come (a stream's events are not held back), and a websocket relay
//! that upgrades both sides and copies bytes both ways.

use std::net::SocketAddr;

use bytes::{Buf, Bytes};
use ferrio_protocol::engine::ErrorCode;
use http::header::{self, HeaderName};
use http::{Request, Response, StatusCode, Uri};
use http_body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use hyper::upgrade::OnUpgrade;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::FORWARDED;
use crate::engine::http::body::{BoxError, ResponseBody};
use crate::engine::http::response::{self, EngineResponse};

type ForwardBody = UnsyncBoxBody<Bytes, BoxError>;

/// The pooled HTTP/1.1 client requests to other nodes go through.
#[derive(Debug, Clone)]
pub(crate) struct Forwarder {
    client: Client<HttpConnector, ForwardBody>,
}

/// Headers that describe one connection, not the request: not passed on (RFC 9110 §7.6.1),
/// except for a websocket upgrade, which needs `Connection` and `Upgrade`.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    HeaderName::from_static("keep-alive"),
];

impl Forwarder {
    pub(crate) fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Forwarder { client }
    }

    /// Sends `req` to the node at `owner` and answers with its response. A node that cannot
    /// be reached is a node gone: its session is unknown (the client reconnects).
    pub(crate) async fn forward<B, R>(
        &self,
        owner: SocketAddr,
        mut req: Request<B>,
        upgrade: bool,
    ) -> EngineResponse<R>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let client_upgrade = upgrade.then(|| req.extensions_mut().remove::<OnUpgrade>()).flatten();
        let (parts, body) = req.into_parts();
        let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let Ok(uri) = Uri::try_from(format!("http://{owner}{target}")) else {
            return response::error(ErrorCode::BadRequest);
        };
        let body = body
            .map_frame(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining())))
            .map_err(Into::into)
            .boxed_unsync();
        let mut forwarded = Request::new(body);
        *forwarded.method_mut() = parts.method;
        *forwarded.uri_mut() = uri;
        let headers = forwarded.headers_mut();
        for (name, value) in &parts.headers {
            if upgrade || !HOP_BY_HOP.contains(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        headers.insert(FORWARDED, http::HeaderValue::from_static("1"));
        let mut res = match self.client.request(forwarded).await {
            Ok(res) => res,
            Err(err) => {
                tracing::debug!(%owner, %err, "the session's node cannot be reached");
                return response::error(ErrorCode::UnknownSid);
            }
        };
        if res.status() == StatusCode::SWITCHING_PROTOCOLS {
            let Some(client_upgrade) = client_upgrade else {
                return response::error(ErrorCode::BadRequest);
            };
            let owner_upgrade = hyper::upgrade::on(&mut res);
            tokio::spawn(relay(client_upgrade, owner_upgrade));
            let (parts, _) = res.into_parts();
            return Response::from_parts(parts, ResponseBody::empty());
        }
        res.map(ResponseBody::forwarded)
    }
}

/// Copies bytes both ways between the client's upgraded connection and the owner's, until
/// either side ends.
async fn relay(client: OnUpgrade, owner: OnUpgrade) {
    let (Ok(client), Ok(owner)) = (client.await, owner.await) else { return };
    let (mut client, mut owner) = (TokioIo::new(client), TokioIo::new(owner));
    let _ = tokio::io::copy_bidirectional(&mut client, &mut owner).await;
}
