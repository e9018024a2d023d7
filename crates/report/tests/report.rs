//! The report writer on hand-made verifications: snapshots of each format, and the grounding
//! invariant as a property over random evidence.

mod common;

use common::*;
use factually_analyze::analyze;
use factually_core::Stance;
use factually_report::{grounding_violations, render};
use factually_verify::Verification;
use proptest::prelude::*;

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

/// The text with its line wrapping undone.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn unrelated_sources_are_never_quoted_and_the_gap_is_named() {
    let d = doc(
        "Population transfer in the Soviet Union",
        "Population transfer in the Soviet Union was the forced transfer of various groups. Whole nations were deported.",
    );
    let input = "What are the consequences for ICE agents who fail to meet deportation quotas?";
    let analysis = analyze(input);
    let unrelated = |text: &str, sentence: &str| {
        let mut e = evidence(&d, sentence, Stance::Neutral, 0.9, 0);
        e.relevant = false;
        e.relevance = 0.05;
        verification(text, vec![e])
    };
    let statements: Vec<Verification> = analysis
        .statements
        .iter()
        .map(|t| unrelated(t, "Whole nations were deported."))
        .collect();
    let presuppositions: Vec<Verification> = analysis
        .presuppositions
        .iter()
        .map(|p| unrelated(&p.text, "Whole nations were deported."))
        .collect();
    let sources = infos(&[&d]);
    let report = report_for(
        &analysis,
        statements.iter().collect(),
        presuppositions.iter().collect(),
        &sources,
    );
    assert!(report.sources.is_empty(), "{:?}", report.sources);
    let text = flat(&render::to_text(&report, false));
    assert!(!text.contains("Whole nations"), "{text}");
    assert!(!text.contains("Soviet"), "{text}");
    assert!(
        text.contains("do not cover this question") && text.contains("--sources web"),
        "{text}"
    );
}

#[test]
fn a_refutation_says_what_the_source_states_instead() {
    let (e, b) = (eiffel(), berlin());
    let analysis = analyze("The Eiffel Tower is located in Berlin.");
    let mut refuting = evidence(
        &e,
        "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France.",
        Stance::Refute,
        0.93,
        0,
    );
    refuting.contrast = Some(factually_verify::Contrast {
        kind: factually_verify::ContrastKind::Name,
        claim_says: "Berlin".into(),
        source_says: "Paris".into(),
    });
    let v = verification(&analysis.statements[0], vec![refuting]);
    let sources = infos(&[&e, &b]);
    let report = report_for(&analysis, vec![&v], vec![], &sources);
    let text = flat(&render::to_text(&report, false));
    assert!(text.contains("It says Paris, not Berlin."), "{text}");
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
