//! The check-worthiness classifier: all-MiniLM-L6-v2 fine-tuned to tell a checkable statement
//! from an opinion, a promise, a greeting or a question.

use std::path::Path;

use factually_assets::AssetCache;
use factually_stance::{ArtifactMeta, Classifier, Task};
use serde::{Deserialize, Serialize};

use crate::ClaimsError;

/// The classifier's task: one sentence in, two labels out.
pub const CHECK_WORTHINESS: Task = Task {
    head: "checkworthy_head",
    labels: &["not_check_worthy", "check_worthy"],
};

/// The artifact compiled into the binary (`factually train checkworthy`): the fine-tuned
/// layers in f16 and their description.
static BUNDLED_WEIGHTS: &[u8] = include_bytes!("../model/checkworthy.safetensors");
static BUNDLED_META: &str = include_str!("../model/checkworthy.json");

/// Description of a check-worthiness artifact, stored as JSON beside its weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorthinessMeta {
    /// Probability at or above which a sentence counts as check-worthy, chosen on sentences
    /// the network was not trained on.
    pub threshold: f32,
    /// The fine-tuned network: base model, frozen depth, calibration, weights sha256.
    pub classifier: ArtifactMeta,
    /// How the artifact was made: command, data, held-out scores.
    pub training: serde_json::Value,
}

/// A loaded check-worthiness classifier.
pub struct CheckWorthiness {
    pub meta: WorthinessMeta,
    classifier: Classifier,
}

impl CheckWorthiness {
    /// The classifier compiled into the binary, on the base weights from the asset cache.
    pub fn bundled(cache: &AssetCache) -> Result<Self, ClaimsError> {
        Self::from_parts(cache, BUNDLED_WEIGHTS.to_vec(), BUNDLED_META)
    }

    /// An artifact written by `factually train checkworthy`: `NAME.safetensors` with
    /// `NAME.json` beside it.
    pub fn from_file(cache: &AssetCache, weights: &Path) -> Result<Self, ClaimsError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| ClaimsError::Artifact(format!("{}: {e}", p.display())))
        };
        let bytes = read(weights)?;
        let meta_path = weights.with_extension("json");
        let text = String::from_utf8(read(&meta_path)?).map_err(|_| {
            ClaimsError::Artifact(format!("{}: not UTF-8 text", meta_path.display()))
        })?;
        Self::from_parts(cache, bytes, &text)
    }

    fn from_parts(cache: &AssetCache, weights: Vec<u8>, meta: &str) -> Result<Self, ClaimsError> {
        let meta: WorthinessMeta =
            serde_json::from_str(meta).map_err(|e| ClaimsError::Artifact(e.to_string()))?;
        if !(0.0..=1.0).contains(&meta.threshold) {
            return Err(ClaimsError::Artifact(format!(
                "threshold {} is not a probability",
                meta.threshold
            )));
        }
        let classifier = Classifier::load(cache, weights, &meta.classifier, CHECK_WORTHINESS)?;
        Ok(Self { meta, classifier })
    }

    /// The check-worthy claims of `text`: its candidate sentences scored, those at or above
    /// `threshold` made to stand alone, merged and ranked (the three steps of the crate docs).
    pub fn find(&self, text: &str, threshold: f32) -> Result<crate::Found, ClaimsError> {
        let found = crate::candidates(text);
        let sentences: Vec<&str> = found.iter().map(|c| c.text.as_str()).collect();
        let scores = self.score(&sentences)?;
        Ok(crate::Found {
            sentences: found.len(),
            claims: crate::extract(text, &found, &scores, threshold),
        })
    }

    /// The probability that each sentence is check-worthy, in order.
    pub fn score(&self, sentences: &[&str]) -> Result<Vec<f32>, ClaimsError> {
        let inputs: Vec<(&str, &str)> = sentences.iter().map(|s| (*s, "")).collect();
        Ok(self
            .classifier
            .probabilities(&inputs)?
            .into_iter()
            .map(|p| p[1])
            .collect())
    }
}

