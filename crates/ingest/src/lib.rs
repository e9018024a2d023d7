//! Turning files into factually [`Document`]s.
//!
//! Why this crate matters: a verdict is only as checkable as its citations, and every
//! citation is a byte range into the *stored text* of a document. Whatever this crate
//! extracts is therefore exactly what can be quoted later, and whatever it drops (or mangles)
//! can never be cited. That drives the rules here:
//!
//! * Extraction keeps the author's words and nothing else: HTML goes through a Readability
//!   port so navigation, footers and cookie banners do not become "evidence"; PDF text has
//!   its line-end hyphenation repaired so "exam-\nple" is findable as "example".
//! * Stored text is plain, with paragraphs separated by a blank line. Paragraph breaks are
//!   hard sentence boundaries for the splitter in `factually-core`, so a heading never fuses
//!   with the first sentence below it.
//! * Record corpora (JSONL) keep their own sentence structure: an `abstract` given as a list
//!   of sentences is joined with single spaces, so sentence *k* of the source is a findable
//!   sentence of the stored text, and the record's own id is kept as `external_id`.
//! * Bad input is an error or a warning naming the file (and line), never a panic: a corpus
//!   with one broken record still ingests, and a damaged PDF cannot take the process down.
//!
//! Entry points: [`collect_files`] expands the paths a user typed, [`read_file`] turns one
//! file into documents, and [`parse_html`] / [`extract_pdf_text`] are reusable for content
//! that did not come from a file (fetched web pages, downloaded PDFs).

pub mod claimreview;
mod collect;
mod dates;
mod error;
mod html;
mod isolate;
mod page_facts;
mod pdf;
mod read;
mod records;
mod text;

use std::path::Path;
use std::time::Duration;

use factually_core::Document;

pub use collect::collect_files;
pub use error::IngestError;
pub use html::{parse_html, HTML_TIMEOUT};
pub use pdf::{
    extract_pdf_text, extract_pdfs_in_child_processes, pdf_document, serve_pdf_text_helper,
    PdfHelper,
};
pub use read::{read_bytes, read_file};

/// Files larger than this are refused with [`IngestError::TooLarge`] before they are read
/// into memory (64 MiB: far above any article, abstract corpus or ordinary report).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// How long [`read_file`] lets PDF text extraction run before giving up on a file.
pub const PDF_TIMEOUT: Duration = Duration::from_secs(60);

/// What one file yielded: its documents, plus problems that did not stop the file
/// (skipped records, a guessed text encoding). Warnings name the file and, for records,
/// the line.
#[derive(Debug, Default)]
pub struct FileOutcome {
    pub documents: Vec<Document>,
    pub warnings: Vec<String>,
}

/// The kinds of file this crate reads, decided by extension (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Markdown,
    Html,
    Pdf,
    JsonLines,
    JsonArray,
}

impl Format {
    fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "txt" | "text" => Some(Self::Text),
            "md" | "markdown" => Some(Self::Markdown),
            "html" | "htm" => Some(Self::Html),
            "pdf" => Some(Self::Pdf),
            "jsonl" | "ndjson" => Some(Self::JsonLines),
            "json" => Some(Self::JsonArray),
            _ => None,
        }
    }
}

/// The extension of `path` as the user wrote it (empty when there is none), for messages.
fn extension_of(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The file name without its extension, used as a fallback title.
fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| path.display().to_string())
}
