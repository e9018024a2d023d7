//! The document report: the check-worthy claims of a text (an article, a speech, a page),
//! each checked, shown in place in the text.
//!
//! Why its own form rather than a list of reports: a reader of an article wants to see *where*
//! the article says what, so every claim keeps the byte span of its sentence in the text the
//! report carries, and the renderers mark those sentences by verdict. Each checked claim holds
//! the full [`Report`] of its check (the same grounded report `check "<claim>"` writes), so
//! everything a single report promises (citations to listed sources, quotes at their offsets)
//! holds claim by claim.

use factually_claims::Claim;
use factually_core::VerdictLabel;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::Report;

/// What tells a document report from a single check's report in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Document,
}

/// Where a document's text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentOrigin {
    /// A text, Markdown, HTML or PDF file.
    File,
    /// A web page, fetched.
    Url,
    /// Text given directly (standard input, a form, the API).
    Text,
}

/// The checked text.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DocumentMeta {
    /// The file name, the page's title, or "Pasted text".
    pub title: String,
    pub origin: DocumentOrigin,
    /// The page's address, for a page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// SHA-256 of `text` (UTF-8), hex.
    pub sha256: String,
    pub words: usize,
    /// Sentences scored for check-worthiness.
    pub sentences: usize,
    /// Check-worthy claims found (checked or not).
    pub claims_found: usize,
    /// The text as read; every claim's `start..end` is a byte range of it.
    pub text: String,
}

/// A document report (`check --file | --url | --text`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DocumentReport {
    pub schema_version: u32,
    /// Always `document`.
    pub kind: DocumentKind,
    /// The day of the check, `YYYY-MM-DD`.
    pub checked_on: String,
    pub document: DocumentMeta,
    /// The overall summary: what was checked and how each claim came out, refuted first.
    pub summary: Vec<String>,
    pub tally: Tally,
    /// The checked claims, most check-worthy first; `n` numbers them in the text.
    pub claims: Vec<DocumentClaim>,
    /// Further check-worthy claims beyond the number asked for, not checked (at most
    /// [`MAX_UNCHECKED_LISTED`]).
    pub unchecked: Vec<Claim>,
    /// What went wrong without stopping the report.
    pub warnings: Vec<String>,
    pub timings_ms: DocumentTimings,
}

/// Unchecked claims listed in a report; a book can hold thousands.
pub const MAX_UNCHECKED_LISTED: usize = 50;

/// One checked claim of the text.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DocumentClaim {
    /// The claim's number in the text, 1 for the most check-worthy.
    pub n: usize,
    /// The claim, its sentence, byte span and check-worthiness.
    #[serde(flatten)]
    pub found: Claim,
    /// The check; absent when the claim could not be checked (`error` says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DocumentClaim {
    /// The verdict, when the claim was checked.
    pub fn label(&self) -> Option<VerdictLabel> {
        self.report.as_ref().map(|r| r.verdict.label)
    }
}

/// How many checked claims got each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Tally {
    pub supported: usize,
    pub refuted: usize,
    pub mixed: usize,
    pub not_enough_evidence: usize,
    /// Claims whose check failed.
    pub failed: usize,
}

impl Tally {
    pub fn of(claims: &[DocumentClaim]) -> Self {
        let mut t = Self::default();
        for c in claims {
            match c.label() {
                Some(VerdictLabel::Supported) => t.supported += 1,
                Some(VerdictLabel::Refuted) => t.refuted += 1,
                Some(VerdictLabel::Mixed) => t.mixed += 1,
                Some(VerdictLabel::NotEnoughEvidence) => t.not_enough_evidence += 1,
                None => t.failed += 1,
            }
        }
        t
    }
}

