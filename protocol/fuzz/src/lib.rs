//! The bodies of the fuzz targets, one function per target, shared by the
//! two runners that feed them:
//!
//! - `fuzz_targets/*.rs`: libFuzzer through `cargo fuzz` (nightly, coverage
//!   guided; for long runs);
//! - `protocol/tests/fuzz/`: a stable-Rust runner that includes this file
//!   (`#[path]`) and feeds it proptest-generated inputs and mutations of the
//!   seed corpus in `seeds/<target>/`, for a bounded time (run by the test
//!   command).
//!
//! Each function panics when an invariant breaks; the runners report the
//! panic with the input that caused it. The file depends only on
//! `ferrio-protocol` and `bytes`, which both runners have.

use bytes::Bytes;
use ferrio_protocol::engine::{payload, sse, Frame};
use ferrio_protocol::socket::{Decoder, Limits};
use ferrio_protocol::{engine, socket, DecodeError, Str};

/// A target's body: panics when an invariant breaks on `data`.
pub type Body = fn(data: &[u8]);

/// Every target: its name (the `cargo fuzz` target and the seed folder) and
/// its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("payload_decode", payload_decode),
    ("sse_parser", sse_parser),
    ("socket_decoder", socket_decoder),
    ("payload_v3", payload_v3),
];

/// Polling bodies and single Engine.IO packets: never panic, and whatever
/// decodes re-encodes to something that decodes to the same packets.
pub fn payload_decode(data: &[u8]) {
    if let Ok(packets) = payload::decode(Bytes::copy_from_slice(data), 64) {
        let frames: Vec<Frame> = packets.iter().map(engine::Packet::encode).collect();
        let mut body = Vec::new();
        payload::encode(&frames, &mut body);
        let measured: usize =
            frames.iter().map(payload::encoded_len).sum::<usize>() + frames.len() - 1;
        assert_eq!(measured, body.len());
        assert_eq!(payload::decode(Bytes::from(body), 64).as_ref(), Ok(&packets));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(packet) = engine::Packet::decode_text(Str::from(text)) {
            assert_eq!(engine::Packet::decode(packet.encode()).as_ref(), Ok(&packet));
        }
        let _ = payload::decode_one(Str::from(text));
    }
}

/// Engine.IO v3 payloads (text with length headers, binary bodies) and text frames: never
/// panic, and a text payload that decodes re-encodes to one that decodes to the same packets.
///
/// Input: byte 0 picks text (even) or binary (odd), the rest is the body.
pub fn payload_v3(data: &[u8]) {
    let [kind, body @ ..] = data else {
        return;
    };
    if kind % 2 == 1 {
        let _ = engine::v3::decode_binary(Bytes::copy_from_slice(body), 64);
        let _ = engine::v3::decode_binary_frame(Bytes::copy_from_slice(body));
        return;
    }
    let Ok(text) = std::str::from_utf8(body) else { return };
    let _ = engine::v3::decode_item(Str::from(text));
    if let Ok(packets) = engine::v3::decode_text(Str::from(text), 64) {
        let frames: Vec<Frame> = packets.iter().map(engine::Packet::encode).collect();
        let mut out = Vec::new();
        engine::v3::encode(&frames, &mut out);
        let measured: usize = frames.iter().map(engine::v3::encoded_len).sum();
        assert_eq!(measured, out.len());
        let again = Str::try_from(Bytes::from(out));
        assert!(again.is_ok(), "an encoded payload is UTF-8");
        if let Ok(again) = again {
            assert_eq!(engine::v3::decode_text(again, 64).as_ref(), Ok(&packets));
        }
    }
}

/// The SSE parser: never panics, and yields the same results however the
/// stream is chunked.
///
/// Input: byte 0 picks the event size limit, byte 1 the chunk size, the rest
/// is the stream.
pub fn sse_parser(data: &[u8]) {
    let [max, chunk, stream @ ..] = data else {
        return;
    };
    let max = usize::from(*max) * 4;
    let whole = parse_sse(stream, stream.len(), max);
    let chunked = parse_sse(stream, usize::from(*chunk % 16), max);
    assert_eq!(whole, chunked);
}

type SseResults = (Vec<Result<engine::Packet, DecodeError>>, Result<(), DecodeError>);

fn parse_sse(stream: &[u8], chunk: usize, max: usize) -> SseResults {
    let mut parser = sse::Parser::new(max);
    let mut out = Vec::new();
    'feed: for chunk in stream.chunks(chunk.max(1)) {
        parser.push(chunk);
        loop {
            match parser.next_packet() {
                Ok(Some(packet)) => out.push(Ok(packet)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.clone()));
                    if e == DecodeError::PayloadTooLarge {
                        break 'feed;
                    }
                }
            }
        }
    }
    (out, parser.finish())
}

/// The Socket.IO decoder fed a sequence of text and binary frames: never
/// panics, and every packet it yields re-encodes to text it accepts again.
///
/// Input: byte 0 picks `max_attachments`; the rest is split on 0xFF into
/// frames, a frame starting with 0xFE being binary (neither byte occurs in
/// UTF-8, so text frames can hold any text).
pub fn socket_decoder(data: &[u8]) {
    let [first, rest @ ..] = data else {
        return;
    };
    let limits =
        Limits::default().with_max_attachments(usize::from(first % 8)).with_max_packet_len(4096);
    let mut decoder = Decoder::new(limits);
    for frame in rest.split(|&b| b == 0xFF) {
        let result = match frame {
            [0xFE, binary @ ..] => decoder.feed_binary(Bytes::copy_from_slice(binary)),
            text => decoder.feed_text(&String::from_utf8_lossy(text)),
        };
        if let Ok(Some(packet)) = result {
            check_round_trip(&packet, limits);
        }
    }
}

/// Feeds `packet`'s encoding to a fresh decoder and checks it comes back.
/// (The text limit is the default: compact JSON can be longer than the
/// input, e.g. `1e5` becomes `100000.0`.)
fn check_round_trip(packet: &socket::Packet, limits: Limits) {
    let mut decoder = Decoder::new(Limits::default().with_max_attachments(limits.max_attachments));
    let mut result = decoder.feed_text(&packet.encode());
    for attachment in &packet.attachments {
        assert!(matches!(result, Ok(None)), "{result:?}");
        result = decoder.feed_binary(attachment.clone());
    }
    let again = match result {
        Ok(Some(again)) => again,
        other => panic!("the re-encoded packet does not decode to a packet: {other:?}"),
    };
    // Floats may not reparse bit-exactly (serde_json's default parsing), so
    // compare everything but the data.
    assert_eq!(
        (again.kind, &again.nsp, again.id, &again.attachments),
        (packet.kind, &packet.nsp, packet.id, &packet.attachments)
    );
}
