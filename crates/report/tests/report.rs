//! The report writer on hand-made verifications: snapshots of each format, and the grounding
//! invariant as a property over random evidence.

use std::collections::HashMap;

use factually_analyze::analyze;
use factually_core::{doc_id_for, DocId, Stance, StanceProbs};
use factually_report::{
    build_report, grounding_violations, render, Report, ReportInput, ReportTimings, SourceInfo,
};
use factually_verify::{verdict_of, Evidence, Timings, Verification};
use proptest::prelude::*;

/// A stored document: its id, title and text.
struct Doc {
    id: DocId,
    title: &'static str,
    text: &'static str,
}

fn doc(title: &'static str, text: &'static str) -> Doc {
    Doc {
        id: doc_id_for(title, text),
        title,
        text,
    }
}

fn probs(stance: Stance, p: f32) -> StanceProbs {
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
fn evidence(d: &Doc, sentence: &str, stance: Stance, p: f32, rank: usize) -> Evidence {
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
        source_rank: rank,
        weight: 1.0 / (1.0 + rank as f32 / 10.0),
    }
}

fn verification(claim: &str, evidence: Vec<Evidence>) -> Verification {
    Verification {
        claim: claim.to_string(),
        verdict: verdict_of(&evidence),
        retrieved: evidence.iter().map(|e| e.doc_id.clone()).collect(),
        evidence,
        timings_ms: Timings::default(),
    }
}

