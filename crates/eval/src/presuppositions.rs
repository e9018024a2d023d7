//! `factually eval presuppositions`: how well the input analysis finds what questions take for
//! granted, and how often a check flags a false premise.
//!
//! - **(QA)² adaptation set** (Kim et al., ACL 2023): for each question with an annotated
//!   questionable assumption, a hit is an extracted presupposition with token-F1 >= 0.85 against
//!   it (lower-cased alphanumeric tokens). Recall over those questions is the figure.
//! - **FalseQA** (Hu et al., ACL 2023): every question is checked end to end on a knowledge base;
//!   a question is *flagged* when one of its presuppositions (or, without any, its statement) is
//!   judged refuted or unsupported. The flag rate on false-premise questions against the rate on
//!   valid ones says whether flags mean anything. Every report also goes through the grounding
//!   check, and violations are counted.

use std::path::Path;
use std::time::Instant;

use factually_analyze::{analyze, validate_input, words::token_f1};
use factually_core::VerdictLabel;
use factually_report::{grounding_violations, Checker, PresuppositionStatus};
use serde::Serialize;

use crate::datasets::DatasetError;
use crate::run::parallel;

/// The token-F1 a presupposition needs to count as the annotated one.
pub const HIT_F1: f64 = 0.85;

/// A CSV file: its header and its records, each with the line it starts on.
type Csv = (Vec<String>, Vec<(usize, Vec<String>)>);

fn read_csv(path: &Path) -> Result<Csv, DatasetError> {
    let shown = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| DatasetError::Io {
            path: shown.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| DatasetError::Bad {
            path: shown.clone(),
            line: 1,
            message: e.to_string(),
        })?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| DatasetError::Bad {
            path: shown.clone(),
            line: e.position().map_or(0, |p| p.line() as usize),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok((headers, rows))
}

fn column(headers: &[String], name: &str, path: &Path) -> Result<usize, DatasetError> {
    headers
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| DatasetError::Bad {
            path: path.display().to_string(),
            line: 1,
            message: format!("no `{name}` column"),
        })
}

/// One (QA)² question with an annotated questionable assumption.
#[derive(Debug, Clone, Serialize)]
pub struct QaqaItem {
    pub question: String,
    pub assumption: String,
}

