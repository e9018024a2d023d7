//! Document checks: the check-worthy claims of a text, each checked through the session.
//!
//! Why through the session: the claims of one article share everything a check loads (the
//! knowledge base view, the models), and their web sources are gathered once for the whole
//! document (one search query per claim, plus the given pages) and offered to every claim,
//! instead of searching and fetching once per claim.

use std::sync::Arc;
use std::time::Instant;

use factually_analyze::{analyze, validate_input};
use factually_claims::{CheckWorthiness, MAX_TEXT_BYTES};
use factually_core::sha256_hex;
use factually_fetch::canonical_url;
use factually_report::document::MAX_UNCHECKED_LISTED;
use factually_report::document::{summarise, DocumentKind, DocumentTimings, Tally};
use factually_report::{
    DocumentClaim, DocumentMeta, DocumentOrigin, DocumentReport, Progress, SCHEMA_VERSION,
};

use crate::{ms, CancellationToken, CheckError, CheckRequest, CheckSession, DocumentError};

/// The most claims one document check takes on.
pub const MAX_CLAIMS: usize = 50;

/// The most check-worthiness a sentence needs to be checked in a document (the classifier's
/// own threshold when that is lower, as the bundled one's 0.20 is): a document check would
/// rather check a borderline claim than miss one, and `--max-claims` caps how many are
/// checked. On ClaimBuster's balanced held-out fifth the bundled classifier has recall 0.923
/// at precision 0.853 at 0.20, recall 0.913 at precision 0.895 at 0.3.
pub const DOCUMENT_THRESHOLD: f32 = 0.3;

/// One document to check.
#[derive(Debug, Clone, Copy)]
pub struct DocumentRequest<'a> {
    /// The text, as read (claims' spans are byte ranges of it).
    pub text: &'a str,
    /// The file name, the page's title, or "Pasted text".
    pub title: &'a str,
    pub origin: DocumentOrigin,
    /// The page's address, when the text is a page: never offered as a source of its own claims.
    pub url: Option<&'a str>,
    /// Check the this many most check-worthy claims (1..=[`MAX_CLAIMS`]).
    pub max_claims: usize,
    /// The report's date, `YYYY-MM-DD`.
    pub checked_on: &'a str,
    /// Pages to use as sources for every claim besides any search.
    pub urls: &'a [String],
    pub cancel: Option<&'a CancellationToken>,
}

impl CheckSession {
    /// The title and text of a page, fetched through the session's guarded fetcher (robots.txt,
    /// size and time limits, private addresses refused unless allowed): the text of a document
    /// check of a page.
    pub fn read_page(
        &self,
        url: &str,
        cancel: Option<&CancellationToken>,
    ) -> Result<(String, String), CheckError> {
        let page = self
            .block_on_unless_cancelled(self.web.fetcher.fetch(url), cancel)?
            .map_err(|e| DocumentError::Page(format!("{url}: {e}")))?;
        let doc = factually_fetch::to_document(&page)
            .map_err(|e| DocumentError::Page(format!("{url}: {e}")))?;
        Ok((doc.title, doc.text))
    }

    /// The check-worthiness classifier, loaded on first use.
    fn check_worthiness(&self) -> Result<Arc<CheckWorthiness>, CheckError> {
        let mut slot = self
            .check_worthiness
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(model) = &*slot {
            return Ok(model.clone());
        }
        let model = Arc::new(
            CheckWorthiness::bundled(&self.cache)
                .map_err(|e| CheckError::Runtime(e.to_string()))?,
        );
        *slot = Some(model.clone());
        Ok(model)
    }