/// Milliseconds per stage.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema)]
pub struct DocumentTimings {
    /// Finding the claims (sentence splitting, embedding, scoring).
    pub claims: f64,
    /// Web search and fetching, shared by all claims (0 without web sources).
    pub web: f64,
    /// Checking the claims.
    pub checks: f64,
    pub total: f64,
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// "claim 2", "claims 1, 3 and 4".
fn claim_numbers(ns: &[usize]) -> String {
    let list: Vec<String> = ns.iter().map(usize::to_string).collect();
    match list.as_slice() {
        [one] => format!("claim {one}"),
        [init @ .., last] => format!("claims {} and {last}", init.join(", ")),
        [] => String::new(),
    }
}

/// The overall summary of a document report: the count, then the claims by verdict (refuted
/// first: what a reader most needs to know), published fact-checks, failures.
pub fn summarise(meta: &DocumentMeta, claims: &[DocumentClaim]) -> Vec<String> {
    if claims.is_empty() {
        return vec![format!(
            "No sentence of the text reads as a check-worthy factual claim ({} scored).",
            plural(meta.sentences, "sentence")
        )];
    }
    let t = Tally::of(claims);
    let mut counts = Vec::new();
    for (n, what) in [
        (t.refuted, "refuted"),
        (t.mixed, "disputed by conflicting sources"),
        (t.supported, "supported"),
        (t.not_enough_evidence, "without enough evidence either way"),
        (t.failed, "could not be checked"),
    ] {
        if n > 0 {
            counts.push(format!("{n} {what}"));
        }
    }
    let checked = if claims.len() < meta.claims_found {
        format!(
            "the {} most check-worthy of {} claims found in {}",
            claims.len(),
            meta.claims_found,
            plural(meta.sentences, "sentence")
        )
    } else {
        format!(
            "{} found in {}",
            plural(claims.len(), "check-worthy claim"),
            plural(meta.sentences, "sentence")
        )
    };
    let mut lines = vec![format!("Checked {checked}: {}.", counts.join(", "))];
    for (label, open) in [
        (VerdictLabel::Refuted, "Refuted by the sources"),
        (VerdictLabel::Mixed, "Sources conflict on"),
        (VerdictLabel::Supported, "Supported by the sources"),
    ] {
        for c in claims.iter().filter(|c| c.label() == Some(label)) {
            lines.push(format!("{open} (claim {}): “{}”", c.n, c.found.claim));
        }
    }
    let open: Vec<usize> = claims
        .iter()
        .filter(|c| c.label() == Some(VerdictLabel::NotEnoughEvidence))
        .map(|c| c.n)
        .collect();
    if !open.is_empty() {
        lines.push(format!(
            "The sources neither support nor contradict {}: the knowledge base may not cover {} (search the web with `--sources kb,web`, or add documents with `factually kb add`).",
            claim_numbers(&open),
            if open.len() == 1 { "it" } else { "them" }
        ));
    }
    for c in claims {
        if let Some(first) = c.report.as_ref().and_then(|r| r.already_checked.first()) {
            lines.push(format!("Claim {}: {}.", c.n, first.line()));
        }
        if let Some(e) = &c.error {
            lines.push(format!("Claim {} could not be checked: {e}.", c.n));
        }
    }
    lines
}

/// A stretch of a paragraph: plain text or a checked claim's sentence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    Claim {
        n: usize,
        label: Option<VerdictLabel>,
        text: &'a str,
    },
}

/// Texts longer than this are shown as the paragraphs holding a checked claim, `[…]` between.
pub const EXCERPT_OVER: usize = 20_000;