/// The threshold (a multiple of 0.05 between 0.05 and 0.95) with the best F1 of the
/// check-worthy class on `scored` (probability, check-worthy?), with the classes weighted
/// equally: the balanced form in which check-worthiness is measured, whatever the share of
/// check-worthy sentences in the data the threshold is chosen on. 0.5 without both classes.
pub fn balanced_threshold(scored: &[(f32, bool)]) -> f32 {
    let positives = scored.iter().filter(|(_, w)| *w).count();
    let negatives = scored.len() - positives;
    if positives == 0 || negatives == 0 {
        return 0.5;
    }
    let negative_weight = positives as f64 / negatives as f64;
    let f1 = |threshold: f32| {
        let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
        for &(p, worthy) in scored {
            match (worthy, p >= threshold) {
                (true, true) => tp += 1.0,
                (true, false) => fn_ += 1.0,
                (false, true) => fp += negative_weight,
                (false, false) => {}
            }
        }
        2.0 * tp / (2.0 * tp + fp + fn_)
    };
    (1..20)
        .map(|i| i as f32 * 0.05)
        .fold((0.5, f64::MIN), |best, t| {
            let score = f1(t);
            if score > best.1 {
                (t, score)
            } else {
                best
            }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> AssetCache {
        AssetCache::from_env()
    }

    #[test]
    fn the_bundled_model_tells_claims_from_opinions() {
        let m = CheckWorthiness::bundled(&cache()).unwrap();
        let s = m
            .score(&[
                "Unemployment doubled in four years, to 9.8 percent in 2010.",
                "Thank you all very much for being here tonight.",
                "I think we can do better.",
            ])
            .unwrap();
        assert!(s[0] >= m.meta.threshold, "{s:?}");
        assert!(s[1] < m.meta.threshold, "{s:?}");
        assert!(s[2] < m.meta.threshold, "{s:?}");
        assert!(m.score(&[]).unwrap().is_empty());
    }

    #[test]
    fn broken_artifacts_are_refused_with_a_reason() {
        let good: serde_json::Value = serde_json::from_str(BUNDLED_META).unwrap();
        let mut threshold = good.clone();
        threshold["threshold"] = 2.0.into();
        let mut other_weights = good.clone();
        other_weights["classifier"]["weights_sha256"] = "00".into();
        let mut other_base = good.clone();
        other_base["classifier"]["base_package"] = "bert-base-uncased".into();
        for (meta, weights, want) in [
            (
                "[]".to_string(),
                BUNDLED_WEIGHTS.to_vec(),
                "expected struct WorthinessMeta",
            ),
            (
                threshold.to_string(),
                BUNDLED_WEIGHTS.to_vec(),
                "probability",
            ),
            (
                other_weights.to_string(),
                BUNDLED_WEIGHTS.to_vec(),
                "sha256",
            ),
            (
                other_base.to_string(),
                BUNDLED_WEIGHTS.to_vec(),
                "trained on",
            ),
            (good.to_string(), b"not safetensors".to_vec(), "sha256"),
        ] {
            let err = match CheckWorthiness::from_parts(&cache(), weights, &meta) {
                Ok(_) => panic!("{meta} accepted"),
                Err(e) => e.to_string(),
            };
            assert!(err.contains(want), "{err}");
        }
        let missing =
            CheckWorthiness::from_file(&cache(), Path::new("/nonexistent/cw.safetensors"));
        assert!(missing.is_err_and(|e| e.to_string().contains("/nonexistent/cw.safetensors")));
    }

    #[test]
    fn the_threshold_is_chosen_for_balanced_f1() {
        let check = |scored: &[(f32, bool)], want: f32| {
            let got = balanced_threshold(scored);
            assert!((got - want).abs() < 1e-6, "{scored:?}: {got}, want {want}");
        };
        // Separable: the lowest threshold above every negative.
        check(
            &[(0.9, true), (0.8, true), (0.3, false), (0.2, false)],
            0.35,
        );
        // One class only: no evidence for moving away from 0.5.
        check(&[(0.9, true), (0.2, true)], 0.5);
        check(&[], 0.5);
        // Three negatives per positive count as one each third: a negative at 0.6 costs less
        // than the positive at 0.55 missed.
        check(
            &[
                (0.9, true),
                (0.55, true),
                (0.6, false),
                (0.1, false),
                (0.1, false),
                (0.1, false),
                (0.1, false),
                (0.1, false),
            ],
            0.15,
        );
    }
}
