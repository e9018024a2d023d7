//! From sentence stances to a verdict.
//!
//! The stance model says, for one (claim, evidence sentence) pair, how likely the sentence
//! supports, refutes or says nothing about the claim. A verdict combines many such judgements
//! across sources. The rule is deliberately simple enough to explain on the method page:
//!
//! 1. Each sentence's support and refute probabilities are scaled by a weight in `0..=1`: the
//!    credibility of its source times a retrieval factor that decays with the source's rank
//!    ([`evidence_weight`]).
//! 2. The claim's support strength `S` is the strongest weighted support of any sentence, and
//!    the refute strength `R` the strongest weighted refutation (one clear statement by a credible
//!    source is enough; ten weak hints are not ten times a hint).
//! 3. Treating `S` and `R` as independent probabilities gives four outcomes:
//!    `supported = S(1-R)`, `refuted = R(1-S)`, `mixed = SR` (credible sources conflict) and
//!    `not_enough_evidence = (1-S)(1-R)`. The label is the most probable outcome and the
//!    confidence its probability, so a confidence of 0.8 means "right about 4 times in 5" when
//!    the stance probabilities are calibrated (the eval reports the calibration error).
//! 4. The 1..=5 ClaimReview rating is the expected truth value `supported + (mixed + nee) / 2`
//!    mapped onto 1 (false) ... 5 (true).

use serde::{Deserialize, Serialize};

/// What one evidence sentence says about a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    Support,
    Refute,
    Neutral,
}

/// Calibrated probabilities of the three stances; they sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StanceProbs {
    pub support: f32,
    pub refute: f32,
    pub neutral: f32,
}

impl StanceProbs {
    /// The most probable stance.
    pub fn stance(&self) -> Stance {
        if self.support >= self.refute && self.support >= self.neutral {
            Stance::Support
        } else if self.refute >= self.neutral {
            Stance::Refute
        } else {
            Stance::Neutral
        }
    }

    /// The probability of [`Self::stance`].
    pub fn probability(&self) -> f32 {
        self.support.max(self.refute).max(self.neutral)
    }

    /// How much the sentence takes a side at all, `1 - neutral`.
    pub fn decisiveness(&self) -> f32 {
        1.0 - self.neutral
    }

    /// The same with `side`'s probability moved to neutral: the sentence is not read as
    /// taking that side. Neutral itself is unchanged.
    pub fn without(self, side: Stance) -> StanceProbs {
        match side {
            Stance::Support => StanceProbs {
                support: 0.0,
                refute: self.refute,
                neutral: self.neutral + self.support,
            },
            Stance::Refute => StanceProbs {
                support: self.support,
                refute: 0.0,
                neutral: self.neutral + self.refute,
            },
            Stance::Neutral => self,
        }
    }

    /// The same with `side` leading: its probability and the most probable stance's trade
    /// places (unchanged when `side` already leads).
    pub fn led_by(self, side: Stance) -> StanceProbs {
        let get = |p: &StanceProbs, s: Stance| match s {
            Stance::Support => p.support,
            Stance::Refute => p.refute,
            Stance::Neutral => p.neutral,
        };
        let set = |p: &mut StanceProbs, s: Stance, v: f32| match s {
            Stance::Support => p.support = v,
            Stance::Refute => p.refute = v,
            Stance::Neutral => p.neutral = v,
        };
        let top = self.stance();
        let mut out = self;
        set(&mut out, side, get(&self, top));
        set(&mut out, top, get(&self, side));
        out
    }
}

/// A verdict label on factually's documented scale.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VerdictLabel {
    Supported,
    Refuted,
    Mixed,
    NotEnoughEvidence,
}

impl VerdictLabel {
    pub const ALL: [VerdictLabel; 4] = [
        VerdictLabel::Supported,
        VerdictLabel::Refuted,
        VerdictLabel::Mixed,
        VerdictLabel::NotEnoughEvidence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VerdictLabel::Supported => "supported",
            VerdictLabel::Refuted => "refuted",
            VerdictLabel::Mixed => "mixed",
            VerdictLabel::NotEnoughEvidence => "not_enough_evidence",
        }
    }
}

impl std::fmt::Display for VerdictLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome for one claim.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub label: VerdictLabel,
    /// Probability that `label` is right, in `0..=1`.
    pub confidence: f32,
    /// ClaimReview rating: 1 = false ... 5 = true.
    pub rating: u8,
    /// Expected truth value in `0..=1` that the rating rounds (`supported + (mixed + nee) / 2`).
    pub truth: f32,
    /// Strongest weighted support and refutation found, for explanations.
    pub support_strength: f32,
    pub refute_strength: f32,
}

/// One judged evidence sentence as the aggregator sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedStance {
    pub probs: StanceProbs,
    /// In `0..=1`, see [`evidence_weight`].
    pub weight: f32,
}

