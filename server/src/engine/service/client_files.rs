//! Serves the bundled browser client under the mount path, embedded at build time by
//! `server/build.rs`:
//!
//! - `{path}ferrio.js`: the entry ES module (`client-js/src/index.js`), and the modules it
//!   imports by their paths under `client-js/src`;
//! - `{path}ferrio.min.js`: the classic ES5 script (global `io`), with `{path}ferrio.min.js.map`;
//! - `{path}socket.io.js`: the same classic script, when the application opts in
//!   ([`serve_socket_io_js`](crate::engine::EngineConfigBuilder::serve_socket_io_js)).
//!
//! Each answer carries the engine's CORS headers (so a page on another origin can import the
//! module or load the script), an ETag to revalidate with (`Cache-Control: no-cache`), and
//! `Vary: Accept-Encoding`: a request that accepts gzip gets the copy gzipped at build time.

use http::header::{
    HeaderValue, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, VARY,
};
use http::{HeaderMap, Method, Response, StatusCode};

use crate::engine::config::EngineConfig;
use crate::engine::http::body::ResponseBody;
use crate::engine::http::response::EngineResponse;

/// One embedded file: its name under the mount path, its bytes, their gzip, and the ETag of
/// the bytes (without quotes).
struct ClientFile {
    name: &'static str,
    body: &'static [u8],
    gzip: &'static [u8],
    etag: &'static str,
}

const FILES: &[ClientFile] = include!(concat!(env!("OUT_DIR"), "/client_js.rs"));

/// The file served at `{path}{name}`.
fn lookup(name: &str, socket_io_js: bool) -> Option<&'static ClientFile> {
    let name = match name {
        "ferrio.js" => "index.js",
        "socket.io.js" if socket_io_js => "ferrio.min.js",
        "socket.io.js" => return None,
        name => name,
    };
    FILES.iter().find(|file| file.name == name)
}

/// Whether `Accept-Encoding` lists gzip (and not with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let codings = headers.get_all(ACCEPT_ENCODING).into_iter().filter_map(|v| v.to_str().ok());
    codings.flat_map(|v| v.split(',')).any(|coding| {
        let mut params = coding.split(';');
        let name = params.next().unwrap_or_default().trim();
        let refused = params.any(|p| {
            p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()) == Some(0.0)
        });
        name.eq_ignore_ascii_case("gzip") && !refused
    })
}

