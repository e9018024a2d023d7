//! Replays the committed fuzzing corpus (`fuzz/corpus/TARGET/`): the seeds taken from the test
//! fixtures and every input that once crashed a target. A crash the fuzzer found stays a test.

use std::path::{Path, PathBuf};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

#[test]
fn every_target_has_a_corpus_and_survives_it() {
    for (name, target) in factually_fuzz_targets::TARGETS {
        let dir = corpus_dir(name);
        let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a readable directory entry").path())
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "{name}: the corpus is empty");
        for input in inputs {
            let bytes = std::fs::read(&input).expect("a readable corpus file");
            eprintln!("{name}: {}", input.display());
            target(&bytes);
        }
    }
}

#[test]
fn targets_and_fuzzer_binaries_agree() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    let mut binaries: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("a readable directory entry")
                .path()
                .file_stem()
                .expect("a file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    binaries.sort();
    let mut targets: Vec<String> = factually_fuzz_targets::TARGETS
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    targets.sort();
    assert_eq!(binaries, targets);
}
