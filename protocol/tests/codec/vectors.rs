//! Table-driven tests over the golden vectors in `tests/vectors/` (see its
//! README for the format).

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use ferrio_protocol::engine::{self, payload, sse, Frame, OpenPacket};
use ferrio_protocol::socket::{self, Decoder, Limits, PacketKind};
use ferrio_protocol::{DecodeError, Str};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn list<'a>(doc: &'a Value, key: &str) -> &'a [Value] {
    doc[key].as_array().unwrap_or_else(|| panic!("no list {key}"))
}

fn name(v: &Value) -> &str {
    v["name"].as_str().unwrap()
}

fn base64(v: &Value) -> Bytes {
    Bytes::from(STANDARD.decode(v.as_str().unwrap()).unwrap())
}

fn string(v: &Value) -> &str {
    v.as_str().unwrap()
}

/// `body`/`stream` as text, or `…Base64` as raw bytes.
fn bytes_field(v: &Value, key: &str) -> Bytes {
    match &v[key] {
        Value::String(s) => Bytes::copy_from_slice(s.as_bytes()),
        _ => base64(&v[format!("{key}Base64").as_str()]),
    }
}

fn error_name(e: &DecodeError) -> String {
    format!("{e:?}")
}

fn engine_packet(v: &Value) -> engine::Packet {
    let data = &v["data"];
    match (string(&v["type"]), data) {
        ("open", _) => {
            engine::Packet::Open(serde_json::from_value::<OpenPacket>(data.clone()).unwrap())
        }
        ("close", Value::Null) => engine::Packet::Close,
        ("ping", Value::Null) => engine::Packet::Ping,
        ("pong", Value::Null) => engine::Packet::Pong,
        ("ping", _) if data == "probe" => engine::Packet::PingProbe,
        ("pong", _) if data == "probe" => engine::Packet::PongProbe,
        ("message", Value::String(s)) => engine::Packet::Message(Str::from(s.as_str())),
        ("message", Value::Null) => engine::Packet::Binary(base64(&v["binary"])),
        ("upgrade", Value::Null) => engine::Packet::Upgrade,
        ("noop", Value::Null) => engine::Packet::Noop,
        other => panic!("bad engine packet {other:?}"),
    }
}

fn engine_packets(v: &Value) -> Vec<engine::Packet> {
    v.as_array().unwrap().iter().map(engine_packet).collect()
}

fn frame(v: &Value) -> Frame {
    match (&v["text"], &v["binary"]) {
        (Value::String(text), Value::Null) => Frame::Text(Str::from(text.as_str())),
        (Value::Null, binary) => Frame::Binary(base64(binary)),
        _ => panic!("bad frame {v}"),
    }
}

fn socket_packet(v: &Value) -> socket::Packet {
    let digit = u8::try_from(v["type"].as_u64().unwrap()).unwrap();
    socket::Packet {
        kind: PacketKind::from_digit(b'0' + digit).unwrap(),
        nsp: string(&v["nsp"]).to_owned(),
        id: v["id"].as_u64(),
        data: v.get("data").cloned(),
        attachments: v["attachments"]
            .as_array()
            .map_or_else(Vec::new, |a| a.iter().map(base64).collect()),
    }
}

/// Feeds socket frames in order; every result but the last must be `Ok`.
fn feed_socket(
    decoder: &mut Decoder,
    frames: &[Value],
) -> Result<Option<socket::Packet>, DecodeError> {
    let mut last = Ok(None);
    for (i, f) in frames.iter().enumerate() {
        assert!(last.is_ok(), "frame {} failed early: {last:?}", i - 1);
        last = match frame(f) {
            Frame::Text(text) => decoder.feed_text(&text),
            Frame::Binary(bytes) => decoder.feed_binary(bytes),
        };
    }
    last
}

/// The frames of a socket vector: `frames`, or `text` + `attachments`.
fn socket_frames(v: &Value, packet: Option<&socket::Packet>) -> Vec<Value> {
    if let Some(frames) = v["frames"].as_array() {
        return frames.clone();
    }
    let mut frames = vec![serde_json::json!({ "text": v["text"] })];
    for attachment in packet.map_or(&[][..], |p| &p.attachments) {
        frames.push(serde_json::json!({ "binary": STANDARD.encode(attachment) }));
    }
    frames
}

