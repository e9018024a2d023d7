//! The judge: from the stance model's reading of one (claim, sentence) pair to the stance that
//! counts in a verdict.
//!
//! Two decisions, in this order:
//! 1. **Relevance.** Does the sentence address what the claim says? A sentence about something
//!    else is never evidence either way, however the stance model reads it (a model trained on
//!    inference data reads "about something else" as *contradiction*). An irrelevant sentence
//!    gets the neutral stance and is never quoted as support or refutation.
//! 2. **Stance.** For a relevant sentence, a calibrated three-way classifier combines the stance
//!    model's probabilities with the explicit checks of [`factually_analyze::contrast`]
//!    (coverage of the claim's words and names, negation, numbers, swapped names, reversed
//!    superlatives, ordinals, hedges): the details a small cross-encoder gets wrong.
//!
//! Both are multinomial logistic regressions over the same standardised features, fitted by
//! [`fit`] (`factually train judge`) on training material only, and shipped as a small JSON
//! artifact compiled into the binary (`model/judge.json`). Logistic regression because it is
//! calibrated by construction, cheap (microseconds per pair), and its weights can be read.

use factually_analyze::contrast::{compare, Contrast, ContrastKind, PairChecks};
use factually_core::learn::{fit_linear, Linear, Optimiser, ShapeError, Standardiser};
use factually_core::{Stance, StanceProbs};
use serde::{Deserialize, Serialize};

/// The judge artifact compiled into the binary.
const BUNDLED: &str = include_str!("../model/judge.json");

/// Names of the features, in the order of [`features`]; an artifact must list the same.
pub const FEATURES: &[&str] = &[
    "log_p_support",
    "log_p_refute",
    "log_p_neutral",
    "coverage",
    "sentence_coverage",
    "title_coverage",
    "name_coverage",
    "full_coverage",
    "negation_mismatch",
    "number_match",
    "number_mismatch",
    "name_swap",
    "novel_names",
    "superlative_flip",
    "ordinal_mismatch",
    "hedged",
    "subject_in_title",
    "sentence_subject_in_claim",
    "title_opens_claim",
    "coverage_x_support",
    "coverage_x_refute",
    "contradiction_x_coverage",
    "name_coverage_x_coverage",
];

/// Features the relevance gate may use: what the sentence and its document are about (words,
/// names and subject shared with the claim), not what the stance model reads in it nor the
/// contradiction checks. With the model's probabilities the gate learned "the model says
/// refute, so the sentence must be relevant", the mistake it exists to prevent; with the
/// contradiction checks it learned the synthetic claims' quirks (a claim cut from a sentence
/// shares all its names), and turned away the very sentences that refute a swapped name.
const RELEVANCE_FEATURES: &[&str] = &[
    "coverage",
    "sentence_coverage",
    "title_coverage",
    "name_coverage",
    "full_coverage",
    "subject_in_title",
    "sentence_subject_in_claim",
    "title_opens_claim",
    "name_coverage_x_coverage",
];

fn relevance_feature(name: &str) -> bool {
    RELEVANCE_FEATURES.contains(&name)
}

/// Every relevance feature measures how much of the claim the sentence or its document shares,
/// so none may lower relevance as it grows. Unconstrained, the fit gave `sentence_coverage` a
/// negative weight (it overlaps `coverage`, which counts the title's words too), and a sentence
/// naming the claim's subject ("The Eiffel Tower stands ... in Paris") came out less relevant
/// than one that does not ("It was the tallest ..."), turning away the very sentence that
/// refutes "The Eiffel Tower is in Berlin".
fn relevance_non_decreasing(name: &str) -> bool {
    relevance_feature(name)
}

/// The feature vector of one pair.
pub fn features(p: &StanceProbs, c: &PairChecks) -> Vec<f32> {
    let b = |x: bool| if x { 1.0 } else { 0.0 };
    let ln = |x: f32| (x.max(1e-4)).ln();
    let contradiction = c.name_swap
        || c.number_mismatch
        || c.superlative_flip
        || c.ordinal_mismatch
        || c.negation_mismatch;
    vec![
        ln(p.support),
        ln(p.refute),
        ln(p.neutral),
        c.coverage,
        c.sentence_coverage,
        c.title_coverage,
        c.name_coverage,
        b(c.coverage >= 0.999),
        b(c.negation_mismatch),
        b(c.number_match),
        b(c.number_mismatch),
        b(c.name_swap),
        b(c.novel_names),
        b(c.superlative_flip),
        b(c.ordinal_mismatch),
        b(c.hedged),
        b(c.subject_in_title),
        b(c.sentence_subject_in_claim),
        b(c.title_opens_claim),
        c.coverage * p.support,
        c.coverage * p.refute,
        b(contradiction) * c.coverage,
        c.name_coverage * c.coverage,
    ]
}