/// Weight of evidence from the source at retrieval rank `rank` (0 = best) with credibility
/// `credibility` in `0..=1`: credibility times `1 / (1 + rank / 10)`, so the tenth source counts
/// half as much as the first.
pub fn evidence_weight(rank: usize, credibility: f32) -> f32 {
    credibility.clamp(0.0, 1.0) / (1.0 + rank as f32 / 10.0)
}

/// Combines judged sentences into a verdict (see the module docs for the rule).
pub fn aggregate(evidence: &[WeightedStance]) -> Verdict {
    let strongest = |f: fn(&StanceProbs) -> f32| {
        evidence
            .iter()
            .map(|e| (f(&e.probs) * e.weight.clamp(0.0, 1.0)).clamp(0.0, 1.0))
            .fold(0.0f32, f32::max)
    };
    let s = strongest(|p| p.support);
    let r = strongest(|p| p.refute);
    let outcomes = [
        (VerdictLabel::Supported, s * (1.0 - r)),
        (VerdictLabel::Refuted, r * (1.0 - s)),
        (VerdictLabel::Mixed, s * r),
        (VerdictLabel::NotEnoughEvidence, (1.0 - s) * (1.0 - r)),
    ];
    let (label, confidence) =
        outcomes
            .iter()
            .copied()
            .fold((VerdictLabel::NotEnoughEvidence, -1.0f32), |best, o| {
                if o.1 > best.1 {
                    o
                } else {
                    best
                }
            });
    let truth = outcomes[0].1 + (outcomes[2].1 + outcomes[3].1) / 2.0;
    let rating = (1.0 + 4.0 * truth).round().clamp(1.0, 5.0) as u8;
    Verdict {
        label,
        confidence,
        rating,
        truth,
        support_strength: s,
        refute_strength: r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(support: f32, refute: f32, weight: f32) -> WeightedStance {
        WeightedStance {
            probs: StanceProbs {
                support,
                refute,
                neutral: 1.0 - support - refute,
            },
            weight,
        }
    }

    fn check(evidence: &[WeightedStance], label: VerdictLabel, rating: u8) {
        let v = aggregate(evidence);
        assert_eq!(
            (v.label, v.rating),
            (label, rating),
            "{evidence:?} -> {v:?}"
        );
        assert!((0.0..=1.0).contains(&v.confidence));
    }

    #[test]
    fn verdicts_follow_the_documented_rule() {
        check(&[], VerdictLabel::NotEnoughEvidence, 3);
        check(&[ev(0.95, 0.0, 1.0)], VerdictLabel::Supported, 5);
        check(&[ev(0.0, 0.95, 1.0)], VerdictLabel::Refuted, 1);
        check(
            &[ev(0.9, 0.0, 1.0), ev(0.0, 0.9, 1.0)],
            VerdictLabel::Mixed,
            3,
        );
        check(
            &[ev(0.2, 0.1, 1.0), ev(0.1, 0.2, 1.0)],
            VerdictLabel::NotEnoughEvidence,
            3,
        );
        // Weak sources cannot outvote a strong one, and low weight turns support into doubt.
        check(
            &[ev(0.9, 0.0, 1.0), ev(0.0, 0.9, 0.1)],
            VerdictLabel::Supported,
            5,
        );
        check(&[ev(0.9, 0.0, 0.3)], VerdictLabel::NotEnoughEvidence, 4);
    }

    #[test]
    fn a_side_can_be_taken_away_or_put_first() {
        let p = StanceProbs {
            support: 0.5,
            refute: 0.2,
            neutral: 0.3,
        };
        let without = p.without(Stance::Support);
        assert_eq!((without.support, without.refute), (0.0, 0.2));
        assert!((without.neutral - 0.8).abs() < 1e-6);
        assert_eq!(p.without(Stance::Neutral), p);
        let led = p.led_by(Stance::Refute);
        assert_eq!((led.support, led.refute, led.neutral), (0.2, 0.5, 0.3));
        assert_eq!(p.led_by(Stance::Support), p);
    }

    #[test]
    fn weights_decay_with_rank_and_credibility() {
        assert_eq!(evidence_weight(0, 1.0), 1.0);
        assert!((evidence_weight(10, 1.0) - 0.5).abs() < 1e-6);
        assert!((evidence_weight(0, 0.4) - 0.4).abs() < 1e-6);
        assert_eq!(evidence_weight(0, 7.0), 1.0);
    }

    #[test]
    fn stance_is_the_argmax() {
        let p = StanceProbs {
            support: 0.2,
            refute: 0.7,
            neutral: 0.1,
        };
        assert_eq!(p.stance(), Stance::Refute);
        assert!((p.probability() - 0.7).abs() < 1e-6);
    }
}
