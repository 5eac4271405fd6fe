//! [`ErrorCode`]: the Engine.IO handshake/request error codes.

/// An Engine.IO error, answered to a bad HTTP request as a JSON body
/// `{"code":N,"message":"…"}` (status 400, or 403 for [`Forbidden`]).
///
/// [`Forbidden`]: ErrorCode::Forbidden
///
/// ```
/// use ferrio_protocol::engine::ErrorCode;
///
/// assert_eq!(ErrorCode::UnknownSid.code(), 1);
/// assert_eq!(ErrorCode::TransportUnknown.to_json(), r#"{"code":0,"message":"Transport unknown"}"#);
/// assert_eq!(ErrorCode::from_code(4), Some(ErrorCode::Forbidden));
/// assert_eq!(ErrorCode::Forbidden.http_status(), 403);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0 "Transport unknown": the `transport` query parameter is missing or
    /// names no enabled transport.
    TransportUnknown,
    /// 1 "Session ID unknown": the `sid` names no live session.
    UnknownSid,
    /// 2 "Bad handshake method": a handshake (no `sid`) that is not a GET.
    BadHandshakeMethod,
    /// 3 "Bad request": anything else the server refuses (wrong transport
    /// for the sid, polling after an upgrade, a bad body…).
    BadRequest,
    /// 4 "Forbidden": the application's request hook rejected the request.
    Forbidden,
    /// 5 "Unsupported protocol version": `EIO` missing, not a number, or a
    /// version the server does not speak.
    UnsupportedProtocolVersion,
}

impl ErrorCode {
    /// The numeric code of the JSON body.
    pub fn code(self) -> u8 {
        match self {
            ErrorCode::TransportUnknown => 0,
            ErrorCode::UnknownSid => 1,
            ErrorCode::BadHandshakeMethod => 2,
            ErrorCode::BadRequest => 3,
            ErrorCode::Forbidden => 4,
            ErrorCode::UnsupportedProtocolVersion => 5,
        }
    }

    /// The code for a number, if there is one.
    pub fn from_code(code: u8) -> Option<ErrorCode> {
        Some(match code {
            0 => ErrorCode::TransportUnknown,
            1 => ErrorCode::UnknownSid,
            2 => ErrorCode::BadHandshakeMethod,
            3 => ErrorCode::BadRequest,
            4 => ErrorCode::Forbidden,
            5 => ErrorCode::UnsupportedProtocolVersion,
            _ => return None,
        })
    }

    /// The message of the JSON body, exactly as Engine.IO words it.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::TransportUnknown => "Transport unknown",
            ErrorCode::UnknownSid => "Session ID unknown",
            ErrorCode::BadHandshakeMethod => "Bad handshake method",
            ErrorCode::BadRequest => "Bad request",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }

    /// The HTTP status Engine.IO answers with: 403 for
    /// [`Forbidden`](ErrorCode::Forbidden), 400 otherwise.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Forbidden => 403,
            _ => 400,
        }
    }

    /// The JSON body, e.g. `{"code":0,"message":"Transport unknown"}`.
    pub fn to_json(self) -> String {
        format!("{{\"code\":{},\"message\":\"{}\"}}", self.code(), self.message())
    }
}

/// The status Engine.IO answers a POST body larger than `maxPayload` with.
pub const PAYLOAD_TOO_LARGE_STATUS: u16 = 413;

/// The body of that answer, exactly as Engine.IO sends it (code 3 with its
/// own message).
///
/// ```
/// use ferrio_protocol::engine::PAYLOAD_TOO_LARGE_JSON;
///
/// let body: serde_json::Value = serde_json::from_str(PAYLOAD_TOO_LARGE_JSON).unwrap();
/// assert_eq!(body["code"], 3);
/// ```
pub const PAYLOAD_TOO_LARGE_JSON: &str = r#"{"code":3,"message":"Payload too large"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_bodies_are_exact() {
        for code in 0..=5 {
            let e = ErrorCode::from_code(code).unwrap();
            assert_eq!(e.code(), code);
            let body: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
            assert_eq!(body["code"], code);
            assert_eq!(body["message"], e.message());
        }
        assert_eq!(ErrorCode::from_code(6), None);
        assert_eq!(
            ErrorCode::UnsupportedProtocolVersion.to_json(),
            r#"{"code":5,"message":"Unsupported protocol version"}"#
        );
    }
}