/// Reads the (QA)² CSV, keeping the questions that have a questionable assumption.
pub fn read_qaqa(path: &Path) -> Result<Vec<QaqaItem>, DatasetError> {
    let (headers, rows) = read_csv(path)?;
    let q = column(&headers, "question", path)?;
    let a = column(&headers, "questionable_assumption", path)?;
    Ok(rows
        .into_iter()
        .filter(|(_, r)| !r[a].trim().is_empty())
        .map(|(_, r)| QaqaItem {
            question: r[q].clone(),
            assumption: r[a].clone(),
        })
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct QaqaPrediction {
    pub question: String,
    pub assumption: String,
    pub best: Option<String>,
    pub best_f1: f64,
    pub hit: bool,
    pub extracted: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QaqaReport {
    pub dataset: &'static str,
    pub n: usize,
    /// Share of questions whose annotated assumption was extracted (token-F1 >= 0.85).
    pub recall: f64,
    /// The same at token-F1 >= 0.5 (loose; the question alone nearly reaches it).
    pub recall_loose: f64,
    pub mean_best_f1: f64,
    pub presuppositions_per_question: f64,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub predictions: Vec<QaqaPrediction>,
}

/// Scores presupposition extraction against the annotated assumptions.
pub fn qaqa(items: &[QaqaItem]) -> QaqaReport {
    let started = Instant::now();
    let mut predictions = Vec::new();
    let mut extracted_total = 0;
    for item in items {
        let analysis = match validate_input(&item.question) {
            Ok(q) => analyze(q),
            Err(_) => {
                predictions.push(QaqaPrediction {
                    question: item.question.clone(),
                    assumption: item.assumption.clone(),
                    best: None,
                    best_f1: 0.0,
                    hit: false,
                    extracted: vec![],
                });
                continue;
            }
        };
        extracted_total += analysis.presuppositions.len();
        let best = analysis
            .presuppositions
            .iter()
            .map(|p| (token_f1(&p.text, &item.assumption), p.text.clone()))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let (best_f1, best) = match best {
            Some((f, t)) => (f, Some(t)),
            None => (0.0, None),
        };
        predictions.push(QaqaPrediction {
            question: item.question.clone(),
            assumption: item.assumption.clone(),
            best,
            best_f1,
            hit: best_f1 >= HIT_F1,
            extracted: analysis
                .presuppositions
                .into_iter()
                .map(|p| p.text)
                .collect(),
        });
    }
    let n = predictions.len();
    let share = |f: &dyn Fn(&QaqaPrediction) -> bool| {
        if n == 0 {
            0.0
        } else {
            predictions.iter().filter(|p| f(p)).count() as f64 / n as f64
        }
    };
    QaqaReport {
        dataset: "qaqa",
        n,
        recall: share(&|p| p.hit),
        recall_loose: share(&|p| p.best_f1 >= 0.5),
        mean_best_f1: if n == 0 {
            0.0
        } else {
            predictions.iter().map(|p| p.best_f1).sum::<f64>() / n as f64
        },
        presuppositions_per_question: if n == 0 {
            0.0
        } else {
            extracted_total as f64 / n as f64
        },
        seconds: started.elapsed().as_secs_f64(),
        predictions,
    }
}

/// One FalseQA question: `false_premise` is the dataset's label 1.
#[derive(Debug, Clone, Serialize)]
pub struct FalseQaItem {
    pub question: String,
    pub false_premise: bool,
}

/// Reads a FalseQA CSV (`question,answer,label`).
pub fn read_falseqa(path: &Path) -> Result<Vec<FalseQaItem>, DatasetError> {
    let (headers, rows) = read_csv(path)?;
    let q = column(&headers, "question", path)?;
    let l = column(&headers, "label", path)?;
    rows.into_iter()
        .map(|(line, r)| {
            let false_premise = match r[l].trim() {
                "1" => true,
                "0" => false,
                other => {
                    return Err(DatasetError::Bad {
                        path: path.display().to_string(),
                        line,
                        message: format!("label {other:?} is neither 0 nor 1"),
                    })
                }
            };
            Ok(FalseQaItem {
                question: r[q].clone(),
                false_premise,
            })
        })
        .collect()
}

/// The first `limit / 2` questions of each label (FalseQA files are sorted by label, so the
/// first N alone would be one-sided), in file order.
pub fn balanced(items: Vec<FalseQaItem>, limit: Option<usize>) -> Vec<FalseQaItem> {
    let Some(limit) = limit else { return items };
    let half = limit.div_ceil(2);
    let (mut t, mut f) = (0, 0);
    items
        .into_iter()
        .filter(|i| {
            let count = if i.false_premise { &mut t } else { &mut f };
            *count += 1;
            *count <= half
        })
        .take(limit)
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct FalseQaPrediction {
    pub question: String,
    pub false_premise: bool,
    pub flagged: bool,
    pub verdict: Option<VerdictLabel>,
    pub presuppositions: Vec<(String, PresuppositionStatus)>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FalseQaReport {
    pub dataset: &'static str,
    pub n: usize,
    pub false_premise: usize,
    pub valid_premise: usize,
    /// Share of false-premise questions flagged.
    pub flag_rate_false_premise: f64,
    /// Share of valid-premise questions flagged (lower is better).
    pub flag_rate_valid_premise: f64,
    /// Share of false-premise questions with a presupposition judged *refuted* (not merely
    /// unsupported), against the same for valid ones.
    pub refuted_rate_false_premise: f64,
    pub refuted_rate_valid_premise: f64,
    pub grounding_violations: usize,
    pub errors: usize,
    pub seconds: f64,
    pub latency_ms: crate::run::Latency,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub predictions: Vec<FalseQaPrediction>,
}

/// One checked question: its prediction, grounding violations, whether a presupposition was
/// refuted, and the time it took (ms).
type Judged = (FalseQaPrediction, usize, bool, f64);

/// Checks every question end to end and counts flags and grounding violations.
pub fn falseqa(
    items: &[FalseQaItem],
    checker: &Checker<'_>,
    checked_on: &str,
    jobs: usize,
    tick: &(dyn Fn() + Sync),
) -> FalseQaReport {
    let started = Instant::now();
    let results = parallel(
        items.len(),
        jobs,
        |i| {
            let item = &items[i];
            let t = Instant::now();
            match checker.check(&item.question, checked_on) {
                Err(e) => (
                    FalseQaPrediction {
                        question: item.question.clone(),
                        false_premise: item.false_premise,
                        flagged: false,
                        verdict: None,
                        presuppositions: vec![],
                        error: Some(e.to_string()),
                    },
                    0,
                    false,
                    0.0,
                ),
                Ok(report) => {
                    let kb = checker.verifier.kb;
                    let violations = grounding_violations(&report, |_, id| {
                        kb.document(id).ok().flatten().map(|d| d.text)
                    })
                    .len();
                    let statuses: Vec<PresuppositionStatus> =
                        report.presuppositions.iter().map(|p| p.status).collect();
                    let flagged = if statuses.is_empty() {
                        matches!(
                            report.verdict.label,
                            VerdictLabel::Refuted | VerdictLabel::NotEnoughEvidence
                        )
                    } else {
                        statuses.iter().any(|s| {
                            matches!(
                                s,
                                PresuppositionStatus::Refuted | PresuppositionStatus::Unsupported
                            )
                        })
                    };
                    let refuted = statuses.contains(&PresuppositionStatus::Refuted)
                        || statuses.is_empty() && report.verdict.label == VerdictLabel::Refuted;
                    (
                        FalseQaPrediction {
                            question: item.question.clone(),
                            false_premise: item.false_premise,
                            flagged,
                            verdict: Some(report.verdict.label),
                            presuppositions: report
                                .presuppositions
                                .iter()
                                .map(|p| (p.text.clone(), p.status))
                                .collect(),
                            error: None,
                        },
                        violations,
                        refuted,
                        t.elapsed().as_secs_f64() * 1e3,
                    )
                }
            }
        },
        tick,
    );
    let rate = |false_premise: bool, f: &dyn Fn(&Judged) -> bool| {
        let group: Vec<_> = results
            .iter()
            .filter(|r| r.0.false_premise == false_premise && r.0.error.is_none())
            .collect();
        if group.is_empty() {
            0.0
        } else {
            group.iter().filter(|r| f(r)).count() as f64 / group.len() as f64
        }
    };
    let latencies: Vec<f64> = results
        .iter()
        .filter(|r| r.0.error.is_none())
        .map(|r| r.3)
        .collect();
    FalseQaReport {
        dataset: "falseqa",
        n: results.len(),
        false_premise: results.iter().filter(|r| r.0.false_premise).count(),
        valid_premise: results.iter().filter(|r| !r.0.false_premise).count(),
        flag_rate_false_premise: rate(true, &|r| r.0.flagged),
        flag_rate_valid_premise: rate(false, &|r| r.0.flagged),
        refuted_rate_false_premise: rate(true, &|r| r.2),
        refuted_rate_valid_premise: rate(false, &|r| r.2),
        grounding_violations: results.iter().map(|r| r.1).sum(),
        errors: results.iter().filter(|r| r.0.error.is_some()).count(),
        seconds: started.elapsed().as_secs_f64(),
        latency_ms: crate::run::Latency::of(&latencies),
        predictions: results.into_iter().map(|r| r.0).collect(),
    }
}
