#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tern_rtp::fuzzing::rtcp_compound(data));
