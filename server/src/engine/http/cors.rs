//! Cross-origin policy: response headers for browsers, and the origin check of requests that
//! act (WebSocket upgrades, which CORS itself does not protect, and POSTs, which a browser
//! sends cross-site without asking).

use http::header::{self, HeaderMap, HeaderValue};

/// Which other sites' pages may talk to the server from a browser. Pages of the server's own
/// origin always may.
///
/// Without a `Cors` policy, a WebSocket upgrade or a POST whose `Origin` is not the server's
/// own (its `Host`) is refused with `403 {"code":4,"message":"Forbidden"}`: another site's
/// page cannot open a WebSocket with the user's cookies (cross-site WebSocket hijacking).
/// Behind a reverse proxy, have it pass the `Host` the browser used (`proxy_set_header Host
/// $host;` in nginx).
///
/// ```
/// use ferrio::Cors;
///
/// // Any site's pages, without credentials (cookies are not sent cross-site).
/// let any = Cors::any();
/// // These sites only; with cookies, and a header the application adds to its requests.
/// let some = Cors::origins(["https://app.example.com", "http://localhost:5173"])
///     .allow_credentials(true)
///     .allow_headers(["authorization"]);
/// # let _ = (any, some);
/// ```
#[derive(Debug, Clone)]
pub struct Cors {
    allow: Allow,
    credentials: bool,
    headers: HeaderValue,
}

#[derive(Debug, Clone)]
enum Allow {
    Any,
    List(Vec<HeaderValue>),
}

/// The request headers the transports send that a preflight must allow: `Content-Type` (a
/// POST's body type) and `Last-Event-ID` (a stream resuming where it stopped).
const TRANSPORT_HEADERS: &str = "content-type, last-event-id";

impl Cors {
    /// Every site's pages may connect, WebSocket upgrades included (`Access-Control-Allow-Origin:
    /// *`), without credentials: use it for public data only.
    pub fn any() -> Self {
        Cors {
            allow: Allow::Any,
            credentials: false,
            headers: HeaderValue::from_static(TRANSPORT_HEADERS),
        }
    }

    /// Only the listed origins (exact match on scheme, host and port); the matching origin is
    /// echoed back with `Vary: Origin`. Values that are not valid header values are ignored.
    pub fn origins<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let list =
            origins.into_iter().filter_map(|o| HeaderValue::from_str(o.as_ref()).ok()).collect();
        Cors {
            allow: Allow::List(list),
            credentials: false,
            headers: HeaderValue::from_static(TRANSPORT_HEADERS),
        }
    }

    /// Lets the listed origins send credentials (cookies, HTTP authentication):
    /// `Access-Control-Allow-Credentials: true`. Off by default. Has no effect with
    /// [`Cors::any`], which browsers never allow credentials for.
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow && matches!(self.allow, Allow::List(_));
        self
    }

    /// Request headers a preflight allows besides those the transports use (`Content-Type`,
    /// `Last-Event-ID`): those the application adds, e.g. socket.io-client's `extraHeaders`.
    pub fn allow_headers<I, S>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut all = TRANSPORT_HEADERS.to_owned();
        for h in headers {
            let h = h.as_ref().trim();
            if !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
                all.push_str(", ");
                all.push_str(&h.to_ascii_lowercase());
            }
        }
        if let Ok(value) = HeaderValue::from_str(&all) {
            self.headers = value;
        }
        self
    }

    /// Whether `origin` is one this policy lets in.
    fn admits(&self, origin: &HeaderValue) -> bool {
        match &self.allow {
            Allow::Any => true,
            Allow::List(list) => list.iter().any(|o| o == origin),
        }
    }

    /// Adds the `Access-Control-*` headers answering a request with `request_headers`.
    pub(crate) fn apply(&self, request_headers: &HeaderMap, response: &mut HeaderMap) {
        response.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(super::response::EVENT_ID_HEADER),
        );
        match &self.allow {
            Allow::Any => {
                response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            }
            Allow::List(_) => {
                response.append(header::VARY, HeaderValue::from_static("Origin"));
                if let Some(origin) = request_headers.get(header::ORIGIN) {
                    if self.admits(origin) {
                        response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                        if self.credentials {
                            response.insert(
                                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                                HeaderValue::from_static("true"),
                            );
                        }
                    }
                }
            }
        }
    }

    /// Adds the headers of a preflight (`OPTIONS`) answer: the methods and headers the
    /// transports use, and those the application allowed; nothing else.
    pub(crate) fn apply_preflight(&self, request_headers: &HeaderMap, response: &mut HeaderMap) {
        self.apply(request_headers, response);
        response
            .insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        response.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, self.headers.clone());
        response.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
}

