//! The Socket.IO decoder fed a sequence of text and binary frames: never
//! panics, and every packet it yields re-encodes to text it accepts again.
//!
//! Input: byte 0 picks `max_attachments`; the rest is split on 0xFF into
//! frames, a frame starting with 0xFE being binary (neither byte occurs in
//! UTF-8, so text frames can hold any text).
#![no_main]

use bytes::Bytes;
use ferrio_protocol::socket::{Decoder, Limits, Packet};
use libfuzzer_sys::fuzz_target;

/// Feeds `packet`'s encoding to a fresh decoder and checks it comes back.
/// (The text limit is the default: compact JSON can be longer than the
/// input, e.g. `1e5` becomes `100000.0`.)
fn check_round_trip(packet: &Packet, limits: Limits) {
    let mut decoder = Decoder::new(Limits::default().with_max_attachments(limits.max_attachments));
    let mut result = decoder.feed_text(&packet.encode());
    for attachment in &packet.attachments {
        assert!(matches!(result, Ok(None)), "{result:?}");
        result = decoder.feed_binary(attachment.clone());
    }
    // Floats may not reparse bit-exactly (serde_json's default parsing), so
    // compare everything but the data.
    let again = result.expect("re-encoded packet decodes").expect("complete packet");
    assert_eq!(
        (again.kind, &again.nsp, again.id, &again.attachments),
        (packet.kind, &packet.nsp, packet.id, &packet.attachments)
    );
}

fuzz_target!(|data: &[u8]| {
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
});