/// Whether a raw feature vector ([`features`]) has a differing detail the checks can name: a
/// number or year, a swapped name, a reversed superlative or another ordinal (the cases
/// where `PairChecks::contrast` is set).
fn names_a_contrast(x: &[f32]) -> bool {
    const NAMED: &[&str] = &[
        "number_mismatch",
        "name_swap",
        "superlative_flip",
        "ordinal_mismatch",
    ];
    FEATURES
        .iter()
        .zip(x)
        .any(|(name, v)| NAMED.contains(name) && *v > 0.5)
}

#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    #[error("judge artifact: {0}")]
    Artifact(String),
}

/// The trained judge: feature standardisation, the relevance classifier (classes: irrelevant,
/// relevant) and the stance classifier (classes: support, refute, neutral).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JudgeModel {
    pub features: Vec<String>,
    /// Feature means and scales (`mean`, `scale` in the artifact).
    #[serde(flatten)]
    pub standardiser: Standardiser,
    pub relevance: Linear,
    pub stance: Linear,
    /// A sentence is relevant when its relevance probability is at least this.
    pub relevance_threshold: f32,
    /// The stance model's own share of a relevant sentence's stance (0: the classifier alone):
    /// the classifier learns from synthetic claims, the model from real ones, and on real
    /// claims the mixture beats either (docs/verification.md).
    #[serde(default)]
    pub model_share: f32,
    /// The stance model's share when the checks name the detail that differs (a swapped
    /// name, number or year, a reversed superlative, another ordinal): the model reads
    /// "a gift from the people of France" as neutral to "... of Spain", the classifier sees
    /// the swap. `model_share` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contrast_model_share: Option<f32>,
    /// How it was trained: data, counts, held-out scores (free-form, for people).
    #[serde(default)]
    pub training: serde_json::Value,
}

impl JudgeModel {
    pub fn bundled() -> Result<Self, JudgeError> {
        Self::from_json(BUNDLED)
    }

    /// Reads an artifact written by `factually train judge`, checking its shape.
    pub fn from_json(text: &str) -> Result<Self, JudgeError> {
        let m: JudgeModel =
            serde_json::from_str(text).map_err(|e| JudgeError::Artifact(e.to_string()))?;
        if m.features != FEATURES {
            return Err(JudgeError::Artifact(format!(
                "its features {:?} are not this build's {:?}",
                m.features, FEATURES
            )));
        }
        let n = FEATURES.len();
        let shape = ShapeError::first([
            m.standardiser.fits(n),
            m.relevance.fits(2, n),
            m.stance.fits(3, n),
        ]);
        if shape == Err(ShapeError::Shape) {
            return Err(JudgeError::Artifact(
                "weights of the wrong shape".to_string(),
            ));
        }
        for (name, share) in [
            ("model_share", Some(m.model_share)),
            ("contrast_model_share", m.contrast_model_share),
        ] {
            if let Some(share) = share.filter(|s| !(0.0..=1.0).contains(s)) {
                return Err(JudgeError::Artifact(format!(
                    "{name} {share} is not between 0 and 1"
                )));
            }
        }
        if shape == Err(ShapeError::Numbers) {
            return Err(JudgeError::Artifact(
                "weights that are not finite numbers".to_string(),
            ));
        }
        Ok(m)
    }

    fn standardise(&self, x: &[f32]) -> Vec<f32> {
        self.standardiser.apply(x)
    }

    /// Probability that the sentence addresses the claim.
    pub fn relevance(&self, x: &[f32]) -> f32 {
        self.relevance_of(&self.standardise(x))
    }

    /// The fitted classifier's stance probabilities for a relevant sentence.
    pub fn stance(&self, x: &[f32]) -> StanceProbs {
        self.stance_of(&self.standardise(x))
    }

    /// The stance that counts for a relevant sentence: the classifier's, with the stance
    /// model's own probabilities mixed in at `model_share`.
    pub fn stance_given(&self, x: &[f32], model: StanceProbs) -> StanceProbs {
        self.mixed(self.stance(x), model, x)
    }

