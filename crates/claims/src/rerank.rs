//! Re-ranking published fact-checks for a claim: "is this the claim they checked?"
//!
//! Retrieval (BM25 and dense vectors, fused by rank) finds the fact-checks that share a
//! claim's words or meaning, but fusing two ranks throws away how close each match is: a
//! fact-check with the claim's every name and number, second in both lists, can sit below one
//! that is first in one list and absent from the other. The re-ranker looks at each
//! (claim, fact-check) pair of the retrieved pool with what retrieval already knows plus a
//! few pair signals, and orders the pool by a logistic regression fitted on tweets matched to
//! Snopes claims (CLEF-2020 CheckThat! task 2, `factually train rerank`):
//!
//! - where retrieval put it: its fused rank, its BM25 rank, its dense rank;
//! - how close the two sentence vectors are, and how far behind the closest one of the pool
//!   (a list-wise signal: the best of a weak pool is not a match);
//! - which share of the fact-check's content words, names and numbers the claim repeats, and
//!   which share of the claim's content words the fact-check holds.
//!
//! Pure: the caller retrieves and embeds; this module only scores. The weights are a small
//! JSON artifact compiled into the binary (`model/rerank.json`).

use std::collections::HashSet;

use factually_analyze::words::{is_function_word, words};
use factually_core::learn::{fit_linear, Linear, Optimiser, ShapeError, Standardiser};
use serde::{Deserialize, Serialize};

use crate::ClaimsError;

/// The artifact compiled into the binary (`factually train rerank`).
const BUNDLED: &str = include_str!("../model/rerank.json");

/// A retrieved list deeper than this is cut: ranks past it carry no signal the fit has seen.
pub const POOL: usize = 20;

/// Names of the pair features, in the order of [`pair_features`].
pub const PAIR_FEATURES: &[&str] = &[
    "fused_rank",
    "bm25_rank",
    "dense_rank",
    "similarity",
    "similarity_behind_best",
    "fact_check_words_in_claim",
    "claim_words_in_fact_check",
    "fact_check_names_in_claim",
    "fact_check_numbers_in_claim",
];

/// One retrieved fact-check, in retrieval's (fused) order.
#[derive(Debug, Clone, Copy)]
pub struct PoolEntry<'a> {
    /// The published claim.
    pub text: &'a str,
    /// Rank (from 1) in the BM25 list, if it was there.
    pub bm25_rank: Option<usize>,
    /// Rank (from 1) in the dense list, if it was there.
    pub dense_rank: Option<usize>,
    /// Cosine similarity of the claim's and the fact-check's sentence vectors.
    pub similarity: f32,
}

/// Lower-cased content words, names (capitalised words past the first) and numbers of a text.
struct Terms {
    content: HashSet<String>,
    names: HashSet<String>,
    numbers: HashSet<String>,
}

fn terms(text: &str) -> Terms {
    let ws = words(text);
    let mut t = Terms {
        content: HashSet::new(),
        names: HashSet::new(),
        numbers: HashSet::new(),
    };
    for (i, w) in ws.iter().enumerate() {
        if w.text.chars().any(|c| c.is_ascii_digit()) {
            t.numbers.insert(w.lower.clone());
        } else if i > 0 && w.capitalised {
            t.names.insert(w.lower.clone());
        }
        if !is_function_word(&w.lower) && w.lower.chars().count() > 1 {
            t.content.insert(w.lower.clone());
        }
    }
    t
}

/// Share of `of` found in `within`; `empty` when `of` has nothing to find.
fn share(of: &HashSet<String>, within: &HashSet<String>, empty: f32) -> f32 {
    if of.is_empty() {
        return empty;
    }
    of.intersection(within).count() as f32 / of.len() as f32
}

/// A rank as a feature: 1 for the first, falling as 1/rank, 0 when absent.
fn inverse_rank(rank: Option<usize>) -> f32 {
    rank.map_or(0.0, |r| 1.0 / r.max(1) as f32)
}

