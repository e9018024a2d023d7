//! The check-worthiness classifier: features, the artifact, the fit.

use factually_analyze::words::words;
use factually_core::learn::{fit_linear, Linear, Optimiser, ShapeError, Standardiser};
use factually_embed::Embedder;
use serde::{Deserialize, Serialize};

use crate::ClaimsError;

/// The artifact compiled into the binary (`factually train checkworthy`).
const BUNDLED: &str = include_str!("../model/checkworthy.json");

/// Names of the lexical features, in the order of [`lexical_features`]. They carry what an
/// embedding of the whole sentence blurs: a figure, a year, a comparison is what makes a
/// statement checkable; "I think", "we will", a question or thanks is what makes it not.
pub const LEXICAL_FEATURES: &[&str] = &[
    "log_words",
    "number",
    "percent",
    "money",
    "year",
    "comparison",
    "first_person_singular",
    "first_person_plural",
    "second_person",
    "modal_or_future",
    "opinion_verb",
    "question",
    "names",
];

const COMPARISONS: &[&str] = &[
    "more",
    "less",
    "fewer",
    "most",
    "least",
    "than",
    "increase",
    "increased",
    "decrease",
    "decreased",
    "doubled",
    "tripled",
    "cut",
    "cuts",
    "raised",
    "rose",
    "fell",
    "lowest",
    "highest",
    "largest",
    "biggest",
    "record",
    "percent",
];
const MODALS: &[&str] = &[
    "will", "would", "should", "must", "can", "could", "might", "may", "going", "gonna", "let's",
    "ought",
];
const OPINIONS: &[&str] = &[
    "think", "believe", "feel", "hope", "want", "wish", "guess", "suppose", "agree", "disagree",
];

/// The lexical features of one sentence.
pub fn lexical_features(sentence: &str) -> Vec<f32> {
    let ws = words(sentence);
    let lower: Vec<&str> = ws.iter().map(|w| w.lower.as_str()).collect();
    let any = |list: &[&str]| lower.iter().any(|w| list.contains(w));
    let b = |x: bool| if x { 1.0 } else { 0.0 };
    let number = ws
        .iter()
        .any(|w| w.text.chars().any(|c| c.is_ascii_digit()))
        || any(&[
            "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "hundred", "thousand", "million", "billion", "trillion", "half", "third", "quarter",
        ]);
    let year = ws.iter().any(|w| {
        w.text.len() == 4
            && w.text.chars().all(|c| c.is_ascii_digit())
            && matches!(&w.text[..2], "17" | "18" | "19" | "20")
    });
    // Capitalised words other than the first: names of people, places, bodies, laws.
    let names = ws
        .iter()
        .skip(1)
        .filter(|w| w.capitalised && w.lower != "i")
        .count();
    vec![
        (1.0 + ws.len() as f32).ln(),
        b(number),
        b(sentence.contains('%') || any(&["percent", "per", "percentage"])),
        b(sentence.contains('$')
            || any(&["dollars", "million", "billion", "trillion", "tax", "taxes"])),
        b(year),
        b(any(COMPARISONS)),
        b(any(&["i", "i'm", "i've", "i'll", "me", "my", "mine"])),
        b(any(&["we", "we're", "we've", "we'll", "us", "our", "ours"])),
        b(any(&["you", "you're", "your", "yours"])),
        b(any(MODALS)),
        b(any(OPINIONS)),
        b(sentence.trim_end().ends_with('?')),
        (1.0 + names as f32).ln(),
    ]
}

/// The trained classifier: which embedder its inputs come from, feature standardisation, and
/// a two-class logistic regression (not check-worthy, check-worthy) over the embedding
/// followed by the lexical features.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorthinessModel {
    /// The embedder's model id (`Embedder::model_id`): scores from another embedder mean
    /// nothing to these weights.
    pub embedder: String,
    /// Width of the embedding.
    pub dim: usize,
    pub lexical: Vec<String>,
    #[serde(flatten)]
    pub standardiser: Standardiser,
    pub linear: Linear,
    /// A sentence is check-worthy when its probability is at least this.
    pub threshold: f32,
    /// How it was trained: data, counts, held-out scores (free-form, for people).
    #[serde(default)]
    pub training: serde_json::Value,
}

