//! Binary placeholders: `{"_placeholder":true,"num":N}`.

use serde_json::{Map, Value};

use crate::DecodeError;

/// The placeholder standing for attachment `num` in a binary packet's data:
/// `{"_placeholder":true,"num":num}`.
///
/// ```
/// use ferrio_protocol::socket::placeholder;
///
/// assert_eq!(placeholder(1).to_string(), r#"{"_placeholder":true,"num":1}"#);
/// ```
pub fn placeholder(num: usize) -> Value {
    let mut map = Map::new();
    map.insert("_placeholder".to_owned(), Value::Bool(true));
    map.insert("num".to_owned(), Value::from(num));
    Value::Object(map)
}

/// Checks that the placeholders in `data` reference each of `count`
/// attachments exactly once.
///
/// A placeholder is any object whose `_placeholder` is `true` (as in the
/// reference parser); its other keys are not looked at, nor is it searched
/// for nested placeholders.
pub(crate) fn check(data: &Value, count: usize) -> Result<(), DecodeError> {
    let mut seen = vec![false; count];
    visit(data, &mut seen)?;
    if seen.iter().all(|&s| s) {
        Ok(())
    } else {
        Err(DecodeError::AttachmentMismatch)
    }
}

/// Marks the placeholders under `value`. Recursion is bounded by
/// serde_json's nesting limit (128) on decoded values.
fn visit(value: &Value, seen: &mut [bool]) -> Result<(), DecodeError> {
    match value {
        Value::Array(items) => items.iter().try_for_each(|item| visit(item, seen)),
        Value::Object(map) if map.get("_placeholder") == Some(&Value::Bool(true)) => {
            let num = map
                .get("num")
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(DecodeError::InvalidPlaceholder)?;
            let slot = seen.get_mut(num).ok_or(DecodeError::InvalidPlaceholder)?;
            if std::mem::replace(slot, true) {
                return Err(DecodeError::AttachmentMismatch);
            }
            Ok(())
        }
        Value::Object(map) => map.values().try_for_each(|item| visit(item, seen)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn accepts_exact_references_in_any_order_and_depth() {
        let data = json!(["a", {"x": [placeholder(1)]}, placeholder(0)]);
        assert_eq!(check(&data, 2), Ok(()));
        assert_eq!(check(&json!(["a"]), 0), Ok(()));
        // Not a placeholder: `_placeholder` is not `true`.
        assert_eq!(check(&json!(["a", {"_placeholder": 1, "num": 9}]), 0), Ok(()));
    }

    #[test]
    fn rejects_bad_nums_and_mismatches() {
        for num in [json!(-1), json!(1.5), json!("0"), json!(2), json!(null)] {
            let data = json!(["a", {"_placeholder": true, "num": num}]);
            assert_eq!(check(&data, 2), Err(DecodeError::InvalidPlaceholder), "{num}");
        }
        let data = json!(["a", {"_placeholder": true}]);
        assert_eq!(check(&data, 1), Err(DecodeError::InvalidPlaceholder));
        let twice = json!(["a", placeholder(0), placeholder(0)]);
        assert_eq!(check(&twice, 2), Err(DecodeError::AttachmentMismatch));
        let missing = json!(["a", placeholder(0)]);
        assert_eq!(check(&missing, 2), Err(DecodeError::AttachmentMismatch));
    }
}