fn limits(v: &Value) -> Limits {
    let mut limits = Limits::default();
    if let Some(n) = v["limits"]["maxAttachments"].as_u64() {
        limits.max_attachments = usize::try_from(n).unwrap();
    }
    if let Some(n) = v["limits"]["maxPacketLen"].as_u64() {
        limits.max_packet_len = usize::try_from(n).unwrap();
    }
    limits
}

#[test]
fn engine_packets_both_ways() {
    let doc = load("engine");
    for v in list(&doc, "packets") {
        let packet = engine_packet(&v["packet"]);
        let frame = frame(v);
        assert_eq!(packet.encode(), frame, "encode {}", name(v));
        assert_eq!(engine::Packet::decode(frame.clone()), Ok(packet.clone()), "decode {}", name(v));
        // Text frames also decode as a payload item.
        if let Frame::Text(text) = frame {
            assert_eq!(payload::decode_one(text), Ok(packet), "decode_one {}", name(v));
        }
    }
}

#[test]
fn engine_payloads_both_ways() {
    let doc = load("engine");
    for v in list(&doc, "payloads") {
        let packets = engine_packets(&v["packets"]);
        let frames: Vec<Frame> = packets.iter().map(engine::Packet::encode).collect();
        let mut body = Vec::new();
        payload::encode(&frames, &mut body);
        assert_eq!(body, string(&v["body"]).as_bytes(), "encode {}", name(v));
        let measured: usize =
            frames.iter().map(payload::encoded_len).sum::<usize>() + frames.len() - 1;
        assert_eq!(measured, body.len(), "encoded_len {}", name(v));
        assert_eq!(payload::decode(Bytes::from(body), 16), Ok(packets), "decode {}", name(v));
    }
    for v in list(&doc, "decodeOnlyPayloads") {
        let packets = engine_packets(&v["packets"]);
        assert_eq!(payload::decode(bytes_field(v, "body"), 16), Ok(packets), "decode {}", name(v));
    }
}

#[test]
fn engine_invalid_inputs() {
    let doc = load("engine");
    for v in list(&doc, "invalidTexts") {
        let err = engine::Packet::decode_text(Str::from(string(&v["text"]))).unwrap_err();
        assert_eq!(error_name(&err), string(&v["error"]), "{}", name(v));
    }
    for v in list(&doc, "invalidPayloads") {
        let max = v["maxPackets"].as_u64().map_or(16, |n| usize::try_from(n).unwrap());
        let err = payload::decode(bytes_field(v, "body"), max).unwrap_err();
        assert_eq!(error_name(&err), string(&v["error"]), "{}", name(v));
    }
}

#[test]
fn socket_packets_both_ways() {
    let doc = load("socket");
    for v in list(&doc, "packets") {
        let packet = socket_packet(&v["packet"]);
        let text = string(&v["text"]);
        assert_eq!(packet.encode(), text, "encode {}", name(v));
        assert_eq!(
            packet.encode_message(),
            format!("4{text}").as_str(),
            "encode_message {}",
            name(v)
        );
        let mut decoder = Decoder::default();
        let frames = socket_frames(v, Some(&packet));
        assert_eq!(feed_socket(&mut decoder, &frames), Ok(Some(packet)), "decode {}", name(v));
        assert!(!decoder.is_reassembling());
    }
}

#[test]
fn socket_lenient_inputs() {
    let doc = load("socket");
    for v in list(&doc, "decodeOnly") {
        let packet = socket_packet(&v["packet"]);
        let frames = socket_frames(v, Some(&packet));
        let decoded = feed_socket(&mut Decoder::default(), &frames);
        assert_eq!(decoded, Ok(Some(packet.clone())), "decode {}", name(v));
        assert_eq!(packet.encode(), string(&v["canonical"]), "canonical {}", name(v));
    }
}