/// One labelled sentence for [`fit`]: its embedding and lexical features.
#[derive(Debug, Clone)]
pub struct Example {
    pub embedding: Vec<f32>,
    pub lexical: Vec<f32>,
    pub check_worthy: bool,
}

fn inputs(embedding: &[f32], lexical: &[f32]) -> Vec<f32> {
    embedding.iter().chain(lexical).copied().collect()
}

/// Fits the classifier: classes balanced, L2, full-batch Adam; deterministic.
pub fn fit(
    examples: &[Example],
    embedder: &str,
    optimiser: Optimiser,
    threshold: f32,
) -> WorthinessModel {
    let dim = examples.first().map_or(0, |e| e.embedding.len());
    let rows: Vec<Vec<f32>> = examples
        .iter()
        .map(|e| inputs(&e.embedding, &e.lexical))
        .collect();
    let width = dim + LEXICAL_FEATURES.len();
    let refs: Vec<&[f32]> = rows.iter().map(|r| r.as_slice()).collect();
    let standardiser = Standardiser::fit(&refs, width);
    let standardised: Vec<Vec<f32>> = refs.iter().map(|r| standardiser.apply(r)).collect();
    let data: Vec<(&[f32], usize, f32)> = standardised
        .iter()
        .zip(examples)
        .map(|(x, e)| (x.as_slice(), usize::from(e.check_worthy), 1.0))
        .collect();
    let linear = fit_linear(&data, 2, &vec![true; width], &vec![false; width], optimiser);
    WorthinessModel {
        embedder: embedder.to_string(),
        dim,
        lexical: LEXICAL_FEATURES.iter().map(|s| s.to_string()).collect(),
        standardiser,
        linear,
        threshold,
        training: serde_json::Value::Null,
    }
}

impl WorthinessModel {
    /// Probability that a sentence with this embedding and these lexical features is
    /// check-worthy.
    pub fn probability(&self, embedding: &[f32], lexical: &[f32]) -> f32 {
        let x = self.standardiser.apply(&inputs(embedding, lexical));
        self.linear.probabilities(&x)[1]
    }
}

/// A loaded check-worthiness classifier.
#[derive(Debug, Clone)]
pub struct CheckWorthiness {
    pub model: WorthinessModel,
}

impl CheckWorthiness {
    /// The classifier compiled into the binary.
    pub fn bundled() -> Result<Self, ClaimsError> {
        Self::from_json(BUNDLED)
    }

    /// Reads an artifact written by `factually train checkworthy`, checking its shape.
    pub fn from_json(text: &str) -> Result<Self, ClaimsError> {
        let model: WorthinessModel =
            serde_json::from_str(text).map_err(|e| ClaimsError::Artifact(e.to_string()))?;
        if model.lexical != LEXICAL_FEATURES {
            return Err(ClaimsError::Artifact(format!(
                "its lexical features {:?} are not this build's {:?}",
                model.lexical, LEXICAL_FEATURES
            )));
        }
        let width = model.dim + LEXICAL_FEATURES.len();
        let shape = if model.dim == 0 {
            Err(ShapeError::Shape)
        } else {
            ShapeError::first([model.linear.fits(2, width), model.standardiser.fits(width)])
        };
        let numbers = "weights or threshold that are not usable numbers";
        match shape {
            Err(ShapeError::Shape) => {
                Err(ClaimsError::Artifact("weights of the wrong shape".into()))
            }
            Err(ShapeError::Numbers) => Err(ClaimsError::Artifact(numbers.into())),
            Ok(()) if !(0.0..=1.0).contains(&model.threshold) => {
                Err(ClaimsError::Artifact(numbers.into()))
            }
            Ok(()) => Ok(Self { model }),
        }
    }

    /// The check-worthy claims of `text`: its candidate sentences scored, those at or above
    /// `threshold` made to stand alone, merged and ranked (the three steps of the crate docs).
    pub fn find(
        &self,
        embedder: &dyn Embedder,
        text: &str,
        threshold: f32,
    ) -> Result<crate::Found, ClaimsError> {
        let found = crate::candidates(text);
        let sentences: Vec<&str> = found.iter().map(|c| c.text.as_str()).collect();
        let scores = self.score(embedder, &sentences)?;
        Ok(crate::Found {
            sentences: found.len(),
            claims: crate::extract(text, &found, &scores, threshold),
        })
    }

