//! Binary data anywhere in a payload: byte strings ([`Binary`], `bytes::Bytes`, `serde_bytes`)
//! serialize to Socket.IO placeholders while a payload is being built (`ser`), and deserialize
//! from them while a payload is being read (`de`); the attachments travel beside the JSON.
//! `ser` and `de` also hold the argument rule: a tuple is several arguments.

mod de;
mod ser;

use std::cell::{Cell, RefCell};
use std::fmt;

use bytes::Bytes;
use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

thread_local! {
    /// Attachments collected while serializing a payload on this thread.
    static OUTGOING: RefCell<Option<Vec<Bytes>>> = const { RefCell::new(None) };
    /// Attachments of the payload being deserialized on this thread.
    static INCOMING: RefCell<Option<Vec<Bytes>>> = const { RefCell::new(None) };
}

/// Bytes that travel as a Socket.IO binary attachment, at any depth of an event's data.
///
/// `bytes::Bytes` and `#[serde(with = "serde_bytes")] Vec<u8>` travel the same way; `Binary`
/// is sent without copying its bytes.
///
/// ```
/// use ferrio::{Binary, Payload};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Upload {
///     name: String,
///     data: Binary,
/// }
///
/// let payload = Payload::new().arg(&Upload { name: "a.png".into(), data: Binary::from(&b"\x89PNG"[..]) })?;
/// assert_eq!(payload.args[0]["data"], serde_json::json!({"_placeholder": true, "num": 0}));
/// assert_eq!(&payload.attachments[0][..], b"\x89PNG");
///
/// let back: Upload = payload.deserialize()?;
/// assert_eq!(&back.data[..], b"\x89PNG");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Binary(pub Bytes);

impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Binary({} bytes)", self.0.len())
    }
}

