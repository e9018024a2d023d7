//! Published fact-checks in schema.org's ClaimReview shape: the JSON-LD that fact-checkers
//! embed in their pages, and the JSON feeds (Google's Fact Check Tools `DataFeed`, plain
//! arrays, one object per line) that collect them.
//!
//! A ClaimReview is found wherever it sits in a JSON value: at the top, in an array, in an
//! `@graph`, in a feed's `dataFeedElement[].item`. Each becomes a [`FactCheck`]; a record
//! without the claim or a rating is reported and skipped, not stored half-known.

use std::path::Path;

use factually_core::NewDocument;
use serde_json::Value;

use crate::dates::normalize_date;
use crate::error::IngestError;
use crate::MAX_FILE_BYTES;

/// One published fact-check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactCheck {
    /// The claim as the fact-checker wrote it (`claimReviewed`).
    pub claim: String,
    /// The verdict in the fact-checker's words (`reviewRating.alternateName`, else
    /// `ratingValue` of `bestRating`).
    pub rating: String,
    /// Who checked it (`author.name`, else `publisher.name`).
    pub publisher: Option<String>,
    /// The fact-check's own page.
    pub url: Option<String>,
    /// When it was published (ISO 8601 date).
    pub published: Option<String>,
    /// Who made the claim (`itemReviewed.author.name`).
    pub claimant: Option<String>,
    /// BCP 47 language tag (`inLanguage`).
    pub language: Option<String>,
}

impl FactCheck {
    /// The fact-check as a knowledge-base document: its claim is the text (what a search
    /// matches), the rating its description, the fact-checker its publisher. The id a
    /// source gives it is its URL, so importing the same page twice changes nothing.
    pub fn to_document(&self, origin: &str) -> NewDocument {
        NewDocument {
            title: self.claim.clone(),
            text: self.claim.clone(),
            url: self.url.clone(),
            origin: origin.to_string(),
            publisher: self.publisher.clone(),
            published: self.published.clone(),
            language: self.language.clone(),
            external_id: self.url.clone(),
            description: Some(match &self.claimant {
                Some(who) => format!("{} (claimed by {who})", self.rating),
                None => self.rating.clone(),
            }),
        }
    }
}

fn is_claim_review(object: &serde_json::Map<String, Value>) -> bool {
    match object.get("@type") {
        Some(Value::String(t)) => t == "ClaimReview",
        Some(Value::Array(types)) => types.iter().any(|t| t == "ClaimReview"),
        _ => false,
    }
}

/// A string, or the `name` of an object, or of the first object of an array.
fn name_of(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get("name")?.as_str()?.to_string(),
        Value::Array(items) => return items.iter().find_map(|v| name_of(Some(v))),
        _ => return None,
    };
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

fn text_of(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::String(s) => s.split_whitespace().collect::<Vec<_>>().join(" "),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn rating_of(review: &serde_json::Map<String, Value>) -> Option<String> {
    let rating = review.get("reviewRating")?;
    let rating = match rating {
        Value::Array(items) => items.first()?,
        other => other,
    };
    if let Some(name) = text_of(rating.get("alternateName")).or_else(|| text_of(rating.get("name")))
    {
        return Some(name);
    }
    let value = text_of(rating.get("ratingValue"))?;
    Some(match text_of(rating.get("bestRating")) {
        Some(best) => format!("{value} of {best}"),
        None => value,
    })
}

/// One ClaimReview object as a fact-check, or why it is not one.
fn fact_check(review: &serde_json::Map<String, Value>) -> Result<FactCheck, String> {
    let claim = text_of(review.get("claimReviewed"))
        .ok_or_else(|| "a ClaimReview without claimReviewed".to_string())?;
    let rating =
        rating_of(review).ok_or_else(|| format!("the ClaimReview of {claim:?} has no rating"))?;
    let url = text_of(review.get("url"))
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    Ok(FactCheck {
        rating,
        publisher: name_of(review.get("author")).or_else(|| name_of(review.get("publisher"))),
        url,
        published: text_of(review.get("datePublished")).and_then(|d| normalize_date(&d)),
        claimant: review
            .get("itemReviewed")
            .and_then(|item| name_of(item.get("author"))),
        language: text_of(review.get("inLanguage")),
        claim,
    })
}

/// Every ClaimReview anywhere in `value`, and a line for each one that could not be used.
pub fn claim_reviews(value: &Value) -> (Vec<FactCheck>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Object(object) if is_claim_review(object) => match fact_check(object) {
                Ok(check) => found.push(check),
                Err(problem) => problems.push(problem),
            },
            Value::Object(object) => {
                let mut values: Vec<&Value> = object.values().collect();
                values.reverse();
                stack.extend(values);
            }
            _ => {}
        }
    }
    (found, problems)
}

