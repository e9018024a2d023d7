#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| factually_fuzz_targets::ingest_file(data));