impl std::ops::Deref for Binary {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Bytes> for Binary {
    fn from(b: Bytes) -> Self {
        Binary(b)
    }
}

impl From<Vec<u8>> for Binary {
    fn from(v: Vec<u8>) -> Self {
        Binary(Bytes::from(v))
    }
}

impl From<&[u8]> for Binary {
    fn from(v: &[u8]) -> Self {
        Binary(Bytes::copy_from_slice(v))
    }
}

impl From<Binary> for Bytes {
    fn from(b: Binary) -> Self {
        b.0
    }
}

impl Serialize for Binary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let num = OUTGOING.with(|out| {
            out.borrow_mut().as_mut().map(|attachments| {
                attachments.push(self.0.clone());
                attachments.len() - 1
            })
        });
        match num {
            Some(num) => ferrio_protocol::socket::placeholder(num).serialize(serializer),
            // Outside a payload (e.g. plain serde_json), bytes are bytes.
            None => serializer.serialize_bytes(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Binary {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BinaryVisitor)
    }
}

struct BinaryVisitor;

impl<'de> Visitor<'de> for BinaryVisitor {
    type Value = Binary;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a binary attachment placeholder or bytes")
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Binary, E> {
        Ok(Binary(Bytes::copy_from_slice(v)))
    }

    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Binary, E> {
        Ok(Binary(Bytes::from(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Binary, A::Error> {
        let mut out = Vec::new();
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(Binary(Bytes::from(out)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Binary, A::Error> {
        let mut is_placeholder = false;
        let mut num = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "_placeholder" => is_placeholder = map.next_value::<bool>()?,
                "num" => num = Some(map.next_value::<usize>()?),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        let (true, Some(num)) = (is_placeholder, num) else {
            return Err(serde::de::Error::custom("expected a binary attachment placeholder"));
        };
        INCOMING
            .with(|incoming| incoming.borrow().as_ref().and_then(|a| a.get(num).cloned()))
            .map(Binary)
            .ok_or_else(|| serde::de::Error::custom(format!("no binary attachment number {num}")))
    }
}

/// Restores a thread-local slot when dropped, so nested or panicking calls leave it as found.
struct Restore<'a> {
    slot: &'static std::thread::LocalKey<RefCell<Option<Vec<Bytes>>>>,
    previous: Option<Option<Vec<Bytes>>>,
    _marker: std::marker::PhantomData<&'a ()>,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            self.slot.with(|s| *s.borrow_mut() = previous);
        }
    }
}

/// Runs `f` with `attachments` as the thread's outgoing attachments, and puts them back.
fn with_outgoing<R>(attachments: &mut Vec<Bytes>, f: impl FnOnce() -> R) -> R {
    let previous = OUTGOING.with(|s| s.replace(Some(std::mem::take(attachments))));
    let guard =
        Restore { slot: &OUTGOING, previous: Some(previous), _marker: std::marker::PhantomData };
    let result = f();
    *attachments = OUTGOING.with(|s| s.borrow_mut().take()).unwrap_or_default();
    drop(guard);
    result
}

/// Serializes `data` to one JSON value, appending the byte strings it contains ([`Binary`],
/// `bytes::Bytes`, `serde_bytes`…) to `attachments` (placeholders numbered after what is
/// already there).
pub(crate) fn serialize_with_attachments<T: Serialize + ?Sized>(
    data: &T,
    attachments: &mut Vec<Bytes>,
) -> Result<Value, serde_json::Error> {
    with_outgoing(attachments, || {
        data.serialize(ser::Ser { inner: serde_json::value::Serializer, root_tuple: None })
    })
}

/// Serializes `data` as the arguments of an event or ack, appended to `args`: the elements of
/// a tuple, a tuple struct or a fixed-size array are several arguments; any other value is one.
/// Byte strings become `attachments`, as in [`serialize_with_attachments`].
pub(crate) fn serialize_args<T: Serialize + ?Sized>(
    data: &T,
    args: &mut Vec<Value>,
    attachments: &mut Vec<Bytes>,
) -> Result<(), serde_json::Error> {
    let tuple = Cell::new(false);
    let value = with_outgoing(attachments, || {
        data.serialize(ser::Ser { inner: serde_json::value::Serializer, root_tuple: Some(&tuple) })
    })?;
    match value {
        Value::Array(elements) if tuple.get() => args.extend(elements),
        value => args.push(value),
    }
    Ok(())
}

/// Reads `T` from the arguments `args` of an event or ack (a tuple type takes them in order,
/// any other type the first one), resolving placeholders against `attachments`.
pub(crate) fn deserialize_args<T: DeserializeOwned>(
    args: &[Value],
    attachments: &[Bytes],
) -> Result<T, serde_json::Error> {
    if attachments.is_empty() {
        return T::deserialize(de::Args(args));
    }
    let previous = INCOMING.with(|s| s.replace(Some(attachments.to_vec())));
    let _guard =
        Restore { slot: &INCOMING, previous: Some(previous), _marker: std::marker::PhantomData };
    T::deserialize(de::Args(args))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bytes::Bytes;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use crate::{Binary, Payload};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Unit,
        Pair(u8, Bytes),
        Named { data: Bytes, id: u32 },
    }

    #[test]
    fn bytes_round_trip_in_maps_with_numeric_keys_and_in_every_kind_of_variant() {
        let map: BTreeMap<u32, Bytes> = [(1, Bytes::from_static(b"a")), (20, Bytes::new())].into();
        let shapes = vec![
            Shape::Unit,
            Shape::Pair(7, Bytes::from_static(b"p")),
            Shape::Named { data: Bytes::from_static(b"n"), id: 3 },
        ];
        let payload = Payload::from_data(&(&map, &shapes)).expect("serializes");
        assert_eq!(payload.attachments.len(), 4);
        assert_eq!(payload.args[0]["20"], json!({"_placeholder": true, "num": 1}));
        let (map_back, shapes_back): (BTreeMap<u32, Bytes>, Vec<Shape>) =
            payload.deserialize().expect("deserializes");
        assert_eq!(map_back, map);
        assert_eq!(shapes_back, shapes);
    }

    #[test]
    fn a_placeholder_without_its_attachment_or_number_is_an_error() {
        let p = Payload {
            args: vec![json!({"_placeholder": true, "num": 1})],
            attachments: vec![Bytes::from_static(b"only one")],
        };
        assert!(p.deserialize::<Bytes>().is_err());
        let p = Payload {
            args: vec![json!({"_placeholder": true})],
            attachments: vec![Bytes::from_static(b"x")],
        };
        assert!(p.deserialize::<Bytes>().is_err());
        // Read as JSON, a placeholder is the object it is.
        assert_eq!(p.deserialize::<serde_json::Value>().expect("a value"), p.args[0]);
    }

    #[test]
    fn arrays_of_numbers_still_read_as_bytes() {
        let p = Payload { args: vec![json!([1, 2, 3])], attachments: vec![Bytes::new()] };
        assert_eq!(&p.deserialize::<Bytes>().expect("bytes")[..], &[1, 2, 3]);
        assert_eq!(p.deserialize::<serde_bytes::ByteBuf>().expect("bytes").into_vec(), [1, 2, 3]);
    }

    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    enum WithBinary {
        File { data: Binary },
    }

    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    enum WithBytes {
        File {
            #[allow(dead_code)]
            data: Bytes,
        },
    }

    /// serde buffers untagged and flattened types before reading them, and its buffer knows
    /// nothing of attachments: `Binary` resolves its placeholder all the same, `Bytes` cannot.
    #[test]
    fn inside_untagged_types_binary_reads_its_attachment_and_bytes_does_not() {
        let p = Payload {
            args: vec![json!({"data": {"_placeholder": true, "num": 0}})],
            attachments: vec![Bytes::from_static(b"x")],
        };
        let WithBinary::File { data } = p.deserialize::<WithBinary>().expect("Binary resolves");
        assert_eq!(&data[..], b"x");
        assert!(p.deserialize::<WithBytes>().is_err());
    }
}