/// The ClaimReviews of an HTML page's JSON-LD blocks. A block that is not JSON is a problem
/// of its own; the page's other blocks still count.
pub fn claim_reviews_in_html(html: &str) -> (Vec<FactCheck>, Vec<String>) {
    let readability = match dom_smoothie::Readability::new(html, None, None) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), vec![format!("not a readable HTML page: {e}")]),
    };
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (i, script) in readability
        .doc
        .select(r#"script[type="application/ld+json"]"#)
        .nodes()
        .iter()
        .enumerate()
    {
        match serde_json::from_str::<Value>(&script.text()) {
            Ok(value) => {
                let (checks, more) = claim_reviews(&value);
                found.extend(checks);
                problems.extend(more);
            }
            Err(e) => problems.push(format!("JSON-LD block {} is not JSON: {e}", i + 1)),
        }
    }
    (found, problems)
}

/// The lower-case extension of a fact-check file, or [`IngestError::NotFactChecks`].
fn feed_format(path: &Path) -> Result<String, IngestError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !matches!(ext.as_str(), "json" | "jsonl" | "ndjson" | "html" | "htm") {
        return Err(IngestError::NotFactChecks {
            path: path.to_path_buf(),
            ext,
        });
    }
    Ok(ext)
}

/// The fact-checks of a file: `.json` (a ClaimReview, an array, a feed), `.jsonl` (one JSON
/// value per line; a bad line is a problem naming it) or `.html`/`.htm` (the page's JSON-LD).
/// Problems name the file.
pub fn read_claim_reviews(path: &Path) -> Result<(Vec<FactCheck>, Vec<String>), IngestError> {
    feed_format(path)?;
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::metadata(path).map_err(io)?.len();
    if bytes > MAX_FILE_BYTES {
        return Err(IngestError::TooLarge {
            path: path.to_path_buf(),
            bytes,
        });
    }
    claim_reviews_in_bytes(path, std::fs::read(path).map_err(io)?)
}

