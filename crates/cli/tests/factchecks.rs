//! `factually factchecks import` and `factually match` end to end.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn fixtures() -> PathBuf {
    common::fixtures().join("factchecks")
}

fn factually(data: &Path, args: &[&str]) -> Output {
    common::factually(data)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Runs `--format json ARGS`, checks the exit status, returns the JSON (or stderr when the
/// command failed before printing).
fn json(data: &Path, args: &[&str], status: i32) -> (Value, String) {
    let mut all = vec!["--format", "json"];
    all.extend(args);
    let (stdout, stderr) = common::run_expecting(data, &all, None, status);
    (serde_json::from_str(&stdout).unwrap_or(Value::Null), stderr)
}

fn fixture(name: &str) -> String {
    fixtures().join(name).to_str().unwrap().to_string()
}

#[test]
fn published_fact_checks_are_imported_once_and_matched() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    // Nothing imported yet: a clear message, not an empty list.
    let (_, stderr) = json(d, &["match", "5G spreads the virus"], 1);
    assert!(stderr.contains("factchecks import"), "{stderr}");

    let (out, _) = json(
        d,
        &[
            "factchecks",
            "import",
            &fixture("feed.json"),
            &fixture("page.html"),
        ],
        0,
    );
    assert_eq!(out["fact_checks"], 5);
    assert_eq!(out["added"], 5);
    let (again, _) = json(d, &["factchecks", "import", &fixture("feed.json")], 0);
    assert_eq!(
        (again["added"].clone(), again["unchanged"].clone()),
        (0.into(), 4.into())
    );

    let (found, _) = json(
        d,
        &["match", "Do 5G towers spread the coronavirus?", "-k", "3"],
        0,
    );
    let matches = found["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 3);
    let best = &matches[0];
    assert_eq!(best["claim"], "5G mobile networks spread the coronavirus");
    assert_eq!(best["rating"], "False (claimed by Social media posts)");
    assert_eq!(best["publisher"], "Full Fact");
    assert_eq!(best["published"], "2020-04-06");
    assert_eq!(best["url"], "https://fullfact.example/5g-coronavirus");
    let similarity = |m: &Value| m["similarity"].as_f64().unwrap();
    assert!(similarity(best) > 0.6, "{best}");
    assert!(
        similarity(best) > similarity(&matches[1]) + 0.2,
        "{matches:#?}"
    );

    // The JSON-LD of a page counts like a feed's.
    let (found, _) = json(d, &["match", "vaccines cause autism", "-k", "1"], 0);
    assert_eq!(found["matches"][0]["publisher"], "Health Feedback");

    let out = factually(d, &["match", "the Great Wall can be seen from the Moon"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("1. The Great Wall of China is visible from the Moon"),
        "{text}"
    );
    assert!(text.contains("Snopes: False, 2019-01-15"), "{text}");
}

#[test]
fn bad_fact_check_files_are_named_and_the_rest_is_kept() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    // One good review, one without a rating, one line that is not JSON: partial (exit 3).
    let (out, _) = json(d, &["factchecks", "import", &fixture("mixed.jsonl")], 3);
    assert_eq!(out["added"], 1);
    let problems = out["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].as_str().unwrap().contains("line 2"),
        "{problems:?}"
    );
    assert!(
        problems[1].as_str().unwrap().contains("line 3: not JSON"),
        "{problems:?}"
    );

    // Nothing importable at all: exit 1, each reason named.
    let text = d.join("notes.txt");
    std::fs::write(&text, "5G is fine").unwrap();
    let broken = d.join("broken.json");
    std::fs::write(&broken, "{\"@type\": ").unwrap();
    let (_, stderr) = json(
        d,
        &[
            "factchecks",
            "import",
            text.to_str().unwrap(),
            broken.to_str().unwrap(),
        ],
        1,
    );
    assert!(
        stderr.contains("notes.txt") && stderr.contains("broken.json"),
        "{stderr}"
    );
    let (_, stderr) = json(d, &["factchecks", "import"], 2);
    assert!(stderr.contains("give fact-check files"), "{stderr}");
    let (_, stderr) = json(d, &["match", "  "], 2);
    assert!(stderr.contains("the input is empty"), "{stderr}");
    // The one good review of the mixed file is still there.
    let (found, _) = json(d, &["match", "Einstein failed maths"], 0);
    assert_eq!(found["matches"][0]["publisher"], "Snopes");
}

/// A check whose claim was checked already says so at the top of its report, in every
/// format; an unrelated check does not.
#[test]
fn a_report_says_when_its_claim_was_checked_already() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let articles = common::fixtures().join("report-kb");
    let out = factually(
        d,
        &["kb", "add", "--kb", "fixture", articles.to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
    let claim = "The Great Wall of China is visible from the Moon.";
    // Before any import the report has no such line and no field.
    let (before, _) = json(d, &["check", claim, "--kb", "fixture"], 0);
    assert!(before.get("already_checked").is_none(), "{before:#}");

    json(d, &["factchecks", "import", &fixture("feed.json")], 0);
    let (report, _) = json(d, &["check", claim, "--kb", "fixture"], 0);
    let checked = report["already_checked"].as_array().unwrap();
    assert_eq!(checked.len(), 1, "{checked:#?}");
    assert_eq!(checked[0]["publisher"], "Snopes");
    assert_eq!(checked[0]["rating"], "False");
    assert_eq!(checked[0]["url"], "https://snopes.example/great-wall");
    assert!(checked[0]["similarity"].as_f64().unwrap() >= 0.6);
    // It is also a numbered source, its stored claim the quote, cited in the summary.
    let cited = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kb"] == "factchecks")
        .expect("the published fact-check is a source");
    assert_eq!(cited["url"], "https://snopes.example/great-wall");
    let n = cited["n"].as_u64().unwrap();
    let line = report["sections"]["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["citations"].as_array().unwrap().contains(&n.into()))
        .expect("the summary cites it");
    assert!(
        line["text"]
            .as_str()
            .unwrap()
            .starts_with("Snopes checked the claim “"),
        "{line}"
    );
    common::assert_grounded(d, &report);
    for (format, want) in [
        (
            "text",
            "Already checked by Snopes on January 15, 2019: False",
        ),
        (
            "markdown",
            "Already checked by Snopes on January 15, 2019: False",
        ),
        (
            "html",
            "Already checked by Snopes on January 15, 2019: False (<a href=\"https:",
        ),
    ] {
        let out = factually(d, &["check", claim, "--kb", "fixture", "--format", format]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(want), "{format}: {text}");
    }
    let (unrelated, _) = json(
        d,
        &["check", "The Eiffel Tower is in Berlin.", "--kb", "fixture"],
        0,
    );
    assert!(unrelated.get("already_checked").is_none(), "{unrelated:#}");
}
