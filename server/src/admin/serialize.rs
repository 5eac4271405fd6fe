//! A socket as the admin UI sees it: the `SerializedSocket` of `all_sockets` and
//! `socket_connected`, with the handshake fields of Socket.IO's `socket.handshake`.

use std::hash::BuildHasher;

use http::HeaderMap;
use serde_json::{Map, Value};

use super::date;
use crate::engine::{EngineSocket, HandshakeRequest};
use crate::Socket;

/// `{id, clientId, transport, nsp, data, handshake, rooms}` of `socket`. `data` is always
/// `{}`: a ferrio socket's extensions are typed Rust values, not JSON.
pub(crate) fn socket(socket: &Socket, client_ids: &impl BuildHasher) -> Value {
    let rooms: Vec<Value> = socket.rooms().iter().map(|r| Value::from(&**r)).collect();
    let mut out = Map::new();
    out.insert("id".into(), socket.id().as_str().into());
    out.insert("clientId".into(), client_id(socket.engine(), client_ids).into());
    out.insert("transport".into(), socket.transport().as_str().into());
    out.insert("nsp".into(), socket.ns().into());
    out.insert("data".into(), Value::Object(Map::new()));
    out.insert("handshake".into(), handshake(socket.handshake()));
    out.insert("rooms".into(), Value::Array(rooms));
    Value::Object(out)
}

/// The id the UI groups a connection's sockets by: 12 hex digits of a keyed hash of the
/// Engine.IO session id. (Socket.IO sends the first 12 characters of the session id itself;
/// a hash tells sessions apart as well without handing out part of a live session's id.)
pub(crate) fn client_id(engine: &EngineSocket, client_ids: &impl BuildHasher) -> String {
    let hash = client_ids.hash_one(engine.id().as_str());
    format!("{:012x}", hash >> 16)
}

/// Socket.IO's `socket.handshake` without `auth`: `{address, headers, query, issued, secure,
/// time, url, xdomain}`. The address is the `cf-connecting-ip` or `x-forwarded-for` header
/// when there is one, as the official server reads it, else the peer's IP (absent when the
/// server does not give it).
fn handshake(request: &HandshakeRequest) -> Value {
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    let address = header("cf-connecting-ip")
        .or_else(|| header("x-forwarded-for"))
        .map(str::to_owned)
        .or_else(|| request.remote_addr.map(|a| a.ip().to_string()));
    let mut out = Map::new();
    if let Some(address) = address {
        out.insert("address".into(), address.into());
    }
    out.insert("headers".into(), headers(&request.headers));
    out.insert("query".into(), query(request.uri.query().unwrap_or("")));
    out.insert("issued".into(), date::epoch_millis(request.issued).into());
    out.insert("secure".into(), request.secure.into());
    out.insert("time".into(), date::js_string(request.issued).into());
    out.insert("url".into(), request.uri.to_string().into());
    out.insert("xdomain".into(), request.headers.contains_key(http::header::ORIGIN).into());
    Value::Object(out)
}

/// The request headers as Node gives them: lowercase names, repeated values joined (`; ` for
/// cookies, `, ` otherwise). A value an HTTP layer marked sensitive (tower-http's
/// `SetSensitiveRequestHeaders`, say) shows as `[redacted]`.
fn headers(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for name in headers.keys() {
        let separator = if name == http::header::COOKIE { "; " } else { ", " };
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| match v.is_sensitive() {
                true => "[redacted]".to_owned(),
                false => String::from_utf8_lossy(v.as_bytes()).into_owned(),
            })
            .collect();
        out.insert(name.as_str().to_owned(), values.join(separator).into());
    }
    Value::Object(out)
}

/// The query string as an object, as Node's `querystring` parses it: a repeated key gives
/// an array of its values.
fn query(query: &str) -> Value {
    let mut out = Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = Value::String(value.into_owned());
        match out.get_mut(key.as_ref()) {
            None => {
                out.insert(key.into_owned(), value);
            }
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn query_and_headers_read_as_in_node() {
        assert_eq!(
            query("EIO=4&transport=polling&tag=a&tag=b&tag=c&x=%C3%A9"),
            json!({"EIO": "4", "transport": "polling", "tag": ["a", "b", "c"], "x": "é"})
        );
        let mut map = HeaderMap::new();
        map.append("accept", "text/plain".parse().expect("value"));
        map.append("accept", "text/html".parse().expect("value"));
        map.append("cookie", "a=1".parse().expect("value"));
        map.append("cookie", "b=2".parse().expect("value"));
        let mut secret: http::HeaderValue = "Bearer x".parse().expect("value");
        secret.set_sensitive(true);
        map.append("authorization", secret);
        assert_eq!(
            headers(&map),
            json!({"accept": "text/plain, text/html", "cookie": "a=1; b=2", "authorization": "[redacted]"})
        );
    }
}