/// The fact-checks in `bytes`, read as [`read_claim_reviews`] reads the file at `path` (its
/// extension gives the format).
pub fn claim_reviews_in_bytes(
    path: &Path,
    bytes: Vec<u8>,
) -> Result<(Vec<FactCheck>, Vec<String>), IngestError> {
    let ext = feed_format(path)?;
    let name = path.display().to_string();
    let text = String::from_utf8(bytes).map_err(|_| IngestError::Binary {
        path: path.to_path_buf(),
    })?;
    let (found, problems) = match ext.as_str() {
        "json" => match serde_json::from_str::<Value>(&text) {
            Ok(value) => claim_reviews(&value),
            Err(e) => {
                return Err(IngestError::Json {
                    path: path.to_path_buf(),
                    line: e.line(),
                    message: e.to_string(),
                })
            }
        },
        "jsonl" | "ndjson" => {
            let mut found = Vec::new();
            let mut problems = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(value) => {
                        let (checks, more) = claim_reviews(&value);
                        found.extend(checks);
                        problems.extend(more.into_iter().map(|p| format!("line {}: {p}", i + 1)));
                    }
                    Err(e) => problems.push(format!("line {}: not JSON: {e}", i + 1)),
                }
            }
            (found, problems)
        }
        _ => claim_reviews_in_html(&text),
    };
    Ok((
        found,
        problems
            .into_iter()
            .map(|p| format!("{name}: {p}"))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn review(claim: &str, rating: Value) -> Value {
        json!({
            "@context": "https://schema.org",
            "@type": "ClaimReview",
            "url": "https://checker.example/5g",
            "claimReviewed": claim,
            "author": {"@type": "Organization", "name": "Checker"},
            "datePublished": "2020-04-10T09:00:00Z",
            "reviewRating": rating,
            "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A. Poster"}},
            "inLanguage": "en"
        })
    }

    #[test]
    fn a_claim_review_is_read_with_every_field() {
        let (found, problems) = claim_reviews(&review(
            "5G towers spread the  coronavirus",
            json!({"alternateName": "False"}),
        ));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            found,
            vec![FactCheck {
                claim: "5G towers spread the coronavirus".into(),
                rating: "False".into(),
                publisher: Some("Checker".into()),
                url: Some("https://checker.example/5g".into()),
                published: Some("2020-04-10".into()),
                claimant: Some("A. Poster".into()),
                language: Some("en".into()),
            }]
        );
        let doc = found[0].to_document("feed.json");
        assert_eq!(doc.text, "5G towers spread the coronavirus");
        assert_eq!(
            doc.description.as_deref(),
            Some("False (claimed by A. Poster)")
        );
        assert_eq!(
            doc.external_id.as_deref(),
            Some("https://checker.example/5g")
        );
    }

    #[test]
    fn claim_reviews_are_found_in_every_shape_and_bad_ones_named() {
        let numeric = review("Claim two", json!({"ratingValue": 1, "bestRating": 5}));
        let unrated = review("Claim three", json!({}));
        let unclaimed =
            json!({"@type": ["ClaimReview"], "reviewRating": {"alternateName": "True"}});
        let feed = json!({
            "@type": "DataFeed",
            "dataFeedElement": [
                {"@type": "DataFeedItem", "item": [review("Claim one", json!({"alternateName": "Mostly false"}))]},
                {"@type": "DataFeedItem", "item": numeric},
            ]
        });
        let graph = json!({"@graph": [{"@type": "WebPage"}, unrated, unclaimed]});
        let (found, problems) = claim_reviews(&json!([feed, graph, 42, "text"]));
        let got: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.claim.as_str(), f.rating.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![("Claim one", "Mostly false"), ("Claim two", "1 of 5")]
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("\"Claim three\" has no rating"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("without claimReviewed"),
            "{problems:?}"
        );
        // Not a web address: no URL rather than a wrong one.
        let mut odd = review("Claim four", json!({"alternateName": "False"}));
        odd["url"] = json!("javascript:alert(1)");
        assert_eq!(claim_reviews(&odd).0[0].url, None);
    }

    #[test]
    fn pages_and_files_are_read_with_their_problems_listed() {
        let html = format!(
            "<html><head><script type=\"application/ld+json\">{}</script>\
             <script type=\"application/ld+json\">{{not json</script></head>\
             <body><p>A fact-check.</p></body></html>",
            review(
                "Claim from a page",
                json!({"alternateName": "Pants on Fire"})
            )
        );
        let (found, problems) = claim_reviews_in_html(&html);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rating, "Pants on Fire");
        assert!(problems[0].contains("block 2 is not JSON"), "{problems:?}");

        let dir = tempfile::tempdir().unwrap();
        let lines = format!(
            "{}\n\n{{broken\n{}\n",
            review("Line one", json!({"alternateName": "True"})),
            review("Line four", json!({"alternateName": "False"}))
        );
        let path = dir.path().join("feed.jsonl");
        std::fs::write(&path, lines).unwrap();
        let (found, problems) = read_claim_reviews(&path).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("feed.jsonl: line 3: not JSON"),
            "{problems:?}"
        );

        for (name, bytes, want) in [
            ("a.json", &b"{oops"[..], "invalid JSON"),
            ("b.json", &b"\xff\xfe\x00\x01"[..], "binary"),
            ("c.txt", &b"5G is fine"[..], ".html or .htm files, not .txt"),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let err = read_claim_reviews(&path).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains(name), "{err}");
        }
    }
}
