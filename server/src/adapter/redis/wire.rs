//! What travels through Redis: stream entries' fields, requests and responses (JSON).

use std::collections::HashMap;

use base64::Engine as _;
use bytes::Bytes;
use ferrio_protocol::engine::Frame;
use ferrio_protocol::Str;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::adapter::{BroadcastOptions, RemoteSocketData, Room, RoomChange};
use crate::engine::Sid;
use crate::errors::{AckError, SendError};
use crate::Payload;

/// [`BroadcastOptions`] as JSON.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct WireOpts {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rooms: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    except: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    except_socket: Option<String>,
}

impl From<&BroadcastOptions> for WireOpts {
    fn from(o: &BroadcastOptions) -> Self {
        WireOpts {
            rooms: o.rooms.iter().map(|r| r.to_string()).collect(),
            except: o.except.iter().map(|r| r.to_string()).collect(),
            except_socket: o.except_socket.as_ref().map(|s| s.as_str().to_owned()),
        }
    }
}

impl From<WireOpts> for BroadcastOptions {
    fn from(o: WireOpts) -> Self {
        BroadcastOptions {
            rooms: o.rooms.into_iter().map(Room::from).collect(),
            except: o.except.into_iter().map(Room::from).collect(),
            except_socket: o.except_socket.as_deref().map(Sid::from_wire),
            local: false,
        }
    }
}

/// What a stream entry carries.
#[derive(Debug)]
pub(crate) enum Entry {
    /// An event: its frames (text, then attachments); `sequenced` when every node, its
    /// origin included, delivers it in stream order with its id as offset.
    Event { opts: BroadcastOptions, frames: Vec<Frame>, sequenced: bool },
    /// A room change.
    Rooms { opts: BroadcastOptions, change: RoomChange },
    /// A disconnect.
    Disconnect { opts: BroadcastOptions },
}

/// The fields of a stream entry: `n` origin node, `t` type (`e` event, `j` join, `l` leave,
/// `d` disconnect), `s` `1` when sequenced, `o` the options (JSON), `f` the text frame,
/// `b0`… the binary attachments, `r` the rooms of a room change (JSON).
pub(crate) fn entry_fields(node: &str, entry: &Entry) -> Vec<(String, Bytes)> {
    let json = |v: &WireOpts| Bytes::from(serde_json::to_vec(v).unwrap_or_default());
    let mut out = vec![("n".to_owned(), Bytes::copy_from_slice(node.as_bytes()))];
    match entry {
        Entry::Event { opts, frames, sequenced } => {
            out.push(("t".into(), Bytes::from_static(b"e")));
            out.push(("s".into(), Bytes::from_static(if *sequenced { b"1" } else { b"0" })));
            out.push(("o".into(), json(&opts.into())));
            let mut binary = 0;
            for frame in frames {
                match frame {
                    Frame::Text(text) => out.push(("f".into(), text.clone().into())),
                    Frame::Binary(bytes) => {
                        out.push((format!("b{binary}"), bytes.clone()));
                        binary += 1;
                    }
                }
            }
        }
        Entry::Rooms { opts, change } => {
            let (t, rooms) = match change {
                RoomChange::Join(r) => ("j", r),
                RoomChange::Leave(r) => ("l", r),
            };
            let rooms: Vec<&str> = rooms.iter().map(|r| &**r).collect();
            out.push(("t".into(), Bytes::copy_from_slice(t.as_bytes())));
            out.push(("o".into(), json(&opts.into())));
            out.push(("r".into(), Bytes::from(serde_json::to_vec(&rooms).unwrap_or_default())));
        }
        Entry::Disconnect { opts } => {
            out.push(("t".into(), Bytes::from_static(b"d")));
            out.push(("o".into(), json(&opts.into())));
        }
    }
    out
}

