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
//! 2. [`CheckWorthiness::score`]: a logistic regression over the sentence's embedding (the
//!    model every knowledge base is built with, so nothing new is downloaded) and a few
//!    lexical signals (numbers, years, comparisons, first person, modal verbs). Trained on
//!    ClaimBuster's 7,976 labelled debate sentences (`factually train checkworthy`); the
//!    weights are a small JSON artifact compiled into the binary.
//! 3. [`extract`]: keeps the sentences at or above the threshold, makes each stand alone (a
//!    leading "He", "She", "It" or "They" becomes the subject of an earlier sentence when one is
//!    there), merges repeats, and ranks them by score. Each claim keeps the byte span of its
//!    original sentence, so a document report can highlight it in place.
//!
//! [`rerank`] serves the other half of "from articles to claims": is a claim one that was
//! fact-checked already? It orders the published fact-checks retrieval found for a claim.
//!
//! Everything but the embedding is pure and cheap: a 5,000-word article is embedded in about
//! a second on two cores, the rest takes milliseconds.

mod extract;
mod model;
pub mod rerank;

pub use extract::{candidates, extract, standalone, standalone_or, Candidate, Claim};
pub use model::{
    fit, lexical_features, CheckWorthiness, Example, WorthinessModel, LEXICAL_FEATURES,
};

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
    #[error("the check-worthiness model was trained on embeddings of {trained}, not of {given}")]
    WrongEmbedder { trained: String, given: String },
    #[error(transparent)]
    Embed(#[from] factually_embed::EmbedError),
}
