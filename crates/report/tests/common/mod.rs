//! Hand-made documents, evidence and reports shared by the report tests.

#![allow(dead_code)] // each test binary uses its own part

use std::collections::HashMap;

use factually_analyze::analyze;
use factually_core::{doc_id_for, DocId, Stance, StanceProbs};
use factually_report::{build_report, Report, ReportInput, ReportTimings, SourceInfo};
use factually_verify::{verdict_of, Evidence, Timings, Verification};

/// A stored document: its id, title and text.
pub struct Doc {
    pub id: DocId,
    pub title: &'static str,
    pub text: &'static str,
}

pub fn doc(title: &'static str, text: &'static str) -> Doc {
    Doc {
        id: doc_id_for(title, text),
        title,
        text,
    }
}

pub fn probs(stance: Stance, p: f32) -> StanceProbs {
    let rest = (1.0 - p) / 2.0;
    match stance {
        Stance::Support => StanceProbs {
            support: p,
            refute: rest,
            neutral: rest,
        },
        Stance::Refute => StanceProbs {
            support: rest,
            refute: p,
            neutral: rest,
        },
        Stance::Neutral => StanceProbs {
            support: rest,
            refute: rest,
            neutral: p,
        },
    }
}

/// Evidence for the sentence of `d` that starts with `sentence`, judged `stance` with `p`.
pub fn evidence(d: &Doc, sentence: &str, stance: Stance, p: f32, rank: usize) -> Evidence {
    let start = d
        .text
        .find(sentence)
        .expect("the sentence is in the document");
    let end = start + sentence.len();
    Evidence {
        doc_id: d.id.clone(),
        title: d.title.to_string(),
        start,
        end,
        quote: d.text[start..end].to_string(),
        stance,
        probability: p,
        probabilities: probs(stance, p),
        model_probabilities: probs(stance, p),
        relevance: 0.9,
        relevant: true,
        contrast: None,
        source_rank: rank,
        weight: 1.0 / (1.0 + rank as f32 / 10.0),
    }
}

pub fn verification(claim: &str, evidence: Vec<Evidence>) -> Verification {
    Verification {
        claim: claim.to_string(),
        verdict: verdict_of(&evidence),
        retrieved: evidence.iter().map(|e| e.doc_id.clone()).collect(),
        evidence,
        timings_ms: Timings::default(),
    }
}

/// The report for an analysis and its verifications, dated 2026-11-29.
pub fn report_for(
    analysis: &factually_analyze::Analysis,
    statements: Vec<&Verification>,
    presuppositions: Vec<&Verification>,
    sources: &HashMap<DocId, SourceInfo>,
) -> Report {
    build_report(ReportInput {
        analysis,
        statements,
        presuppositions,
        sources,
        checked_on: "2026-11-29".into(),
        search_queries: vec![],
        skipped_sources: vec![],
        warnings: vec![],
        timings_ms: ReportTimings::default(),
    })
}

pub fn infos(docs: &[&Doc]) -> HashMap<DocId, SourceInfo> {
    docs.iter()
        .map(|d| {
            (
                d.id.clone(),
                SourceInfo {
                    kb: "fixture".into(),
                    title: d.title.into(),
                    url: Some(format!("https://example.org/{}", d.title.replace(' ', "_"))),
                    publisher: Some("Example Encyclopedia".into()),
                    published: None,
                    credibility: None,
                    retrieved_at: None,
                    copies: vec![],
                },
            )
        })
        .collect()
}

pub fn stored<'a>(docs: &'a [&'a Doc]) -> impl FnMut(&str, &DocId) -> Option<String> + 'a {
    move |_, id| {
        docs.iter()
            .find(|d| d.id == *id)
            .map(|d| d.text.to_string())
    }
}

pub fn eiffel() -> Doc {
    doc(
        "Eiffel Tower",
        "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after the engineer Gustave Eiffel. It was built from 1887 to 1889.",
    )
}

pub fn berlin() -> Doc {
    doc(
        "Berlin",
        "Berlin is the capital and largest city of Germany. Its landmarks include the Brandenburg Gate.",
    )
}

/// A claim the sources refute, with one conflicting source.
pub fn refuted_claim_report() -> (Report, Vec<Doc>) {
    let (e, b) = (eiffel(), berlin());
    let input = "The Eiffel Tower is located in Berlin.";
    let analysis = analyze(input);
    let v = verification(
        &analysis.statements[0],
        vec![
            evidence(&e, "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France.", Stance::Refute, 0.93, 0),
            evidence(&e, "It is named after the engineer Gustave Eiffel.", Stance::Neutral, 0.88, 0),
            evidence(&b, "Its landmarks include the Brandenburg Gate.", Stance::Neutral, 0.9, 1),
        ],
    );
    let sources = infos(&[&e, &b]);
    let report = report_for(&analysis, vec![&v], vec![], &sources);
    (report, vec![e, b])
}

/// Stands in for the stance model where what is tested or measured is the grounding gate's
/// logic or schedule: a quote supports a statement when it contains every word of four or
/// more letters of it.
pub struct WordJudge;

impl factually_report::llm::SupportJudge for WordJudge {
    fn support(&self, pairs: &[(&str, &str)]) -> Vec<f32> {
        pairs
            .iter()
            .map(|(statement, quote)| {
                let quote = quote.to_lowercase();
                let all = statement
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.len() >= 4)
                    .all(|w| quote.contains(&w.to_lowercase()));
                if all {
                    0.9
                } else {
                    0.1
                }
            })
            .collect()
    }
}
