#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tern_dtls::fuzzing::dtls_server_input(data));