/// The features of each (claim, fact-check) pair of a retrieved pool, in the pool's order.
pub fn pair_features(claim: &str, pool: &[PoolEntry<'_>]) -> Vec<Vec<f32>> {
    let claim_terms = terms(claim);
    let best = pool
        .iter()
        .map(|e| e.similarity)
        .fold(f32::NEG_INFINITY, f32::max);
    pool.iter()
        .enumerate()
        .map(|(i, e)| {
            let t = terms(e.text);
            vec![
                inverse_rank(Some(i + 1)),
                inverse_rank(e.bm25_rank),
                inverse_rank(e.dense_rank),
                e.similarity,
                e.similarity - best,
                share(&t.content, &claim_terms.content, 0.0),
                share(&claim_terms.content, &t.content, 0.0),
                share(&t.names, &claim_terms.names, 0.5),
                share(&t.numbers, &claim_terms.numbers, 0.5),
            ]
        })
        .collect()
}

/// The fitted re-ranker: feature standardisation and a two-class logistic regression (not
/// the claim checked, the claim checked) over [`PAIR_FEATURES`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RerankModel {
    pub features: Vec<String>,
    #[serde(flatten)]
    pub standardiser: Standardiser,
    pub linear: Linear,
    /// How it was trained: data, counts, scores (free-form, for people).
    #[serde(default)]
    pub training: serde_json::Value,
}

/// Fits the re-ranker on labelled pairs (features, whether the fact-check is the claim's):
/// classes balanced, L2, full-batch Adam; deterministic.
pub fn fit_rerank(examples: &[(Vec<f32>, bool)], optimiser: Optimiser) -> RerankModel {
    let width = PAIR_FEATURES.len();
    let rows: Vec<&[f32]> = examples.iter().map(|(x, _)| x.as_slice()).collect();
    let standardiser = Standardiser::fit(&rows, width);
    let standardised: Vec<Vec<f32>> = rows.iter().map(|r| standardiser.apply(r)).collect();
    let data: Vec<(&[f32], usize, f32)> = standardised
        .iter()
        .zip(examples)
        .map(|(x, (_, matched))| (x.as_slice(), usize::from(*matched), 1.0))
        .collect();
    let linear = fit_linear(&data, 2, &vec![true; width], &vec![false; width], optimiser);
    RerankModel {
        features: PAIR_FEATURES.iter().map(|s| s.to_string()).collect(),
        standardiser,
        linear,
        training: serde_json::Value::Null,
    }
}

/// A loaded re-ranker.
#[derive(Debug, Clone)]
pub struct Reranker {
    pub model: RerankModel,
}

impl Reranker {
    /// The re-ranker compiled into the binary.
    pub fn bundled() -> Result<Self, ClaimsError> {
        Self::from_json(BUNDLED)
    }

    /// Reads an artifact written by `factually train rerank`, checking its shape.
    pub fn from_json(text: &str) -> Result<Self, ClaimsError> {
        let bad = ClaimsError::RerankArtifact;
        let model: RerankModel = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if model.features != PAIR_FEATURES {
            return Err(bad(format!(
                "its features {:?} are not this build's {:?}",
                model.features, PAIR_FEATURES
            )));
        }
        let width = PAIR_FEATURES.len();
        ShapeError::first([model.linear.fits(2, width), model.standardiser.fits(width)]).map_err(
            |e| {
                bad(match e {
                    ShapeError::Shape => "weights of the wrong shape".into(),
                    ShapeError::Numbers => "weights that are not usable numbers".into(),
                })
            },
        )?;
        Ok(Self { model })
    }

