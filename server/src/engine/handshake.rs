//! What the upper layers may know about the HTTP request that opened a session.

use std::net::SocketAddr;

use http::{HeaderMap, Uri};

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

impl HandshakeRequest {
    pub(crate) fn from_parts(parts: &http::request::Parts) -> Self {
        let remote_addr =
            parts.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|info| info.0);
        HandshakeRequest { uri: parts.uri.clone(), headers: parts.headers.clone(), remote_addr }
    }

    /// The value of query parameter `name`, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        crate::service::query::param(self.uri.query()?, name)
    }
}
