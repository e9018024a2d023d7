//! Check-worthy claims in a text.
//!
//! People arrive with an article, a speech or a transcript, not one tidy claim. This crate
//! finds the sentences in a text that state something a fact-checker should check ("Our
//! unemployment rate doubled in four years"), not opinions, promises, greetings or questions
//! ("I think we can do better"), and hands each one over in a form that stands on its own.
//!
//! Three steps:
//! 1. [`candidates`]: the text's sentences ([`factually_core::split_sentences`]: byte spans
//!    into the text), minus headings, fragments and run-ons no claim fits in.
//! 2. [`CheckWorthiness::score`]: all-MiniLM-L6-v2 (the base model every knowledge base is
//!    built with, so nothing new is downloaded) with its upper layers fine-tuned as a
//!    sentence classifier on ClaimBuster's labelled debate sentences (`factually train
//!    checkworthy`, the stance model's trainer: [`factually_stance::train::fine_tune`]). A
//!    frozen sentence embedding with a logistic regression on top stopped near 0.85 F1; the
//!    fine-tuned layers read what makes a statement checkable (a figure, a comparison, a
//!    record) against what makes it not ("I think", "we will", thanks). The trained layers are
//!    an f16 artifact compiled into the binary.
//! 3. [`extract`]: keeps the sentences at or above the threshold, makes each stand alone (a
//!    leading "He", "She", "It" or "They" becomes the subject of an earlier sentence when one is
//!    there), merges repeats, and ranks them by score. Each claim keeps the byte span of its
//!    original sentence, so a document report can highlight it in place.
//!
//! [`rerank`] serves the other half of "from articles to claims": is a claim one that was
//! fact-checked already? It orders the published fact-checks retrieval found for a claim.
//!
//! Everything but the network is pure and cheap: scoring is one MiniLM pass per sentence
//! (a 5,000-word article in about two seconds on two cores), the rest takes milliseconds.

mod extract;
mod model;
pub mod rerank;

pub use extract::{candidates, extract, standalone, standalone_or, Candidate, Claim};
pub use model::{balanced_threshold, CheckWorthiness, WorthinessMeta, CHECK_WORTHINESS};

/// Texts longer than this are refused: scoring every sentence of a book takes minutes, and a
/// file this size is more often a mistake (a database dump, a binary) than an article.
pub const MAX_TEXT_BYTES: usize = 5 << 20;

/// The claims a text holds, as [`CheckWorthiness::find`] gives them.
#[derive(Debug, Clone)]
pub struct Found {
    /// Sentences scored (the text's [`candidates`]).
    pub sentences: usize,
    /// Those at or above the threshold, made to stand alone, merged and ranked.
    pub claims: Vec<Claim>,
}

/// What can go wrong scoring a text.
#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    #[error("check-worthiness artifact: {0}")]
    Artifact(String),
    #[error("fact-check re-ranker artifact: {0}")]
    RerankArtifact(String),
    #[error("check-worthiness model: {0}")]
    Model(#[from] factually_stance::StanceError),
}
