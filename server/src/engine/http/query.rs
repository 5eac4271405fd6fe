//! The Engine.IO query parameters of a request.

/// The parameters the engine routes on.
#[derive(Debug, Default)]
pub(crate) struct EngineQuery {
    pub(crate) eio: Option<String>,
    pub(crate) transport: Option<String>,
    pub(crate) sid: Option<String>,
    /// What a ferrio client received last on an HTTP transport (`lastEventId`).
    pub(crate) last_event_id: Option<String>,
    /// An Engine.IO v3 client without binary support (`b64`).
    pub(crate) b64: Option<String>,
    /// A JSONP polling request (`j`), which ferrio does not serve.
    pub(crate) jsonp: Option<String>,
}

impl EngineQuery {
    pub(crate) fn parse(query: Option<&str>) -> Self {
        let mut q = EngineQuery::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match &*key {
                "EIO" => &mut q.eio,
                "transport" => &mut q.transport,
                "sid" => &mut q.sid,
                "lastEventId" => &mut q.last_event_id,
                "b64" => &mut q.b64,
                "j" => &mut q.jsonp,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        q
    }
}

/// The first value of parameter `name` in `query`, percent-decoded.
pub(crate) fn param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_engine_params_and_ignores_others() {
        let q = EngineQuery::parse(Some("EIO=4&transport=polling&t=abc&sid=a%2Db"));
        assert_eq!(q.eio.as_deref(), Some("4"));
        assert_eq!(q.transport.as_deref(), Some("polling"));
        assert_eq!(q.sid.as_deref(), Some("a-b"));
        assert!(EngineQuery::parse(None).eio.is_none());
    }
}
