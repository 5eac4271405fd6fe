//! Property tests: encode → decode round trips, and no decoder panics on
//! any input.

use bytes::Bytes;
use ferrio_protocol::engine::{self, payload, sse, Frame, OpenPacket};
use ferrio_protocol::socket::{self, placeholder, Decoder, Limits, PacketKind, RESERVED_EVENTS};
use ferrio_protocol::Str;
use proptest::prelude::*;
use serde_json::Value;

// ------------------------------------------------------------- strategies

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn open_packet() -> impl Strategy<Value = OpenPacket> {
    (
        any::<String>(),
        prop::collection::vec(any::<String>(), 0..3),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(|(sid, upgrades, ping_interval, ping_timeout, max_payload)| OpenPacket {
            sid,
            upgrades,
            ping_interval,
            ping_timeout,
            max_payload,
        })
}

/// Any engine packet; `message` chooses the text of messages.
fn engine_packet(
    message: impl Strategy<Value = String> + 'static,
) -> impl Strategy<Value = engine::Packet> {
    prop_oneof![
        open_packet().prop_map(engine::Packet::Open),
        Just(engine::Packet::Close),
        Just(engine::Packet::Ping),
        Just(engine::Packet::Pong),
        Just(engine::Packet::PingProbe),
        Just(engine::Packet::PongProbe),
        Just(engine::Packet::Upgrade),
        Just(engine::Packet::Noop),
        message.prop_map(|s| engine::Packet::Message(Str::from(s))),
        bytes(64).prop_map(engine::Packet::Binary),
    ]
}

/// Arbitrary JSON. Floats are multiples of 1/4 so that their text form
/// reparses exactly (serde_json's default float parsing is not always
/// correctly rounded).
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-4_000_000i64..4_000_000).prop_map(|q| Value::from(q as f64 / 4.0 + 0.25)),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::btree_map("[a-z_é]{0,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn namespace() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_owned()), "/[a-zA-Z0-9_.~é☃😀-]{1,10}"]
}

fn event_name() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>()
            .prop_filter("reserved", |s| !RESERVED_EVENTS.contains(&s.as_str()))
            .prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
    ]
}

/// Inserts `placeholder(0..count)` into `items` (after `skip` leading items),
/// some nested in arrays or objects, at positions drawn from `seeds`.
fn with_placeholders(mut items: Vec<Value>, skip: usize, seeds: &[(usize, u8)]) -> Value {
    for (num, &(at, wrap)) in seeds.iter().enumerate() {
        let p = placeholder(num);
        let p = match wrap {
            0 => p,
            1 => Value::from(vec![p]),
            _ => serde_json::json!({ "bin": p }),
        };
        let at = skip + at % (items.len() - skip + 1);
        items.insert(at, p);
    }
    Value::from(items)
}

/// Any valid Socket.IO packet, binary ones with their attachments.
fn socket_packet() -> impl Strategy<Value = socket::Packet> {
    let kind = prop_oneof![
        Just(PacketKind::Connect),
        Just(PacketKind::Disconnect),
        Just(PacketKind::Event),
        Just(PacketKind::Ack),
        Just(PacketKind::ConnectError),
        Just(PacketKind::BinaryEvent),
        Just(PacketKind::BinaryAck),
    ];
    let args = prop::collection::vec(json(), 0..4);
    let attachments = prop::collection::vec((bytes(32), any::<usize>(), 0u8..3), 0..4);
    (
        kind,
        namespace(),
        any::<u64>(),
        any::<bool>(),
        event_name(),
        args,
        attachments,
        json(),
        any::<String>(),
    )
        .prop_map(|(kind, nsp, id, with_id, name, args, attachments, any_json, text)| {
            let (attachments, seeds): (Vec<Bytes>, Vec<(usize, u8)>) =
                attachments.into_iter().map(|(b, at, wrap)| (b, (at, wrap))).unzip();
            let object = |v: Value| match v {
                Value::Object(_) => v,
                other => serde_json::json!({ "value": other }),
            };
            let (id, data, attachments) = match kind {
                PacketKind::Connect => (None, with_id.then(|| object(any_json)), vec![]),
                PacketKind::Disconnect => (None, None, vec![]),
                PacketKind::ConnectError => {
                    let data = if with_id { object(any_json) } else { Value::from(text) };
                    (None, Some(data), vec![])
                }
                PacketKind::Event => {
                    let data = [vec![name], args].concat();
                    (with_id.then_some(id), Some(Value::from(data)), vec![])
                }
                PacketKind::Ack => (Some(id), Some(Value::from(args)), vec![]),
                PacketKind::BinaryEvent => {
                    let data = with_placeholders([vec![name], args].concat(), 1, &seeds);
                    (with_id.then_some(id), Some(data), attachments)
                }
                PacketKind::BinaryAck => {
                    (Some(id), Some(with_placeholders(args, 0, &seeds)), attachments)
                }
            };
            socket::Packet { kind, nsp, id, data, attachments }
        })
}

