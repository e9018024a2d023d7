//! Reading one file into documents, by extension.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use encoding_rs::Encoding;
use factually_core::{Document, NewDocument};

use crate::html::parse_html;
use crate::pdf::pdf_document;
use crate::records::{json_array, json_lines};
use crate::text::{decode, markdown_document, text_document};
use crate::{extension_of, FileOutcome, Format, IngestError, MAX_FILE_BYTES, PDF_TIMEOUT};

/// Reads one file into documents, choosing the reader by extension: `.txt .text`,
/// `.md .markdown`, `.html .htm`, `.pdf`, `.jsonl .ndjson`, and `.json` (an array of
/// records). `retrieved_at` (RFC 3339) is stamped on every document.
///
/// Files over [`MAX_FILE_BYTES`] are refused before being read. Text must be UTF-8 (a
/// byte-order mark is honoured); other text is decoded as windows-1252 (HTML: as its
/// declared charset) with a warning, and text with NUL bytes is refused as binary.
pub fn read_file(path: &Path, retrieved_at: &str) -> Result<FileOutcome, IngestError> {
    if Format::of(path).is_none() {
        return Err(IngestError::Unsupported {
            path: path.to_path_buf(),
            ext: extension_of(path),
        });
    }
    read_bytes(path, &read_bounded(path)?, retrieved_at)
}

/// The documents in `bytes`, read as [`read_file`] reads the file at `path` (its extension
/// gives the format; its name goes into titles and messages).
pub fn read_bytes(
    path: &Path,
    bytes: &[u8],
    retrieved_at: &str,
) -> Result<FileOutcome, IngestError> {
    let format = Format::of(path).ok_or_else(|| IngestError::Unsupported {
        path: path.to_path_buf(),
        ext: extension_of(path),
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }

    let mut warnings = Vec::new();
    let documents: Vec<NewDocument> = match format {
        Format::Text => vec![text_document(
            path,
            &decode(bytes, path, None, &mut warnings)?,
        )?],
        Format::Markdown => vec![markdown_document(
            path,
            &decode(bytes, path, None, &mut warnings)?,
        )?],
        Format::Html => {
            let html = decode(bytes, path, declared_charset(bytes), &mut warnings)?;
            vec![parse_html(&html, &path.display().to_string(), None)?]
        }
        Format::Pdf => vec![pdf_document(path, bytes, PDF_TIMEOUT)?],
        Format::JsonLines => json_lines(path, bytes, &mut warnings)?,
        Format::JsonArray => json_array(path, bytes, &mut warnings)?,
    };
    let documents = documents
        .into_iter()
        .map(|new| Document::new(new, retrieved_at.to_string()))
        .collect();
    Ok(FileOutcome {
        documents,
        warnings,
    })
}

/// The whole file, or [`IngestError::TooLarge`] without reading more than the limit (the
/// size is checked up front, and the read is capped for files that grow or lie about it).
fn read_bounded(path: &Path) -> Result<Vec<u8>, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Checked before opening: opening a FIFO blocks, and a device may never end.
    let metadata = std::fs::metadata(path).map_err(io)?;
    if !metadata.is_file() {
        let kind = if metadata.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            kind,
        )));
    }
    let declared = metadata.len();
    if declared > MAX_FILE_BYTES {
        return Err(IngestError::TooLarge {
            path: path.to_path_buf(),
            bytes: declared,
        });
    }
    let file = File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > MAX_FILE_BYTES {
        return Err(IngestError::TooLarge {
            path: path.to_path_buf(),
            bytes: read,
        });
    }
    Ok(bytes)
}

/// The `charset=` an HTML page declares in its first kilobyte, if encoding_rs knows it.
fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = bytes.get(..1024).unwrap_or(bytes).to_ascii_lowercase();
    let at = head.windows(8).position(|w| w == b"charset=")? + 8;
    let rest = head.get(at..)?;
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')))
        .unwrap_or(rest.len());
    // As browsers do, a declared UTF-16 means UTF-8 for a page that has no BOM.
    Encoding::for_label(rest.get(..end)?).map(Encoding::output_encoding)
}

#[cfg(test)]
mod tests {
    use super::declared_charset;

    #[test]
    fn charset_sniffing() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (br#"<meta charset="ISO-8859-2">"#, Some("ISO-8859-2")),
            (
                b"<meta http-equiv=Content-Type content='text/html; charset=shift_jis'>",
                Some("Shift_JIS"),
            ),
            (b"<meta charset=bogus>", None),
            (b"<meta charset=utf-16>", Some("UTF-8")),
            (b"<p>no declaration</p>", None),
        ];
        for &(html, want) in cases {
            assert_eq!(declared_charset(html).map(|e| e.name()), want, "{html:?}");
        }
    }
}