/// The text's paragraphs (split at blank lines outside claims) as pieces, the checked claims'
/// sentences (and their repeats) marked; `None` stands for paragraphs left out of a long text.
pub(crate) fn paragraphs(r: &DocumentReport) -> Vec<Option<Vec<Piece<'_>>>> {
    let text = r.document.text.as_str();
    let mut spans: Vec<(usize, usize, &DocumentClaim)> = r
        .claims
        .iter()
        .flat_map(|c| {
            std::iter::once((c.found.start, c.found.end, c))
                .chain(c.found.also_at.iter().map(move |[s, e]| (*s, *e, c)))
        })
        .filter(|(s, e, _)| {
            s < e && *e <= text.len() && text.is_char_boundary(*s) && text.is_char_boundary(*e)
        })
        .collect();
    spans.sort_by_key(|(s, e, _)| (*s, *e));
    // Overlapping spans cannot both be marked: keep the first.
    let mut kept: Vec<(usize, usize, &DocumentClaim)> = Vec::new();
    for span in spans {
        if kept.last().is_none_or(|last| last.1 <= span.0) {
            kept.push(span);
        }
    }
    let inside = |at: usize| kept.iter().any(|(s, e, _)| *s < at && at < *e);
    // Paragraph boundaries: blank lines, unless inside a marked sentence.
    let mut bounds = vec![0];
    let mut offset = 0;
    let mut previous_blank = false;
    for line in text.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        if blank && !previous_blank && offset > 0 && !inside(offset) {
            bounds.push(offset);
        }
        previous_blank = blank;
        offset += line.len();
    }
    bounds.push(text.len());
    bounds.dedup();
    let excerpt = text.len() > EXCERPT_OVER;
    let mut out: Vec<Option<Vec<Piece<'_>>>> = Vec::new();
    for pair in bounds.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let mut pieces = Vec::new();
        let mut at = a;
        for (s, e, c) in kept.iter().filter(|(s, e, _)| a <= *s && *e <= b) {
            if at < *s {
                pieces.push(Piece::Text(&text[at..*s]));
            }
            pieces.push(Piece::Claim {
                n: c.n,
                label: c.label(),
                text: &text[*s..*e],
            });
            at = *e;
        }
        if at < b {
            pieces.push(Piece::Text(&text[at..b]));
        }
        let has_claim = pieces.iter().any(|p| matches!(p, Piece::Claim { .. }));
        let blank = pieces
            .iter()
            .all(|p| matches!(p, Piece::Text(t) if t.trim().is_empty()));
        if excerpt && !has_claim {
            if !matches!(out.last(), Some(None)) {
                out.push(None);
            }
        } else if !blank {
            out.push(Some(pieces));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(n: usize, text: &str, sentence: &str, also: &[[usize; 2]]) -> DocumentClaim {
        let start = text.find(sentence).unwrap();
        DocumentClaim {
            n,
            found: Claim {
                rank: n,
                claim: sentence.to_string(),
                sentence: sentence.to_string(),
                start,
                end: start + sentence.len(),
                score: 0.9,
                also_at: also.to_vec(),
            },
            report: None,
            error: Some("x".into()),
        }
    }

    fn report(text: &str, claims: Vec<DocumentClaim>) -> DocumentReport {
        DocumentReport {
            schema_version: crate::SCHEMA_VERSION,
            kind: DocumentKind::Document,
            checked_on: "2026-12-07".into(),
            document: DocumentMeta {
                title: "t".into(),
                origin: DocumentOrigin::Text,
                url: None,
                sha256: String::new(),
                words: 0,
                sentences: 3,
                claims_found: claims.len(),
                text: text.into(),
            },
            summary: Vec::new(),
            tally: Tally::default(),
            claims,
            unchecked: Vec::new(),
            warnings: Vec::new(),
            timings_ms: DocumentTimings::default(),
        }
    }

    /// Each paragraph as a string with claims in `<n:...>`, left-out stretches as `[…]`.
    fn shown(r: &DocumentReport) -> Vec<String> {
        paragraphs(r)
            .into_iter()
            .map(|p| match p {
                None => "[…]".to_string(),
                Some(pieces) => pieces
                    .iter()
                    .map(|piece| match piece {
                        Piece::Text(t) => t.to_string(),
                        Piece::Claim { n, text, .. } => format!("<{n}:{text}>"),
                    })
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn claims_are_marked_in_their_paragraphs() {
        let text = "Intro line.\n\nTaxes rose by 4% in 2020. Nobody knows.\n\n\nTaxes rose by 4% in 2020 again.\n";
        let again = text.rfind("Taxes").unwrap();
        let c = claim(1, text, "Taxes rose by 4% in 2020.", &[[again, again + 30]]);
        let r = report(text, vec![c]);
        assert_eq!(
            shown(&r),
            [
                "Intro line.\n",
                "\n<1:Taxes rose by 4% in 2020.> Nobody knows.\n",
                "\n\n<1:Taxes rose by 4% in 2020 again>.\n",
            ]
        );
    }

    #[test]
    fn spans_outside_the_text_or_mid_character_are_ignored() {
        let text = "Émile won 3 prizes in 1990.";
        let mut c = claim(1, text, "Émile won 3 prizes in 1990.", &[[1, 4], [10, 400]]);
        c.found.start = 0;
        let r = report(text, vec![c]);
        assert_eq!(shown(&r), ["<1:Émile won 3 prizes in 1990.>"]);
    }

    #[test]
    fn a_long_text_shows_only_the_paragraphs_with_claims() {
        let filler = "Filler sentence without claims here.\n\n".repeat(600);
        let text = format!("{filler}The bridge opened in 1932.\n\n{filler}");
        let c = claim(1, &text, "The bridge opened in 1932.", &[]);
        let r = report(&text, vec![c]);
        assert_eq!(
            shown(&r),
            ["[…]", "\n<1:The bridge opened in 1932.>\n", "[…]"]
        );
    }

    #[test]
    fn the_summary_counts_and_names_claims() {
        let text = "A claim here. Another one.";
        let r = report(text, vec![claim(1, text, "A claim here.", &[])]);
        let lines = summarise(&r.document, &r.claims);
        assert_eq!(
            lines[0],
            "Checked 1 check-worthy claim found in 3 sentences: 1 could not be checked."
        );
        assert_eq!(lines[1], "Claim 1 could not be checked: x.");
        let none = summarise(&r.document, &[]);
        assert_eq!(
            none,
            ["No sentence of the text reads as a check-worthy factual claim (3 sentences scored)."]
        );
        assert_eq!(claim_numbers(&[1, 3, 4]), "claims 1, 3 and 4");
    }
}
