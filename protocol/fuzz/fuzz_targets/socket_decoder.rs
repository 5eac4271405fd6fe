//! The Socket.IO decoder fed a sequence of text and binary frames: the body is [`ferrio_protocol_fuzz::socket_decoder`] (in `src/lib.rs`,
//! shared with the stable runner of the test command).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrio_protocol_fuzz::socket_decoder(data));
