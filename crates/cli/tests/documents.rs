//! `factually check --file | --text` end to end: the document report over the fixture
//! knowledge base (JSON, Markdown snapshot, HTML, text), and refusals of bad documents.

mod common;

use std::path::Path;

use common::{assert_grounded, data_dir_with_facts, fixtures, run_expecting};
use serde_json::Value;

/// Runs a command, checks its exit status, that it did not panic and, on failure, that it
/// said why; returns stdout.
fn check(data: &Path, args: &[&str], stdin: Option<&[u8]>, status: i32) -> String {
    let (stdout, stderr) = run_expecting(data, args, stdin, status);
    if status != 0 {
        assert!(!stderr.trim().is_empty(), "{args:?} failed without a word");
    }
    stdout
}

fn article() -> String {
    fixtures()
        .join("documents/article.md")
        .display()
        .to_string()
}

/// Confidence and check-worthiness figures depend on floating-point details of the CPU.
fn redact_figures(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(i);
        let n = from
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(from.len());
        out.push_str(before);
        let number = &from[..n];
        // Only fractions in 0..1 are model figures; years, byte offsets and counts stay.
        if number.starts_with("0.") || number.starts_with("1.00") {
            out.push_str("#.##");
        } else {
            out.push_str(number);
        }
        rest = &from[n..];
    }
    out.push_str(rest);
    out
}