/// Whether a request that acts (a WebSocket upgrade, a POST) may come from its `Origin`: any
/// request without one (not from a browser page), a page of the server's own origin, or one
/// `cors` lets in.
pub(crate) fn origin_allowed(cors: Option<&Cors>, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    same_origin(origin, headers.get(header::HOST)) || cors.is_some_and(|c| c.admits(origin))
}

/// Whether `origin` (`scheme://host[:port]`) names the host the request was sent to (its
/// `Host`, `host[:port]`). The scheme's default port stands for a missing one; a `Host`
/// without a port matches either default, as the server cannot tell which scheme the client
/// used behind a TLS-terminating proxy.
fn same_origin(origin: &HeaderValue, host: Option<&HeaderValue>) -> bool {
    let (Ok(origin), Some(Ok(host))) = (origin.to_str(), host.map(|h| h.to_str())) else {
        return false;
    };
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let (origin_host, origin_port) = split_port(authority);
    let (host_host, host_port) = split_port(host);
    origin_host.eq_ignore_ascii_case(host_host)
        && match host_port {
            Some(port) => origin_port.unwrap_or(default_port) == port,
            None => matches!(origin_port.unwrap_or(default_port), "80" | "443"),
        }
}

/// `host[:port]` split; IPv6 literals keep their brackets.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(name.clone(), HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn list_echoes_only_allowed_origins_and_credentials_are_opt_in() {
        let cors = Cors::origins(["http://a.test"]);
        let mut out = HeaderMap::new();
        cors.apply(&with(&[(header::ORIGIN, "http://a.test")]), &mut out);
        assert_eq!(out[header::ACCESS_CONTROL_ALLOW_ORIGIN], "http://a.test");
        assert!(out.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
        let mut out = HeaderMap::new();
        cors.clone()
            .allow_credentials(true)
            .apply(&with(&[(header::ORIGIN, "http://a.test")]), &mut out);
        assert_eq!(out[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        let mut out = HeaderMap::new();
        cors.apply(&with(&[(header::ORIGIN, "http://evil.test")]), &mut out);
        assert!(out.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    }

    #[test]
    fn the_own_origin_and_non_browsers_are_always_allowed_other_sites_only_by_policy() {
        let own =
            with(&[(header::ORIGIN, "http://127.0.0.1:3000"), (header::HOST, "127.0.0.1:3000")]);
        let evil = with(&[(header::ORIGIN, "http://evil.test"), (header::HOST, "127.0.0.1:3000")]);
        assert!(origin_allowed(None, &own));
        assert!(origin_allowed(None, &with(&[(header::HOST, "127.0.0.1:3000")])));
        assert!(!origin_allowed(None, &evil));
        assert!(origin_allowed(Some(&Cors::origins(["http://evil.test"])), &evil));
        assert!(origin_allowed(Some(&Cors::any()), &evil));
        assert!(!origin_allowed(Some(&Cors::origins(["http://a.test"])), &evil));
    }

    #[test]
    fn same_origin_compares_host_and_port() {
        let v = HeaderValue::from_static;
        assert!(same_origin(&v("https://Example.com"), Some(&v("example.com"))));
        assert!(same_origin(&v("https://example.com"), Some(&v("example.com:443"))));
        assert!(same_origin(&v("http://example.com:8080"), Some(&v("example.com:8080"))));
        assert!(!same_origin(&v("http://example.com:8080"), Some(&v("example.com:8081"))));
        assert!(!same_origin(&v("http://example.com:8080"), Some(&v("example.com"))));
        assert!(!same_origin(&v("http://example.com.evil.test"), Some(&v("example.com"))));
        assert!(same_origin(&v("http://[::1]:3000"), Some(&v("[::1]:3000"))));
        assert!(!same_origin(&v("null"), Some(&v("example.com"))));
        assert!(!same_origin(&v("http://example.com"), None));
    }

    #[test]
    fn preflights_allow_only_the_transports_methods_and_headers() {
        let request = with(&[
            (header::ORIGIN, "http://a.test"),
            (header::ACCESS_CONTROL_REQUEST_HEADERS, "x-evil"),
        ]);
        let mut out = HeaderMap::new();
        Cors::any().apply_preflight(&request, &mut out);
        assert_eq!(out[header::ACCESS_CONTROL_ALLOW_METHODS], "GET, POST");
        assert_eq!(out[header::ACCESS_CONTROL_ALLOW_HEADERS], "content-type, last-event-id");
        let mut out = HeaderMap::new();
        Cors::any().allow_headers(["Authorization"]).apply_preflight(&request, &mut out);
        assert_eq!(
            out[header::ACCESS_CONTROL_ALLOW_HEADERS],
            "content-type, last-event-id, authorization"
        );
    }
}