    /// `x` is the raw feature vector, which says whether the checks named a differing detail.
    fn mixed(&self, fitted: StanceProbs, model: StanceProbs, x: &[f32]) -> StanceProbs {
        let share = match self.contrast_model_share {
            Some(share) if names_a_contrast(x) => share,
            _ => self.model_share,
        };
        let mix = |f: f32, m: f32| (1.0 - share) * f + share * m;
        StanceProbs {
            support: mix(fitted.support, model.support),
            refute: mix(fitted.refute, model.refute),
            neutral: mix(fitted.neutral, model.neutral),
        }
    }

    fn relevance_of(&self, z: &[f32]) -> f32 {
        self.relevance.probabilities(z)[1]
    }

    fn stance_of(&self, z: &[f32]) -> StanceProbs {
        let p = self.stance.probabilities(z);
        StanceProbs {
            support: p[0],
            refute: p[1],
            neutral: p[2],
        }
    }
}

/// Which parts of the judge run; `Full` is the product, the others exist to measure each part
/// on its own (`--judge` of `verify` and `eval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgeMode {
    /// Relevance gate, then the stance classifier over model probabilities and checks.
    #[default]
    Full,
    /// Relevance gate, then the stance model's probabilities unchanged.
    Relevance,
    /// The stance model's probabilities unchanged, every sentence counted (the judge before).
    Model,
}

impl std::str::FromStr for JudgeMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(Self::Full),
            "relevance" => Ok(Self::Relevance),
            "model" => Ok(Self::Model),
            _ => Err(format!(
                "unknown judge mode {s:?}: full, relevance or model"
            )),
        }
    }
}

/// A trained judge and the parts of it that run.
#[derive(Debug, Clone)]
pub struct Judge {
    pub model: JudgeModel,
    pub mode: JudgeMode,
}

impl Judge {
    /// The bundled judge in its full mode.
    pub fn bundled() -> Result<Self, JudgeError> {
        Ok(Self {
            model: JudgeModel::bundled()?,
            mode: JudgeMode::Full,
        })
    }

    /// Judges evidence a caller gives (gold evidence in the AVeriTeC and LIAR-PLUS
    /// evaluations): it is relevant on the caller's word, and its stance is the model's own.
    /// The classifier was fitted on retrieved sentences of articles and abstracts; on
    /// AVeriTeC's question-answer evidence it lowered macro-F1 from 0.391 to 0.30 (measured,
    /// docs/verification.md). The relevance probability is still reported.
    pub fn judge_given(&self, claim: &str, text: &str, model: StanceProbs) -> Judgement {
        let checks = compare(claim, text, "");
        let relevance = self.model.relevance(&features(&model, &checks));
        Judgement {
            probs: model,
            relevance,
            relevant: true,
            contrast: checks.contrast.filter(|_| model.stance() == Stance::Refute),
            decisive: false,
        }
    }

