//! The SSE parser: never panics, and yields the same results however the
//! stream is chunked.
//!
//! Input: byte 0 picks the event size limit, byte 1 the chunk size, the rest
//! is the stream.
#![no_main]

use ferrio_protocol::engine::sse::Parser;
use ferrio_protocol::engine::Packet;
use ferrio_protocol::DecodeError;
use libfuzzer_sys::fuzz_target;

fn parse(
    stream: &[u8],
    chunk: usize,
    max: usize,
) -> (Vec<Result<Packet, DecodeError>>, Result<(), DecodeError>) {
    let mut parser = Parser::new(max);
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

fuzz_target!(|data: &[u8]| {
    let [max, chunk, stream @ ..] = data else {
        return;
    };
    let max = usize::from(*max) * 4;
    let whole = parse(stream, stream.len(), max);
    let chunked = parse(stream, usize::from(*chunk % 16), max);
    assert_eq!(whole, chunked);
});
