//! Input analysis driven by `tests/fixtures/analysis.txt`: statements and presuppositions the
//! trigger inventory must produce (and some it must not).

use factually_analyze::{analyze, validate_input, InputKind};

fn check(input: &str, expectations: &[&str]) {
    let input = validate_input(input).expect("fixture inputs are valid");
    let a = analyze(input);
    let shown = format!(
        "{input}\n  statements: {:?}\n  presuppositions: {:?}",
        a.statements,
        a.presuppositions
            .iter()
            .map(|p| format!("[{}] {}", p.trigger, p.text))
            .collect::<Vec<_>>()
    );
    for e in expectations {
        if let Some(s) = e.strip_prefix("= ") {
            assert!(
                a.statements.iter().any(|x| x == s),
                "missing statement {s:?}\n{shown}"
            );
        } else if let Some(p) = e.strip_prefix("- [") {
            let (trigger, text) = p.split_once("] ").expect("`- [trigger] text`");
            assert!(
                a.presuppositions
                    .iter()
                    .any(|x| x.text == text && x.trigger.to_string() == trigger),
                "missing presupposition [{trigger}] {text:?}\n{shown}"
            );
        } else if let Some(p) = e.strip_prefix("! ") {
            assert!(
                a.presuppositions.iter().all(|x| x.text != p),
                "unexpected presupposition {p:?}\n{shown}"
            );
        } else if let Some(kind) = e.strip_prefix("kind: ") {
            let expected = match kind {
                "question" => InputKind::Question,
                "claim" => InputKind::Claim,
                other => panic!("unknown kind {other}"),
            };
            assert_eq!(a.input_kind, expected, "{shown}");
        } else {
            panic!("unknown expectation line {e:?}");
        }
    }
    assert!(a.presuppositions.len() <= factually_analyze::MAX_PRESUPPOSITIONS);
}

#[test]
fn fixture_cases() {
    let text = include_str!("fixtures/analysis.txt");
    let mut cases = 0;
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        let Some(input) = lines.first().and_then(|l| l.strip_prefix("> ")) else {
            continue;
        };
        check(input, &lines[1..]);
        cases += 1;
    }
    assert!(cases >= 20, "{cases} cases read");
}

#[test]
fn analysis_never_panics_on_odd_text() {
    for input in [
        "?",
        "why",
        "who is",
        "did",
        "the the the",
        "Is?",
        "how many",
        "what kind of",
        "again again",
        "stopped smoking",
        "ÄÖÜ?",
        "1999",
        "who did play in",
        "the only to",
    ] {
        let a = analyze(input);
        for l in &a.loaded_language {
            assert_eq!(&a.input[l.start..l.end], l.text);
        }
    }
}
