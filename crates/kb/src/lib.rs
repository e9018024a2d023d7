//! Knowledge bases: the stored documents that citations point into, and hybrid retrieval.
//!
//! A knowledge base (KB) is a directory holding a tantivy index and a dense-vector file.
//! The tantivy index stores every document *exactly* as ingested (its text and metadata) and
//! indexes its passages (sentence windows with byte offsets) for BM25. The vector file holds
//! one all-MiniLM-L6-v2 vector per embedded passage. Search fuses the BM25 and dense rankings
//! with reciprocal-rank fusion ([`factually_core::reciprocal_rank_fusion`]).
//!
//! Why tantivy stores the documents too: one commit then covers text, passages and (through
//! the commit payload naming the vector file) the vectors, so a crash during ingest leaves the
//! previous state whole. There is no second store to drift out of sync.

mod data_dir;
pub mod default_kb;
mod index;
pub mod vectors;

pub use data_dir::{DataDir, KbName};
pub use index::{
    AddStats, DenseScope, Hit, KbConfig, KbStats, KbWriter, KnowledgeBase, RetrievalMode,
    SearchOptions, KB_FORMAT,
};
pub use vectors::{ExactIndex, VectorIndex};

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("knowledge base {dir} has on-disk format {found}, this build reads format {expected}: re-create it (delete the directory and `kb add` the sources again)")]
    Outdated {
        dir: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("knowledge base is damaged: {0}")]
    Corrupt(String),
    #[error("no knowledge base named {name:?} in {dir} (create one with `factually kb add --kb {name} PATH`)")]
    NotFound { name: String, dir: PathBuf },
    #[error("invalid knowledge base name {0:?}: use 1-64 characters a-z, 0-9, '-' or '_'")]
    BadName(String),
    #[error("empty query: type some words to search for")]
    EmptyQuery,
    #[error(
        "this knowledge base was built with embedding model {built}, but {given} was supplied"
    )]
    ModelMismatch { built: String, given: String },
    #[error("another process is writing to knowledge base {0}; try again when it has finished")]
    Busy(String),
    #[error(transparent)]
    Embed(#[from] factually_embed::EmbedError),
    #[error(transparent)]
    Asset(#[from] factually_assets::AssetError),
}

impl KbError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
