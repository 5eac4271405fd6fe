//! Serves the bundled browser client: `{path}ferrio.js` (the entry module) and the modules it
//! imports, all embedded at build time from `client-js/src`.

use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::{HeaderMap, Method, Response, StatusCode};

use crate::engine::http::body::ResponseBody;
use crate::engine::http::response::EngineResponse;

/// `(path under client-js/src, source, ETag)` of every module.
const FILES: &[(&str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/client_js.rs"));

/// The module served at `{path}{name}`: `ferrio.js` is the entry, `index.js`.
fn lookup(name: &str) -> Option<(&'static str, &'static str)> {
    let name = if name == "ferrio.js" { "index.js" } else { name };
    FILES.iter().find(|(path, _, _)| *path == name).map(|(_, source, etag)| (*source, *etag))
}

/// Answers a request for `{path}{name}` when `name` is a client module.
pub(crate) fn serve<B>(
    method: &Method,
    name: &str,
    headers: &HeaderMap,
) -> Option<EngineResponse<B>> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let (source, etag) = lookup(name)?;
    let not_modified = headers.get(IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let body = if not_modified || method == Method::HEAD {
        ResponseBody::empty()
    } else {
        ResponseBody::full(source)
    };
    let mut res = Response::new(body);
    if not_modified {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    // Revalidate every time (cheap, by ETag) so a new server version never pairs with a
    // cached module of the old one.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(ETAG, HeaderValue::from_static(etag));
    Some(res)
}
