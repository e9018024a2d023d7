//! Scoring the pipeline on a dataset: parallel over claims, metrics, per-stage timings.
//!
//! Label mappings from factually's scale to each dataset's:
//! - Check-COVID, FEVER (3-way): `supported` / `refuted` map to their labels and
//!   `not_enough_evidence` to NEI; `mixed` goes to whichever of support and refutation was
//!   stronger (these datasets have no "conflicting" label).
//! - AVeriTeC (4-way): `mixed` is "Conflicting Evidence/Cherrypicking".
//! - LIAR-PLUS: the 6-way rating is the verdict's expected truth value cut into six equal bins
//!   (pants-fire ... true); the 3-way mapping groups {pants-fire, false} = false,
//!   {barely-true, half-true} = mixed, {mostly-true, true} = true, and the verdict maps
//!   refuted = false, supported = true, anything else = mixed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use factually_core::metrics::{classify, expected_calibration_error, Classification};
use factually_core::{DocId, Stance, Verdict, VerdictLabel};
use factually_kb::KnowledgeBase;
use factually_stance::StanceModel;
use factually_verify::{
    verify_with_evidence, GivenEvidence, Judge, Timings, Verifier, VerifyError,
};
use serde::Serialize;
use serde_json::{json, Value};

use crate::datasets::{
    training_half, Abstract, AveritecClaim, CheckCovidClaim, FeverClaim, LiarClaim, PlainClaim,
    AVERITEC_LABELS, CHECK_COVID_LABELS, FEVER_LABELS, LIAR_LABELS, PLAIN_LABELS,
};

/// How to run an evaluation.
#[derive(Debug, Clone, Copy)]
pub struct EvalOptions {
    /// Claims judged at once (threads).
    pub jobs: usize,
}

/// One claim's outcome, as written to `--predictions`.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub id: String,
    pub claim: String,
    pub gold: String,
    pub predicted: String,
    pub verdict: Option<Verdict>,
    /// True when the claim was never used to train the stance model.
    pub held_out: bool,
    /// Dataset-specific details (evidence, retrieved documents, errors).
    pub details: Value,
    #[serde(skip)]
    timings: Timings,
}

/// Everything `factually eval` prints.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub dataset: String,
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_label: Vec<factually_core::metrics::LabelScores>,
    pub labels: Vec<String>,
    /// `confusion[gold][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// The same metrics on the claims the stance model never saw in training.
    pub held_out: Classification,
    /// Expected calibration error of the verdict confidence (10 bins), all claims.
    pub calibration_error: f64,
    /// Dataset-specific extra metrics (retrieval recall, rationale F1, 3-way mapping).
    pub extra: Value,
    /// Claims that could not be judged (counted as wrong).
    pub errors: usize,
    pub seconds: f64,
    pub claims_per_second: f64,
    /// Mean milliseconds per claim and stage.
    pub stage_ms: Timings,
    /// Per-claim wall time of the pipeline (with `--jobs 1`, the latency a user sees).
    pub latency_ms: Latency,
    #[serde(skip)]
    pub predictions: Vec<Prediction>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
}

impl Latency {
    /// Percentiles of some latencies, in any order.
    pub fn of(values: &[f64]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Self {
            p50: percentile(&sorted, 0.5),
            p95: percentile(&sorted, 0.95),
        }
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Runs `judge` over `n` items on `jobs` threads, calling `tick` after each.
pub(crate) fn parallel<T: Send>(
    n: usize,
    jobs: usize,
    judge: impl Fn(usize) -> T + Sync,
    tick: &(dyn Fn() + Sync),
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(n.max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let r = judge(i);
                out.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                tick();
            });
        }
    });
    out.into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|x| x.expect("every item is judged"))
        .collect()
}

fn three_way(v: &Verdict, labels: [&str; 3]) -> String {
    match v.label {
        VerdictLabel::Supported => labels[0],
        VerdictLabel::Refuted => labels[1],
        VerdictLabel::NotEnoughEvidence => labels[2],
        VerdictLabel::Mixed if v.support_strength >= v.refute_strength => labels[0],
        VerdictLabel::Mixed => labels[1],
    }
    .to_string()
}

