//! The routing table of [`EngineService`](super::EngineService), request by request, with
//! `tower::ServiceExt::oneshot` and no TCP: every status and Engine.IO error code a request can
//! get, the same answers the reference Node server gives.

use std::convert::Infallible;

use bytes::Bytes;
use ferrio_protocol::engine::{ErrorCode, PAYLOAD_TOO_LARGE_JSON};
use futures_util::FutureExt;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::{service_fn, Layer, ServiceExt};

use super::is_mount_path;
use crate::engine::{
    CloseReason, Cors, EngineConfig, EngineConfigBuilder, EngineHandler, EngineIo, EngineSocket,
    Message,
};

struct Echo;

impl EngineHandler for Echo {
    fn on_connect(&self, _: EngineSocket) {}
    fn on_message(&self, socket: &EngineSocket, message: Message) {
        let _ = socket.send(message);
    }
    fn on_disconnect(&self, _: &EngineSocket, _: CloseReason) {}
}

type Svc = super::EngineService<
    tower::util::ServiceFn<
        fn(Request<Full<Bytes>>) -> std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>,
    >,
>;

fn not_found(
    _: Request<Full<Bytes>>,
) -> std::future::Ready<Result<Response<Full<Bytes>>, Infallible>> {
    let mut res = Response::new(Full::new(Bytes::from_static(b"inner")));
    *res.status_mut() = StatusCode::NOT_FOUND;
    std::future::ready(Ok(res))
}

fn service(config: EngineConfigBuilder) -> (Svc, EngineIo) {
    let (layer, engine) = EngineIo::new(config.build(), Echo);
    let inner = service_fn(not_found as fn(_) -> _);
    (layer.layer(inner), engine)
}

fn request(method: Method, uri: &str, body: &'static str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("a valid request")
}

async fn send(svc: &Svc, req: Request<Full<Bytes>>) -> (StatusCode, http::HeaderMap, String) {
    let res = svc.clone().oneshot(req).await.expect("infallible");
    let (parts, body) = res.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    (parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned())
}

/// Opens a polling session and returns its sid.
async fn handshake(svc: &Svc) -> String {
    let (status, _, body) =
        send(svc, request(Method::GET, "/engine.io/?EIO=4&transport=polling", "")).await;
    assert_eq!(status, StatusCode::OK);
    let open: serde_json::Value = serde_json::from_str(&body[1..]).expect("an open packet");
    open["sid"].as_str().expect("a sid").to_owned()
}

#[tokio::test]
async fn bad_requests_get_the_engine_io_status_and_code() {
    let (svc, _) = service(EngineConfig::builder());
    let sid = handshake(&svc).await;
    let cases = [
        (Method::GET, "/engine.io/?EIO=4".to_owned(), ErrorCode::TransportUnknown),
        (Method::GET, "/engine.io/?EIO=4&transport=pigeon".to_owned(), ErrorCode::TransportUnknown),
        (
            Method::GET,
            "/engine.io/?EIO=4&transport=polling&sid=nope".to_owned(),
            ErrorCode::UnknownSid,
        ),
        (
            Method::POST,
            "/engine.io/?EIO=4&transport=polling".to_owned(),
            ErrorCode::BadHandshakeMethod,
        ),
        (Method::GET, "/engine.io/?EIO=4&transport=websocket".to_owned(), ErrorCode::BadRequest),
        (
            Method::GET,
            format!("/engine.io/?EIO=4&transport=streaming&sid={sid}"),
            ErrorCode::BadRequest,
        ),
        (
            Method::GET,
            format!("/engine.io/?EIO=4&transport=websocket&sid={sid}"),
            ErrorCode::BadRequest,
        ),
        (
            Method::PUT,
            format!("/engine.io/?EIO=4&transport=polling&sid={sid}"),
            ErrorCode::BadRequest,
        ),
        (
            Method::GET,
            "/engine.io/?transport=polling".to_owned(),
            ErrorCode::UnsupportedProtocolVersion,
        ),
        (
            Method::GET,
            "/engine.io/?EIO=3&transport=polling".to_owned(),
            ErrorCode::UnsupportedProtocolVersion,
        ),
        (
            Method::GET,
            "/engine.io/?EIO=x&transport=polling".to_owned(),
            ErrorCode::UnsupportedProtocolVersion,
        ),
    ];
    for (method, uri, code) in cases {
        let (status, headers, body) = send(&svc, request(method.clone(), &uri, "")).await;
        assert_eq!(status.as_u16(), code.http_status(), "{method} {uri}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{method} {uri}");
        assert_eq!(body, code.to_json(), "{method} {uri}");
    }
}

#[tokio::test]
async fn a_rejected_handshake_is_forbidden() {
    let config = EngineConfig::builder().allow_request(|_| async { Err("no".into()) });
    let (svc, engine) = service(config);
    let (status, _, body) =
        send(&svc, request(Method::GET, "/engine.io/?EIO=4&transport=polling", "")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, ErrorCode::Forbidden.to_json());
    assert_eq!(engine.session_count(), 0);
}

