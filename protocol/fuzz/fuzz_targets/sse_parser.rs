//! The SSE parser: the body is [`ferrio_protocol_fuzz::sse_parser`] (in `src/lib.rs`,
//! shared with the stable runner of the test command).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferrio_protocol_fuzz::sse_parser(data));
