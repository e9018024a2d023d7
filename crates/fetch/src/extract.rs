//! From a fetched body to a document: charset decoding, main-content extraction by media type,
//! and the checks that keep unusable pages (paywall stubs, pages that talk to the program) out of
//! the evidence.

use std::path::Path;
use std::time::Duration;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use factually_core::NewDocument;
use factually_ingest::{parse_html, pdf_document};

use crate::fetcher::Fetched;

/// Pages with fewer words than this are paywall teasers, cookie walls or error pages.
pub const MIN_WORDS: usize = 60;

const PDF_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a fetched page yields no document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("content type {0} is not a page factually can read")]
    Unsupported(String),
    #[error("nothing readable could be extracted: {0}")]
    Unreadable(String),
    #[error("only {0} words of text (a paywall, a stub or an error page)")]
    TooShort(usize),
    #[error("the page is not readable text (binary data or a wrong character encoding)")]
    NotText,
    #[error("the page contains text addressed to the program (“{0}”)")]
    Instructions(String),
}

/// The document a fetched page yields.
pub fn to_document(page: &Fetched) -> Result<NewDocument, ExtractError> {
    let url = page.url.as_str();
    let mut doc = match page.media_type.as_str() {
        "text/html" | "application/xhtml+xml" | "" => {
            let html = decode(&page.body, page.charset.as_deref(), true);
            parse_html(&html, url, Some(url))
                .map_err(|e| ExtractError::Unreadable(e.to_string()))?
        }
        "application/pdf" => {
            let mut doc = pdf_document(Path::new(page.url.path()), &page.body, PDF_TIMEOUT)
                .map_err(|e| ExtractError::Unreadable(e.to_string()))?;
            doc.origin = url.to_string();
            doc.url = Some(url.to_string());
            doc
        }
        "text/plain" => plain_document(&decode(&page.body, page.charset.as_deref(), false), url),
        other => return Err(ExtractError::Unsupported(other.to_string())),
    };
    if !looks_like_text(&doc.text) {
        return Err(ExtractError::NotText);
    }
    let words = doc.text.split_whitespace().count();
    if words < MIN_WORDS {
        return Err(ExtractError::TooShort(words));
    }
    if let Some(instruction) = factually_analyze::find_instructions(&doc.text) {
        return Err(ExtractError::Instructions(instruction.to_string()));
    }
    // The URL the bytes came from is the one that names the snapshot; a canonical link on the
    // page is the page's own claim and is kept only when it is on the same host.
    let same_host = doc
        .url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .is_some_and(|u| u.host_str() == page.url.host_str());
    if !same_host {
        doc.url = Some(url.to_string());
    }
    if doc.publisher.is_none() {
        doc.publisher = page
            .url
            .host_str()
            .map(|h| h.trim_start_matches("www.").to_string());
    }
    Ok(doc)
}

/// Prose is mostly letters and decodes cleanly: at least half of the visible characters are
/// letters and at most 1% are replacement characters or controls. Binary data served as text,
/// or text decoded with the wrong encoding, fails this.
fn looks_like_text(text: &str) -> bool {
    let (mut visible, mut letters, mut bad) = (0usize, 0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        visible += 1;
        if c.is_alphabetic() {
            letters += 1;
        } else if c == char::REPLACEMENT_CHARACTER || c.is_control() {
            bad += 1;
        }
    }
    visible > 0 && letters * 2 >= visible && bad * 100 <= visible
}

/// A plain-text document: the first paragraph is the title when it is short.
fn plain_document(text: &str, url: &str) -> NewDocument {
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    let title = paragraphs
        .first()
        .filter(|p| p.split_whitespace().count() <= 15)
        .cloned()
        .unwrap_or_else(|| url.to_string());
    NewDocument {
        title,
        text: paragraphs.join("\n\n"),
        url: Some(url.to_string()),
        origin: url.to_string(),
        ..NewDocument::default()
    }
}

/// Decodes a body: a byte-order mark wins, then the HTTP charset, then (for HTML) a `<meta>`
/// charset in the first 1,024 bytes, then UTF-8 when the bytes are valid UTF-8, else
/// windows-1252 (what browsers assume for unlabelled Western pages). Undecodable bytes become
/// U+FFFD; decoding never fails.
pub fn decode(body: &[u8], http_charset: Option<&str>, html: bool) -> String {
    if let Some((encoding, _)) = Encoding::for_bom(body) {
        return encoding.decode_with_bom_removal(body).0.into_owned();
    }
    let declared = http_charset
        .and_then(|c| Encoding::for_label(c.as_bytes()))
        .or_else(|| html.then(|| meta_charset(body)).flatten());
    let encoding = declared.unwrap_or_else(|| {
        if std::str::from_utf8(body).is_ok() {
            UTF_8
        } else {
            WINDOWS_1252
        }
    });
    encoding.decode_without_bom_handling(body).0.into_owned()
}

/// The encoding named by `<meta charset=...>` or `<meta http-equiv content="...charset=...">`
/// near the start of a page.
fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = head.find("charset=")?;
    let rest = head[at + "charset=".len()..].trim_start_matches(['"', '\'']);
    let label: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    Encoding::for_label(label.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_is_text_and_noise_is_not() {
        assert!(looks_like_text(
            "The bridge will reopen next month, officials said."
        ));
        assert!(!looks_like_text(
            "\u{fffd}\u{fffd}ab\u{fffd} 12 34 %% \u{fffd}"
        ));
        assert!(!looks_like_text("0101 2020 3434 [] {} 99"));
        assert!(!looks_like_text(""));
    }

    #[test]
    fn charsets_are_honoured() {
        // "café" in windows-1252.
        let latin = b"caf\xe9";
        assert_eq!(decode(latin, Some("iso-8859-1"), false), "café");
        assert_eq!(decode(latin, None, false), "café");
        assert_eq!(decode("café".as_bytes(), None, false), "café");
        let html = b"<html><head><meta charset=\"windows-1252\"></head><body>caf\xe9</body>";
        assert!(decode(html, None, true).contains("café"));
        let bom = b"\xef\xbb\xbfcaf\xc3\xa9";
        assert_eq!(decode(bom, Some("windows-1252"), false), "café");
        // An unknown label falls back to sniffing rather than failing.
        assert_eq!(decode("café".as_bytes(), Some("x-klingon"), false), "café");
    }
}
