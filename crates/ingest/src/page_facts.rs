//! What an HTML page says about itself that Readability does not report, or misses: the
//! canonical URL, a publication date from wherever the page put it, and its headlines.
//!
//! Everything here is read from the page as parsed, before `Readability::parse` rewrites the
//! document. dom_query is not a direct dependency, so its node type is never named: nodes are
//! only handled inside these functions, and the decisions about them are pure functions of
//! their names and attributes.

use dom_smoothie::Readability;
use serde_json::Value;

use crate::dates::{date_in_text, normalize_date};
use crate::html::collapse_whitespace;

/// What the page declares besides its main text.
pub(crate) struct PageFacts {
    /// A `<link rel=canonical>` that is an absolute http(s) URL.
    pub canonical: Option<String>,
    /// The publication date from structured data, `<time>` elements or a visible byline, for
    /// when Readability's metadata has none.
    pub published: Option<String>,
    /// The text of each `<h1>`, whitespace collapsed, in document order.
    pub headlines: Vec<String>,
}

/// `<meta>` keys (`name`, `property` or `itemprop`, lowercased) that hold a publication date,
/// most specific first. Readability reads `property="article:published_time"` only; many sites
/// put it in `name`, and scholarly pages carry the Highwire `citation_*` tags that indexers
/// such as Google Scholar read.
const PUBLISHED_META: &[&str] = &[
    "article:published_time",
    "datepublished",
    "citation_publication_date",
    "citation_date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "pubdate",
    "publish-date",
    "date",
];

/// Elements whose contents are never the article's byline: site chrome and non-text.
const NOT_BYLINE: &[&str] = &[
    "nav", "footer", "aside", "script", "style", "noscript", "template",
];

/// Longest text (in bytes, whitespace collapsed) read as a byline or dateline. Longer text is
/// prose, where a date ("the report, published March 3, ...") is about something else.
const MAX_DATELINE_LEN: usize = 100;

pub(crate) fn page_facts(readability: &Readability) -> PageFacts {
    let doc = &readability.doc;
    let canonical = doc
        .select(r#"link[rel~="canonical"][href]"#)
        .attr("href")
        .map(|href| href.trim().to_string())
        .filter(|href| is_absolute_http_url(href));
    let headlines = doc
        .select("body h1")
        .nodes()
        .iter()
        .map(|h1| collapse_whitespace(&h1.text()))
        .filter(|h1| !h1.is_empty())
        .collect();
    PageFacts {
        canonical,
        published: json_ld_published(readability)
            .or_else(|| meta_published(readability))
            .or_else(|| dated_element(readability)),
        headlines,
    }
}

/// `datePublished` of any top-level JSON-LD item. Readability reads JSON-LD only for article
/// types and not inside an `@graph` (the shape WordPress SEO plugins emit), but a fact check
/// (`ClaimReview`) or a `WebPage` dates itself the same way. Nested items are skipped: a
/// ClaimReview's `itemReviewed` carries the date of the claim, not of the page.
fn json_ld_published(readability: &Readability) -> Option<String> {
    readability
        .doc
        .select(r#"script[type="application/ld+json"]"#)
        .nodes()
        .iter()
        .find_map(|script| {
            let value: Value = serde_json::from_str(&script.text()).ok()?;
            json_ld_items(&value)
                .into_iter()
                .find_map(|item| item.get("datePublished")?.as_str().and_then(normalize_date))
        })
}

/// The top-level items of a JSON-LD block: the object itself, the members of an array, and
/// the members of an `@graph`.
fn json_ld_items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().flat_map(json_ld_items).collect(),
        Value::Object(object) => {
            let mut items = vec![value];
            if let Some(graph) = object.get("@graph") {
                items.extend(json_ld_items(graph));
            }
            items
        }
        _ => Vec::new(),
    }
}

