//! Every parser that reads bytes from outside, as one function of `&[u8]` each.
//!
//! factually reads hostile bytes all day: uploaded files, web pages, search and model
//! answers, stored reports, fact-check feeds. Each function here feeds arbitrary bytes to one
//! of those readers and asserts what must hold whatever the bytes are: no panic, no hang, and
//! the invariants a caller relies on (spans inside the text, a refused private address stays
//! refused, a limit is a limit).
//!
//! Two things run them:
//! - `fuzz/` (outside the workspace): one libFuzzer binary per target, coverage-guided, run by
//!   `scripts/fuzz TARGET SECONDS`;
//! - `tests/corpus.rs`: every input of the committed corpus (`fuzz/corpus/TARGET/`), the seeds
//!   from the test fixtures and every crash the fuzzer found, replayed by the normal test suite,
//!   so a crash once found stays fixed.
//!
//! Where a target needs a choice (which file format, which search provider), the first byte
//! makes it and the rest is the input, so the fuzzer explores every branch.

use factually_claims::rerank::{PoolEntry, Reranker};
use std::path::Path;
use std::time::Duration;

/// A target: arbitrary bytes in, a panic when something that must hold does not.
pub type Target = fn(&[u8]);

/// The targets by name, as `scripts/fuzz` and the corpus directories name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("ingest_file", ingest_file),
    ("pdf", pdf),
    ("page_extract", page_extract),
    ("url_guard", url_guard),
    ("robots", robots),
    ("search_responses", search_responses),
    ("openai_response", openai_response),
    ("analyzer", analyzer),
    ("stored_report", stored_report),
    ("claimreview", claimreview),
];

/// The first byte (the choice) and the rest.
fn split(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (*first, rest),
        None => (0, data),
    }
}

/// `kb add` of one file: text, Markdown, HTML, JSON lines, a JSON array or a PDF.
pub fn ingest_file(data: &[u8]) {
    const EXTENSIONS: [&str; 6] = ["txt", "md", "html", "jsonl", "json", "pdf"];
    let (choice, bytes) = split(data);
    let ext = EXTENSIONS[usize::from(choice) % EXTENSIONS.len()];
    let path = format!("fuzz.{ext}");
    if let Ok(outcome) =
        factually_ingest::read_bytes(Path::new(&path), bytes, "2026-01-01T00:00:00Z")
    {
        assert!(
            !outcome.documents.is_empty(),
            "a file read without error holds a document"
        );
    }
}

/// PDF text extraction (isolated on its own thread with a deadline: the PDF reader's own
/// panics are caught there and become errors).
pub fn pdf(data: &[u8]) {
    let _ =
        factually_ingest::extract_pdf_text(data, Path::new("fuzz.pdf"), Duration::from_secs(10));
}

/// A fetched page to a document: the content type and the charset the server claims, then
/// decoding, readability extraction, the length and instruction checks.
pub fn page_extract(data: &[u8]) {
    const MEDIA: [&str; 5] = [
        "text/html",
        "application/xhtml+xml",
        "",
        "text/plain",
        "application/pdf",
    ];
    const CHARSETS: [Option<&str>; 6] = [
        None,
        Some("utf-8"),
        Some("windows-1252"),
        Some("shift_jis"),
        Some("utf-16le"),
        Some("no-such-charset"),
    ];
    let (choice, body) = split(data);
    let url = url::Url::parse("https://example.org/story").expect("a fixed URL parses");
    let page = factually_fetch::Fetched {
        requested: url.clone(),
        url,
        media_type: MEDIA[usize::from(choice) % MEDIA.len()].to_string(),
        charset: CHARSETS[usize::from(choice / 8) % CHARSETS.len()].map(str::to_string),
        body: body.to_vec(),
    };
    if let Ok(doc) = factually_fetch::to_document(&page) {
        assert!(doc.text.split_whitespace().count() >= factually_fetch::extract::MIN_WORDS);
    }
    let _ = factually_fetch::extract::decode(body, page.charset.as_deref(), choice % 2 == 0);
}

/// The URL guard: a URL that passes the check without DNS never names a non-public address.
pub fn url_guard(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = factually_fetch::canonical_url(text);
    let Ok(url) = url::Url::parse(text) else {
        return;
    };
    if factually_fetch::Policy::default().check_url(&url).is_err() {
        return;
    }
    assert!(matches!(url.scheme(), "http" | "https"), "{url}");
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
        _ => return,
    };
    assert_eq!(
        factually_fetch::guard::non_public_class(ip),
        None,
        "{url} passed the guard"
    );
}

/// robots.txt as the fetcher reads it.
pub fn robots(data: &[u8]) {
    if let Ok(robot) = texting_robots::Robot::new(factually_fetch::fetcher::ROBOTS_TOKEN, data) {
        for path in ["/", "/story", "/private/x?y=1", "/%E2%82%AC"] {
            let _ = robot.allowed(&format!("https://example.org{path}"));
        }
    }
}

