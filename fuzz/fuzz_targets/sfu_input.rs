#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tern_sfu::fuzzing::sfu_input(data));