fn field<'a>(map: &'a HashMap<String, redis::Value>, name: &str) -> Option<&'a [u8]> {
    match map.get(name)? {
        redis::Value::BulkString(b) => Some(b),
        redis::Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// Reads a stream entry: its origin node and what it carries; `None` for one this version
/// cannot read (it is skipped).
pub(crate) fn parse_entry(map: &HashMap<String, redis::Value>) -> Option<(String, Entry)> {
    let node = String::from_utf8(field(map, "n")?.to_vec()).ok()?;
    let opts: BroadcastOptions =
        serde_json::from_slice::<WireOpts>(field(map, "o").unwrap_or(b"{}")).ok()?.into();
    let entry = match field(map, "t")? {
        b"e" => {
            let text = Str::from(std::str::from_utf8(field(map, "f")?).ok()?);
            let mut frames = vec![Frame::Text(text)];
            let mut i = 0;
            while let Some(b) = field(map, &format!("b{i}")) {
                frames.push(Frame::Binary(Bytes::copy_from_slice(b)));
                i += 1;
            }
            Entry::Event { opts, frames, sequenced: field(map, "s") == Some(b"1") }
        }
        t @ (b"j" | b"l") => {
            let rooms: Vec<String> = serde_json::from_slice(field(map, "r")?).ok()?;
            let rooms = rooms.into_iter().map(Room::from).collect();
            let change = if t == b"j" { RoomChange::Join(rooms) } else { RoomChange::Leave(rooms) };
            Entry::Rooms { opts, change }
        }
        b"d" => Entry::Disconnect { opts },
        _ => return None,
    };
    Some((node, entry))
}

/// A request, or a response, on pub/sub.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Message {
    /// The request's id (unique per requesting node).
    pub(crate) id: u64,
    /// The sending node.
    pub(crate) from: String,
    /// What it is: requests `fetch`, `rooms`, `sse` (server-side emit), `ackb` (broadcast
    /// with acks); responses `sockets`, `rooms`, `sse`, `count`, `ack`.
    pub(crate) kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) nsp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) opts: Option<WireOpts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) args: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) bin: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) ack: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sockets: Option<Vec<RemoteSocketData>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rooms: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) count: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) err: Option<String>,
}

/// Attachments as base64 strings, for JSON.
pub(crate) fn encode_bin(attachments: &[Bytes]) -> Vec<String> {
    attachments.iter().map(|b| base64::engine::general_purpose::STANDARD.encode(b)).collect()
}

/// Attachments back from base64; `None` when one is not base64.
pub(crate) fn decode_bin(bin: &[String]) -> Option<Vec<Bytes>> {
    bin.iter()
        .map(|s| base64::engine::general_purpose::STANDARD.decode(s).ok().map(Bytes::from))
        .collect()
}

/// A payload from its JSON arguments and base64 attachments.
pub(crate) fn payload_of(args: Option<Value>, bin: &[String]) -> Option<Payload> {
    let args = match args {
        Some(Value::Array(args)) => args,
        None => Vec::new(),
        Some(other) => vec![other],
    };
    Some(Payload { args, attachments: decode_bin(bin)? })
}

/// An acknowledgement's failure as a word, and back.
pub(crate) fn ack_error_word(e: &AckError) -> &'static str {
    match e {
        AckError::Timeout => "timeout",
        AckError::Decode(_) => "decode",
        AckError::Send(SendError::QueueFull) => "full",
        _ => "disconnected",
    }
}

pub(crate) fn ack_error_of(word: &str) -> AckError {
    match word {
        "timeout" => AckError::Timeout,
        "full" => AckError::Send(SendError::QueueFull),
        _ => AckError::Disconnected,
    }
}

/// Redis stream ids compare as `(ms, seq)`.
pub(crate) fn parse_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_map(fields: Vec<(String, Bytes)>) -> HashMap<String, redis::Value> {
        fields.into_iter().map(|(k, v)| (k, redis::Value::BulkString(v.to_vec()))).collect()
    }

    #[test]
    fn entries_read_back_as_written() {
        let opts = BroadcastOptions {
            rooms: vec![Room::from("a")],
            except_socket: Some(Sid::from_wire("xyz")),
            ..Default::default()
        };
        let frames =
            vec![Frame::Text(Str::from("451-[\"e\"]")), Frame::Binary(Bytes::from_static(b"\x01"))];
        let entry = Entry::Event { opts: opts.clone(), frames: frames.clone(), sequenced: true };
        let (node, back) = parse_entry(&to_map(entry_fields("AbCd", &entry))).expect("readable");
        assert_eq!(node, "AbCd");
        match back {
            Entry::Event { opts: o, frames: f, sequenced } => {
                assert_eq!(o, opts);
                assert_eq!(f, frames);
                assert!(sequenced);
            }
            other => panic!("{other:?}"),
        }
        let entry = Entry::Rooms { opts, change: RoomChange::Leave(vec![Room::from("r")]) };
        let (_, back) = parse_entry(&to_map(entry_fields("AbCd", &entry))).expect("readable");
        assert!(
            matches!(back, Entry::Rooms { change: RoomChange::Leave(r), .. } if r == vec![Room::from("r")])
        );
    }
}
