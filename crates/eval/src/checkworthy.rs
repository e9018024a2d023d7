//! ClaimBuster (Arslan et al., ICWSM 2020): debate sentences labelled check-worthy factual
//! claim (1) or not (0), for training and measuring check-worthiness.
//!
//! The file has no split of its own (the test split is held back), so one is made here:
//! every sentence whose id hashes to 0 mod 5 is held out of training, and the figure reported
//! is the F1 of the check-worthy class on a *balanced* slice of those (all held-out
//! check-worthy sentences and as many others, in hash order), the form the held-back test
//! takes. Training uses every other sentence.

use std::path::Path;

use factually_core::sha256_hex;
use serde::{Deserialize, Serialize};

use crate::datasets::DatasetError;

/// One labelled sentence.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Sentence {
    pub sentence_id: u64,
    pub label: u8,
    pub text: String,
}

impl Sentence {
    pub fn check_worthy(&self) -> bool {
        self.label == 1
    }

    fn hash(&self) -> String {
        sha256_hex(self.sentence_id.to_string().as_bytes())
    }

    /// Whether the sentence belongs to the held-out fifth (never trained on).
    pub fn held_out(&self) -> bool {
        u32::from_str_radix(&self.hash()[..8], 16).is_ok_and(|h| h % 5 == 0)
    }
}

/// Reads `train.json` (`[{sentence_id, label, text}]`). A record with another shape, a label
/// other than 0 or 1, or empty text is an error naming its position.
pub fn read_claimbuster(path: &Path) -> Result<Vec<Sentence>, DatasetError> {
    let bad = |index: usize, message: String| DatasetError::Bad {
        path: path.display().to_string(),
        line: index,
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| DatasetError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let records: Vec<serde_json::Value> = serde_json::from_slice(&bytes)
        .map_err(|e| bad(e.line(), format!("not a JSON array of sentences: {e}")))?;
    let mut seen = std::collections::HashMap::new();
    records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let s: Sentence = serde_json::from_value(r)
                .map_err(|e| bad(i + 1, format!("record {}: {e}", i + 1)))?;
            if s.label > 1 || s.text.trim().is_empty() {
                return Err(bad(
                    i + 1,
                    format!("record {}: label must be 0 or 1 and text non-empty", i + 1),
                ));
            }
            if let Some(first) = seen.insert(s.sentence_id, i + 1) {
                return Err(bad(
                    i + 1,
                    format!(
                        "record {}: sentence id {} is record {first}'s too",
                        i + 1,
                        s.sentence_id
                    ),
                ));
            }
            Ok(s)
        })
        .collect()
}

/// The sentences to train on: every one outside the held-out fifth.
pub fn training(sentences: &[Sentence]) -> Vec<&Sentence> {
    sentences.iter().filter(|s| !s.held_out()).collect()
}

/// The balanced held-out slice: every held-out check-worthy sentence and as many held-out
/// others, the first in hash order.
pub fn balanced_held_out(sentences: &[Sentence]) -> Vec<&Sentence> {
    let held: Vec<&Sentence> = sentences.iter().filter(|s| s.held_out()).collect();
    let mut positive: Vec<&Sentence> = held.iter().copied().filter(|s| s.check_worthy()).collect();
    let mut negative: Vec<&Sentence> = held.iter().copied().filter(|s| !s.check_worthy()).collect();
    negative.sort_by_cached_key(|s| s.hash());
    positive.sort_by_cached_key(|s| s.hash());
    let n = positive.len().min(negative.len());
    positive.truncate(n);
    negative.truncate(n);
    positive.into_iter().chain(negative).collect()
}

/// Precision, recall and F1 of the check-worthy class, and accuracy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    pub n: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub accuracy: f64,
}

