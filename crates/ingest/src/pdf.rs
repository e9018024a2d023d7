//! PDF files: text extraction isolated from the caller, then line-level clean-up.

use std::path::Path;
use std::time::Duration;

use factually_core::NewDocument;

use crate::isolate::{run_isolated, Isolation};
use crate::{file_stem, IngestError};

/// Longest first paragraph still taken as the title of a PDF.
const MAX_PDF_TITLE_CHARS: usize = 150;

/// Extracts the text of a PDF, cleaned for citation: words hyphenated across line ends are
/// rejoined, lines within a paragraph are joined with spaces, paragraphs are separated by a
/// blank line.
///
/// Extraction runs on its own thread with panics caught, and is abandoned after `timeout`
/// (the thread is left to finish in the background), so a hostile or broken PDF yields an
/// error instead of a crash or a hang. A PDF without a text layer (a scan) is
/// [`IngestError::Empty`].
pub fn extract_pdf_text(
    bytes: &[u8],
    path: &Path,
    timeout: Duration,
) -> Result<String, IngestError> {
    let bytes = bytes.to_vec();
    let pdf_error = |message: String| IngestError::Pdf {
        path: path.to_path_buf(),
        message,
    };
    let raw = match run_isolated("pdf-extract", timeout, move || {
        pdf_extract::extract_text_from_mem(&bytes)
    }) {
        Ok(Ok(text)) => text,
        Ok(Err(e)) => return Err(pdf_error(e.to_string())),
        Err(Isolation::Panicked) => return Err(pdf_error(
            "the PDF reader crashed on this file (it may be damaged or use unsupported features)"
                .to_string(),
        )),
        Err(Isolation::TimedOut) => {
            tracing::warn!(path = %path.display(), "PDF extraction timed out; abandoning it");
            return Err(IngestError::PdfTimeout {
                path: path.to_path_buf(),
            });
        }
        Err(Isolation::Failed(e)) => return Err(pdf_error(e.to_string())),
    };
    let text = clean_pdf_text(&raw);
    if text.is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

/// A PDF file as one document. The title is the first paragraph when it looks like one
/// (short, not ending like a sentence), else the file name.
pub fn pdf_document(
    path: &Path,
    bytes: &[u8],
    timeout: Duration,
) -> Result<NewDocument, IngestError> {
    let text = extract_pdf_text(bytes, path, timeout)?;
    let title = text
        .split("\n\n")
        .next()
        .filter(|first| looks_like_title(first))
        .map_or_else(|| file_stem(path), str::to_string);
    Ok(NewDocument {
        title,
        text,
        origin: path.display().to_string(),
        ..NewDocument::default()
    })
}

fn looks_like_title(paragraph: &str) -> bool {
    let chars = paragraph.chars().count();
    (3..=MAX_PDF_TITLE_CHARS).contains(&chars)
        && paragraph.chars().any(char::is_alphabetic)
        && !paragraph.ends_with(['.', ',', ';', ':'])
}

/// Joins the lines of each paragraph (repairing end-of-line hyphenation) and separates
/// paragraphs (blank lines or page breaks in the extracted text) by one blank line.
fn clean_pdf_text(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n").replace(['\r', '\u{c}'], "\n\n");
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    for line in raw.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if current.is_empty() {
            current = line;
        } else if let Some(keep) = hyphen_join(&current, &line) {
            current.truncate(keep);
            current.push_str(&line);
        } else {
            current.push(' ');
            current.push_str(&line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs.join("\n\n")
}

/// When `text` ends with a hyphen (hard or soft) between word characters across the line
/// break, how much of `text` to keep before appending `next` directly: without the hyphen
/// when the word continues in lower case ("exam-" + "ple"), with it otherwise ("COVID-" +
/// "19", "SARS-" + "CoV-2"). `None` when the lines are joined with a space.
fn hyphen_join(text: &str, next: &str) -> Option<usize> {
    let (stem, soft) = match text.strip_suffix('\u{ad}') {
        Some(stem) => (stem, true),
        None => (text.strip_suffix('-')?, false),
    };
    let before = stem.chars().next_back()?;
    let after = next.chars().next()?;
    if !before.is_alphanumeric() || !after.is_alphanumeric() {
        return None;
    }
    Some(
        if soft || (before.is_alphabetic() && after.is_lowercase()) {
            stem.len()
        } else {
            text.len()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_cases() {
        let cases = [
            ("An exam-\nple of text.", "An example of text."),
            ("soft\u{ad}\nhyphen", "softhyphen"),
            (
                "line one\nline two\n\n\nnext   paragraph\n",
                "line one line two\n\nnext paragraph",
            ),
            ("COVID-\n19 stays", "COVID-19 stays"),
            ("SARS-\nCoV-2", "SARS-CoV-2"),
            ("3-\nyear", "3-year"),
            ("- \nbullet", "- bullet"),
            ("page one\u{c}page two", "page one\n\npage two"),
            ("\r\n\r\n  \n", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_pdf_text(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn titles() {
        assert!(looks_like_title("Effects of Masks on Transmission"));
        assert!(!looks_like_title("This is the first sentence of the body."));
        assert!(!looks_like_title("12"));
        assert!(!looks_like_title(&"long ".repeat(40)));
    }
}
