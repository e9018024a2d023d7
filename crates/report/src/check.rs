//! `check`: the whole pipeline for one input. Validate, analyse, verify every statement and
//! presupposition against the knowledge base and any offered sources (fetched web pages, URLs
//! the user gave), then write the report.
//!
//! A statement that cannot be verified (too long for the stance model, an unreadable document)
//! becomes a warning and a "not enough evidence" verdict; only when nothing at all could be
//! checked does the check fail.

use std::collections::HashMap;
use std::time::Instant;

use factually_analyze::{analyze, validate_input, Analysis, InputError};
use factually_core::{DocId, Document};
use factually_verify::{
    sort_by_decisiveness, verdict_of, OfferedDocument, Timings, Verification, Verifier,
    VerifyError, VerifyOptions,
};

use crate::build::{build_report, ReportInput, SourceInfo};
use crate::model::{Report, ReportTimings, SkippedSource};

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("nothing could be checked: {0}")]
    Verify(#[from] VerifyError),
    /// The caller stopped the check (see [`Checker::cancelled`]).
    #[error("the check was cancelled")]
    Cancelled,
}

/// Runs checks against one knowledge base and the sources offered for the check.
pub struct Checker<'a> {
    pub verifier: Verifier<'a>,
    /// The knowledge base's name, recorded in every source so citations can be looked up.
    pub kb_name: String,
    /// Whether the knowledge base is searched (false when only web or given sources are wanted).
    pub search_kb: bool,
    pub offered: OfferedSources,
    /// When the check must stop verifying: statements and assumptions not reached by then are
    /// reported as not checked (the first is always checked). `None`: no limit.
    pub deadline: Option<Instant>,
    /// Asked before each statement and assumption: once it says yes, the check stops with
    /// [`CheckError::Cancelled`] (a client that went away, an assistant that cancelled).
    /// `None`: never.
    pub cancelled: Option<&'a (dyn Fn() -> bool + Sync)>,
}

/// Sources gathered for one check outside knowledge-base retrieval, and what happened while
/// gathering them.
#[derive(Debug, Clone, Default)]
pub struct OfferedSources {
    pub documents: Vec<OfferedSource>,
    /// Web search queries made.
    pub queries: Vec<String>,
    pub skipped: Vec<SkippedSource>,
    pub warnings: Vec<String>,
    /// Milliseconds spent gathering them (search, fetch, extraction, storing).
    pub gather_ms: f64,
}

/// A document offered as evidence: its stored snapshot and what the report says about it.
#[derive(Debug, Clone)]
pub struct OfferedSource {
    /// Exactly as stored in `kb`, so citations into it can be verified.
    pub document: Document,
    pub kb: String,
    pub credibility: f32,
    /// Syndicated copies of the same story.
    pub copies: Vec<String>,
}

/// A step of a check, reported as it happens (the web site shows them live).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Progress {
    /// The input was analysed into statements and presuppositions.
    Analysed {
        statements: usize,
        presuppositions: usize,
    },
    /// Web search queries were sent.
    Searching { queries: Vec<String> },
    /// Pages were fetched and stored as sources.
    Fetched { pages: usize },
    /// The `n`th of `of` statements and presuppositions is being checked.
    Checking { n: usize, of: usize, text: String },
    /// The report is being written.
    Writing,
    /// A language model is writing the summary (LLM mode).
    WritingWithModel { models: usize },
    /// A document's sentences are being scored for check-worthiness.
    FindingClaims,
    /// The `n`th of a document's `of` claims is being checked.
    CheckingClaim { n: usize, of: usize, claim: String },
}