    /// How likely each pair of the pool is the claim's fact-check, in the pool's order.
    pub fn scores(&self, claim: &str, pool: &[PoolEntry<'_>]) -> Vec<f32> {
        pair_features(claim, pool)
            .iter()
            .map(|x| {
                self.model
                    .linear
                    .probabilities(&self.model.standardiser.apply(x))[1]
            })
            .collect()
    }

    /// The pool's indices, the likeliest match first (ties keep retrieval's order). Only the
    /// first [`POOL`] entries are ranked; any deeper ones follow in retrieval's order.
    pub fn order(&self, claim: &str, pool: &[PoolEntry<'_>]) -> Vec<usize> {
        let head = &pool[..pool.len().min(POOL)];
        let scores = self.scores(claim, head);
        let mut order: Vec<usize> = (0..head.len()).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        order.extend(head.len()..pool.len());
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str, similarity: f32) -> PoolEntry<'_> {
        PoolEntry {
            text,
            bm25_rank: None,
            dense_rank: None,
            similarity,
        }
    }

    /// One row per feature: a claim, a pool entry, the feature, its value.
    fn check(claim: &str, pool: &[PoolEntry<'_>], at: usize, feature: &str, want: f32) {
        let j = PAIR_FEATURES.iter().position(|f| *f == feature).unwrap();
        let got = pair_features(claim, pool)[at][j];
        assert!(
            (got - want).abs() < 1e-6,
            "{claim:?} / {:?}: {feature} = {got}, not {want}",
            pool[at].text
        );
    }

    #[test]
    fn pair_features_read_ranks_similarity_words_names_and_numbers() {
        let claim = "Joe Biden said 5G towers spread the virus in 2020";
        let pool = [
            PoolEntry {
                text: "5G towers spread the coronavirus.",
                bm25_rank: Some(2),
                dense_rank: None,
                similarity: 0.5,
            },
            entry("Joe Biden banned 5G in 2019.", 0.8),
        ];
        check(claim, &pool, 0, "fused_rank", 1.0);
        check(claim, &pool, 1, "fused_rank", 0.5);
        check(claim, &pool, 0, "bm25_rank", 0.5);
        check(claim, &pool, 0, "dense_rank", 0.0);
        check(claim, &pool, 0, "similarity", 0.5);
        check(claim, &pool, 0, "similarity_behind_best", -0.3);
        check(claim, &pool, 1, "similarity_behind_best", 0.0);
        // "5g", "towers", "spread", "coronavirus": three of four in the claim.
        check(claim, &pool, 0, "fact_check_words_in_claim", 0.75);
        // The claim's "joe", "biden", "said", "5g", "towers", "spread", "virus", "2020": three.
        check(claim, &pool, 0, "claim_words_in_fact_check", 3.0 / 8.0);
        // No names past the first word, no numbers but "5g": both found, or nothing to find.
        check(claim, &pool, 0, "fact_check_names_in_claim", 0.5);
        check(claim, &pool, 0, "fact_check_numbers_in_claim", 1.0);
        // "Biden" is a name the claim repeats; "2019" a number it does not.
        check(claim, &pool, 1, "fact_check_names_in_claim", 1.0);
        check(claim, &pool, 1, "fact_check_numbers_in_claim", 0.5);
    }

    #[test]
    fn empty_texts_and_pools_give_features_without_panicking() {
        assert!(pair_features("claim", &[]).is_empty());
        let x = pair_features("", &[entry("", 0.0)]);
        assert!(x[0].iter().all(|v| v.is_finite()));
        let r = Reranker::bundled().unwrap();
        assert!(r.order("anything", &[]).is_empty());
    }

    #[test]
    fn the_bundled_reranker_puts_the_restated_claim_first() {
        let r = Reranker::bundled().unwrap();
        let claim = "Drinking bleach cures COVID-19, says Trump";
        let pool = [
            PoolEntry {
                text: "Bleach was found in a water supply in Ohio.",
                bm25_rank: Some(1),
                dense_rank: Some(3),
                similarity: 0.35,
            },
            PoolEntry {
                text: "Donald Trump said drinking bleach cures COVID-19.",
                bm25_rank: Some(3),
                dense_rank: Some(1),
                similarity: 0.82,
            },
            PoolEntry {
                text: "COVID-19 vaccines contain bleach.",
                bm25_rank: Some(2),
                dense_rank: Some(2),
                similarity: 0.55,
            },
        ];
        assert_eq!(r.order(claim, &pool)[0], 1);
        let deep: Vec<PoolEntry> = (0..POOL + 3).map(|_| pool[0]).collect();
        let order = r.order(claim, &deep);
        assert_eq!(order.len(), POOL + 3);
        assert_eq!(&order[POOL..], &[POOL, POOL + 1, POOL + 2]);
    }

    #[test]
    fn broken_artifacts_are_refused_with_a_reason() {
        let good: serde_json::Value = serde_json::from_str(BUNDLED).unwrap();
        let mut fewer = good.clone();
        fewer["features"].as_array_mut().unwrap().pop();
        let mut short = good.clone();
        short["linear"]["weights"][0].as_array_mut().unwrap().pop();
        let mut scale = good.clone();
        scale["scale"][0] = 0.0.into();
        for (text, want) in [
            ("[]".to_string(), "invalid type"),
            (fewer.to_string(), "not this build's"),
            (short.to_string(), "wrong shape"),
            (scale.to_string(), "not usable numbers"),
        ] {
            let e = Reranker::from_json(&text).unwrap_err().to_string();
            assert!(e.contains("re-ranker") && e.contains(want), "{e}");
        }
    }
}