fn report(
    dataset: &str,
    labels: &[&str],
    predictions: Vec<Prediction>,
    started: Instant,
    extra: Value,
) -> EvalReport {
    let pairs: Vec<(String, String)> = predictions
        .iter()
        .map(|p| (p.gold.clone(), p.predicted.clone()))
        .collect();
    let all = classify(labels, &pairs);
    let held: Vec<(String, String)> = predictions
        .iter()
        .filter(|p| p.held_out)
        .map(|p| (p.gold.clone(), p.predicted.clone()))
        .collect();
    let calibration: Vec<(f64, bool)> = predictions
        .iter()
        .filter_map(|p| {
            p.verdict
                .map(|v| (v.confidence as f64, p.gold == p.predicted))
        })
        .collect();
    let mut stage = Timings::default();
    for p in &predictions {
        stage.add(&p.timings);
    }
    let n = predictions.len().max(1) as f64;
    stage.retrieve /= n;
    stage.select /= n;
    stage.stance /= n;
    stage.aggregate /= n;
    stage.total /= n;
    let seconds = started.elapsed().as_secs_f64();
    let totals: Vec<f64> = predictions
        .iter()
        .filter(|p| p.verdict.is_some())
        .map(|p| p.timings.total)
        .collect();
    let latency_ms = Latency::of(&totals);
    EvalReport {
        dataset: dataset.to_string(),
        n: all.n,
        accuracy: all.accuracy,
        macro_f1: all.macro_f1,
        per_label: all.per_label,
        labels: all.labels,
        confusion: all.confusion,
        held_out: classify(labels, &held),
        calibration_error: expected_calibration_error(&calibration, 10),
        extra,
        errors: predictions.iter().filter(|p| p.verdict.is_none()).count(),
        seconds,
        claims_per_second: predictions.len() as f64 / seconds.max(1e-9),
        stage_ms: stage,
        latency_ms,
        predictions,
    }
}

fn failed(id: &str, claim: &str, gold: &str, held_out: bool, e: &VerifyError) -> Prediction {
    Prediction {
        id: id.to_string(),
        claim: claim.to_string(),
        gold: gold.to_string(),
        predicted: "error".to_string(),
        verdict: None,
        held_out,
        details: json!({ "error": e.to_string() }),
        timings: Timings::default(),
    }
}

/// Judges a claim against given evidence texts and records the outcome; `predict` maps the
/// verdict to the dataset's label, `details` adds dataset-specific fields.
fn judge_given(
    (stance, judge): (&StanceModel, &Judge),
    (id, claim, gold): (&str, &str, &str),
    held_out: bool,
    evidence: &[GivenEvidence],
    predict: impl Fn(&Verdict) -> String,
    details: impl Fn(&Verdict) -> Value,
) -> Prediction {
    match verify_with_evidence(stance, judge, claim, evidence) {
        Err(e) => failed(id, claim, gold, held_out, &e),
        Ok(v) => {
            let mut d = details(&v.verdict);
            d["evidence"] = json!(v.evidence);
            Prediction {
                id: id.to_string(),
                claim: claim.to_string(),
                gold: gold.to_string(),
                predicted: predict(&v.verdict),
                verdict: Some(v.verdict),
                held_out,
                details: d,
                timings: v.timings_ms,
            }
        }
    }
}

fn given(texts: impl IntoIterator<Item = String>) -> Vec<GivenEvidence> {
    texts
        .into_iter()
        .map(|text| GivenEvidence {
            text,
            credibility: 1.0,
        })
        .collect()
}

/// Byte ranges of the abstract's sentences inside the stored text (they were joined by spaces).
fn sentence_ranges(text: &str, sentences: &[String]) -> Vec<Option<(usize, usize)>> {
    let mut from = 0;
    sentences
        .iter()
        .map(|s| {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            let at = text[from..].find(s)? + from;
            from = at + s.len();
            Some((at, at + s.len()))
        })
        .collect()
}