    /// Judges one pair from the stance model's probabilities for it.
    pub fn judge(&self, claim: &str, sentence: &str, title: &str, model: StanceProbs) -> Judgement {
        let checks = compare(claim, sentence, title);
        let x = features(&model, &checks);
        let z = self.model.standardise(&x);
        let relevance = self.model.relevance_of(&z);
        // A sentence about something else of the same kind (Franklin Roosevelt for a claim
        // about Theodore, kangaroos for one about koalas) shares the claim's words, and the
        // fitted gate lets it through; it is not evidence about the claim's subject.
        let relevant = self.mode == JudgeMode::Model
            || (relevance >= self.model.relevance_threshold && checks.subject_named);
        let probs = match (relevant, self.mode) {
            (false, _) => StanceProbs {
                support: 0.0,
                refute: 0.0,
                neutral: 1.0,
            },
            (true, JudgeMode::Full) => self.model.mixed(self.model.stance_of(&z), model, &x),
            (true, _) => model,
        };
        // The rules below read what the sentence says; the model's own mode runs none.
        let ruled = relevant && self.mode != JudgeMode::Model;
        // A sentence about the claim's subject that says nothing of what the claim says about
        // it ("The Vatican Museums are the public museums of the Vatican City" for "Vatican
        // City has its own railway station") cannot contradict it, unless it names the
        // differing detail (a swapped name, number, superlative or ordinal).
        let probs = if ruled && !checks.predicate_addressed && checks.contrast.is_none() {
            probs.without(Stance::Refute)
        } else {
            probs
        };
        // A sentence about the claim's subject (its own subject, not one it mentions: "K2 is
        // the second-highest mountain, after Mount Everest") that repeats the rest of the
        // claim around a differing detail ("an 1892 ballet by Tchaikovsky" for "a ballet
        // composed by Prokofiev") contradicts it, whatever the model read.
        // A category is often a paraphrase ("a person" for "an actor"): it counts only where
        // the model does not read support. A swapped name counts when both depend on the same
        // word.
        let trusted_contrast = checks.contrast.as_ref().is_some_and(|c| match c.kind {
            ContrastKind::Category => model.support < model.refute.max(model.neutral),
            ContrastKind::Name => checks.swap_same_governor,
            _ => true,
        });
        let names_difference = ruled
            && trusted_contrast
            && checks.subject_before_verb
            && checks.coverage_beside_contrast >= CONTRAST_COVERAGE
            && !checks.hedged;
        let probs = if names_difference {
            probs.led_by(Stance::Refute)
        } else {
            probs
        };
        // The mirror case: a sentence about the claim's subject that repeats every content
        // word of the claim, with no difference, negation or hedge, and that the model reads
        // as support above all, supports it even where the classifier doubts ("He was the
        // author of the high fantasy works The Hobbit" for "J. R. R. Tolkien was the author
        // of The Hobbit").
        let restates = ruled
            && checks.contrast.is_none()
            && checks.subject_before_verb
            && checks.coverage >= 0.999
            && !checks.negation_mismatch
            && !checks.hedged
            && !checks.attributed
            && !checks.debunked;
        let probs = if restates && model.stance() == Stance::Support {
            probs.led_by(Stance::Support)
        } else {
            probs
        };
        // A sentence that reports the claim to call it a myth matches its words and says the
        // opposite: what reads as support refutes it.
        let probs = if checks.debunked && probs.stance() == Stance::Support {
            probs.led_by(Stance::Refute)
        } else {
            probs
        };
        // Hearsay of the claim ("is often said to be ...") reports a belief, not the fact: it
        // supports nothing.
        let probs = if checks.attributed && probs.stance() == Stance::Support {
            probs.without(Stance::Support)
        } else {
            probs
        };
        let contrast = checks
            .contrast
            .clone()
            .filter(|_| probs.stance() == Stance::Refute);
        let decisive = match probs.stance() {
            Stance::Support => restates,
            Stance::Refute => names_difference && !checks.attributed,
            Stance::Neutral => false,
        };
        Judgement {
            probs,
            relevance,
            relevant,
            contrast,
            decisive,
        }
    }
}

/// Where one side has decisive evidence and the other has none, the other side's sentences
/// are outweighed: their stance probability moves to neutral, and they stay as related
/// context. "Jupiter is the fifth planet from the Sun, and the largest in the Solar System"
/// settles "Jupiter is the largest planet in the Solar System" against "Saturn is almost as
/// big as Jupiter"; "Hungarian is a Ugric language" settles "Hungarian is a Slavic
/// language" against "it is also spoken by Hungarian communities in Slovakia". With decisive
/// evidence on both sides nothing changes: the verdict is mixed.
pub fn outweigh(judged: &mut [Judgement]) {
    let decisive_on = |stance: Stance| {
        judged
            .iter()
            .any(|j| j.decisive && j.probs.stance() == stance)
    };
    let (support, refute) = (decisive_on(Stance::Support), decisive_on(Stance::Refute));
    if support == refute {
        return;
    }
    let outweighed = if support {
        Stance::Refute
    } else {
        Stance::Support
    };
    for j in judged.iter_mut().filter(|j| !j.decisive) {
        j.probs = j.probs.without(outweighed);
        if j.probs.stance() != Stance::Refute {
            j.contrast = None;
        }
    }
}

/// How much of the rest of a claim a sentence must repeat around a differing detail for the
/// detail alone to make it a refutation ([`PairChecks::coverage_beside_contrast`]).
const CONTRAST_COVERAGE: f32 = 0.75;

/// What the judge decided for one pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The stance probabilities that count (all neutral for an irrelevant sentence).
    pub probs: StanceProbs,
    /// Probability that the sentence addresses the claim.
    pub relevance: f32,
    pub relevant: bool,
    /// For a refutation, the detail the sentence states differently, when it can be named.
    pub contrast: Option<Contrast>,
    /// The sentence settles the claim on its own: a support about the claim's subject that
    /// repeats every content word of the claim, or a refutation about it that repeats the
    /// rest of the claim around a named difference; neither hedged nor hearsay. See
    /// [`outweigh`].
    pub decisive: bool,
}

