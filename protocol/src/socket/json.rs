//! Writes a `serde_json::Value` as compact JSON, byte for byte as `serde_json::to_writer` does,
//! with a faster string path: strings are scanned 16 bytes at a time for the few bytes JSON must
//! escape (`"`, `\` and controls), and clean runs are copied whole. Event payloads are mostly
//! long clean strings, where serde_json's byte-at-a-time escaping dominated encoding.

use serde_json::Value;

const CHUNK: usize = 16;

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends `value` as compact JSON.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Numbers keep serde_json's formatting (itoa / ryu); writing to a Vec cannot fail.
        Value::Number(n) => {
            let _ = serde_json::to_writer(&mut *out, n);
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Whole clean chunks: a branch-free test per chunk the compiler can vectorize.
        while let Some(chunk) = bytes.get(i..i + CHUNK) {
            if chunk.iter().fold(false, |dirty, &b| dirty | needs_escape(b)) {
                break;
            }
            i += CHUNK;
        }
        let end = (i + CHUNK).min(bytes.len());
        while i < end {
            let b = bytes[i];
            if needs_escape(b) {
                out.extend_from_slice(&bytes[start..i]);
                write_escape(out, b);
                start = i + 1;
            }
            i += 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn write_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xf)],
        ]),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn ours(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        write_value(&mut out, v);
        out
    }

    #[test]
    fn matches_serde_json_on_awkward_values() {
        let long_clean = "x".repeat(100);
        let long_dirty = format!(
            "{}\"{}\\{}\n{}",
            "a".repeat(17),
            "b".repeat(15),
            "c".repeat(33),
            "d".repeat(3)
        );
        for v in [
            json!(null),
            json!([true, false, 0, -1, u64::MAX, i64::MIN, 0.1, 1e300, -2.5e-300, 1.0]),
            json!(""),
            json!("\u{0}\u{7}\u{8}\t\n\u{b}\u{c}\r\u{1f} \"\\/\u{7f}é😀\u{2028}"),
            json!(long_clean),
            json!(long_dirty),
            json!({"a\"": {"b\n": [{}, [], ""]}, "z": "é"}),
        ] {
            assert_eq!(ours(&v), serde_json::to_vec(&v).unwrap(), "{v}");
        }
    }

    proptest! {
        #[test]
        fn strings_match_serde_json(s in any::<String>(), n in 0usize..40) {
            let v = json!([s.repeat(n.min(3) + 1), {s.clone(): n}]);
            prop_assert_eq!(ours(&v), serde_json::to_vec(&v).unwrap());
        }
    }
}