/// Check-COVID with system-retrieved evidence from a knowledge base holding the corpus.
pub fn check_covid(
    claims: &[CheckCovidClaim],
    corpus: &HashMap<String, Abstract>,
    verifier: &Verifier,
    options: EvalOptions,
    tick: &(dyn Fn() + Sync),
) -> EvalReport {
    let started = Instant::now();
    let kb: &KnowledgeBase = verifier.kb;
    let cord_of = |id: &DocId| -> Option<String> {
        kb.document(id)
            .ok()
            .flatten()
            .and_then(|d| d.meta.external_id)
    };
    let results = parallel(
        claims.len(),
        options.jobs,
        |i| {
            let c = &claims[i];
            match verifier.verify(&c.claim) {
                Err(e) => (failed(&c.id, &c.claim, &c.label, true, &e), None, (0, 0, 0)),
                Ok(v) => {
                    let retrieved: Vec<String> = v.retrieved.iter().filter_map(&cord_of).collect();
                    let gold_rank = retrieved.iter().position(|r| *r == c.cord_id);
                    // Rationale sentences: non-neutral evidence from the gold abstract.
                    let mut counts = (0, 0, 0); // (true positive, predicted, gold)
                    if c.label != "NOTENOUGHINFO" {
                        counts.2 = c.evidence_sentences.len();
                        if let Some(abs) = corpus.get(&c.cord_id) {
                            let mut predicted: Vec<usize> = Vec::new();
                            for e in v.evidence.iter().filter(|e| e.stance != Stance::Neutral) {
                                if cord_of(&e.doc_id).as_deref() != Some(c.cord_id.as_str()) {
                                    continue;
                                }
                                let Some(doc) = kb.document(&e.doc_id).ok().flatten() else {
                                    continue;
                                };
                                for (idx, r) in sentence_ranges(&doc.text, &abs.sentences)
                                    .iter()
                                    .enumerate()
                                {
                                    if let Some((s, t)) = r {
                                        if *s < e.end && e.start < *t && !predicted.contains(&idx) {
                                            predicted.push(idx);
                                        }
                                    }
                                }
                            }
                            counts.0 = predicted
                                .iter()
                                .filter(|i| c.evidence_sentences.contains(i))
                                .count();
                            counts.1 = predicted.len();
                        }
                    }
                    let pred = Prediction {
                        id: c.id.clone(),
                        claim: c.claim.clone(),
                        gold: c.label.clone(),
                        predicted: three_way(&v.verdict, ["SUPPORT", "REFUTE", "NOTENOUGHINFO"]),
                        verdict: Some(v.verdict),
                        held_out: true,
                        details: json!({ "gold_rank": gold_rank, "retrieved": retrieved, "evidence": v.evidence }),
                        timings: v.timings_ms,
                    };
                    (pred, gold_rank, counts)
                }
            }
        },
        tick,
    );
    let n = results.len().max(1) as f64;
    let recall_at = |k: usize| {
        results
            .iter()
            .filter(|r| r.1.is_some_and(|g| g < k))
            .count() as f64
            / n
    };
    let (tp, pred_n, gold_n) = results
        .iter()
        .fold((0, 0, 0), |a, r| (a.0 + r.2 .0, a.1 + r.2 .1, a.2 + r.2 .2));
    let precision = if pred_n > 0 {
        tp as f64 / pred_n as f64
    } else {
        0.0
    };
    let recall = if gold_n > 0 {
        tp as f64 / gold_n as f64
    } else {
        0.0
    };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    let extra = json!({
        "evidence": "retrieved",
        "accuracy_ceiling": check_covid_retrieval_ceiling(claims),
        "retrieval": { "gold_abstract_recall_at_1": recall_at(1), "gold_abstract_recall_at_5": recall_at(5),
                        "documents_retrieved": verifier.options.documents },
        "rationale_sentences": { "precision": precision, "recall": recall, "f1": f1 },
    });
    let predictions = results.into_iter().map(|r| r.0).collect();
    report(
        "check-covid",
        &CHECK_COVID_LABELS,
        predictions,
        started,
        extra,
    )
}