/// Scores predictions (`true`: check-worthy) against the sentences' labels.
pub fn score(sentences: &[&Sentence], predicted: &[bool]) -> Scores {
    let (mut tp, mut fp, mut fn_, mut right) = (0.0, 0.0, 0.0, 0.0);
    for (s, p) in sentences.iter().zip(predicted) {
        match (s.check_worthy(), *p) {
            (true, true) => tp += 1.0,
            (false, true) => fp += 1.0,
            (true, false) => fn_ += 1.0,
            (false, false) => {}
        }
        if s.check_worthy() == *p {
            right += 1.0;
        }
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    Scores {
        n: sentences.len(),
        precision,
        recall,
        f1: ratio(2.0 * precision * recall, precision + recall),
        accuracy: ratio(right, sentences.len() as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(id: u64, label: u8) -> Sentence {
        Sentence {
            sentence_id: id,
            label,
            text: format!("sentence {id}"),
        }
    }

    #[test]
    fn the_split_is_disjoint_and_the_held_out_slice_balanced() {
        let all: Vec<Sentence> = (0..500)
            .map(|i| sentence(i, u8::from(i % 4 == 0)))
            .collect();
        let train = training(&all);
        let test = balanced_held_out(&all);
        assert!(train.iter().all(|s| !s.held_out()));
        assert!(test.iter().all(|s| s.held_out()));
        let positives = test.iter().filter(|s| s.check_worthy()).count();
        assert_eq!(positives * 2, test.len());
        assert!(positives > 10, "{positives}");
        assert_eq!(
            train.len() + all.iter().filter(|s| s.held_out()).count(),
            500
        );
    }

    #[test]
    fn scores_are_those_of_the_check_worthy_class() {
        let all = [
            sentence(1, 1),
            sentence(2, 1),
            sentence(3, 0),
            sentence(4, 0),
        ];
        let refs: Vec<&Sentence> = all.iter().collect();
        let s = score(&refs, &[true, false, true, false]);
        assert_eq!(
            (s.precision, s.recall, s.f1, s.accuracy),
            (0.5, 0.5, 0.5, 0.5)
        );
        let none = score(&refs, &[false; 4]);
        assert_eq!((none.precision, none.f1), (0.0, 0.0));
    }

    /// The real file, when the benchmark data sits beside the checkout: its counts and the
    /// split's sizes (docs/claims.md quotes them).
    #[test]
    fn claimbuster_parses_and_splits_as_documented() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/claimbuster/train.json");
        if !path.exists() {
            println!("skipped: {} is absent", path.display());
            return;
        }
        let all = read_claimbuster(&path).unwrap();
        assert_eq!(all.len(), 7976);
        assert_eq!(all.iter().filter(|s| s.check_worthy()).count(), 1994);
        assert_eq!(training(&all).len(), 6345);
        let test = balanced_held_out(&all);
        assert_eq!(test.len(), 802);
    }

    #[test]
    fn malformed_files_are_refused_with_the_record() {
        let dir = tempfile::tempdir().unwrap();
        for (text, want) in [
            ("{}", "not a JSON array"),
            (
                r#"[{"sentence_id": 1, "label": 1, "text": "a"}, {"id": 2}]"#,
                "record 2",
            ),
            (
                r#"[{"sentence_id": 1, "label": 3, "text": "a"}]"#,
                "label must be",
            ),
            (
                r#"[{"sentence_id": 1, "label": 1, "text": " "}]"#,
                "non-empty",
            ),
            (
                r#"[{"sentence_id": 1, "label": 1, "text": "a"}, {"sentence_id": 1, "label": 0, "text": "b"}]"#,
                "record 1's too",
            ),
        ] {
            let path = dir.path().join("train.json");
            std::fs::write(&path, text).unwrap();
            let err = read_claimbuster(&path).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
        let path = dir.path().join("ok.json");
        std::fs::write(
            &path,
            r#"[{"sentence_id": 7, "label": 0, "text": "Hello."}]"#,
        )
        .unwrap();
        assert_eq!(
            read_claimbuster(&path).unwrap(),
            vec![Sentence {
                sentence_id: 7,
                label: 0,
                text: "Hello.".into()
            }]
        );
    }
}
