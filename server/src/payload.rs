//! The arguments of an event or an ack, as they travel.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::binary::{deserialize_args, serialize_args, serialize_with_attachments};

/// The arguments of an event or ack: JSON values in which binary data stands as
/// `{"_placeholder":true,"num":N}`, and the attachments those placeholders point to.
///
/// Handlers receive it with the [`Payload`] extractor when they want the raw arguments (to
/// forward them unchanged, say); emitting a `Payload` sends exactly these arguments. Build one
/// to choose the arguments at run time — [`arg`](Self::arg) appends one argument, whatever its
/// type:
///
/// ```
/// use ferrio::Payload;
///
/// let p = Payload::new().arg(&"hello")?.arg(&42)?.arg(&(1, 2))?;
/// assert_eq!(p.args, vec![serde_json::json!("hello"), serde_json::json!(42), serde_json::json!([1, 2])]);
/// let (word, n): (String, u32) = p.deserialize()?;
/// assert_eq!((word.as_str(), n), ("hello", 42));
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// # Which values are several arguments
///
/// `emit`, `emit_with_ack` and `Ack::send` take any serde value and follow socketioxide's rule
/// ([`Payload::from_data`]): a **tuple**, a tuple struct or a **fixed-size array** is several
/// arguments, one per element; anything else — a `Vec`, a slice, a struct, a string, a
/// number… — is **one** argument. Reading goes the same way ([`Payload::deserialize`], the
/// [`Data`](crate::extract::Data) extractor): a tuple type takes the arguments in order, any
/// other type the first one.
///
/// | Rust | arguments on the wire | JavaScript listener |
/// |---|---|---|
/// | `emit("e", &"hi")` | `["e","hi"]` | `(text) => …` |
/// | `emit("e", &("hi", 2))` | `["e","hi",2]` | `(text, n) => …` |
/// | `emit("e", &[1, 2, 3])` | `["e",1,2,3]` | `(a, b, c) => …` |
/// | `emit("e", &vec![1, 2, 3])` | `["e",[1,2,3]]` | `(list) => …` |
/// | `emit("e", &[1, 2, 3][..])` | `["e",[1,2,3]]` | `(list) => …` |
/// | `emit("e", &([1, 2, 3],))` | `["e",[1,2,3]]` | `(list) => …` |
/// | `emit("e", &())` | `["e",null]` | `(nothing) => …` |
/// | `emit("e", Payload::new())` | `["e"]` | `() => …` |
///
/// So to send an array as the only argument, send a `Vec` or a slice, or wrap it in a
/// one-element tuple. Byte strings — [`Binary`](crate::Binary), `bytes::Bytes`, a `Vec<u8>`
/// with `#[serde(with = "serde_bytes")]` — travel as binary attachments wherever they sit,
/// and are read back from them (a plain `Vec<u8>` is an array of numbers, as in serde_json).
/// Inside a type serde buffers before reading it (`#[serde(untagged)]` enums,
/// `#[serde(flatten)]` fields), only `Binary` reads its attachment back.
///
/// ```
/// use ferrio::Payload;
/// use serde_json::json;
///
/// assert_eq!(Payload::from_data(&("hi", 2))?.args, vec![json!("hi"), json!(2)]);
/// assert_eq!(Payload::from_data(&vec![1, 2])?.args, vec![json!([1, 2])]);
///
/// let two = Payload::from_data(&("hi", 2))?;
/// let first: String = two.deserialize()?; // not a tuple: the first argument
/// let both: (String, Option<u8>, Option<u8>) = two.deserialize()?; // a missing one is null
/// assert_eq!(first, "hi");
/// assert_eq!(both, ("hi".to_owned(), Some(2), None));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Payload {
    /// The arguments, in order.
    pub args: Vec<Value>,
    /// The binary attachments referenced by placeholders in `args`.
    pub attachments: Vec<Bytes>,
}

impl Payload {
    /// No arguments.
    pub fn new() -> Self {
        Self::default()
    }

    /// The arguments `emit` sends for `data`: the elements of a tuple, a tuple struct or a
    /// fixed-size array, or `data` itself as the only argument (see [which values are several
    /// arguments](Payload#which-values-are-several-arguments)).
    pub fn from_data<T: Serialize + ?Sized>(data: &T) -> Result<Self, serde_json::Error> {
        let mut payload = Payload::new();
        serialize_args(data, &mut payload.args, &mut payload.attachments)?;
        Ok(payload)
    }

    /// Appends `data` as one argument, whatever its type (a tuple too); byte strings inside
    /// it become attachments.
    pub fn arg<T: Serialize + ?Sized>(mut self, data: &T) -> Result<Self, serde_json::Error> {
        let value = serialize_with_attachments(data, &mut self.attachments)?;
        self.args.push(value);
        Ok(self)
    }