/// Check-COVID with the annotated evidence given: each claim is judged against its rationale
/// sentences joined into one text, the setting of the dataset paper's label-prediction figures.
/// This is the only setting in which the dataset's NOTENOUGHINFO claims can be told apart:
/// every one of them repeats the text of a SUPPORT or REFUTE claim about the same abstract and
/// differs only in the sentences it is paired with.
pub fn check_covid_gold(
    claims: &[CheckCovidClaim],
    corpus: &HashMap<String, Abstract>,
    stance: &StanceModel,
    judge: &Judge,
    options: EvalOptions,
    tick: &(dyn Fn() + Sync),
) -> EvalReport {
    let started = Instant::now();
    let predictions = parallel(
        claims.len(),
        options.jobs,
        |i| {
            let c = &claims[i];
            let rationale: Vec<String> = corpus
                .get(&c.cord_id)
                .map(|abs| {
                    c.evidence_sentences
                        .iter()
                        .filter_map(|&i| abs.sentences.get(i).cloned())
                        .collect()
                })
                .unwrap_or_default();
            let evidence = if rationale.is_empty() {
                Vec::new()
            } else {
                given([rationale.join(" ")])
            };
            judge_given(
                (stance, judge),
                (&c.id, &c.claim, &c.label),
                true,
                &evidence,
                |v| three_way(v, ["SUPPORT", "REFUTE", "NOTENOUGHINFO"]),
                |_| json!({ "rationale_found": !evidence.is_empty() }),
            )
        },
        tick,
    );
    let missing = predictions
        .iter()
        .filter(|p| p.details["rationale_found"] == json!(false))
        .count();
    report(
        "check-covid",
        &CHECK_COVID_LABELS,
        predictions,
        started,
        json!({ "evidence": "gold", "claims_without_rationale_in_corpus": missing }),
    )
}

/// The best accuracy any system reaches on Check-COVID with retrieved evidence: claims with
/// the same text about the same abstract get the same input, hence the same prediction, so of
/// each such group at most the claims of its most frequent label can be right.
pub fn check_covid_retrieval_ceiling(claims: &[CheckCovidClaim]) -> f64 {
    let mut groups: HashMap<(&str, &str), HashMap<&str, usize>> = HashMap::new();
    for c in claims {
        *groups
            .entry((c.claim.trim(), c.cord_id.as_str()))
            .or_default()
            .entry(c.label.as_str())
            .or_default() += 1;
    }
    let reachable: usize = groups
        .values()
        .map(|labels| labels.values().copied().max().unwrap_or(0))
        .sum();
    reachable as f64 / claims.len().max(1) as f64
}

/// FEVER claims against the default knowledge base.
pub fn fever(
    claims: &[FeverClaim],
    verifier: &Verifier,
    options: EvalOptions,
    tick: &(dyn Fn() + Sync),
) -> EvalReport {
    let started = Instant::now();
    let kb = verifier.kb;
    let predictions = parallel(
        claims.len(),
        options.jobs,
        |i| {
            let c = &claims[i];
            let held_out = training_half("fever-wiki", &c.id) == 1;
            match verifier.verify(&c.claim) {
                Err(e) => failed(&c.id, &c.claim, &c.label, held_out, &e),
                Ok(v) => {
                    let titles: Vec<String> = v
                        .retrieved
                        .iter()
                        .filter_map(|id| kb.document(id).ok().flatten().map(|d| d.meta.title))
                        .collect();
                    Prediction {
                        id: c.id.clone(),
                        claim: c.claim.clone(),
                        gold: c.label.clone(),
                        predicted: three_way(
                            &v.verdict,
                            ["SUPPORTS", "REFUTES", "NOT ENOUGH INFO"],
                        ),
                        verdict: Some(v.verdict),
                        held_out,
                        details: json!({ "gold_pages": c.evidence_pages, "retrieved": titles, "evidence": v.evidence }),
                        timings: v.timings_ms,
                    }
                }
            }
        },
        tick,
    );
    let with_pages: Vec<&Prediction> = predictions
        .iter()
        .filter(|p| p.gold != "NOT ENOUGH INFO")
        .collect();
    let found = with_pages
        .iter()
        .filter(|p| {
            let gold: Vec<String> = p.details["gold_pages"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(|s| s.replace('_', " ").to_lowercase()))
                        .collect()
                })
                .unwrap_or_default();
            p.details["retrieved"].as_array().is_some_and(|r| {
                r.iter()
                    .any(|t| t.as_str().is_some_and(|t| gold.contains(&t.to_lowercase())))
            })
        })
        .count();
    let extra = json!({ "retrieval": { "gold_page_recall_at_5": found as f64 / with_pages.len().max(1) as f64 } });
    report("fever-wiki", &FEVER_LABELS, predictions, started, extra)
}

