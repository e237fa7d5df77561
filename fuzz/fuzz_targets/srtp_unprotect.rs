#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tern_srtp::fuzzing::srtp_unprotect(data));
