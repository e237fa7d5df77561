#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tern_signal::fuzzing::signal_input(data));
