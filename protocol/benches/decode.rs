//! Decode and encode throughput of the hot paths, with a plain
//! `Instant` loop (no bench framework): `cargo bench -p ferrio-protocol`.
//!
//! Decoding runs what a server does with a WebSocket frame: Engine.IO frame →
//! packet → Socket.IO decoder (plus the attachment frame for binary events).
//! Encoding runs what it does to emit: `Packet` → the Engine.IO text frame.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferrio_protocol::engine::{self, payload, sse, Frame};
use ferrio_protocol::socket::{self, placeholder, Decoder, Limits};
use ferrio_protocol::{DecodeError, Str};
use serde_json::{json, Value};

/// How long each case is measured (after a warm-up of a tenth of it).
const MEASURE: Duration = Duration::from_millis(700);

/// Runs `op` (which handles `packets` packets of `bytes` wire bytes in all)
/// repeatedly and prints packets per second, time per packet and MB/s.
fn bench(
    name: &str,
    packets: u64,
    bytes: usize,
    mut op: impl FnMut() -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let warm_up = Instant::now();
    while warm_up.elapsed() < MEASURE / 10 {
        op()?;
    }
    let mut iterations: u64 = 0;
    let start = Instant::now();
    let elapsed = loop {
        for _ in 0..64 {
            op()?;
        }
        iterations += 64;
        let elapsed = start.elapsed();
        if elapsed >= MEASURE {
            break elapsed;
        }
    };
    let ops_per_sec = iterations as f64 / elapsed.as_secs_f64();
    let per_sec = ops_per_sec * packets as f64;
    let ns = 1e9 / per_sec;
    let mb = ops_per_sec * bytes as f64 / 1e6;
    println!("{name:<44} {per_sec:>12.0} packets/s {ns:>9.1} ns/packet {mb:>10.1} MB/s");
    Ok(())
}

/// The Engine.IO text frame (`4…`) of a Socket.IO event.
fn event_frame(data: Value) -> (socket::Packet, Str) {
    let packet = socket::Packet::event("/", data, vec![], None);
    let text = packet.encode_message();
    (packet, text)
}

/// Decodes one WebSocket frame the way a server does, returning the
/// Socket.IO packet when complete.
fn decode_frame(
    decoder: &mut Decoder,
    frame: Frame,
) -> Result<Option<socket::Packet>, DecodeError> {
    match engine::Packet::decode(frame)? {
        engine::Packet::Message(text) => decoder.feed_text(&text),
        engine::Packet::Binary(bytes) => decoder.feed_binary(bytes),
        _ => Ok(None),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    // A 32-byte frame: 42["chat",{"msg":"hello world"}]
    let (small, small_text) = event_frame(json!(["chat", {"msg": "hello world"}]));
    // A 1 KiB frame with a realistic mix of fields, padded to the byte.
    let items: Vec<Value> = (0..13)
        .map(|i| json!({"id": i, "user": format!("user-{i}"), "text": "lorem ipsum dolor", "ok": i % 2 == 0}))
        .collect();
    let large_data =
        |pad: usize| json!(["batch", {"room": "lobby", "items": items, "pad": "x".repeat(pad)}]);
    let unpadded = event_frame(large_data(0)).1.len();
    let (large, large_text) = event_frame(large_data(1024usize.saturating_sub(unpadded)));
    // A 64 KiB binary event: header frame + one attachment frame.
    let blob = Bytes::from((0..64 * 1024).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let binary =
        socket::Packet::event("/", json!(["file", placeholder(0)]), vec![blob.clone()], None);
    let binary_text = binary.encode_message();

    println!(
        "frames: small {} B, large {} B, binary header {} B + {} B attachment\n",
        small_text.len(),
        large_text.len(),
        binary_text.len(),
        blob.len()
    );

    let mut decoder = Decoder::new(Limits::default());
    println!("decode (engine frame -> socket packet)");
    bench("  32 B event", 1, small_text.len(), || {
        black_box(decode_frame(&mut decoder, Frame::Text(black_box(small_text.clone())))?);
        Ok(())
    })?;
    bench("  1 KiB event", 1, large_text.len(), || {
        black_box(decode_frame(&mut decoder, Frame::Text(black_box(large_text.clone())))?);
        Ok(())
    })?;
    bench(
        "  64 KiB binary event (header + attachment)",
        1,
        binary_text.len() + blob.len(),
        || {
            decode_frame(&mut decoder, Frame::Text(black_box(binary_text.clone())))?;
            black_box(decode_frame(&mut decoder, Frame::Binary(black_box(blob.clone())))?);
            Ok(())
        },
    )?;

    let frames: Vec<Frame> = (0..16).map(|_| Frame::Text(small_text.clone())).collect();
    let mut body = Vec::new();
    payload::encode(&frames, &mut body);
    let body = Bytes::from(body);
    bench("  polling body, 16 x 32 B events", 16, body.len(), || {
        for packet in payload::decode(black_box(body.clone()), 16)? {
            if let engine::Packet::Message(text) = packet {
                black_box(decoder.feed_text(&text)?);
            }
        }
        Ok(())
    })?;
    let mut stream = Vec::new();
    for frame in &frames {
        sse::encode_event(frame, &mut stream);
    }
    bench("  SSE stream, 16 x 32 B (engine level only)", 16, stream.len(), || {
        let mut parser = sse::Parser::new(1 << 20);
        parser.push(black_box(&stream));
        while let Some(packet) = parser.next_packet()? {
            black_box(packet);
        }
        Ok(())
    })?;

    println!("\nencode (socket packet -> engine text frame)");
    bench("  32 B event", 1, small_text.len(), || {
        black_box(black_box(&small).encode_message());
        Ok(())
    })?;
    bench("  1 KiB event", 1, large_text.len(), || {
        black_box(black_box(&large).encode_message());
        Ok(())
    })?;
    bench(
        "  64 KiB binary event (header + attachment)",
        1,
        binary_text.len() + blob.len(),
        || {
            let header = black_box(&binary).encode_message();
            let frames = [Frame::Text(header), Frame::Binary(binary.attachments[0].clone())];
            black_box(frames);
            Ok(())
        },
    )?;
    bench("  polling body from 16 x 32 B frames", 16, body.len(), || {
        let mut out = Vec::with_capacity(body.len());
        payload::encode(black_box(&frames), &mut out);
        black_box(out);
        Ok(())
    })?;
    bench("  SSE events from 16 x 32 B frames", 16, stream.len(), || {
        let mut out = Vec::with_capacity(stream.len());
        for frame in black_box(&frames) {
            sse::encode_event(frame, &mut out);
        }
        black_box(out);
        Ok(())
    })?;
    Ok(())
}