fn meta_published(readability: &Readability) -> Option<String> {
    let metas: Vec<(String, String)> = readability
        .doc
        .select("meta[content]")
        .nodes()
        .iter()
        .filter_map(|meta| {
            let key = meta
                .attr("name")
                .or_else(|| meta.attr("property"))
                .or_else(|| meta.attr("itemprop"))?;
            Some((
                key.trim().to_ascii_lowercase(),
                meta.attr("content")?.to_string(),
            ))
        })
        .collect();
    PUBLISHED_META.iter().find_map(|wanted| {
        metas
            .iter()
            .filter(|(key, _)| key == wanted)
            .find_map(|(_, content)| normalize_date(content))
    })
}

/// The date of the `<time datetime>` element nearest the headline, else of the visible
/// dateline nearest it ("Published March 3, 2024", a bare "February 12, 2024").
///
/// Nearness is counted in elements, in document order, from the first `<h1>`: a byline sits
/// just below the headline or just above it, while a site header's "today's date" and the
/// dates of other stories in a sidebar are further away. Navigation, footers, asides, a
/// `<header>` that does not hold the headline, and hidden elements are skipped. Without an
/// `<h1>` the first date on the page is taken.
fn dated_element(readability: &Readability) -> Option<String> {
    let elements = readability.doc.select("body *");
    let elements = elements.nodes();
    let headline = elements
        .iter()
        .position(|node| node.node_name().as_deref() == Some("h1"))
        .unwrap_or(0);
    let mut times = Nearest::new(headline);
    let mut datelines = Nearest::new(headline);
    for (position, node) in elements.iter().enumerate() {
        let name = node.node_name().unwrap_or_default();
        let time = (&*name == "time")
            .then(|| node.attr("datetime").and_then(|raw| normalize_date(&raw)))
            .flatten();
        let (found, date) = if let Some(date) = time {
            (&mut times, date)
        } else if node.immediate_text().trim().is_empty() {
            continue;
        } else {
            let text = collapse_whitespace(&node.text());
            if text.len() > MAX_DATELINE_LEN {
                continue;
            }
            let Some(date) = date_in_text(&text) else {
                continue;
            };
            (&mut datelines, date)
        };
        let skipped = std::iter::once(*node)
            .chain(node.ancestors_it(None))
            .any(|n| {
                let name = n.node_name().unwrap_or_default();
                NOT_BYLINE.contains(&&*name)
                    || (&*name == "header"
                        && !n
                            .descendants_it()
                            .any(|d| d.node_name().as_deref() == Some("h1")))
                    || hidden_by_attributes(
                        n.has_attr("hidden"),
                        n.attr("aria-hidden").as_deref(),
                        n.attr("style").as_deref(),
                    )
            });
        if !skipped {
            found.offer(date, position);
        }
    }
    times.pick().or_else(|| datelines.pick())
}

/// The candidate nearest the headline's position; at equal distance the one after it, since
/// bylines more often follow the headline than precede it.
struct Nearest {
    headline: usize,
    /// (distance, is before the headline, value)
    best: Option<(usize, bool, String)>,
}

impl Nearest {
    fn new(headline: usize) -> Self {
        Nearest {
            headline,
            best: None,
        }
    }

    fn offer(&mut self, value: String, position: usize) {
        let key = (position.abs_diff(self.headline), position < self.headline);
        if self
            .best
            .as_ref()
            .is_none_or(|(distance, before, _)| key < (*distance, *before))
        {
            self.best = Some((key.0, key.1, value));
        }
    }

    fn pick(self) -> Option<String> {
        self.best.map(|(_, _, value)| value)
    }
}

/// Whether an element's own attributes hide it from readers: `hidden`, `aria-hidden="true"`,
/// or an inline `display: none` / `visibility: hidden`. Hidden text is where injected
/// instructions and keyword stuffing live; it is not what the page shows.
pub(crate) fn hidden_by_attributes(
    hidden: bool,
    aria_hidden: Option<&str>,
    style: Option<&str>,
) -> bool {
    hidden
        || aria_hidden.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        || style.is_some_and(|style| {
            style.split(';').any(|declaration| {
                let Some((property, value)) = declaration.split_once(':') else {
                    return false;
                };
                let value = value.trim().to_ascii_lowercase();
                match property.trim().to_ascii_lowercase().as_str() {
                    "display" => value.starts_with("none"),
                    "visibility" => value.starts_with("hidden"),
                    _ => false,
                }
            })
        })
}

