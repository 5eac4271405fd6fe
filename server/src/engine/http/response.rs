//! The engine's own responses: payloads, `ok`, and Engine.IO error bodies.

use bytes::Bytes;
use ferrio_protocol::engine::{ErrorCode, PAYLOAD_TOO_LARGE_JSON, PAYLOAD_TOO_LARGE_STATUS};
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::{Response, StatusCode};

use super::body::ResponseBody;

pub(crate) type EngineResponse<B> = Response<ResponseBody<B>>;

fn with_type<B>(
    status: StatusCode,
    content_type: &'static str,
    body: ResponseBody<B>,
) -> EngineResponse<B> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// `400`/`403` with `{"code":N,"message":…}`, as Engine.IO answers a bad request.
pub(crate) fn error<B>(code: ErrorCode) -> EngineResponse<B> {
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    with_type(status, "application/json", ResponseBody::full(code.to_json()))
}

/// `413`: a POST body over `max_payload`.
pub(crate) fn payload_too_large<B>() -> EngineResponse<B> {
    let status =
        StatusCode::from_u16(PAYLOAD_TOO_LARGE_STATUS).unwrap_or(StatusCode::PAYLOAD_TOO_LARGE);
    with_type(status, "application/json", ResponseBody::full(PAYLOAD_TOO_LARGE_JSON))
}

/// `503`: no session slot left (`max_sessions` or `max_sessions_per_ip`). Engine.IO has no
/// code for it; clients treat it as any failed handshake and retry.
pub(crate) fn too_many_sessions<B>(per_address: bool) -> EngineResponse<B> {
    let body = if per_address {
        r#"{"code":3,"message":"Too many sessions from this address"}"#
    } else {
        r#"{"code":3,"message":"Too many sessions"}"#
    };
    with_type(StatusCode::SERVICE_UNAVAILABLE, "application/json", ResponseBody::full(body))
}

/// `400` for a JSONP polling request (`j=`), which ferrio does not serve: its callbacks run
/// the server's answer as script in the page.
pub(crate) fn jsonp_unsupported<B>() -> EngineResponse<B> {
    let body = r#"{"code":3,"message":"JSONP polling is not supported"}"#;
    with_type(StatusCode::BAD_REQUEST, "application/json", ResponseBody::full(body))
}

/// `400` with no body: what Engine.IO answers to overlapping requests.
pub(crate) fn empty_bad_request<B>() -> EngineResponse<B> {
    let mut res = Response::new(ResponseBody::empty());
    *res.status_mut() = StatusCode::BAD_REQUEST;
    res
}

/// The header naming the sequence number of the last packet in a polling answer, which
/// ferrio's client reports back (`lastEventId`) so nothing is lost with a dropped response.
pub(crate) const EVENT_ID_HEADER: &str = "x-ferrio-event-id";

/// A polling GET answer; `last_seq` numbers its last packet when it came from the queue.
pub(crate) fn payload<B>(body: Vec<u8>, last_seq: Option<u64>) -> EngineResponse<B> {
    let mut res = with_type(
        StatusCode::OK,
        "text/plain; charset=UTF-8",
        ResponseBody::full(Bytes::from(body)),
    );
    let headers = res.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(seq) = last_seq {
        headers.insert(EVENT_ID_HEADER, HeaderValue::from(seq));
    }
    res
}

/// A polling POST answer.
pub(crate) fn ok<B>() -> EngineResponse<B> {
    let mut res =
        with_type(StatusCode::OK, "text/html", ResponseBody::full(Bytes::from_static(b"ok")));
    res.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The answer to a CORS preflight.
pub(crate) fn no_content<B>() -> EngineResponse<B> {
    let mut res = Response::new(ResponseBody::empty());
    *res.status_mut() = StatusCode::NO_CONTENT;
    res
}