#[tokio::test]
async fn polling_answers_payloads_and_ok() {
    let (svc, engine) = service(EngineConfig::builder());
    let sid = handshake(&svc).await;
    assert_eq!(engine.session_count(), 1);
    let url = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let (status, headers, body) = send(&svc, request(Method::POST, &url, "4hello\x1e4world")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!(headers[header::CONTENT_TYPE], "text/html");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let (status, headers, body) = send(&svc, request(Method::GET, &url, "")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "4hello\x1e4world"));
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=UTF-8");
    // The mount path also answers without its trailing slash.
    let url = format!("/engine.io?EIO=4&transport=polling&sid={sid}");
    let (status, _, body) = send(&svc, request(Method::POST, &url, "1")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!(engine.session_count(), 0, "the close packet ended the session");
}

#[tokio::test]
async fn an_oversized_post_is_413_and_closes_the_session() {
    let (svc, engine) = service(EngineConfig::builder().max_payload(1024));
    let sid = handshake(&svc).await;
    let url = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let big: &'static str = Box::leak("4x".repeat(1000).into_boxed_str());
    let (status, _, body) = send(&svc, request(Method::POST, &url, big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body, PAYLOAD_TOO_LARGE_JSON);
    let (status, _, body) = send(&svc, request(Method::GET, &url, "")).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, ErrorCode::UnknownSid.to_json().as_str())
    );
    assert_eq!(engine.session_count(), 0);
}

#[tokio::test]
async fn an_overlapping_poll_is_refused_and_the_first_gets_the_close_packet() {
    let (svc, _) = service(EngineConfig::builder());
    let sid = handshake(&svc).await;
    let url = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let first = send(&svc, request(Method::GET, &url, ""));
    tokio::pin!(first);
    // Polled once: the first GET is attached and waits.
    assert!((&mut first).now_or_never().is_none());
    let (status, _, body) = send(&svc, request(Method::GET, &url, "")).await;
    assert_eq!((status, body.as_str()), (StatusCode::BAD_REQUEST, ""));
    let (status, _, body) = first.await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "1"));
}

#[tokio::test]
async fn cors_preflight_and_headers_on_every_answer() {
    let (svc, _) = service(EngineConfig::builder().cors(Cors::any()));
    let mut preflight = request(Method::OPTIONS, "/engine.io/?EIO=4&transport=polling", "");
    preflight.headers_mut().insert(header::ORIGIN, "http://a.test".parse().expect("a header"));
    let (status, headers, _) = send(&svc, preflight).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let (status, headers, _) = send(&svc, request(Method::GET, "/engine.io/?EIO=4", "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*", "errors carry CORS too");
}

#[tokio::test]
async fn other_paths_and_client_files_when_not_served_go_to_the_inner_service() {
    let (svc, _) = service(EngineConfig::builder());
    for uri in ["/", "/engine.iox", "/engine.io/x", "/engine.io/ferrio.js"] {
        let (status, _, body) = send(&svc, request(Method::GET, uri, "")).await;
        assert_eq!((status, body.as_str()), (StatusCode::NOT_FOUND, "inner"), "{uri}");
    }
}

#[tokio::test]
async fn the_client_is_served_with_an_etag() {
    let (svc, _) = service(EngineConfig::builder().serve_client(true));
    let (status, headers, body) =
        send(&svc, request(Method::GET, "/engine.io/ferrio.js", "")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().is_ok_and(|t| t.starts_with("text/javascript")));
    assert!(body.contains("export"));
    let mut again = request(Method::GET, "/engine.io/ferrio.js", "");
    again.headers_mut().insert(header::IF_NONE_MATCH, headers[header::ETAG].clone());
    let (status, _, body) = send(&svc, again).await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_MODIFIED, ""));
}

#[test]
fn mount_path_matches_with_and_without_trailing_slash() {
    assert!(is_mount_path("/engine.io/", "/engine.io/"));
    assert!(is_mount_path("/engine.io", "/engine.io/"));
    assert!(!is_mount_path("/engine.iox", "/engine.io/"));
    assert!(!is_mount_path("/engine.io/x", "/engine.io/"));
    assert!(!is_mount_path("/", "/engine.io/"));
}

/// Records the fields of every event at `INFO` or above.
#[derive(Default, Clone)]
struct LoudEvents(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl tracing::Subscriber for LoudEvents {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() <= tracing::Level::INFO
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Text<'a>(&'a mut String);
        impl tracing::field::Visit for Text<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={value:?} ", field.name()));
            }
        }
        let mut text = String::new();
        event.record(&mut Text(&mut text));
        if let Ok(mut events) = self.0.lock() {
            events.push(text);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Session ids are credentials: whoever knows one can poll, post or attach a stream for that
/// session. None is written at `info` or above, through a whole session's life with its
/// errors (an overlapping poll, a bad payload).
#[tokio::test(flavor = "current_thread")]
async fn sids_are_not_logged_at_info_or_above() {
    let events = LoudEvents::default();
    let _guard = tracing::subscriber::set_default(events.clone());
    let (svc, _) = service(EngineConfig::builder());
    let overlapping = handshake(&svc).await;
    let url = format!("/engine.io/?EIO=4&transport=polling&sid={overlapping}");
    let first = send(&svc, request(Method::GET, &url, ""));
    tokio::pin!(first);
    assert!((&mut first).now_or_never().is_none());
    let _ = send(&svc, request(Method::GET, &url, "")).await;
    let _ = first.await;
    let garbled = handshake(&svc).await;
    let url = format!("/engine.io/?EIO=4&transport=polling&sid={garbled}");
    let _ = send(&svc, request(Method::POST, &url, "4ok\x1ezz")).await;
    let logged = events.0.lock().map(|e| e.clone()).unwrap_or_default();
    for sid in [overlapping, garbled] {
        assert!(logged.iter().all(|e| !e.contains(&sid)), "{sid} in {logged:?}");
    }
}
