#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| factually_fuzz_targets::url_guard(data));
