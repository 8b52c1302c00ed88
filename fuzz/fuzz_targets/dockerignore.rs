#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| devloop::fuzzing::dockerignore(data));
