//! What the upper layers may know about the HTTP request that opened a session.

use std::net::SocketAddr;
use std::time::SystemTime;

use http::{Extensions, HeaderMap, HeaderValue, Uri};

/// The HTTP request that opened an Engine.IO session (Socket.IO's `socket.handshake` and
/// `socket.request`): its URL, headers, peer address and extensions, when it arrived, and
/// whether it came over TLS.
///
/// It is the session's first request: the polling or streaming `GET` that opened it, or the
/// WebSocket upgrade when the client started on WebSocket. Later requests of the session
/// (polls, POSTs, the upgrade of a polling session) are not kept.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HandshakeRequest {
    /// The request's path and query string (`EIO`, `transport` and the client's own
    /// parameters): Socket.IO's `handshake.url`.
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
    /// The peer address, when the server gives it: `ferrio::serve` always does; with
    /// `axum::serve`, use `app.into_make_service_with_connect_info::<SocketAddr>()`.
    pub remote_addr: Option<SocketAddr>,
    /// The request's extensions as they reached the engine: what the tower or axum layers in
    /// front of it inserted (an authenticated user, a session, `ConnectInfo`…). Handlers read
    /// them with the `HttpExtension<T>` and `MaybeHttpExtension<T>` extractors.
    pub extensions: Extensions,
    /// When the request arrived: Socket.IO's `handshake.issued` (and `handshake.time`).
    pub issued: SystemTime,
    /// Whether the request came over TLS, as far as the server can tell: its URI has the
    /// `https` or `wss` scheme, which hyper gives HTTP/2 requests over TLS. An HTTP/1.1
    /// request carries no scheme, so behind a TLS-terminating proxy or acceptor this is
    /// `false`; read the proxy's own header (`X-Forwarded-Proto`) from
    /// [`headers`](Self::headers) if you trust it.
    pub secure: bool,
}

/// Copies `uri` into its own allocation. The parsed request's parts are slices of the HTTP
/// connection's read buffer (16 KiB or more); keeping a slice for the session's lifetime would
/// keep that whole buffer alive per session.
fn detach_uri(uri: &Uri) -> Uri {
    match uri.path_and_query() {
        Some(pq) => Uri::try_from(pq.as_str()).unwrap_or_default(),
        None => Uri::default(),
    }
}

/// Copies `headers` into fresh allocations, for the reason given at [`detach_uri`].
fn detach_headers(headers: &HeaderMap) -> HeaderMap {
    let mut copy = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if let Ok(mut v) = HeaderValue::from_bytes(value.as_bytes()) {
            v.set_sensitive(value.is_sensitive());
            copy.append(name.clone(), v);
        }
    }
    copy
}

/// The extensions of the request, without hyper's own plumbing.
fn detach_extensions(extensions: &Extensions) -> Extensions {
    if extensions.is_empty() {
        return Extensions::new();
    }
    let mut copy = extensions.clone();
    // The pending upgrade belongs to the request that is answered now, not to the session.
    copy.remove::<hyper::upgrade::OnUpgrade>();
    copy
}

impl HandshakeRequest {
    pub(crate) fn from_parts(parts: &http::request::Parts) -> Self {
        let remote_addr =
            parts.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|info| info.0);
        HandshakeRequest {
            uri: detach_uri(&parts.uri),
            headers: detach_headers(&parts.headers),
            remote_addr,
            extensions: detach_extensions(&parts.extensions),
            issued: SystemTime::now(),
            secure: matches!(parts.uri.scheme_str(), Some("https" | "wss")),
        }
    }

    /// A request for `uri` with no headers, extensions nor peer address (for tests).
    #[cfg(test)]
    pub(crate) fn bare(uri: &'static str) -> Self {
        HandshakeRequest {
            uri: Uri::from_static(uri),
            headers: HeaderMap::new(),
            remote_addr: None,
            extensions: Extensions::new(),
            issued: SystemTime::now(),
            secure: false,
        }
    }

    /// The value of query parameter `name`, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        super::http::query::param(self.uri.query()?, name)
    }

    /// Every query parameter, percent-decoded, in order: Socket.IO's `handshake.query`.
    ///
    /// ```
    /// # use ferrio::engine::HandshakeRequest;
    /// fn token(handshake: &HandshakeRequest) -> Option<String> {
    ///     handshake.query().into_iter().find(|(k, _)| k == "token").map(|(_, v)| v)
    /// }
    /// ```
    pub fn query(&self) -> Vec<(String, String)> {
        let query = self.uri.query().unwrap_or_default();
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }
}
