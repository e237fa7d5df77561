#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tern_client::fuzzing::client_input(data));