/// Text made of the protocol's own punctuation, to reach deep decoder paths.
fn protocolish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[0-9]{1,3}",
        Just("-".to_owned()),
        Just("/".to_owned()),
        Just(",".to_owned()),
        Just("/chat,".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("\"a\"".to_owned()),
        Just(":".to_owned()),
        Just("\"_placeholder\":true".to_owned()),
        Just("\"num\":".to_owned()),
        Just("{\"_placeholder\":true,\"num\":0}".to_owned()),
        Just("probe".to_owned()),
        Just("\u{1e}".to_owned()),
        Just("\n".to_owned()),
        Just("\r".to_owned()),
        Just("data: ".to_owned()),
        Just("event: b64".to_owned()),
        Just("b".to_owned()),
        Just("é".to_owned()),
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// A frame a peer could send to a socket decoder.
#[derive(Debug, Clone)]
enum SocketFrame {
    Text(String),
    Binary(Bytes),
}

fn socket_frames() -> impl Strategy<Value = Vec<SocketFrame>> {
    let frame = prop_oneof![
        protocolish().prop_map(SocketFrame::Text),
        any::<String>().prop_map(SocketFrame::Text),
        bytes(8).prop_map(SocketFrame::Binary),
    ];
    prop::collection::vec(frame, 0..8)
}

/// Splits `data` at the (sorted, deduplicated) cut points.
fn chunks<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts {
        out.push(&data[start..cut]);
        start = cut;
    }
    out.push(&data[start..]);
    out
}

/// Reads every packet of `stream` fed in `chunks`.
fn parse_sse(
    stream: &[u8],
    cuts: &[usize],
    max: usize,
) -> Vec<Result<engine::Packet, ferrio_protocol::DecodeError>> {
    let mut parser = sse::Parser::new(max);
    let mut out = Vec::new();
    for chunk in chunks(stream, cuts) {
        parser.push(chunk);
        // Each call consumes input or returns, so this terminates; the
        // bound guards the property itself.
        for _ in 0..=stream.len() + 1 {
            match parser.next_packet() {
                Ok(Some(p)) => out.push(Ok(p)),
                Ok(None) => break,
                Err(e) => {
                    let fatal = e == ferrio_protocol::DecodeError::PayloadTooLarge;
                    out.push(Err(e));
                    if fatal {
                        return out;
                    }
                }
            }
        }
    }
    let _ = parser.finish();
    out
}

// ------------------------------------------------------------ round trips

proptest! {
    #[test]
    fn engine_packet_round_trips(packet in engine_packet(any::<String>())) {
        let frame = packet.encode();
        prop_assert_eq!(engine::Packet::decode(frame.clone()), Ok(packet.clone()));
        if let Frame::Text(text) = frame {
            prop_assert_eq!(payload::decode_one(text), Ok(packet));
        }
    }

    #[test]
    fn payload_round_trips(packets in prop::collection::vec(engine_packet("[^\u{1e}]*"), 1..8)) {
        let frames: Vec<Frame> = packets.iter().map(engine::Packet::encode).collect();
        let mut body = Vec::new();
        payload::encode(&frames, &mut body);
        let measured = frames.iter().map(payload::encoded_len).sum::<usize>() + frames.len() - 1;
        prop_assert_eq!(measured, body.len());
        prop_assert_eq!(payload::decode(Bytes::from(body), packets.len()), Ok(packets));
    }

    #[test]
    fn sse_round_trips(
        packets in prop::collection::vec(engine_packet(any::<String>()), 0..6),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
        bom in any::<bool>(),
    ) {
        let mut stream = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        stream.extend_from_slice(sse::padding());
        for packet in &packets {
            sse::encode_event(&packet.encode(), &mut stream);
        }
        let expected: Vec<_> = packets.into_iter().map(Ok).collect();
        prop_assert_eq!(parse_sse(&stream, &cuts, 1 << 16), expected);
    }

    #[test]
    fn socket_packet_round_trips(packet in socket_packet()) {
        let text = packet.encode();
        prop_assert_eq!(text.len(), text.capacity(), "one exactly-sized allocation");
        let message = format!("4{text}");
        prop_assert_eq!(packet.encode_message(), message.as_str());
        let mut decoder = Decoder::new(Limits::default());
        let mut decoded = decoder.feed_text(&text);
        for attachment in &packet.attachments {
            prop_assert_eq!(&decoded, &Ok(None));
            decoded = decoder.feed_binary(attachment.clone());
        }
        prop_assert_eq!(decoded, Ok(Some(packet)));
        prop_assert!(!decoder.is_reassembling());
    }

    #[test]
    fn str_slices_match_str(s in any::<String>(), a in 0usize..64, b in 0usize..64) {
        let st = Str::from(s.as_str());
        let slice = st.slice(a..b);
        prop_assert_eq!(slice.as_deref(), s.get(a..b));
    }
}

// ---------------------------------------------------------- never panics

proptest! {
    #[test]
    fn payload_decode_never_panics(body in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        protocolish().prop_map(String::into_bytes),
    ], max in 0usize..8) {
        let _ = payload::decode(Bytes::from(body), max);
    }

    #[test]
    fn engine_decode_never_panics(text in prop_oneof![any::<String>(), protocolish()]) {
        let _ = engine::Packet::decode_text(Str::from(text.as_str()));
        let _ = payload::decode_one(Str::from(text.as_str()));
    }

    #[test]
    fn sse_parser_never_panics(
        stream in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..128),
            protocolish().prop_map(String::into_bytes),
        ],
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        max in 0usize..32,
    ) {
        let _ = parse_sse(&stream, &cuts, max);
    }

    #[test]
    fn socket_decoder_never_panics(frames in socket_frames(), max_attachments in 0usize..4) {
        let mut decoder = Decoder::new(Limits::default().with_max_attachments(max_attachments));
        for frame in frames {
            let _ = match frame {
                SocketFrame::Text(text) => decoder.feed_text(&text),
                SocketFrame::Binary(bytes) => decoder.feed_binary(bytes),
            };
        }
    }
}
