#![no_main]

// The PDF reader panics on many damaged files; factually runs it on its own thread and turns
// those panics into errors. libFuzzer's panic hook would abort on them first, so this target
// keeps the default hook: a panic that escapes the isolation still aborts the run.
libfuzzer_sys::fuzz_target!(init: { let _ = std::panic::take_hook(); }, |data: &[u8]| factually_fuzz_targets::pdf(data));