#[test]
fn socket_invalid_inputs() {
    let doc = load("socket");
    let mut seen = std::collections::BTreeSet::new();
    for v in list(&doc, "invalid") {
        let frames = socket_frames(v, None);
        let err = feed_socket(&mut Decoder::new(limits(v)), &frames).unwrap_err();
        assert_eq!(error_name(&err), string(&v["error"]), "{}", name(v));
        seen.insert(error_name(&err));
    }
    // Every error the socket decoder can report has a vector.
    for expected in [
        "Empty",
        "UnknownPacketType",
        "Truncated",
        "InvalidAttachmentCount",
        "TooManyAttachments",
        "InvalidPlaceholder",
        "AttachmentMismatch",
        "InvalidNamespace",
        "InvalidAckId",
        "InvalidJson",
        "InvalidData",
        "ReservedEvent",
        "PacketTooLarge",
        "UnexpectedBinary",
        "UnexpectedText",
    ] {
        assert!(seen.contains(expected), "no vector for {expected}");
    }
}

#[test]
fn socket_vectors_cover_every_kind() {
    let doc = load("socket");
    let kinds: std::collections::BTreeSet<u64> =
        list(&doc, "packets").iter().map(|v| v["packet"]["type"].as_u64().unwrap()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5, 6]);
}

/// Runs a stream through a parser fed in chunks of `size` (0 = whole).
fn parse_stream(stream: &[u8], size: usize, max: usize) -> (Vec<Value>, Result<(), DecodeError>) {
    let mut parser = sse::Parser::new(max);
    let mut results = Vec::new();
    let chunks: Vec<&[u8]> = if size == 0 { vec![stream] } else { stream.chunks(size).collect() };
    'feed: for chunk in chunks {
        parser.push(chunk);
        loop {
            match parser.next_packet() {
                Ok(Some(packet)) => {
                    results.push(serde_json::json!({ "packet": format!("{packet:?}") }))
                }
                Ok(None) => break,
                Err(e) => {
                    results.push(serde_json::json!({ "error": error_name(&e) }));
                    if e == DecodeError::PayloadTooLarge {
                        break 'feed;
                    }
                }
            }
        }
    }
    (results, parser.finish())
}

/// The vector's results in the form `parse_stream` produces.
fn expected_results(v: &Value) -> Vec<Value> {
    list(v, "results")
        .iter()
        .map(|r| match &r["packet"] {
            Value::Null => r.clone(),
            p => serde_json::json!({ "packet": format!("{:?}", engine_packet(p)) }),
        })
        .collect()
}

#[test]
fn sse_padding() {
    let doc = load("sse");
    let p = &doc["padding"];
    let spaces = usize::try_from(p["spaces"].as_u64().unwrap()).unwrap();
    let expected =
        format!("{}{}{}", string(&p["prefix"]), " ".repeat(spaces), string(&p["suffix"]));
    assert_eq!(sse::padding(), expected.as_bytes());
}

#[test]
fn sse_events_both_ways() {
    let doc = load("sse");
    for v in list(&doc, "events") {
        let frame = frame(&v["frame"]);
        let mut out = Vec::new();
        sse::encode_event(&frame, &mut out);
        let event = string(&v["event"]);
        assert_eq!(String::from_utf8(out).unwrap(), event, "encode {}", name(v));
        let packet = format!("{:?}", engine_packet(&v["packet"]));
        assert_eq!(engine::Packet::decode(frame).map(|p| format!("{p:?}")), Ok(packet.clone()));
        for size in 0..=event.len() {
            let (results, finish) = parse_stream(event.as_bytes(), size, 65536);
            assert_eq!(
                results,
                [serde_json::json!({ "packet": packet })],
                "parse {} in chunks of {size}",
                name(v)
            );
            assert_eq!(finish, Ok(()));
        }
    }
}

#[test]
fn sse_streams_and_invalid_streams() {
    let doc = load("sse");
    for v in list(&doc, "streams").iter().chain(list(&doc, "invalid")) {
        let stream = bytes_field(v, "stream");
        let max = v["maxEventLen"].as_u64().map_or(65536, |n| usize::try_from(n).unwrap());
        let expected = expected_results(v);
        let finish = v["finish"].as_str().map(String::from);
        for size in [0, 1, 2, 3, 5, 7, 11] {
            let (results, end) = parse_stream(&stream, size, max);
            assert_eq!(results, expected, "{} in chunks of {size}", name(v));
            assert_eq!(
                end.err().as_ref().map(error_name),
                finish,
                "finish {} in chunks of {size}",
                name(v)
            );
        }
    }
}
