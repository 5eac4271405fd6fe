//! Socket.IO packet → text, in one exactly-sized allocation.
//!
//! The text is written once into a per-thread scratch buffer that keeps its
//! capacity between packets, then copied into an allocation of exactly its
//! length. A copy is far cheaper than a second pass over the JSON to measure
//! it first (which costs as much as writing it: every string is scanned for
//! escapes), and the result owns no spare capacity.

use std::cell::RefCell;

use super::Packet;
use crate::decimal::push_decimal;
use crate::Str;

/// The largest scratch buffer kept between packets, in bytes.
const SCRATCH_KEEP: usize = 256 * 1024;

thread_local! {
    /// Where packets are written before being copied out at their exact size.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Packet {
    /// The Socket.IO text form, e.g. `2/chat,12["a",1]` or
    /// `51-["b",{"_placeholder":true,"num":0}]`.
    ///
    /// The namespace is written (followed by `,`) only when it is not `/` or
    /// empty; a namespace without its leading `/` gets one. Attachments are
    /// not part of the text: send them as binary frames after it.
    pub fn encode(&self) -> String {
        let out = self.encode_exact(None);
        // `write` only emits UTF-8; the fallback is unreachable.
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// The same text preceded by the Engine.IO message digit `4`: exactly
    /// what the server queues as an Engine.IO text frame. One allocation.
    ///
    /// ```
    /// use ferrio_protocol::socket::Packet;
    /// use serde_json::json;
    ///
    /// let packet = Packet::event("/", json!(["hey", "Jude"]), vec![], None);
    /// assert_eq!(packet.encode_message(), r#"42["hey","Jude"]"#);
    /// ```
    pub fn encode_message(&self) -> Str {
        Str::from_utf8_vec(self.encode_exact(Some(b'4')))
    }

    /// The text (after `prefix`), in a vector whose capacity is its length.
    fn encode_exact(&self, prefix: Option<u8>) -> Vec<u8> {
        let fill = |buf: &mut Vec<u8>| {
            buf.clear();
            buf.extend(prefix);
            self.write(buf);
            buf.to_vec()
        };
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut buf) => {
                let out = fill(&mut buf);
                // Keep the scratch buffer for typical packets, not for a rare huge one.
                if buf.capacity() > SCRATCH_KEEP {
                    *buf = Vec::new();
                }
                out
            }
            // Only re-entered if serializing a value encoded a packet; write directly then.
            Err(_) => fill(&mut Vec::new()),
        })
    }

    /// Whether the namespace is written, and whether it needs a `/` added.
    fn nsp_on_wire(&self) -> Option<bool> {
        match self.nsp.as_str() {
            "" | "/" => None,
            nsp => Some(!nsp.starts_with('/')),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(self.kind.digit());
        if self.kind.is_binary() {
            push_decimal(out, self.attachments.len() as u64);
            out.push(b'-');
        }
        if let Some(add_slash) = self.nsp_on_wire() {
            if add_slash {
                out.push(b'/');
            }
            out.extend_from_slice(self.nsp.as_bytes());
            out.push(b',');
        }
        if let Some(id) = self.id {
            push_decimal(out, id);
        }
        if let Some(data) = &self.data {
            super::json::write_value(out, data);
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde_json::json;

    use super::*;
    use crate::socket::placeholder;

    #[test]
    fn encodes_the_spec_examples() {
        let cases = [
            (Packet::connect("/", None), "0"),
            (
                Packet::connect("/", Some(json!({"sid": "wZX3oN0bSVIhsaknAAAI"}))),
                r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
            ),
            (Packet::connect("/admin", None), "0/admin,"),
            (
                Packet::connect_error("/", "Not authorized", None),
                r#"4{"message":"Not authorized"}"#,
            ),
            (Packet::event("/", json!(["foo"]), vec![], None), r#"2["foo"]"#),
            (Packet::event("/admin", json!(["bar"]), vec![], None), r#"2/admin,["bar"]"#),
            (
                Packet::event(
                    "/",
                    json!(["baz", placeholder(0)]),
                    vec![Bytes::from_static(&[1, 2, 3, 4])],
                    None,
                ),
                r#"51-["baz",{"_placeholder":true,"num":0}]"#,
            ),
            (Packet::event("/", json!(["foo"]), vec![], Some(12)), r#"212["foo"]"#),
            (Packet::ack("/", 12, json!([]), vec![]), "312[]"),
            (Packet::event("/admin", json!(["foo"]), vec![], Some(13)), r#"2/admin,13["foo"]"#),
            (
                Packet::ack(
                    "/",
                    15,
                    json!(["bar", placeholder(0)]),
                    vec![Bytes::from_static(&[1])],
                ),
                r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
            ),
            (Packet::disconnect("/"), "1"),
            (Packet::disconnect("/admin"), "1/admin,"),
            (Packet::disconnect("admin"), "1/admin,"),
            (Packet::disconnect(""), "1"),
        ];
        for (packet, wire) in cases {
            assert_eq!(packet.encode(), wire);
            assert_eq!(packet.encode_message(), format!("4{wire}").as_str());
        }
    }

    #[test]
    fn allocates_exactly() {
        let packet = Packet::event(
            "/chat",
            json!(["a\"\\\n\u{1}é", 1.5, -3, u64::MAX]),
            vec![],
            Some(u64::MAX),
        );
        let text = packet.encode();
        assert_eq!(text.len(), text.capacity());
    }

    #[test]
    fn decimals() {
        for n in [0, 1, 9, 10, 99, 100, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