/// One training example for [`fit`].
#[derive(Debug, Clone)]
pub struct Example {
    pub features: Vec<f32>,
    pub stance: Stance,
    pub relevant: bool,
    /// Weight of the example in the loss (1 for most).
    pub weight: f32,
}

/// Settings of [`fit`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FitConfig {
    pub iterations: usize,
    pub learning_rate: f32,
    /// L2 penalty on the weights (not the biases).
    pub l2: f32,
}

impl FitConfig {
    fn optimiser(&self) -> Optimiser {
        Optimiser {
            iterations: self.iterations,
            learning_rate: self.learning_rate,
            l2: self.l2,
        }
    }
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            iterations: 600,
            learning_rate: 0.2,
            l2: 1e-3,
        }
    }
}

/// Fits both classifiers on standardised features, each class balanced by inverse-frequency
/// weights, by full-batch gradient descent with Adam. Deterministic: same examples, same model.
/// The stance classifier learns from relevant examples only (an irrelevant sentence never
/// reaches it).
pub fn fit(examples: &[Example], config: FitConfig, relevance_threshold: f32) -> JudgeModel {
    let n = FEATURES.len();
    let rows: Vec<&[f32]> = examples.iter().map(|e| e.features.as_slice()).collect();
    let standardiser = Standardiser::fit(&rows, n);
    let standardised: Vec<Vec<f32>> = rows.iter().map(|r| standardiser.apply(r)).collect();
    let relevance_data: Vec<(&[f32], usize, f32)> = examples
        .iter()
        .zip(&standardised)
        .map(|(e, x)| (x.as_slice(), usize::from(e.relevant), e.weight))
        .collect();
    let relevance = fit_linear(
        &relevance_data,
        2,
        &FEATURES
            .iter()
            .map(|f| relevance_feature(f))
            .collect::<Vec<_>>(),
        &FEATURES
            .iter()
            .map(|f| relevance_non_decreasing(f))
            .collect::<Vec<_>>(),
        config.optimiser(),
    );
    let stance_data: Vec<(&[f32], usize, f32)> = examples
        .iter()
        .zip(&standardised)
        .filter(|(e, _)| e.relevant)
        .map(|(e, x)| {
            let class = match e.stance {
                Stance::Support => 0,
                Stance::Refute => 1,
                Stance::Neutral => 2,
            };
            (x.as_slice(), class, e.weight)
        })
        .collect();
    let stance = fit_linear(
        &stance_data,
        3,
        &vec![true; n],
        &vec![false; n],
        config.optimiser(),
    );
    JudgeModel {
        features: FEATURES.iter().map(|s| s.to_string()).collect(),
        standardiser,
        relevance,
        stance,
        relevance_threshold,
        model_share: 0.0,
        contrast_model_share: None,
        training: serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probs(support: f32, refute: f32) -> StanceProbs {
        StanceProbs {
            support,
            refute,
            neutral: 1.0 - support - refute,
        }
    }

    #[test]
    fn the_bundled_judge_loads_and_has_this_builds_features() {
        let m = JudgeModel::bundled().unwrap();
        assert_eq!(m.features, FEATURES);
        assert!((0.0..=1.0).contains(&m.relevance_threshold));
    }

    #[test]
    fn broken_artifacts_are_refused_with_a_reason() {
        let good: serde_json::Value = serde_json::from_str(BUNDLED).unwrap();
        let mut fewer = good.clone();
        fewer["features"].as_array_mut().unwrap().pop();
        let mut short = good.clone();
        short["stance"]["bias"].as_array_mut().unwrap().pop();
        let mut zero_scale = good.clone();
        zero_scale["scale"][0] = 0.0.into();
        for (text, want) in [
            ("not json".to_string(), "expected"),
            (fewer.to_string(), "features"),
            (short.to_string(), "shape"),
            (zero_scale.to_string(), "finite"),
        ] {
            let err = JudgeModel::from_json(&text).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    /// A judge fitted on a toy problem: relevance is coverage, and a contradiction check
    /// turns the model's support into refutation.
    fn toy_judge() -> Judge {
        let mut examples = Vec::new();
        for i in 0..200 {
            let cover = (i % 10) as f32 / 10.0;
            let relevant = cover >= 0.5;
            let swap = i % 3 == 0;
            let checks = PairChecks {
                coverage: cover,
                sentence_coverage: cover,
                name_coverage: cover,
                name_swap: swap,
                ..PairChecks::default()
            };
            let stance = if !relevant {
                Stance::Neutral
            } else if swap {
                Stance::Refute
            } else {
                Stance::Support
            };
            examples.push(Example {
                features: features(&probs(0.8, 0.1), &checks),
                stance,
                relevant,
                weight: 1.0,
            });
        }
        Judge {
            model: fit(&examples, FitConfig::default(), 0.5),
            mode: JudgeMode::Full,
        }
    }

    #[test]
    fn fit_learns_relevance_and_contradiction_checks() {
        let judge = toy_judge();
        let x = |cover: f32, swap: bool| {
            features(
                &probs(0.8, 0.1),
                &PairChecks {
                    coverage: cover,
                    sentence_coverage: cover,
                    name_coverage: cover,
                    name_swap: swap,
                    ..PairChecks::default()
                },
            )
        };
        assert!(judge.model.relevance(&x(0.9, false)) > 0.8);
        assert!(judge.model.relevance(&x(0.1, false)) < 0.2);
        assert_eq!(judge.model.stance(&x(0.9, false)).stance(), Stance::Support);
        assert_eq!(judge.model.stance(&x(0.9, true)).stance(), Stance::Refute);
        // The gate never weighs the stance model's probabilities.
        for (w, name) in judge.model.relevance.weights[1].iter().zip(FEATURES) {
            if name.starts_with("log_p_") {
                assert_eq!(*w, 0.0, "{name}");
            }
        }
        // Deterministic.
        let again = toy_judge();
        assert_eq!(judge.model.stance, again.model.stance);
    }

    /// Training data where relevant sentences share the claim's words through the title more
    /// than through the sentence itself: fitted freely, sentence coverage would count against
    /// relevance. Constrained, no relevance feature lowers relevance as it grows.
    #[test]
    fn sharing_more_of_the_claim_never_lowers_relevance() {
        let mut examples = Vec::new();
        for i in 0..300 {
            let cover = (i % 10) as f32 / 10.0;
            let relevant = cover >= 0.5;
            // Relevant examples match mostly through the title; irrelevant ones through the
            // sentence (a sentence of another article repeating a common word).
            let sentence = if relevant { cover * 0.3 } else { cover * 1.5 };
            let checks = PairChecks {
                coverage: cover,
                sentence_coverage: sentence,
                title_coverage: if relevant { cover } else { 0.0 },
                name_coverage: cover,
                ..PairChecks::default()
            };
            examples.push(Example {
                features: features(&probs(0.3, 0.3), &checks),
                stance: Stance::Neutral,
                relevant,
                weight: 1.0,
            });
        }
        let model = fit(&examples, FitConfig::default(), 0.5);
        for (j, name) in FEATURES.iter().enumerate() {
            let gain = model.relevance.weights[1][j] - model.relevance.weights[0][j];
            assert!(gain >= -1e-6, "{name}: {gain}");
        }
        let weight_of = |name: &str| {
            let j = FEATURES.iter().position(|f| *f == name).unwrap();
            model.relevance.weights[1][j] - model.relevance.weights[0][j]
        };
        assert!(
            weight_of("coverage") > 0.1,
            "the fit still learns from coverage"
        );
        assert_eq!(weight_of("log_p_refute"), 0.0);
    }

    #[test]
    fn an_irrelevant_sentence_is_never_a_refutation() {
        let judge = toy_judge();
        let j = judge.judge(
            "Mount Everest is the highest mountain on Earth.",
            "The Soviet Union moved whole populations.",
            "Population transfer in the Soviet Union",
            probs(0.05, 0.9),
        );
        assert!(!j.relevant, "{j:?}");
        assert_eq!(j.probs.stance(), Stance::Neutral);
        assert_eq!(j.contrast, None);
        // The model-only mode counts it, as the judge before did.
        let model_only = Judge {
            mode: JudgeMode::Model,
            ..judge
        };
        let j = model_only.judge(
            "Mount Everest is the highest mountain on Earth.",
            "The Soviet Union moved whole populations.",
            "Population transfer in the Soviet Union",
            probs(0.05, 0.9),
        );
        assert_eq!(j.probs.stance(), Stance::Refute);
    }

    #[test]
    fn a_sentence_about_another_of_the_same_kind_does_not_count() {
        // The gate passes it (every content word but the subject's first name is shared);
        // the subject rule turns it away, whatever the model read.
        let judge = Judge::bundled().unwrap();
        let claim = "Theodore Roosevelt was the 32nd president of the United States.";
        let other = judge.judge(
            claim,
            "Franklin Delano Roosevelt was the 32nd president of the United States.",
            "Franklin D. Roosevelt",
            probs(0.9, 0.05),
        );
        assert!(
            other.relevance >= judge.model.relevance_threshold,
            "{other:?}"
        );
        assert!(!other.relevant, "{other:?}");
        assert_eq!(other.probs.stance(), Stance::Neutral);
        let own = judge.judge(
            claim,
            "He was the 26th president of the United States.",
            "Theodore Roosevelt",
            probs(0.1, 0.8),
        );
        assert!(own.relevant, "{own:?}");
    }

    #[test]
    fn a_sentence_silent_on_the_claim_s_point_refutes_nothing() {
        let judge = Judge::bundled().unwrap();
        let claim = "An octopus has only one heart.";
        let silent = judge.judge(
            claim,
            "An octopus is a soft-bodied, eight-limbed mollusc of the order Octopoda.",
            "Octopus",
            probs(0.02, 0.95),
        );
        assert_eq!(silent.probs.refute, 0.0, "{silent:?}");
        // The same sentence in the model's mode counts as read; one on the point refutes.
        let model = Judge {
            mode: JudgeMode::Model,
            ..judge.clone()
        };
        let read = model.judge(
            claim,
            "An octopus is a soft-bodied, eight-limbed mollusc of the order Octopoda.",
            "Octopus",
            probs(0.02, 0.95),
        );
        assert_eq!(read.probs.stance(), Stance::Refute);
        let on_point = judge.judge(
            claim,
            "An octopus has three hearts: two pump blood through the gills.",
            "Octopus",
            probs(0.02, 0.95),
        );
        assert_eq!(on_point.probs.stance(), Stance::Refute, "{on_point:?}");
    }

    #[test]
    fn a_named_difference_in_a_sentence_repeating_the_claim_refutes_it() {
        let judge = Judge::bundled().unwrap();
        let claim = "The Nutcracker is a ballet by Sergei Prokofiev.";
        let by_other = judge.judge(
            claim,
            "The Nutcracker is an 1892 two-act classical ballet by Pyotr Ilyich Tchaikovsky.",
            "The Nutcracker",
            probs(0.34, 0.26),
        );
        assert_eq!(by_other.probs.stance(), Stance::Refute, "{by_other:?}");
        assert!(by_other.contrast.is_some());
        // Another country, where the model reads nothing of the kind.
        let elsewhere = judge.judge(
            "Mogadishu is located in Italy.",
            "Mogadishu, locally known as Xamar or Hamar, is the capital and most populous city of Somalia.",
            "Mogadishu",
            probs(0.04, 0.54),
        );
        assert_eq!(elsewhere.probs.stance(), Stance::Refute, "{elsewhere:?}");
        assert!(elsewhere.decisive, "{elsewhere:?}");
        // Another subject's sentence mentioning the claim's is not forced to refute.
        let k2 = judge.judge(
            "Mount Everest is the highest mountain on Earth.",
            "K2, at 8,611 metres above sea level, is the second-highest mountain on Earth, after Mount Everest.",
            "K2",
            probs(0.6, 0.3),
        );
        assert_ne!(k2.probs.stance(), Stance::Refute, "{k2:?}");
        // Another category refutes, unless the model reads it as a paraphrase.
        let beethoven = "Ludwig van Beethoven was a German composer, conductor, and pianist.";
        let saxophonist = judge.judge(
            "Ludwig van Beethoven was a saxophonist.",
            beethoven,
            "Ludwig van Beethoven",
            probs(0.05, 0.14),
        );
        assert_eq!(
            saxophonist.probs.stance(),
            Stance::Refute,
            "{saxophonist:?}"
        );
        let musician = judge.judge(
            "Ludwig van Beethoven was a musician.",
            beethoven,
            "Ludwig van Beethoven",
            probs(0.8, 0.05),
        );
        assert_ne!(musician.probs.stance(), Stance::Refute, "{musician:?}");
        assert!(!musician.decisive, "{musician:?}");
        // Nor does such a category make a refutation decisive where the classifier refutes.
        let leader = judge.judge(
            "Simón Bolívar was a leader.",
            "Simón José Antonio de la Santísima Trinidad Bolívar Palacios Ponte y Blanco was a Venezuelan military officer and statesman.",
            "Simón Bolívar",
            probs(0.51, 0.26),
        );
        assert!(!leader.decisive, "{leader:?}");
    }

    #[test]
    fn decisive_evidence_outweighs_the_other_side() {
        let judge = Judge::bundled().unwrap();
        let claim = "Jupiter is the largest planet in the Solar System.";
        let judged = |pairs: &[(&str, &str, StanceProbs)]| {
            let mut js: Vec<Judgement> = pairs
                .iter()
                .map(|(sentence, title, p)| judge.judge(claim, sentence, title, *p))
                .collect();
            outweigh(&mut js);
            js
        };
        let restated = (
            "Jupiter is the fifth planet from the Sun, and the largest in the Solar System.",
            "Jupiter",
            probs(0.8, 0.1),
        );
        let vague = (
            "Even though Saturn is almost as big as Jupiter, Saturn has less than a third of its mass.",
            "Saturn",
            probs(0.1, 0.7),
        );
        let js = judged(&[restated, vague]);
        assert!(js[0].decisive, "{:?}", js[0]);
        assert_eq!(js[0].probs.stance(), Stance::Support);
        assert!(!js[1].decisive);
        assert_eq!(js[1].probs.refute, 0.0, "{:?}", js[1]);
        // Without the restatement the vague sentence keeps its reading.
        let alone = judged(&[vague]);
        assert!(alone[0].probs.refute > 0.0, "{:?}", alone[0]);
        // Decisive on both sides: both stand.
        let flipped = (
            "Jupiter is the smallest planet in the Solar System.",
            "Jupiter",
            probs(0.1, 0.8),
        );
        let both = judged(&[restated, flipped]);
        assert!(both[1].decisive, "{:?}", both[1]);
        assert_eq!(
            (both[0].probs.stance(), both[1].probs.stance()),
            (Stance::Support, Stance::Refute)
        );
    }

    #[test]
    fn a_sentence_restating_the_claim_supports_it_when_the_model_reads_support() {
        let judge = Judge::bundled().unwrap();
        let claim = "J. R. R. Tolkien was the author of The Hobbit.";
        let sentence =
            "He was the author of the high fantasy works The Hobbit and The Lord of the Rings.";
        let read = judge.judge(claim, sentence, "J. R. R. Tolkien", probs(0.53, 0.19));
        assert_eq!(read.probs.stance(), Stance::Support, "{read:?}");
        // Not where the model reads otherwise, nor where a word of the claim is missing.
        let doubted = judge.judge(claim, sentence, "J. R. R. Tolkien", probs(0.2, 0.1));
        assert_ne!(doubted.probs.stance(), Stance::Support, "{doubted:?}");
        let partial = judge.judge(
            claim,
            "He was the author of the high fantasy works of Middle-earth.",
            "J. R. R. Tolkien",
            probs(0.53, 0.19),
        );
        assert!(!partial.decisive, "{partial:?}");
    }

    #[test]
    fn modes_parse() {
        assert_eq!("full".parse::<JudgeMode>(), Ok(JudgeMode::Full));
        assert_eq!("model".parse::<JudgeMode>(), Ok(JudgeMode::Model));
        assert!("best".parse::<JudgeMode>().is_err());
    }

    #[test]
    fn the_model_share_mixes_the_model_in_and_is_checked() {
        let mut judge = JudgeModel::bundled().unwrap();
        let model = StanceProbs {
            support: 0.0,
            refute: 0.0,
            neutral: 1.0,
        };
        let x = vec![0.5; FEATURES.len()];
        let fitted = judge.stance(&x);
        for (share, want_neutral) in [
            (0.0, fitted.neutral),
            (1.0, 1.0),
            (0.5, 0.5 * fitted.neutral + 0.5),
        ] {
            judge.model_share = share;
            let got = judge.stance_given(&x, model);
            assert!(
                (got.neutral - want_neutral).abs() < 1e-6,
                "{share}: {got:?}"
            );
            assert!((got.support + got.refute + got.neutral - 1.0).abs() < 1e-5);
        }
        for bad in [-0.1, 1.5] {
            let mut value = serde_json::to_value(&judge).unwrap();
            value["model_share"] = serde_json::json!(bad);
            assert!(JudgeModel::from_json(&value.to_string()).is_err(), "{bad}");
        }
    }
}
