//! The pure core of factually: domain types and pipeline logic, with no I/O.
//!
//! Everything that touches files, the network, models or indexes lives in the edge crates;
//! this crate only decides. That keeps the rules that matter for trust (how text is cut into
//! citable sentences, how document ids are derived, how rankings are fused) in one place
//! where they are cheap to test exhaustively.
//!
//! The central invariant: a sentence or passage is a byte range `start..end` into the
//! stored UTF-8 text of a document, always on `char` boundaries, so a citation
//! `(doc_id, start, end)` can be checked later against `kb show doc_id`.

pub mod document;
pub mod fusion;
pub mod learn;
pub mod metrics;
pub mod text;
pub mod verdict;

pub use document::{doc_id_for, sha256_hex, DocId, Document, DocumentMeta, NewDocument};
pub use fusion::{FusionWeights, RankedLists};
pub use text::{passage_windows, split_sentences, Span};
pub use verdict::{
    aggregate, evidence_weight, Stance, StanceProbs, Verdict, VerdictLabel, WeightedStance,
};