    /// Reads the arguments as `T`: a tuple type (or tuple struct, or fixed-size array) takes
    /// them in order — a missing one reads as `null`, extra ones are ignored — and any other
    /// type reads the first argument (`null` when there is none). Placeholders are resolved
    /// against the attachments.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        deserialize_args(&self.args, &self.attachments)
    }

    /// Splits a decoded event's data (`["name", args…]`) into its name and payload.
    pub(crate) fn from_event_data(
        data: Option<Value>,
        attachments: Vec<Bytes>,
    ) -> (Option<String>, Payload) {
        let mut args = match data {
            Some(Value::Array(args)) => args,
            Some(other) => vec![other],
            None => Vec::new(),
        };
        let name = match args.first() {
            Some(Value::String(_)) => match args.remove(0) {
                Value::String(s) => Some(s),
                _ => None,
            },
            Some(Value::Number(n)) => {
                let n = n.to_string();
                args.remove(0);
                Some(n)
            }
            _ => None,
        };
        (name, Payload { args, attachments })
    }

    /// The data of an ACK packet (`[args…]`).
    pub(crate) fn from_ack_data(data: Option<Value>, attachments: Vec<Bytes>) -> Payload {
        let args = match data {
            Some(Value::Array(args)) => args,
            Some(other) => vec![other],
            None => Vec::new(),
        };
        Payload { args, attachments }
    }

    /// `["event", args…]`, the data of an EVENT packet, and the attachments.
    pub(crate) fn into_event_data(self, event: &str) -> (Value, Vec<Bytes>) {
        let mut data = Vec::with_capacity(self.args.len() + 1);
        data.push(Value::String(event.to_owned()));
        data.extend(self.args);
        (Value::Array(data), self.attachments)
    }
}

/// What can be emitted: a reference to any serde value (a tuple or a fixed-size array is
/// several arguments, anything else one: see [`Payload`]), or a [`Payload`] (its arguments as
/// they are).
pub trait IntoPayload {
    /// Converts into the arguments to send.
    fn into_payload(self) -> Result<Payload, serde_json::Error>;
}

impl<T: Serialize + ?Sized> IntoPayload for &T {
    fn into_payload(self) -> Result<Payload, serde_json::Error> {
        Payload::from_data(self)
    }
}

impl IntoPayload for Payload {
    fn into_payload(self) -> Result<Payload, serde_json::Error> {
        Ok(self)
    }
}

/// What an acknowledgement's arguments convert into: any serde type (read as
/// [`Payload::deserialize`] does: a tuple takes the arguments in order, another type the
/// first one), or the raw [`Payload`].
pub trait FromPayload: Sized {
    /// Converts the arguments.
    fn from_payload(payload: Payload) -> Result<Self, serde_json::Error>;
}

impl<T: DeserializeOwned> FromPayload for T {
    fn from_payload(payload: Payload) -> Result<Self, serde_json::Error> {
        payload.deserialize()
    }
}

impl FromPayload for Payload {
    fn from_payload(payload: Payload) -> Result<Self, serde_json::Error> {
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Binary;
    use serde_json::json;

    #[test]
    fn nested_binary_round_trips_with_renumbered_placeholders() {
        let p = Payload::new()
            .arg(&json!({"a": 1}))
            .unwrap()
            .arg(&(Binary::from(&b"x"[..]), vec![Binary::from(&b"yz"[..])]))
            .unwrap();
        assert_eq!(p.attachments.len(), 2);
        assert_eq!(
            p.args[1],
            json!([{"_placeholder": true, "num": 0}, [{"_placeholder": true, "num": 1}]])
        );
        let (_, (a, b)): (Value, (Binary, Vec<Binary>)) = p.deserialize().unwrap();
        assert_eq!(&a[..], b"x");
        assert_eq!(&b[0][..], b"yz");
    }

    #[test]
    fn event_data_splits_name_and_args() {
        let (name, p) = Payload::from_event_data(Some(json!(["chat", "hi", 2])), vec![]);
        assert_eq!(name.as_deref(), Some("chat"));
        assert_eq!(p.args, vec![json!("hi"), json!(2)]);
        assert_eq!(p.into_event_data("chat").0, json!(["chat", "hi", 2]));
    }

    #[test]
    fn a_placeholder_without_attachment_is_an_error() {
        let p = Payload {
            args: vec![json!({"_placeholder": true, "num": 3})],
            attachments: vec![Bytes::new()],
        };
        assert!(p.deserialize::<Binary>().is_err());
    }
}
