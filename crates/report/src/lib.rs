//! The fact-check report: the page in `shared/seed/example-fact-check.txt`, written
//! deterministically from verified evidence so that every cited sentence is grounded.
//!
//! - [`model`]: the report as data (and its JSON Schema);
//! - [`build`]: the pure writer, analysis + verifications in, [`Report`] out, and the
//!   grounding check that tests and evaluations run on every report;
//! - [`document`]: the document report, a text's check-worthy claims each checked in place;
//! - [`render`]: text (terminal), Markdown and HTML (one self-contained page with ClaimReview);
//! - [`check`]: the pipeline that runs analysis and verification against a knowledge base;
//! - [`llm`]: LLM mode, model prose on top of the deterministic report behind a grounding gate.

pub mod build;
pub mod check;
pub mod document;
pub mod llm;
pub mod model;
pub mod render;

pub use build::{
    build_report, cite_published_check, grounding_violations, ReportInput, SourceInfo,
};
pub use check::{CheckError, Checker, OfferedSource, OfferedSources, Progress};
pub use document::{DocumentClaim, DocumentMeta, DocumentOrigin, DocumentReport};
pub use model::*;
