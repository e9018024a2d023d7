//! Decoding bytes to text, and plain-text / Markdown files.

use std::path::Path;

use encoding_rs::{Encoding, WINDOWS_1252};
use factually_core::NewDocument;

use crate::{file_stem, IngestError};

/// Longest first line still taken as a title.
const MAX_TITLE_CHARS: usize = 200;

/// Decodes file bytes to text with line feeds only.
///
/// A byte-order mark decides the encoding when present. Otherwise the text must be UTF-8;
/// bytes that are not UTF-8 are decoded as `fallback` (windows-1252 unless the caller knows
/// better) with a warning, because a silently mis-decoded quote is worse than a noisy one.
/// NUL bytes outside a UTF-16 file mean the file is binary.
pub(crate) fn decode(
    bytes: &[u8],
    path: &Path,
    fallback: Option<&'static Encoding>,
    warnings: &mut Vec<String>,
) -> Result<String, IngestError> {
    let text = if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let body = bytes.get(bom_len..).unwrap_or_default();
        let (text, had_errors) = encoding.decode_without_bom_handling(body);
        if had_errors {
            warnings.push(format!(
                "{}: invalid {} sequences replaced with U+FFFD",
                path.display(),
                encoding.name()
            ));
        }
        text.into_owned()
    } else if bytes.contains(&0) {
        return Err(IngestError::Binary {
            path: path.to_path_buf(),
        });
    } else {
        match std::str::from_utf8(bytes) {
            Ok(text) => text.to_string(),
            Err(_) => {
                let encoding = fallback.unwrap_or(WINDOWS_1252);
                let (text, _, _) = encoding.decode(bytes);
                warnings.push(format!(
                    "{}: not valid UTF-8; decoded as {}",
                    path.display(),
                    encoding.name()
                ));
                text.into_owned()
            }
        }
    };
    Ok(normalize_newlines(&text))
}

/// CRLF and lone CR become LF.
pub(crate) fn normalize_newlines(text: &str) -> String {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_string()
    }
}

/// The first non-empty line, trimmed, if it is short enough to be a title.
pub(crate) fn short_first_line(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    (line.chars().count() <= MAX_TITLE_CHARS).then(|| line.to_string())
}

/// The text of the first level-one ATX heading (`# Title`), without the `#` marks.
fn markdown_title(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix("# ")?;
        let title = rest.trim().trim_end_matches('#').trim();
        (!title.is_empty()).then(|| title.to_string())
    })
}

/// A plain-text file: the first short line is the title, the text is stored as is (after
/// BOM and line-ending normalisation), so `kb show` gives back the file.
pub(crate) fn text_document(path: &Path, text: &str) -> Result<NewDocument, IngestError> {
    if text.trim().is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(NewDocument {
        title: short_first_line(text).unwrap_or_else(|| file_stem(path)),
        text: text.to_string(),
        origin: path.display().to_string(),
        ..NewDocument::default()
    })
}

/// A Markdown file: the first `# ` heading is the title; the markup is kept, since it is
/// readable as plain text and stripping it would move every quote.
pub(crate) fn markdown_document(path: &Path, text: &str) -> Result<NewDocument, IngestError> {
    if text.trim().is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(NewDocument {
        title: markdown_title(text).unwrap_or_else(|| file_stem(path)),
        text: text.to_string(),
        origin: path.display().to_string(),
        ..NewDocument::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(bytes: &[u8]) -> (Result<String, IngestError>, Vec<String>) {
        let mut warnings = Vec::new();
        let result = decode(bytes, Path::new("f.txt"), None, &mut warnings);
        (result, warnings)
    }

    #[test]
    fn decoding_cases() {
        let cases: &[(&[u8], Option<&str>, usize)] = &[
            (b"plain\r\ntext\rhere", Some("plain\ntext\nhere"), 0),
            (b"\xEF\xBB\xBFwith bom", Some("with bom"), 0),
            (b"caf\xE9 \x93quoted\x94", Some("café “quoted”"), 1),
            (b"\xFF\xFEh\0i\0", Some("hi"), 0),
            (b"ELF\0\0\x01binary", None, 0),
        ];
        for &(bytes, want, n_warnings) in cases {
            let (got, warnings) = decoded(bytes);
            match (got, want) {
                (Ok(text), Some(want)) => assert_eq!(text, want, "{bytes:?}"),
                (Err(IngestError::Binary { .. }), None) => {}
                (other, _) => panic!("{bytes:?}: unexpected {other:?}"),
            }
            assert_eq!(warnings.len(), n_warnings, "{bytes:?}: {warnings:?}");
        }
    }

    #[test]
    fn titles() {
        assert_eq!(
            markdown_title("intro\n#not\n# The  Title ##\n# Second"),
            Some("The  Title".into())
        );
        assert_eq!(markdown_title("## Only h2"), None);
        assert_eq!(
            short_first_line("\n\n  First line  \nsecond"),
            Some("First line".into())
        );
        assert_eq!(short_first_line(&"x".repeat(201)), None);
        let doc = text_document(
            Path::new("dir/notes.txt"),
            &format!("{}\nmore", "y".repeat(300)),
        )
        .unwrap();
        assert_eq!(doc.title, "notes");
    }
}