impl Progress {
    /// One line for people.
    pub fn message(&self) -> String {
        match self {
            Self::Analysed {
                statements,
                presuppositions,
            } => format!(
                "Analysed the question: {statements} statement(s), {presuppositions} assumption(s) to check"
            ),
            Self::Searching { queries } => format!("Searching the web ({} queries)", queries.len()),
            Self::Fetched { pages } => format!("Read {pages} page(s)"),
            Self::Checking { n, of, text } => format!("Checking {n} of {of}: {text}"),
            Self::Writing => "Writing the report".to_string(),
            Self::WritingWithModel { models } => {
                format!("Writing the summary with {models} language model(s)")
            }
            Self::FindingClaims => "Finding the check-worthy claims in the text".to_string(),
            Self::CheckingClaim { n, of, claim } => format!("Checking claim {n} of {of}: {claim}"),
        }
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

impl Checker<'_> {
    /// Checks a question or claim; `checked_on` is the report date, `YYYY-MM-DD`.
    pub fn check(&self, input: &str, checked_on: &str) -> Result<Report, CheckError> {
        self.check_with_progress(input, checked_on, &|_| {})
    }

    /// [`Checker::check`], telling `progress` about each step.
    pub fn check_with_progress(
        &self,
        input: &str,
        checked_on: &str,
        progress: &dyn Fn(Progress),
    ) -> Result<Report, CheckError> {
        let input = validate_input(input)?;
        let t = Instant::now();
        let analysis = analyze(input);
        self.check_analysed(&analysis, ms(t), checked_on, progress)
    }

    /// Checks an input that was validated and analysed already (`analyze_ms` is what the
    /// analysis took, for the report's timings): a caller that needed the analysis before the
    /// check (for web search queries) does not pay for it twice.
    pub fn check_analysed(
        &self,
        analysis: &Analysis,
        analyze_ms: f64,
        checked_on: &str,
        progress: &dyn Fn(Progress),
    ) -> Result<Report, CheckError> {
        let started = Instant::now();
        let statement_texts: Vec<&str> =
            if analysis.statements.is_empty() && analysis.presuppositions.is_empty() {
                vec![analysis.input.as_str()]
            } else {
                analysis.statements.iter().map(String::as_str).collect()
            };
        // Verify each distinct text once (a wh-question's statement is also its first
        // presupposition).
        let mut texts: Vec<&str> = statement_texts.clone();
        for p in &analysis.presuppositions {
            if !texts.contains(&p.text.as_str()) {
                texts.push(&p.text);
            }
        }
        let mut warnings = self.offered.warnings.clone();
        let mut results: HashMap<&str, Verification> = HashMap::new();
        let mut last_error = None;
        // Presuppositions get a shallower search than the statements (3 documents, 2 sentences
        // each instead of 5 x 3): a question often carries three of them, and `check` has a
        // budget of about two seconds on two cores.
        let shallow = Verifier {
            kb: self.verifier.kb,
            embedder: self.verifier.embedder,
            stance: self.verifier.stance,
            judge: self.verifier.judge,
            options: VerifyOptions {
                documents: self.verifier.options.documents.min(3),
                sentences_per_document: self.verifier.options.sentences_per_document.min(2),
                ..self.verifier.options
            },
        };
        progress(Progress::Analysed {
            statements: statement_texts.len(),
            presuppositions: analysis.presuppositions.len(),
        });
        let mut failed = 0;
        let mut out_of_time = 0;
        for (i, text) in texts.iter().enumerate() {
            if self.cancelled.is_some_and(|cancelled| cancelled()) {
                return Err(CheckError::Cancelled);
            }
            if i > 0 && self.deadline.is_some_and(|d| Instant::now() >= d) {
                results.insert(text, unchecked(text));
                out_of_time += 1;
                continue;
            }
            progress(Progress::Checking {
                n: i + 1,
                of: texts.len(),
                text: text.to_string(),
            });
            let verifier = if i < statement_texts.len() {
                &self.verifier
            } else {
                &shallow
            };
            match self.verify_text(verifier, text) {
                Ok(v) => {
                    results.insert(text, v);
                }
                Err(e) => {
                    warnings.push(format!("could not check “{text}”: {e}"));
                    results.insert(text, unchecked(text));
                    failed += 1;
                    last_error = Some(e);
                }
            }
        }
        if out_of_time > 0 {
            warnings.push(format!(
                "the check's time budget ran out: {out_of_time} of {} statement(s) and assumption(s) were not checked",
                texts.len()
            ));
        }
        if let Some(e) = last_error {
            if failed + out_of_time == texts.len() {
                return Err(e.into());
            }
        }

        let mut timings = Timings::default();
        for v in results.values() {
            timings.add(&v.timings_ms);
        }
        let mut sources = HashMap::new();
        for v in results.values() {
            for e in &v.evidence {
                if sources.contains_key(&e.doc_id) {
                    continue;
                }
                match self.source_info(&e.doc_id) {
                    Some(info) => {
                        sources.insert(e.doc_id.clone(), info);
                    }
                    None => warnings.push(format!("document {} could not be read", e.doc_id)),
                }
            }
        }
        progress(Progress::Writing);
        let t = Instant::now();
        let mut report = build_report(ReportInput {
            analysis,
            statements: statement_texts.iter().map(|t| &results[t]).collect(),
            presuppositions: analysis
                .presuppositions
                .iter()
                .map(|p| &results[p.text.as_str()])
                .collect(),
            sources: &sources,
            checked_on: checked_on.to_string(),
            search_queries: self.offered.queries.clone(),
            skipped_sources: self.offered.skipped.clone(),
            warnings,
            timings_ms: ReportTimings::default(),
        });
        report.timings_ms = ReportTimings {
            web: self.offered.gather_ms,
            analyze: analyze_ms,
            retrieve: timings.retrieve,
            select: timings.select,
            stance: timings.stance,
            aggregate: timings.aggregate,
            write: ms(t),
            total: ms(started) + analyze_ms + self.offered.gather_ms,
        };
        Ok(report)
    }

    /// Verifies one text against the knowledge base, the offered documents, or both (their
    /// evidence pooled into one verdict).
    fn verify_text(
        &self,
        verifier: &Verifier<'_>,
        text: &str,
    ) -> Result<Verification, VerifyError> {
        let offered: Vec<OfferedDocument> = self
            .offered
            .documents
            .iter()
            .map(|o| OfferedDocument {
                document: &o.document,
                credibility: o.credibility,
            })
            .collect();
        if !self.search_kb {
            return verifier.verify_documents(text, &offered);
        }
        let mut from_kb = verifier.verify(text)?;
        if offered.is_empty() {
            return Ok(from_kb);
        }
        let from_web = verifier.verify_documents(text, &offered)?;
        from_kb.evidence.extend(from_web.evidence);
        from_kb.verdict = verdict_of(&from_kb.evidence);
        sort_by_decisiveness(&mut from_kb.evidence);
        from_kb.retrieved.extend(from_web.retrieved);
        from_kb.timings_ms.add(&from_web.timings_ms);
        Ok(from_kb)
    }

    fn source_info(&self, id: &DocId) -> Option<SourceInfo> {
        if let Some(o) = self
            .offered
            .documents
            .iter()
            .find(|o| o.document.meta.id == *id)
        {
            let meta = &o.document.meta;
            return Some(SourceInfo {
                kb: o.kb.clone(),
                title: meta.title.clone(),
                url: meta.url.clone(),
                publisher: meta.publisher.clone(),
                published: meta.published.clone(),
                credibility: Some(o.credibility),
                retrieved_at: Some(meta.retrieved_at.clone()),
                copies: o.copies.clone(),
            });
        }
        let doc = self.verifier.kb.document(id).ok()??;
        Some(SourceInfo {
            kb: self.kb_name.clone(),
            title: doc.meta.title,
            url: doc.meta.url,
            publisher: doc.meta.publisher,
            published: doc.meta.published,
            credibility: None,
            retrieved_at: None,
            copies: Vec::new(),
        })
    }
}

/// The verification of a text that could not be checked: no evidence, no verdict.
fn unchecked(text: &str) -> Verification {
    Verification {
        claim: text.to_string(),
        verdict: verdict_of(&[]),
        evidence: vec![],
        retrieved: vec![],
        timings_ms: Timings::default(),
    }
}