/// Characters that join a headline to a site or section name in a page title.
const TITLE_SEPARATORS: &[char] = &['|', '-', '–', '—', ':', '»', '·', '/'];

/// The page's own headline when `title` is that headline plus a site or section name
/// ("Varnholm Lake - Wikipedia", "Press Release: State Awards ..."), else `title`.
///
/// A headline qualifies when it appears in the title set off by separators and the words
/// left over are fewer than its own: that keeps a full title whose `<h1>` is only the site's
/// logo ("Flood barrier approved - The Harbor Ledger") or a kicker ("Fact check").
pub(crate) fn headline_title(title: &str, headlines: &[String]) -> String {
    let words = |s: &str| {
        s.split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count()
    };
    headlines
        .iter()
        .find(|headline| {
            let Some(at) = title.find(headline.as_str()) else {
                return false;
            };
            let prefix = title[..at].trim_end();
            let suffix = title[at + headline.len()..].trim_start();
            let set_off = (prefix.is_empty() || prefix.ends_with(TITLE_SEPARATORS))
                && (suffix.is_empty() || suffix.starts_with(TITLE_SEPARATORS));
            set_off
                && !(prefix.is_empty() && suffix.is_empty())
                && words(prefix) + words(suffix) < words(headline)
        })
        .cloned()
        .unwrap_or_else(|| title.to_string())
}

fn is_absolute_http_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && !s.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_attributes() {
        assert!(hidden_by_attributes(true, None, None));
        assert!(hidden_by_attributes(false, Some(" TRUE "), None));
        assert!(!hidden_by_attributes(false, Some("false"), None));
        for style in [
            "display:none",
            "color: red; DISPLAY: none !important",
            "visibility: hidden",
        ] {
            assert!(hidden_by_attributes(false, None, Some(style)), "{style}");
        }
        for style in ["display: block", "display", ":", "font-family: 'none'"] {
            assert!(!hidden_by_attributes(false, None, Some(style)), "{style}");
        }
    }

    #[test]
    fn nearest_to_the_headline() {
        let pick = |headline: usize, offers: &[(&str, usize)]| {
            let mut nearest = Nearest::new(headline);
            for (value, position) in offers {
                nearest.offer(value.to_string(), *position);
            }
            nearest.pick()
        };
        assert_eq!(pick(10, &[]), None);
        // The kicker just above beats the sidebar further below.
        assert_eq!(
            pick(10, &[("ticker", 2), ("kicker", 9), ("sidebar", 30)]),
            Some("kicker".into())
        );
        // At equal distance the byline below wins; ties below go to the first.
        assert_eq!(
            pick(10, &[("above", 8), ("below", 12), ("later", 12)]),
            Some("below".into())
        );
        // Without a headline (position 0) the first date on the page.
        assert_eq!(
            pick(0, &[("first", 3), ("second", 5)]),
            Some("first".into())
        );
    }

    #[test]
    fn headline_titles() {
        let h = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases = [
            (
                "Varnholm Lake - Wikipedia",
                h(&["Varnholm Lake"]),
                "Varnholm Lake",
            ),
            (
                "Press Release: State Awards $42 Million",
                h(&["State Awards $42 Million"]),
                "State Awards $42 Million",
            ),
            // The logo is the only h1: as many words left over as it has.
            (
                "Barrier approved today - The Harbor Ledger",
                h(&["The Harbor Ledger"]),
                "Barrier approved today - The Harbor Ledger",
            ),
            // A kicker is not the headline.
            (
                "Fact check: Photo is from 2017",
                h(&["Fact check"]),
                "Fact check: Photo is from 2017",
            ),
            // Not set off by a separator.
            (
                "Varnholm Lakeside - Wikipedia",
                h(&["Varnholm Lake"]),
                "Varnholm Lakeside - Wikipedia",
            ),
            ("Same title", h(&["Same title"]), "Same title"),
            ("Title", h(&[]), "Title"),
        ];
        for (title, headlines, want) in cases {
            assert_eq!(headline_title(title, &headlines), want, "{title}");
        }
    }
}