/// The JSON answers of SearxNG, Brave and MediaWiki search.
pub fn search_responses(data: &[u8]) {
    const LIMIT: usize = 5;
    let (choice, body) = split(data);
    let hits = match choice % 3 {
        0 => factually_fetch::search::parse_searxng(body, LIMIT),
        1 => factually_fetch::search::parse_brave(body, LIMIT),
        _ => {
            let base = url::Url::parse("https://en.wikipedia.org").expect("a fixed URL parses");
            factually_fetch::search::parse_mediawiki(&base, body, LIMIT)
        }
    };
    if let Ok(hits) = hits {
        assert!(hits.len() <= LIMIT);
    }
}

/// An OpenAI-compatible server's answer: the completion body, its `Retry-After` header, and
/// the JSON inside the model's text.
pub fn openai_response(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = factually_llm::openai::parse_completion(&text, "fuzz");
    if let Some(wait) = factually_llm::openai::retry_after(&text) {
        assert!(wait <= Duration::from_secs(30));
    }
    let _ = factually_llm::extract_json(&text);
}

/// What a person types and what a page says: input validation and analysis, the claims of a
/// text (with scores drawn from the bytes), standalone rewording, the judge's checks of a
/// (claim, sentence, title) triple, and the fact-check re-ranker.
pub fn analyzer(data: &[u8]) {
    if let Ok(input) = factually_analyze::validate_bytes(data) {
        let _ = factually_analyze::analyze(input);
    }
    let text = String::from_utf8_lossy(data);
    let _ = factually_analyze::find_instructions(&text);
    let candidates = factually_claims::candidates(&text);
    for c in &candidates {
        assert_eq!(text.get(c.start..c.end), Some(c.text.as_str()));
    }
    let scores: Vec<f32> = (0..candidates.len())
        .map(|i| f32::from(data.get(i).copied().unwrap_or(0)) / 255.0)
        .collect();
    for claim in factually_claims::extract(&text, &candidates, &scores, 0.3) {
        assert_eq!(
            text.get(claim.start..claim.end),
            Some(claim.sentence.as_str())
        );
        for [start, end] in claim.also_at {
            assert!(text.get(start..end).is_some(), "also_at {start}..{end}");
        }
    }
    let mut parts = text.splitn(3, '\n');
    let (claim, sentence, title) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let _ = factually_claims::standalone(sentence, &[claim, title]);
    let _ = factually_analyze::contrast::compare(claim, sentence, title);
    // The fact-check re-ranker over a pool of the other two lines: every ordering is a
    // permutation of the pool, every score a probability.
    let pool: Vec<PoolEntry> = [sentence, title]
        .iter()
        .enumerate()
        .map(|(i, text)| PoolEntry {
            text,
            bm25_rank: Some(i + 1).filter(|_| data.len() % 2 == 0),
            dense_rank: Some(2 - i),
            similarity: f32::from(data.first().copied().unwrap_or(0)) / 255.0 - 0.5,
        })
        .collect();
    let reranker = Reranker::bundled().expect("the bundled re-ranker loads");
    assert!(reranker
        .scores(claim, &pool)
        .iter()
        .all(|p| (0.0..=1.0).contains(p)));
    let mut order = reranker.order(claim, &pool);
    order.sort_unstable();
    assert_eq!(order, vec![0, 1]);
}

/// A stored report (the site's database, an MCP resource) read back and rendered in every
/// format: whatever the JSON says, rendering must not panic.
pub fn stored_report(data: &[u8]) {
    use factually_report::render;
    let Ok(report) = serde_json::from_slice::<factually_report::AnyReport>(data) else {
        return;
    };
    match report {
        factually_report::AnyReport::Check(r) => {
            let _ = render::to_text(&r, true);
            let _ = render::to_markdown(&r);
            let _ = render::to_html(&r);
            let _ = render::claim_review(&r, Some("https://example.org/checks/1"));
        }
        factually_report::AnyReport::Document(r) => {
            let _ = render::document::to_text(&r, true);
            let _ = render::document::to_markdown(&r);
            let _ = render::document::to_html(&r);
            let _ = render::document::body_html(&r, Some("/stored"));
        }
    }
}

/// `factchecks import`: a ClaimReview JSON document or feed, JSON lines, or a page's JSON-LD.
pub fn claimreview(data: &[u8]) {
    const EXTENSIONS: [&str; 3] = ["json", "jsonl", "html"];
    let (choice, bytes) = split(data);
    let path = format!(
        "fuzz.{}",
        EXTENSIONS[usize::from(choice) % EXTENSIONS.len()]
    );
    let _ = factually_ingest::claimreview::claim_reviews_in_bytes(Path::new(&path), bytes.to_vec());
}
