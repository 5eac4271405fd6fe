//! Engine.IO v3 payloads: the body is [`ferrio_protocol_fuzz::payload_v3`] (in `src/lib.rs`,
//! shared with the stable runner of the test command).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrio_protocol_fuzz::payload_v3(data));
