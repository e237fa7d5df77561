#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tern_sdp::fuzzing::sdp_parse(data));
