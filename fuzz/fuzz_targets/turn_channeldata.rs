#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tern_turn::fuzzing::turn_channeldata(data));