/// The report for an analysis and its verifications, dated 2026-11-29.
fn report_for(
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

fn infos(docs: &[&Doc]) -> HashMap<DocId, SourceInfo> {
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

fn stored<'a>(docs: &'a [&'a Doc]) -> impl FnMut(&str, &DocId) -> Option<String> + 'a {
    move |_, id| {
        docs.iter()
            .find(|d| d.id == *id)
            .map(|d| d.text.to_string())
    }
}

fn eiffel() -> Doc {
    doc(
        "Eiffel Tower",
        "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after the engineer Gustave Eiffel. It was built from 1887 to 1889.",
    )
}

fn berlin() -> Doc {
    doc(
        "Berlin",
        "Berlin is the capital and largest city of Germany. Its landmarks include the Brandenburg Gate.",
    )
}

/// A claim the sources refute, with one conflicting source.
fn refuted_claim_report() -> (Report, Vec<Doc>) {
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

#[test]
fn a_refuted_claim_reads_like_the_seed_page() {
    let (report, docs) = refuted_claim_report();
    let refs: Vec<&Doc> = docs.iter().collect();
    assert_eq!(
        grounding_violations(&report, stored(&refs)),
        Vec::<String>::new()
    );
    insta::assert_snapshot!("refuted_claim_text", render::to_text(&report, false));
    insta::assert_snapshot!("refuted_claim_markdown", render::to_markdown(&report));
    insta::assert_json_snapshot!("refuted_claim_json", report);
}

#[test]
fn html_is_one_escaped_page_with_claim_review() {
    let (mut report, _) = refuted_claim_report();
    report.input = "Is <script>alert(1)</script> in Berlin?".into();
    let html = render::to_html(&report);
    assert!(!html.contains("<script>alert"), "input is escaped");
    assert!(html.contains("&lt;script&gt;"));
    let ld_start = html.find("<script type=\"application/ld+json\">").unwrap();
    let ld = &html[ld_start + 35..];
    let ld = &ld[..ld.find("</script>").unwrap()];
    let review: serde_json::Value = serde_json::from_str(ld).unwrap();
    assert_eq!(review["@type"], "ClaimReview");
    assert_eq!(review["reviewRating"]["ratingValue"], report.verdict.rating);
    assert_eq!(review["reviewRating"]["bestRating"], 5);
    assert_eq!(review["reviewRating"]["worstRating"], 1);
    assert_eq!(review["itemReviewed"]["@type"], "Claim");
    assert!(html.contains("<a href=\"#source-1\">[1]</a>"));
    assert!(
        !html.contains("http://") && !html.contains("src="),
        "no external assets"
    );
}

#[test]
fn a_question_with_a_false_presupposition_is_flagged() {
    let e = doc(
        "Albert Einstein",
        "Albert Einstein was a German-born theoretical physicist. He excelled at mathematics from an early age and mastered calculus by fifteen.",
    );
    let input = "Why did Einstein fail math?";
    let analysis = analyze(input);
    assert_eq!(analysis.statements, ["Einstein failed math."]);
    let v = verification(
        "Einstein failed math.",
        vec![evidence(
            &e,
            "He excelled at mathematics from an early age and mastered calculus by fifteen.",
            Stance::Refute,
            0.81,
            0,
        )],
    );
    let sources = infos(&[&e]);
    let report = report_for(&analysis, vec![&v], vec![&v], &sources);
    assert_eq!(
        grounding_violations(&report, stored(&[&e])),
        Vec::<String>::new()
    );
    insta::assert_snapshot!("false_presupposition_text", render::to_text(&report, false));
    assert!((3..=5).contains(&report.follow_up_questions.len()));
}

#[test]
fn an_opinion_gets_no_true_or_false_verdict() {
    let d = doc(
        "Pizza",
        "Pizza is a popular dish of Italian origin. Many people love pizza.",
    );
    let analysis = analyze("Pizza is the best food.");
    assert!(!analysis.check_worthy);
    let v = verification(
        "Pizza is the best food.",
        vec![evidence(
            &d,
            "Many people love pizza.",
            Stance::Support,
            0.9,
            0,
        )],
    );
    let sources = infos(&[&d]);
    let report = report_for(&analysis, vec![&v], vec![], &sources);
    assert_eq!(
        report.verdict.label,
        factually_core::VerdictLabel::NotEnoughEvidence
    );
    assert!(
        report.sections.summary[0].text.contains("an opinion"),
        "{:?}",
        report.sections.summary[0]
    );
    assert_eq!(
        grounding_violations(&report, stored(&[&d])),
        Vec::<String>::new()
    );
}

#[test]
fn tampered_reports_are_caught() {
    let (report, docs) = refuted_claim_report();
    let refs: Vec<&Doc> = docs.iter().collect();
    let mut bad = report.clone();
    bad.sources[0].evidence[0].start += 1;
    assert_eq!(grounding_violations(&bad, stored(&refs)).len(), 1);
    let mut bad = report.clone();
    bad.sections.summary[1].citations.push(9);
    assert!(!grounding_violations(&bad, stored(&refs)).is_empty());
    let mut bad = report;
    bad.sections.missing_context[0].text.push_str(" [7]");
    assert!(!grounding_violations(&bad, stored(&refs)).is_empty());
}

const SENTENCES: [&str; 6] = [
    "Alpha is a city [1] in the north.",
    "It has 3,000 people.",
    "Beta is not a city.",
    "Gamma — the river — floods “often”.",
    "Delta was founded in 1887.",
    "Epsilon borders Zeta.",
];

fn stance_of(i: u8) -> Stance {
    [Stance::Support, Stance::Refute, Stance::Neutral][i as usize % 3]
}

proptest! {
    /// Whatever the verifier returns, every citation is listed and every quote is the stored
    /// text at its offsets.
    #[test]
    fn every_report_is_grounded(
        picks in proptest::collection::vec((0usize..3, 0usize..6, 0u8..3, 0.0f32..1.0, 0usize..5), 0..12),
        presupposition_picks in proptest::collection::vec((0usize..3, 0usize..6, 0u8..3, 0.0f32..1.0), 0..6),
        input in prop::sample::select(vec![
            "Why did Alpha flood again?",
            "Alpha is a city.",
            "Who is the only mayor to win the prize?",
            "What are the consequences for cities that fail to pay?",
            "Is Beta a city?",
        ]),
    ) {
        let docs = [
            doc("Alpha", "Alpha is a city [1] in the north. It has 3,000 people. Gamma — the river — floods “often”."),
            doc("Beta", "Beta is not a city. Delta was founded in 1887."),
            doc("Zeta", "Epsilon borders Zeta. Alpha is a city [1] in the north."),
        ];
        let refs: Vec<&Doc> = docs.iter().collect();
        let pick = |(d, s, st, p, rank): (usize, usize, u8, f32, usize)| {
            let d = &docs[d];
            let sentence = SENTENCES.iter().cycle().skip(s).take(6).find(|x| d.text.contains(**x)).unwrap();
            evidence(d, sentence, stance_of(st), p, rank)
        };
        let analysis = analyze(input);
        let statement_count = if analysis.statements.is_empty() && analysis.presuppositions.is_empty() { 1 } else { analysis.statements.len() };
        let main = verification("s", picks.iter().copied().map(pick).collect());
        let other = verification("p", presupposition_picks.iter().map(|&(d, s, st, p)| pick((d, s, st, p, 0))).collect());
        let sources = infos(&refs);
        let report = report_for(&analysis, vec![&main; statement_count], vec![&other; analysis.presuppositions.len()], &sources);
        prop_assert_eq!(grounding_violations(&report, stored(&refs)), Vec::<String>::new());
        prop_assert!((3..=5).contains(&report.follow_up_questions.len()), "{:?}", report.follow_up_questions);
    }
}
