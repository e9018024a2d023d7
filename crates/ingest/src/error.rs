//! Errors that stop one file (or one input path) from being ingested.

use std::path::PathBuf;

use crate::MAX_FILE_BYTES;

/// Why a file could not be ingested. Every message names the file (and the line, for
/// record files) so it can be shown to an end user as is.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{}: unsupported file type {}; supported: .txt .text .md .markdown .html .htm .pdf .jsonl .ndjson .json",
        path.display(),
        if ext.is_empty() { "(no extension)".to_string() } else { format!(".{ext}") }
    )]
    Unsupported { path: PathBuf, ext: String },

    #[error(
        "{}: fact-checks are read from .json, .jsonl, .ndjson, .html or .htm files, not {}",
        path.display(),
        if ext.is_empty() { "(no extension)".to_string() } else { format!(".{ext}") }
    )]
    NotFactChecks { path: PathBuf, ext: String },

    #[error("{}: no text to ingest (the file is empty or holds no readable text)", path.display())]
    Empty { path: PathBuf },

    #[error("{}: looks like a binary file, not text", path.display())]
    Binary { path: PathBuf },

    #[error("{} is too large to ingest ({bytes} bytes; the limit is {MAX_FILE_BYTES} bytes)", path.display())]
    TooLarge { path: PathBuf, bytes: u64 },

    #[error("{} line {line}: invalid JSON: {message}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        message: String,
    },

    #[error("{}: no usable records ({skipped} skipped; first problem: {first_problem})", path.display())]
    NoRecords {
        path: PathBuf,
        skipped: usize,
        first_problem: String,
    },

    #[error("{}: cannot parse the HTML: {message}", path.display())]
    Html { path: PathBuf, message: String },

    #[error("{}: cannot extract text from the PDF: {message}", path.display())]
    Pdf { path: PathBuf, message: String },

    #[error("{}: PDF text extraction took too long and was stopped", path.display())]
    PdfTimeout { path: PathBuf },
}

impl IngestError {
    /// The file (or, for [`crate::parse_html`], the origin) the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::Io { path, .. }
            | Self::Unsupported { path, .. }
            | Self::NotFactChecks { path, .. }
            | Self::Empty { path }
            | Self::Binary { path }
            | Self::TooLarge { path, .. }
            | Self::Json { path, .. }
            | Self::NoRecords { path, .. }
            | Self::Html { path, .. }
            | Self::Pdf { path, .. }
            | Self::PdfTimeout { path } => path,
        }
    }
}
