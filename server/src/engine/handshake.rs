//! What the upper layers may know about the HTTP request that opened a session.

use std::net::SocketAddr;

use http::{HeaderMap, HeaderValue, Uri};

/// The HTTP request that opened an Engine.IO session.
#[derive(Debug, Clone)]
pub struct HandshakeRequest {
    /// The request URI, with the query string (`EIO`, `transport` and the client's own
    /// parameters).
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
    /// The peer address, when the server was started with connect info
    /// (`axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())`).
    pub remote_addr: Option<SocketAddr>,
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

impl HandshakeRequest {
    pub(crate) fn from_parts(parts: &http::request::Parts) -> Self {
        let remote_addr =
            parts.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|info| info.0);
        HandshakeRequest {
            uri: detach_uri(&parts.uri),
            headers: detach_headers(&parts.headers),
            remote_addr,
        }
    }

    /// The value of query parameter `name`, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        super::http::query::param(self.uri.query()?, name)
    }
}
