//! The arguments of an event or an ack, as they travel.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::binary::{deserialize_with_attachments, serialize_with_attachments};

/// The arguments of an event or ack: JSON values in which binary data stands as
/// `{"_placeholder":true,"num":N}`, and the attachments those placeholders point to.
///
/// Handlers receive it with the [`Payload`] extractor when they want the raw arguments (to
/// forward them unchanged, say); emitting a `Payload` sends exactly these arguments.
///
/// ```
/// use ferrio::Payload;
///
/// let p = Payload::new().arg(&"hello")?.arg(&42)?;
/// assert_eq!(p.args, vec![serde_json::json!("hello"), serde_json::json!(42)]);
/// let (word, n): (String, u32) = p.deserialize()?;
/// assert_eq!((word.as_str(), n), ("hello", 42));
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

    /// A payload of one argument.
    pub fn from_data<T: Serialize + ?Sized>(data: &T) -> Result<Self, serde_json::Error> {
        Payload::new().arg(data)
    }

    /// Appends an argument; [`Binary`](crate::Binary) values inside it become attachments.
    pub fn arg<T: Serialize + ?Sized>(mut self, data: &T) -> Result<Self, serde_json::Error> {
        let value = serialize_with_attachments(data, &mut self.attachments)?;
        self.args.push(value);
        Ok(self)
    }

    /// Reads the arguments as `T`: a single argument is read as `T` itself, several (or none)
    /// as a sequence, so a tuple type takes them in order.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match self.args.as_slice() {
            [single] => deserialize_with_attachments(single, &self.attachments),
            many => deserialize_with_attachments(&Value::Array(many.to_vec()), &self.attachments),
        }
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

/// What can be emitted: any serde type (one argument) or a [`Payload`] (its arguments as is).
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
/// [`Payload::deserialize`] does), or the raw [`Payload`].
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
