//! HTML pages: main-content extraction with a Readability port, plus page metadata.

use std::path::PathBuf;

use dom_smoothie::{Readability, TextMode};
use factually_core::NewDocument;

use crate::dates::normalize_date;
use crate::isolate::{run_isolated, Isolation};
use crate::page_facts::{headline_title, hidden_by_attributes, page_facts};
use crate::text::short_first_line;
use crate::IngestError;

/// Longest time one page may take to extract.
pub const HTML_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What a page yielded before it becomes a document.
struct Page {
    title: String,
    text: String,
    site_name: Option<String>,
    byline: Option<String>,
    published: Option<String>,
    canonical: Option<String>,
    lang: Option<String>,
    /// The page's own summary (meta description / og:description, via Readability's excerpt).
    description: Option<String>,
}

/// Extracts the readable text and metadata of an HTML page.
///
/// The main content comes from a Readability port, so menus, footers and related-article
/// lists are not stored (and so can never be cited). When it finds no content, the visible
/// body text is used instead. `origin` names the page in errors and in the document; `url`
/// is used unless the page declares a canonical absolute URL.
///
/// The text is plain: one paragraph per block element, paragraphs separated by a blank
/// line, whitespace inside a paragraph collapsed to single spaces.
pub fn parse_html(html: &str, origin: &str, url: Option<&str>) -> Result<NewDocument, IngestError> {
    let path = PathBuf::from(origin);
    // The parser stack is third-party code fed with arbitrary pages: contain panics, and give
    // up on pages that take too long (deeply nested markup is quadratic in Readability).
    let owned = html.to_string();
    let page =
        run_isolated("html-extract", HTML_TIMEOUT, move || extract(&owned)).map_err(|e| {
            let message = match e {
                Isolation::Panicked => "the HTML parser failed on this page".to_string(),
                Isolation::TimedOut => format!(
                    "extraction took longer than {} s; page skipped",
                    HTML_TIMEOUT.as_secs()
                ),
                Isolation::Failed(e) => e.to_string(),
            };
            IngestError::Html {
                path: path.clone(),
                message,
            }
        })?;
    if page.text.is_empty() {
        return Err(IngestError::Empty { path });
    }
    let title = Some(page.title)
        .filter(|t| !t.is_empty())
        .or_else(|| short_first_line(&page.text))
        .unwrap_or_else(|| origin.to_string());
    Ok(NewDocument {
        title,
        text: page.text,
        url: page.canonical.or_else(|| url.map(str::to_string)),
        origin: origin.to_string(),
        publisher: page.site_name.or(page.byline),
        published: page.published,
        language: page.lang,
        external_id: None,
        description: page.description,
    })
}

fn extract(html: &str) -> Page {
    let mut readability = Readability::from(html);
    readability.config.text_mode = TextMode::Formatted;

    // Facts Readability does not report; read them before `parse` rewrites the document.
    let facts = page_facts(&readability);

    let (meta_title, site_name, byline, meta_published, lang, excerpt, content) =
        match readability.parse() {
            Ok(article) => (
                article.title,
                article.site_name,
                article.byline,
                article.published_time,
                article.lang,
                article.excerpt,
                paragraphs(&article.text_content),
            ),
            Err(_) => {
                let meta = readability.get_article_metadata(readability.parse_json_ld());
                (
                    meta.title,
                    meta.site_name,
                    meta.byline,
                    meta.published_time,
                    meta.lang,
                    meta.excerpt,
                    String::new(),
                )
            }
        };
    let text = if content.is_empty() {
        body_text(html)
    } else {
        content
    };

    Page {
        title: headline_title(&collapse_whitespace(&meta_title), &facts.headlines),
        text,
        site_name: non_empty(site_name),
        byline: non_empty(byline),
        published: meta_published
            .and_then(|raw| normalize_date(&raw))
            .or(facts.published),
        canonical: facts.canonical,
        lang: lang
            .map(|l| l.trim().to_string())
            .filter(|l| is_language_tag(l)),
        description: excerpt
            .map(|e| collapse_whitespace(&e))
            .filter(|e| !e.is_empty()),
    }
}

/// The visible text of `<body>`, for pages where Readability finds no article. Hidden
/// elements are dropped as Readability drops them, so text a reader never sees (such as
/// injected instructions in a `display: none` block) is not stored on this path either.
fn body_text(html: &str) -> String {
    let page = Readability::from(html);
    page.doc
        .select("script, style, noscript, template")
        .remove();
    for node in page.doc.select("[hidden], [aria-hidden], [style]").nodes() {
        if hidden_by_attributes(
            node.has_attr("hidden"),
            node.attr("aria-hidden").as_deref(),
            node.attr("style").as_deref(),
        ) {
            node.remove_from_parent();
        }
    }
    page.doc
        .body()
        .map(|body| paragraphs(&body.formatted_text()))
        .unwrap_or_default()
}

/// One paragraph per non-blank line, whitespace collapsed, separated by blank lines.
fn paragraphs(formatted: &str) -> String {
    formatted
        .lines()
        .map(collapse_whitespace)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

pub(crate) fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| collapse_whitespace(&v))
        .filter(|v| !v.is_empty())
}

/// Loose BCP 47 shape check (`en`, `en-GB`, `zh-Hant-TW`), enough to reject junk attributes.
fn is_language_tag(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 35
        && s.split('-').all(|part| {
            (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_blank_line_separated_and_collapsed() {
        assert_eq!(
            paragraphs("  One \t two\n\n\n three\u{a0} four \nfive\n"),
            "One two\n\nthree four\n\nfive"
        );
        assert_eq!(paragraphs(" \n\t\n"), "");
    }

    #[test]
    fn language_tags() {
        for ok in ["en", "en-GB", "zh-Hant-TW"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "en_GB", "english language", "-en", "x-verylongsubtag"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }
}