/// The plain-claims suite over the default knowledge base. Besides the usual metrics it
/// reports the two figures the suite exists for: the share of settled claims (stated or
/// contradicted by an article) judged right, and the share of claims the encyclopedia does not
/// cover that are left undecided (`not_enough_evidence`), plus how many of those cite a quote
/// as support or refutation anyway.
pub fn plain(
    claims: &[PlainClaim],
    verifier: &Verifier,
    options: EvalOptions,
    tick: &(dyn Fn() + Sync),
) -> EvalReport {
    let started = Instant::now();
    let predictions = parallel(
        claims.len(),
        options.jobs,
        |i| {
            let c = &claims[i];
            match verifier.verify(&c.claim) {
                Err(e) => failed(&c.id, &c.claim, &c.expected, true, &e),
                Ok(v) => {
                    let cited = v
                        .evidence
                        .iter()
                        .filter(|e| e.stance != Stance::Neutral)
                        .count();
                    Prediction {
                        id: c.id.clone(),
                        claim: c.claim.clone(),
                        gold: c.expected.clone(),
                        predicted: match v.verdict.label {
                            VerdictLabel::Supported => "supported",
                            VerdictLabel::Refuted => "refuted",
                            VerdictLabel::NotEnoughEvidence => "not_covered",
                            VerdictLabel::Mixed => "mixed",
                        }
                        .to_string(),
                        verdict: Some(v.verdict),
                        held_out: true,
                        details: json!({ "kind": c.kind, "article": c.article, "decisive_evidence": cited, "evidence": v.evidence }),
                        timings: v.timings_ms,
                    }
                }
            }
        },
        tick,
    );
    let share = |gold: &dyn Fn(&str) -> bool| {
        let of: Vec<&Prediction> = predictions.iter().filter(|p| gold(&p.gold)).collect();
        let right = of.iter().filter(|p| p.predicted == p.gold).count();
        (right as f64 / of.len().max(1) as f64, of.len())
    };
    let (settled, n_settled) = share(&|g| g != "not_covered");
    let (undecided, n_uncovered) = share(&|g| g == "not_covered");
    let (supported, _) = share(&|g| g == "supported");
    let (refuted, _) = share(&|g| g == "refuted");
    let uncovered_citing = predictions
        .iter()
        .filter(|p| {
            p.gold == "not_covered" && p.details["decisive_evidence"].as_u64().unwrap_or(0) > 0
        })
        .count();
    let extra = json!({
        "settled_right": settled,
        "settled_claims": n_settled,
        "supported_right": supported,
        "refuted_right": refuted,
        "not_covered_undecided": undecided,
        "not_covered_claims": n_uncovered,
        "not_covered_citing_decisive_quotes": uncovered_citing,
    });
    report("plain", &PLAIN_LABELS, predictions, started, extra)
}

/// AVeriTeC with its gold question-answer pairs as evidence.
pub fn averitec(
    claims: &[AveritecClaim],
    stance: &StanceModel,
    judge: &Judge,
    options: EvalOptions,
    tick: &(dyn Fn() + Sync),
) -> EvalReport {
    let started = Instant::now();
    let predictions = parallel(
        claims.len(),
        options.jobs,
        |i| {
            let c = &claims[i];
            judge_given(
                (stance, judge),
                (&c.id, &c.claim, &c.label),
                training_half("averitec", &c.id) == 1,
                &given(c.qa.iter().cloned()),
                |v| {
                    match v.label {
                        VerdictLabel::Supported => AVERITEC_LABELS[0],
                        VerdictLabel::Refuted => AVERITEC_LABELS[1],
                        VerdictLabel::NotEnoughEvidence => AVERITEC_LABELS[2],
                        VerdictLabel::Mixed => AVERITEC_LABELS[3],
                    }
                    .to_string()
                },
                |_| json!({}),
            )
        },
        tick,
    );
    report(
        "averitec",
        &AVERITEC_LABELS,
        predictions,
        started,
        json!({}),
    )
}

fn liar_three(label: &str) -> &'static str {
    match label {
        "pants-fire" | "false" => "false",
        "barely-true" | "half-true" => "mixed",
        _ => "true",
    }
}