/// Answers a request for `{path}{name}` when `name` is a client file.
pub(crate) fn serve<B>(
    method: &Method,
    name: &str,
    headers: &HeaderMap,
    config: &EngineConfig,
) -> Option<EngineResponse<B>> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let file = lookup(name, config.serve_socket_io_js)?;
    let gzip = accepts_gzip(headers);
    // Each encoding is its own representation, with its own (strong) ETag.
    let etag = format!("\"{}{}\"", file.etag, if gzip { "-gz" } else { "" });
    let not_modified = headers
        .get_all(IF_NONE_MATCH)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    let body = if not_modified || method == Method::HEAD {
        ResponseBody::empty()
    } else {
        ResponseBody::full(if gzip { file.gzip } else { file.body })
    };
    let mut res = Response::new(body);
    if not_modified {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let h = res.headers_mut();
    let content_type = if name.ends_with(".map") {
        "application/json; charset=utf-8"
    } else {
        "text/javascript; charset=utf-8"
    };
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Revalidate every time (cheap, by ETag) so a new server version never pairs with a
    // cached module of the old one.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        h.insert(ETAG, etag);
    }
    h.append(VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if let Some(cors) = &config.cors {
        cors.apply(headers, h);
    }
    Some(res)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use bytes::Bytes;
    use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, ORIGIN};
    use http_body_util::BodyExt as _;

    use super::*;
    use crate::engine::http::cors::Cors;
    use crate::engine::EngineConfig;

    type Res = EngineResponse<http_body_util::Empty<Bytes>>;

    fn get(name: &str, headers: &[(http::HeaderName, &str)], config: &EngineConfig) -> Res {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            if let Ok(v) = HeaderValue::from_str(v) {
                map.append(k.clone(), v);
            }
        }
        match serve(&Method::GET, name, &map, config) {
            Some(res) => res,
            None => panic!("{name} is not served"),
        }
    }

    async fn body(res: Res) -> Vec<u8> {
        match res.into_body().collect().await {
            Ok(collected) => collected.to_bytes().to_vec(),
            Err(_) => panic!("the body failed"),
        }
    }

    #[tokio::test]
    async fn the_module_and_the_classic_script_with_its_map() {
        let config = EngineConfig::default();
        let module = body(get("ferrio.js", &[], &config)).await;
        assert!(String::from_utf8_lossy(&module).contains("export"));
        let res = get("ferrio.min.js", &[], &config);
        assert_eq!(res.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
        let script = String::from_utf8(body(res).await).unwrap_or_default();
        assert!(script.ends_with("//# sourceMappingURL=ferrio.min.js.map\n"));
        let res = get("ferrio.min.js.map", &[], &config);
        assert_eq!(res.headers()[CONTENT_TYPE], "application/json; charset=utf-8");
        assert!(String::from_utf8_lossy(&body(res).await).contains("\"sources\""));
    }

    #[tokio::test]
    async fn socket_io_js_only_when_asked() {
        let off = EngineConfig::default();
        let none = serve::<http_body_util::Empty<Bytes>>(
            &Method::GET,
            "socket.io.js",
            &HeaderMap::new(),
            &off,
        );
        assert!(none.is_none());
        let on = EngineConfig::builder().serve_socket_io_js(true).build();
        let classic = body(get("ferrio.min.js", &[], &on)).await;
        assert_eq!(body(get("socket.io.js", &[], &on)).await, classic);
    }

    #[tokio::test]
    async fn gzip_when_accepted_with_its_own_etag() {
        let config = EngineConfig::default();
        let plain = get("ferrio.min.js", &[], &config);
        assert!(plain.headers().get(CONTENT_ENCODING).is_none());
        assert_eq!(plain.headers()[VARY], "Accept-Encoding");
        let plain_etag = plain.headers()[ETAG].clone();
        let plain = body(plain).await;
        for accept in ["gzip", "br, gzip;q=0.8", "deflate, GZIP"] {
            let res = get("ferrio.min.js", &[(ACCEPT_ENCODING, accept)], &config);
            assert_eq!(res.headers()[CONTENT_ENCODING], "gzip", "{accept}");
            assert_eq!(res.headers()[VARY], "Accept-Encoding");
            assert_ne!(res.headers()[ETAG], plain_etag);
            let gz = body(res).await;
            assert!(gz.len() < plain.len() / 2);
            let mut unzipped = Vec::new();
            assert!(flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut unzipped).is_ok());
            assert_eq!(unzipped, plain);
        }
        for accept in ["br", "gzip;q=0", "identity"] {
            let res = get("ferrio.min.js", &[(ACCEPT_ENCODING, accept)], &config);
            assert!(res.headers().get(CONTENT_ENCODING).is_none(), "{accept}");
        }
        // Revalidation by the ETag of the representation.
        let res = get("ferrio.js", &[(ACCEPT_ENCODING, "gzip")], &config);
        let etag = res.headers()[ETAG].to_str().map(str::to_owned).unwrap_or_default();
        let res = get("ferrio.js", &[(ACCEPT_ENCODING, "gzip"), (IF_NONE_MATCH, &etag)], &config);
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        let res = get("ferrio.js", &[(IF_NONE_MATCH, &etag)], &config);
        assert_eq!(res.status(), StatusCode::OK, "the plain copy is another representation");
    }

    #[tokio::test]
    async fn cors_headers_follow_the_engine_policy() {
        let none = EngineConfig::default();
        let res = get("ferrio.js", &[(ORIGIN, "http://other.test")], &none);
        assert!(res.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        let any = EngineConfig::builder().cors(Cors::any()).build();
        let res = get("ferrio.min.js", &[(ORIGIN, "http://other.test")], &any);
        assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let list = EngineConfig::builder().cors(Cors::origins(["http://app.test"])).build();
        let res = get("ferrio.js", &[(ORIGIN, "http://app.test")], &list);
        assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "http://app.test");
        let vary: Vec<_> = res.headers().get_all(VARY).iter().collect();
        assert!(
            vary.iter().any(|v| *v == "Accept-Encoding") && vary.iter().any(|v| *v == "Origin")
        );
        let res = get("ferrio.js", &[(ORIGIN, "http://evil.test")], &list);
        assert!(res.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    }
}