    /// Finds the check-worthy claims of a text and checks the `max_claims` most check-worthy,
    /// telling `progress` about each step. A claim that cannot be checked (refused as input,
    /// nothing verifiable in it) is reported with the reason and the others still are; a
    /// failure that would stop every check (a damaged knowledge base, cancellation) stops it.
    pub fn check_document(
        &self,
        request: &DocumentRequest<'_>,
        progress: &dyn Fn(Progress),
    ) -> Result<DocumentReport, CheckError> {
        let started = Instant::now();
        let text = request.text;
        if text.trim().is_empty() {
            return Err(DocumentError::Empty.into());
        }
        if text.len() > MAX_TEXT_BYTES {
            return Err(DocumentError::TooLong(text.len()).into());
        }
        if !(1..=MAX_CLAIMS).contains(&request.max_claims) {
            return Err(DocumentError::MaxClaims(request.max_claims).into());
        }
        let cancelled = || request.cancel.is_some_and(CancellationToken::is_cancelled);

        progress(Progress::FindingClaims);
        let model = self.check_worthiness()?;
        let found = model
            .find(text, DOCUMENT_THRESHOLD.min(model.meta.threshold))
            .map_err(|e| CheckError::Runtime(e.to_string()))?;
        let claims_ms = ms(started);
        let claims_found = found.claims.len();
        let mut claims = found.claims;
        let mut unchecked: Vec<_> = claims.split_off(request.max_claims.min(claims.len()));
        unchecked.truncate(MAX_UNCHECKED_LISTED);

        let mut warnings = Vec::new();
        let mut web_ms = 0.0;
        let gathered = if self.gathers(request.urls) && !claims.is_empty() {
            let queries = claims
                .iter()
                .map(|c| c.claim.trim().trim_end_matches(['.', '!', '?']).to_string())
                .collect();
            let mut gathered = self.gather(queries, request.urls, request.cancel, progress)?;
            // The document's own page is not evidence for what it says.
            if let Some(own) = request.url.and_then(canonical_url) {
                gathered.offered.documents.retain(|o| {
                    o.document.meta.url.as_deref().and_then(canonical_url) != Some(own.clone())
                });
            }
            web_ms = gathered.offered.gather_ms;
            warnings.extend(gathered.offered.warnings.iter().cloned());
            Some(gathered)
        } else {
            None
        };

        let checks_started = Instant::now();
        let of = claims.len();
        let mut checked = Vec::with_capacity(of);
        for (i, claim) in claims.into_iter().enumerate() {
            if cancelled() {
                return Err(CheckError::Cancelled);
            }
            progress(Progress::CheckingClaim {
                n: i + 1,
                of,
                claim: claim.claim.clone(),
            });
            let outcome = validate_input(&claim.claim)
                .map_err(CheckError::Input)
                .and_then(|input| {
                    let check_started = Instant::now();
                    let analysis = analyze(input);
                    let request = CheckRequest {
                        input,
                        checked_on: request.checked_on,
                        urls: request.urls,
                        cancel: request.cancel,
                    };
                    let mut report = self.check_analysed(
                        &request,
                        &analysis,
                        ms(check_started),
                        check_started,
                        gathered.clone(),
                        &|_| {},
                    )?;
                    // The document's warnings (a page that failed) are said once, not per claim.
                    report.warnings.retain(|w| !warnings.contains(w));
                    Ok(report)
                });
            let (report, error) = match outcome {
                Ok(report) => (Some(report), None),
                Err(e) if e.is_input() || matches!(e, CheckError::Unverified(_)) => {
                    (None, Some(e.to_string()))
                }
                Err(e) => return Err(e),
            };
            checked.push(DocumentClaim {
                n: i + 1,
                found: claim,
                report,
                error,
            });
        }
        let checks_ms = ms(checks_started);

        let document = DocumentMeta {
            title: request.title.to_string(),
            origin: request.origin,
            url: request.url.map(str::to_string),
            sha256: sha256_hex(text.as_bytes()),
            words: text.split_whitespace().count(),
            sentences: found.sentences,
            claims_found,
            text: text.to_string(),
        };
        Ok(DocumentReport {
            schema_version: SCHEMA_VERSION,
            kind: DocumentKind::Document,
            checked_on: request.checked_on.to_string(),
            summary: summarise(&document, &checked),
            tally: Tally::of(&checked),
            document,
            claims: checked,
            unchecked,
            warnings,
            timings_ms: DocumentTimings {
                claims: claims_ms,
                web: web_ms,
                checks: checks_ms,
                total: ms(started),
            },
        })
    }
}
