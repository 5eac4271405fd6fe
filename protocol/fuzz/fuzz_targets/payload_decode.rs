//! Polling bodies and single Engine.IO packets: never panic, and whatever
//! decodes re-encodes to something that decodes to the same packets.
#![no_main]

use bytes::Bytes;
use ferrio_protocol::engine::{payload, Frame, Packet};
use ferrio_protocol::Str;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(packets) = payload::decode(Bytes::copy_from_slice(data), 64) {
        let frames: Vec<Frame> = packets.iter().map(Packet::encode).collect();
        let mut body = Vec::new();
        payload::encode(&frames, &mut body);
        let measured: usize =
            frames.iter().map(payload::encoded_len).sum::<usize>() + frames.len() - 1;
        assert_eq!(measured, body.len());
        assert_eq!(payload::decode(Bytes::from(body), 64).as_ref(), Ok(&packets));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(packet) = Packet::decode_text(Str::from(text)) {
            assert_eq!(Packet::decode(packet.encode()).as_ref(), Ok(&packet));
        }
        let _ = payload::decode_one(Str::from(text));
    }
});