/// LIAR-PLUS with the ruling's justification as evidence.
pub fn liar_plus(
    claims: &[LiarClaim],
    stance: &StanceModel,
    judge: &Judge,
    options: EvalOptions,
    tick: &(dyn Fn() + Sync),
) -> EvalReport {
    let started = Instant::now();
    let predictions = parallel(
        claims.len(),
        options.jobs,
        |i| {
            let c = &claims[i];
            judge_given(
                (stance, judge),
                (&c.id, &c.claim, &c.label),
                training_half("liar-plus", &c.id) == 1,
                &given([c.justification.clone()]),
                |v| LIAR_LABELS[((v.truth * 6.0) as usize).min(5)].to_string(),
                |v| {
                    let three = match v.label {
                        VerdictLabel::Refuted => "false",
                        VerdictLabel::Supported => "true",
                        _ => "mixed",
                    };
                    json!({ "three_way": { "gold": liar_three(&c.label), "predicted": three } })
                },
            )
        },
        tick,
    );
    let three_pairs = |held_only: bool| -> Vec<(String, String)> {
        predictions
            .iter()
            .filter(|p| !held_only || p.held_out)
            .map(|p| {
                let t = &p.details["three_way"];
                (
                    liar_three(&p.gold).to_string(),
                    t["predicted"].as_str().unwrap_or("error").to_string(),
                )
            })
            .collect()
    };
    let labels3 = ["false", "mixed", "true"];
    let extra = json!({
        "three_way": classify(&labels3, &three_pairs(false)),
        "three_way_held_out": classify(&labels3, &three_pairs(true)),
    });
    report("liar-plus", &LIAR_LABELS, predictions, started, extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retrieval_ceiling_counts_one_label_per_same_text_group() {
        fn check(claims: &[(&str, &str, &str)], expected: f64) {
            let claims: Vec<CheckCovidClaim> = claims
                .iter()
                .enumerate()
                .map(|(i, (claim, cord_id, label))| CheckCovidClaim {
                    id: i.to_string(),
                    claim: claim.to_string(),
                    cord_id: cord_id.to_string(),
                    label: label.to_string(),
                    evidence_sentences: vec![0],
                })
                .collect();
            let got = check_covid_retrieval_ceiling(&claims);
            assert!((got - expected).abs() < 1e-9, "{claims:?}: {got}");
        }
        check(&[], 0.0);
        check(&[("a", "x", "SUPPORT"), ("b", "x", "REFUTE")], 1.0);
        // Twins: the same text about the same abstract can only get one answer.
        check(&[("a", "x", "REFUTE"), ("a ", "x", "NOTENOUGHINFO")], 0.5);
        // The same text about another abstract is a different input.
        check(&[("a", "x", "REFUTE"), ("a", "y", "NOTENOUGHINFO")], 1.0);
        check(
            &[
                ("a", "x", "SUPPORT"),
                ("a", "x", "SUPPORT"),
                ("a", "x", "NOTENOUGHINFO"),
                ("b", "x", "REFUTE"),
            ],
            0.75,
        );
    }

    #[test]
    fn abstract_sentences_are_found_in_the_joined_text() {
        let sentences = vec![
            "First one.".to_string(),
            "Second one.".to_string(),
            " ".to_string(),
            "First one.".to_string(),
        ];
        let text = "First one. Second one. First one.";
        let r = sentence_ranges(text, &sentences);
        assert_eq!(r, vec![Some((0, 10)), Some((11, 22)), None, Some((23, 33))]);
    }

    #[test]
    fn mixed_verdicts_lean_to_the_stronger_side_on_three_way_datasets() {
        let v = |s: f32, r: f32| {
            factually_core::aggregate(&[
                factually_core::WeightedStance {
                    probs: factually_core::StanceProbs {
                        support: s,
                        refute: 0.0,
                        neutral: 1.0 - s,
                    },
                    weight: 1.0,
                },
                factually_core::WeightedStance {
                    probs: factually_core::StanceProbs {
                        support: 0.0,
                        refute: r,
                        neutral: 1.0 - r,
                    },
                    weight: 1.0,
                },
            ])
        };
        let labels = ["S", "R", "N"];
        assert_eq!(three_way(&v(0.95, 0.9), labels), "S");
        assert_eq!(three_way(&v(0.9, 0.95), labels), "R");
        assert_eq!(three_way(&v(0.05, 0.05), labels), "N");
    }
}
