//! Cross-origin policy: response headers for browsers, and an origin check for WebSocket
//! upgrades (which CORS itself does not protect).

use http::header::{self, HeaderMap, HeaderValue};

/// Which origins may talk to the server from a browser.
///
/// ```
/// use ferrio::engine::Cors;
///
/// let any = Cors::any();
/// let some = Cors::origins(["https://app.example.com", "http://localhost:5173"]);
/// # let _ = (any, some);
/// ```
#[derive(Debug, Clone)]
pub struct Cors {
    allow: Allow,
    credentials: bool,
}

#[derive(Debug, Clone)]
enum Allow {
    Any,
    List(Vec<HeaderValue>),
}

impl Cors {
    /// Every origin (`Access-Control-Allow-Origin: *`), without credentials.
    pub fn any() -> Self {
        Cors { allow: Allow::Any, credentials: false }
    }

    /// Only the listed origins (exact match on scheme, host and port); the matching origin is
    /// echoed back with `Vary: Origin` and credentials allowed. Values that are not valid
    /// header values are ignored.
    pub fn origins<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let list =
            origins.into_iter().filter_map(|o| HeaderValue::from_str(o.as_ref()).ok()).collect();
        Cors { allow: Allow::List(list), credentials: true }
    }

    /// Whether a request carrying these headers comes from an allowed origin. Requests
    /// without `Origin` (non-browser clients) are allowed.
    pub(crate) fn allows(&self, headers: &HeaderMap) -> bool {
        match (&self.allow, headers.get(header::ORIGIN)) {
            (_, None) | (Allow::Any, _) => true,
            (Allow::List(list), Some(origin)) => list.iter().any(|o| o == origin),
        }
    }

    /// Adds the `Access-Control-*` headers answering a request with `request_headers`.
    pub(crate) fn apply(&self, request_headers: &HeaderMap, response: &mut HeaderMap) {
        match &self.allow {
            Allow::Any => {
                response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            }
            Allow::List(list) => {
                response.append(header::VARY, HeaderValue::from_static("Origin"));
                if let Some(origin) = request_headers.get(header::ORIGIN) {
                    if list.iter().any(|o| o == origin) {
                        response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                    }
                }
            }
        }
        if self.credentials {
            response
                .insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
    }

    /// Adds the headers of a preflight (`OPTIONS`) answer.
    pub(crate) fn apply_preflight(&self, request_headers: &HeaderMap, response: &mut HeaderMap) {
        self.apply(request_headers, response);
        response.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE"),
        );
        if let Some(requested) = request_headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            response.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
            response
                .append(header::VARY, HeaderValue::from_static("Access-Control-Request-Headers"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_origin(origin: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_static(origin));
        h
    }

    #[test]
    fn list_echoes_only_allowed_origins() {
        let cors = Cors::origins(["http://a.test"]);
        let mut out = HeaderMap::new();
        cors.apply(&with_origin("http://a.test"), &mut out);
        assert_eq!(out[header::ACCESS_CONTROL_ALLOW_ORIGIN], "http://a.test");
        let mut out = HeaderMap::new();
        cors.apply(&with_origin("http://evil.test"), &mut out);
        assert!(out.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert!(!cors.allows(&with_origin("http://evil.test")));
        assert!(cors.allows(&HeaderMap::new()));
    }
}