#[test]
fn a_document_report_checks_each_claim_in_place() {
    let data = data_dir_with_facts();
    let d = data.path();
    let base = [
        "check",
        "--file",
        &article(),
        "--kb",
        "facts",
        "--checked-on",
        "2026-12-07",
    ];
    let json: Value = serde_json::from_str(&check(
        d,
        &[&base[..], &["--format", "json"]].concat(),
        None,
        0,
    ))
    .expect("one JSON document");
    assert_eq!(json["kind"], "document");
    assert_eq!(json["schema_version"], 2);
    assert_eq!(json["checked_on"], "2026-12-07");
    assert_eq!(json["document"]["origin"], "file");
    let text = json["document"]["text"].as_str().unwrap();
    assert_eq!(
        json["document"]["sha256"],
        factually_core::sha256_hex(text.as_bytes())
    );
    let claims = json["claims"].as_array().unwrap();
    assert!(
        (1..=5).contains(&claims.len()),
        "at most --max-claims (5) claims: {json}"
    );
    let mut tally = std::collections::HashMap::<String, u64>::new();
    for (i, c) in claims.iter().enumerate() {
        assert_eq!(c["n"], i + 1);
        let (start, end) = (
            c["start"].as_u64().unwrap() as usize,
            c["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[start..end], c["sentence"].as_str().unwrap());
        if i > 0 {
            assert!(c["score"].as_f64() <= claims[i - 1]["score"].as_f64());
        }
        let report = &c["report"];
        assert_eq!(report["input"], c["claim"]);
        assert_grounded(d, report);
        *tally
            .entry(report["verdict"]["label"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    for (label, n) in &tally {
        assert_eq!(json["tally"][label].as_u64(), Some(*n), "{label}");
    }
    // The stored vaccine study settles one of the article's myths.
    let verdict_of = |needle: &str| {
        claims
            .iter()
            .find(|c| c["claim"].as_str().unwrap().contains(needle))
            .map(|c| c["report"]["verdict"]["label"].clone())
    };
    assert_eq!(
        verdict_of("measles vaccine causes autism"),
        Some("refuted".into())
    );
    assert!(json["summary"][0].as_str().unwrap().starts_with("Checked "));
    // Thanks and opinions are not claims.
    for c in claims {
        let claim = c["claim"].as_str().unwrap();
        assert!(
            !claim.contains("Thank you") && !claim.starts_with("We think"),
            "{claim}"
        );
    }

    let markdown = check(d, &[&base[..], &["--format", "markdown"]].concat(), None, 0);
    assert!(markdown.contains("# Document check: "), "{markdown}");
    assert!(markdown.contains("## The text"), "{markdown}");
    assert!(markdown.contains("(#claim-1)"), "{markdown}");
    let snapshot = markdown.replace(&article(), "article.md");
    insta::assert_snapshot!("article", redact_figures(&snapshot));

    let html = check(d, &[&base[..], &["--format", "html"]].concat(), None, 0);
    assert!(html.contains("<mark class=\"refuted\""), "{html}");
    assert!(html.contains("id=\"claim-1\""), "{html}");
    assert!(html.contains("\"@type\":\"ClaimReview\""), "{html}");
    assert!(!html.contains("<script>alert"), "{html}");

    let plain = check(d, &base, None, 0);
    assert!(plain.contains("Document check: "), "{plain}");
    assert!(
        plain.contains("«"),
        "claims are marked in the text: {plain}"
    );
    assert!(!plain.contains('\u{1b}'), "no colour off a terminal");
}

#[test]
fn text_from_standard_input_or_the_command_line() {
    let data = data_dir_with_facts();
    let d = data.path();
    let text = "Albert Einstein failed mathematics at school. The measles vaccine causes autism in young children.";
    let from_stdin: Value = serde_json::from_str(&check(
        d,
        &["check", "--text", "-", "--kb", "facts", "--format", "json"],
        Some(text.as_bytes()),
        0,
    ))
    .unwrap();
    assert_eq!(from_stdin["document"]["origin"], "text");
    assert_eq!(from_stdin["document"]["text"], text);
    let given: Value = serde_json::from_str(&check(
        d,
        &[
            "check",
            "--text",
            text,
            "--kb",
            "facts",
            "--max-claims",
            "1",
            "--format",
            "json",
        ],
        None,
        0,
    ))
    .unwrap();
    assert_eq!(given["document"]["title"], "Pasted text");
    assert_eq!(given["claims"].as_array().unwrap().len(), 1);
    assert_eq!(
        given["claims"][0]["claim"],
        "The measles vaccine causes autism in young children."
    );

    // A text without a claim is a report that says so, not an error.
    let none: Value = serde_json::from_str(&check(
        d,
        &[
            "check",
            "--text",
            "Thank you all for coming tonight. What a wonderful crowd we have here!",
            "--kb",
            "facts",
            "--format",
            "json",
        ],
        None,
        0,
    ))
    .unwrap();
    assert!(none["claims"].as_array().unwrap().is_empty(), "{none}");
    assert!(none["summary"][0]
        .as_str()
        .unwrap()
        .starts_with("No sentence of the text reads as a check-worthy"));
}

#[test]
fn bad_documents_get_a_clear_refusal() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let binary = dir.path().join("blob.txt");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0, 1, 2, 255].repeat(64)).unwrap();
    let records = dir.path().join("records.jsonl");
    std::fs::write(
        &records,
        "{\"title\":\"a\",\"text\":\"One.\"}\n{\"title\":\"b\",\"text\":\"Two.\"}\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.txt");
    for args in [
        vec!["check", "--file", empty.to_str().unwrap()],
        vec!["check", "--file", binary.to_str().unwrap()],
        vec!["check", "--file", records.to_str().unwrap()],
        vec!["check", "--file", missing.to_str().unwrap()],
        vec!["check", "--text", "   "],
        vec![
            "check",
            "--text",
            "Taxes rose by 4% in 2020.",
            "--max-claims",
            "0",
        ],
        vec![
            "check",
            "--text",
            "Taxes rose by 4% in 2020.",
            "--max-claims",
            "51",
        ],
        // A claim and a document at once, and several pages with nothing to check against them.
        vec![
            "check",
            "Is it true?",
            "--text",
            "Taxes rose by 4% in 2020.",
        ],
        vec![
            "check",
            "--url",
            "https://a.example/",
            "--url",
            "https://b.example/",
        ],
        vec!["check"],
    ] {
        check(d, &args, None, 2);
    }
    // Binary bytes on standard input.
    check(
        d,
        &["check", "--text", "-"],
        Some(&[0xff, 0xfe, 0x00, 0x80]),
        2,
    );
}
