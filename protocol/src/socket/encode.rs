//! Socket.IO packet → text, in one exactly-sized allocation.
//!
//! The output length is computed first (JSON included, by walking the
//! `Value` with serde_json's escaping rules), then the text is written into
//! a buffer of exactly that capacity, so `Bytes::from(Vec)` takes it over
//! without a copy or a second allocation.

use std::fmt::{self, Write as _};

use serde_json::{Number, Value};

use super::Packet;
use crate::Str;

impl Packet {
    /// The Socket.IO text form, e.g. `2/chat,12["a",1]` or
    /// `51-["b",{"_placeholder":true,"num":0}]`.
    ///
    /// The namespace is written (followed by `,`) only when it is not `/` or
    /// empty; a namespace without its leading `/` gets one. Attachments are
    /// not part of the text: send them as binary frames after it.
    pub fn encode(&self) -> String {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.write(&mut out);
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
        let mut out = Vec::with_capacity(1 + self.encoded_len());
        out.push(b'4');
        self.write(&mut out);
        Str::from_utf8_vec(out)
    }

    /// Whether the namespace is written, and whether it needs a `/` added.
    fn nsp_on_wire(&self) -> Option<bool> {
        match self.nsp.as_str() {
            "" | "/" => None,
            nsp => Some(!nsp.starts_with('/')),
        }
    }

    /// The exact length of [`Packet::encode`].
    fn encoded_len(&self) -> usize {
        let mut len = 1;
        if self.kind.is_binary() {
            len += decimal_len(self.attachments.len() as u64) + 1;
        }
        if let Some(add_slash) = self.nsp_on_wire() {
            len += usize::from(add_slash) + self.nsp.len() + 1;
        }
        if let Some(id) = self.id {
            len += decimal_len(id);
        }
        if let Some(data) = &self.data {
            len += json_len(data);
        }
        len
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
            // A `Value` always serializes, and writing to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, data);
        }
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Digits of `n` in decimal.
fn decimal_len(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// The exact length of `serde_json::to_writer(value)` (compact form).
pub(crate) fn json_len(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => number_len(n),
        Value::String(s) => string_len(s),
        Value::Array(items) => {
            2 + items.len().saturating_sub(1) + items.iter().map(json_len).sum::<usize>()
        }
        Value::Object(map) => {
            2 + map.len().saturating_sub(1)
                + map.iter().map(|(k, v)| string_len(k) + 1 + json_len(v)).sum::<usize>()
        }
    }
}

fn number_len(n: &Number) -> usize {
    if let Some(u) = n.as_u64() {
        decimal_len(u)
    } else if let Some(i) = n.as_i64() {
        1 + decimal_len(i.unsigned_abs())
    } else {
        // Floats: serde_json's Display uses the same formatter as its
        // serializer.
        struct Count(usize);
        impl fmt::Write for Count {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0 += s.len();
                Ok(())
            }
        }
        let mut count = Count(0);
        let _ = write!(count, "{n}");
        count.0
    }
}

/// A JSON string with its quotes, escaped as serde_json does: `"` and `\`
/// and the short escapes `\b \t \n \f \r` take 2 bytes, other control
/// characters 6 (`\u00XX`), everything else is written as is.
fn string_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | 0x08 | 0x09 | 0x0a | 0x0c | 0x0d => 2,
            0x00..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
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
            assert_eq!(packet.encoded_len(), wire.len());
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
        assert_eq!(text.len(), packet.encoded_len());
    }

    #[test]
    fn json_len_matches_serde_json() {
        for value in [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-1),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(0.1),
            json!(1e300),
            json!(-2.5e-300),
            json!(1.0),
            json!(""),
            json!("\u{0}\u{7}\u{8}\t\n\u{b}\u{c}\r\u{1f} \"\\/\u{7f}é😀\u{2028}"),
            json!([]),
            json!({}),
            json!([1, [2, [3, {}]], {"a": {"b\n": []}}]),
        ] {
            assert_eq!(json_len(&value), serde_json::to_vec(&value).unwrap().len(), "{value}");
        }
    }

    #[test]
    fn decimals() {
        for n in [0, 1, 9, 10, 99, 100, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
            assert_eq!(decimal_len(n), out.len());
        }
    }
}