    /// The probability that each sentence is check-worthy, in order.
    pub fn score(
        &self,
        embedder: &dyn Embedder,
        sentences: &[&str],
    ) -> Result<Vec<f32>, ClaimsError> {
        if embedder.model_id() != self.model.embedder || embedder.dim() != self.model.dim {
            return Err(ClaimsError::WrongEmbedder {
                trained: self.model.embedder.clone(),
                given: embedder.model_id().to_string(),
            });
        }
        if sentences.is_empty() {
            return Ok(Vec::new());
        }
        let embeddings = embedder.embed(sentences)?;
        Ok(embeddings
            .iter()
            .zip(sentences)
            .map(|(e, s)| self.model.probability(e, &lexical_features(s)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sentence: &str, on: &[&str]) {
        let x = lexical_features(sentence);
        assert_eq!(x.len(), LEXICAL_FEATURES.len());
        for (name, value) in LEXICAL_FEATURES.iter().zip(&x) {
            if *name == "log_words" || *name == "names" {
                continue;
            }
            let want = if on.contains(name) { 1.0 } else { 0.0 };
            assert_eq!(*value, want, "{sentence:?}: {name}");
        }
    }

    #[test]
    fn lexical_features_see_figures_comparisons_and_voice() {
        check(
            "Unemployment rose 4% in 2009.",
            &["number", "percent", "year", "comparison"],
        );
        check(
            "We spent $3 billion on it.",
            &["number", "money", "first_person_plural"],
        );
        check(
            "I think you will agree?",
            &[
                "first_person_singular",
                "second_person",
                "modal_or_future",
                "opinion_verb",
                "question",
            ],
        );
        check("Thank you very much.", &["second_person"]);
        let names = |s: &str| lexical_features(s)[12];
        assert!(names("Senator Kennedy visited Boston.") > names("He visited the city."));
    }

    #[test]
    fn the_bundled_model_loads() {
        let m = CheckWorthiness::bundled().unwrap();
        assert_eq!(m.model.embedder, factually_embed::BUNDLED_MODEL_ID);
        assert_eq!(m.model.dim, 384);
    }

    #[test]
    fn broken_artifacts_are_refused_with_a_reason() {
        let good: serde_json::Value = serde_json::from_str(BUNDLED).unwrap();
        let mut fewer = good.clone();
        fewer["lexical"].as_array_mut().unwrap().pop();
        let mut short = good.clone();
        short["linear"]["weights"][0].as_array_mut().unwrap().pop();
        let mut threshold = good.clone();
        threshold["threshold"] = 2.0.into();
        for (text, want) in [
            ("[]".to_string(), "invalid type"),
            (fewer.to_string(), "lexical features"),
            (short.to_string(), "shape"),
            (threshold.to_string(), "usable"),
        ] {
            let err = CheckWorthiness::from_json(&text).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    /// The fit separates sentences by what the features carry, and is deterministic.
    #[test]
    fn fit_learns_from_embedding_and_lexical_features() {
        let examples: Vec<Example> = (0..200)
            .map(|i| {
                let worthy = i % 2 == 0;
                let sentence = if worthy {
                    "Taxes rose 12% in 2010."
                } else {
                    "I think we can do better."
                };
                Example {
                    embedding: vec![if worthy { 0.6 } else { 0.4 }, ((i % 7) as f32) / 7.0],
                    lexical: lexical_features(sentence),
                    check_worthy: worthy,
                }
            })
            .collect();
        let optimiser = Optimiser {
            iterations: 200,
            learning_rate: 0.1,
            l2: 1e-3,
        };
        let m = fit(&examples, "toy", optimiser, 0.5);
        assert!(m.probability(&[0.6, 0.5], &lexical_features("Taxes rose 12% in 2010.")) > 0.9);
        assert!(m.probability(&[0.4, 0.5], &lexical_features("I think we can do better.")) < 0.1);
        let again = fit(&examples, "toy", optimiser, 0.5);
        assert_eq!(m.linear, again.linear);
    }
}
