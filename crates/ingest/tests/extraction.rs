//! Extraction accuracy of [`parse_html`] on a suite of realistic web pages.
//!
//! Each page in `tests/fixtures/pages/` imitates a real-world page structure (news site with
//! cookie banner and comments, WordPress blog, wiki article, press release, abstract page,
//! AMP, table layout, Q&A forum, hidden injected text, ...). What a human reader would call
//! the right answer for each page is written down in `tests/fixtures/pages/expected.json`, a
//! JSON array with one object per page:
//!
//! * `file`: the page's file name;
//! * `title`: the article's own headline, without site-name suffixes or prefixes;
//! * `published`: the article's publication date as `YYYY-MM-DD`, or `null` when the page has
//!   none (a footer copyright year or a "last edited" date is not a publication date);
//! * `must`: verbatim sentences (or parts of one) of the article text that the extracted text
//!   must contain;
//! * `must_not`: boilerplate (navigation, footers, related links, comments, ads, script or
//!   style contents, hidden text) that the extracted text must not contain.
//!
//! Every page is scored on three fields: title (exact after whitespace collapse), date (exact,
//! including a correct `None`) and main text (all `must` present and no `must_not`). The
//! per-page table and per-field accuracy are printed (run with `--nocapture`), and each field
//! must reach [`MIN_ACCURACY`]. Pages are not expected to be perfect one by one: extraction is
//! heuristic, and the suite measures how often the heuristics get real-looking pages right.

use std::path::{Path, PathBuf};

use factually_ingest::parse_html;
use serde_json::Value;

/// Lowest acceptable share of pages with a field right.
const MIN_ACCURACY: f64 = 0.90;

fn pages_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pages")
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One page's expectations, read from `expected.json`.
struct Expected {
    file: String,
    title: String,
    published: Option<String>,
    must: Vec<String>,
    must_not: Vec<String>,
}

impl Expected {
    fn from_json(value: &Value) -> Self {
        let field = |name: &str| &value[name];
        let string = |name: &str| {
            field(name)
                .as_str()
                .unwrap_or_else(|| panic!("{name} must be a string in {value}"))
                .to_string()
        };
        let strings = |name: &str| -> Vec<String> {
            field(name)
                .as_array()
                .unwrap_or_else(|| panic!("{name} must be an array in {value}"))
                .iter()
                .map(|s| s.as_str().expect("snippets are strings").to_string())
                .collect()
        };
        let published = match field("published") {
            Value::Null => None,
            Value::String(date) => Some(date.clone()),
            other => panic!("published must be a string or null, got {other}"),
        };
        let expected = Expected {
            file: string("file"),
            title: string("title"),
            published,
            must: strings("must"),
            must_not: strings("must_not"),
        };
        assert!(
            !expected.must.is_empty() && !expected.must_not.is_empty(),
            "{}: a page needs snippets that must and must not appear",
            expected.file
        );
        expected
    }
}

/// How one page scored, with the reasons for each miss.
struct Score {
    title: bool,
    date: bool,
    text: bool,
    misses: Vec<String>,
}

/// Extracts one page and scores its title, date and main text against what a human expects.
fn check(want: &Expected) -> Score {
    let path = pages_dir().join(&want.file);
    let html = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc = match parse_html(&html, &want.file, None) {
        Ok(doc) => doc,
        Err(e) => {
            return Score {
                title: false,
                date: false,
                text: false,
                misses: vec![format!("extraction failed: {e}")],
            }
        }
    };
    let mut misses = Vec::new();

    let title = collapse(&doc.title) == collapse(&want.title);
    if !title {
        misses.push(format!("title {:?}, want {:?}", doc.title, want.title));
    }
    let date = doc.published == want.published;
    if !date {
        misses.push(format!(
            "date {:?}, want {:?}",
            doc.published, want.published
        ));
    }
    let text = collapse(&doc.text);
    let mut text_ok = true;
    for snippet in &want.must {
        if !text.contains(&collapse(snippet)) {
            text_ok = false;
            misses.push(format!("missing {snippet:?}"));
        }
    }
    for snippet in &want.must_not {
        if text.contains(&collapse(snippet)) {
            text_ok = false;
            misses.push(format!("boilerplate {snippet:?}"));
        }
    }
    Score {
        title,
        date,
        text: text_ok,
        misses,
    }
}

#[test]
fn extraction_accuracy_on_realistic_pages() {
    let manifest = pages_dir().join("expected.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap())
        .expect("expected.json is valid JSON");
    let pages: Vec<Expected> = json
        .as_array()
        .expect("expected.json is an array")
        .iter()
        .map(Expected::from_json)
        .collect();

    // Every fixture page is listed, so a page cannot silently drop out of the score.
    let mut on_disk: Vec<String> = std::fs::read_dir(pages_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".html"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = pages.iter().map(|p| p.file.clone()).collect();
    listed.sort();
    assert_eq!(listed, on_disk, "expected.json must list every page once");
    assert!(pages.len() >= 22, "the suite needs at least 22 pages");

    let scores: Vec<Score> = pages.iter().map(check).collect();
    let mark = |ok: bool| if ok { "ok" } else { "MISS" };
    println!("{:<34} {:<5} {:<5} {:<5}", "page", "title", "date", "text");
    for (page, score) in pages.iter().zip(&scores) {
        println!(
            "{:<34} {:<5} {:<5} {:<5}",
            page.file,
            mark(score.title),
            mark(score.date),
            mark(score.text)
        );
        for miss in &score.misses {
            println!("    {miss}");
        }
    }

    let accuracy = |field: fn(&Score) -> bool| {
        scores.iter().filter(|s| field(s)).count() as f64 / scores.len() as f64
    };
    let fields = [
        ("title", accuracy(|s| s.title)),
        ("date", accuracy(|s| s.date)),
        ("text", accuracy(|s| s.text)),
    ];
    println!("\n{} pages", scores.len());
    for (name, value) in fields {
        println!("{name:<6} {:5.1}%", value * 100.0);
    }
    for (name, value) in fields {
        assert!(
            value >= MIN_ACCURACY,
            "{name} accuracy {:.1}% is below {:.0}%",
            value * 100.0,
            MIN_ACCURACY * 100.0
        );
    }
}
