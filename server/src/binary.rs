//! Binary data anywhere in a payload: [`Binary`] serializes to a Socket.IO placeholder while a
//! payload is being built, and deserializes from one while a payload is being read.

use std::cell::RefCell;
use std::fmt;

use bytes::Bytes;
use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
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

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Binary, E> {
        Ok(Binary(Bytes::copy_from_slice(v)))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Binary, E> {
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
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let (true, Some(num)) = (is_placeholder, num) else {
            return Err(de::Error::custom("expected a binary attachment placeholder"));
        };
        INCOMING
            .with(|incoming| incoming.borrow().as_ref().and_then(|a| a.get(num).cloned()))
            .map(Binary)
            .ok_or_else(|| de::Error::custom(format!("no binary attachment number {num}")))
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

/// Serializes `data` to a JSON value, appending the [`Binary`] values it contains to
/// `attachments` (placeholders numbered after what is already there).
pub(crate) fn serialize_with_attachments<T: Serialize + ?Sized>(
    data: &T,
    attachments: &mut Vec<Bytes>,
) -> Result<Value, serde_json::Error> {
    let previous = OUTGOING.with(|s| s.replace(Some(std::mem::take(attachments))));
    let guard =
        Restore { slot: &OUTGOING, previous: Some(previous), _marker: std::marker::PhantomData };
    let result = serde_json::to_value(data);
    *attachments = OUTGOING.with(|s| s.borrow_mut().take()).unwrap_or_default();
    drop(guard);
    result
}

/// Deserializes `T` from `value`, resolving placeholders against `attachments`.
pub(crate) fn deserialize_with_attachments<T: DeserializeOwned>(
    value: &Value,
    attachments: &[Bytes],
) -> Result<T, serde_json::Error> {
    if attachments.is_empty() {
        return T::deserialize(value);
    }
    let previous = INCOMING.with(|s| s.replace(Some(attachments.to_vec())));
    let _guard =
        Restore { slot: &INCOMING, previous: Some(previous), _marker: std::marker::PhantomData };
    T::deserialize(value)
}
