//! Readers for the benchmark files in `../shared/data`, with errors that name the line.
//!
//! Each reader returns the items it could read plus, with `skip_bad`, a list of what it
//! skipped; without `skip_bad` the first bad line is an error, so a malformed file is never
//! silently scored on a subset.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Bad {
        path: String,
        line: usize,
        message: String,
    },
}

/// Items read from a file, and the lines skipped with `skip_bad`.
#[derive(Debug)]
pub struct Loaded<T> {
    pub items: Vec<T>,
    pub skipped: Vec<String>,
}

fn read(path: &Path) -> Result<String, DatasetError> {
    let bytes = std::fs::read(path).map_err(|e| DatasetError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    String::from_utf8(bytes).map_err(|e| DatasetError::Bad {
        path: path.display().to_string(),
        line: 0,
        message: format!("not UTF-8 ({e})"),
    })
}

/// Parses one JSON value per non-empty line with `parse`, collecting or failing on errors.
fn jsonl<T>(
    path: &Path,
    skip_bad: bool,
    parse: impl Fn(Value) -> Result<T, String>,
) -> Result<Loaded<T>, DatasetError> {
    jsonl_text(path, &read(path)?, skip_bad, parse)
}

/// [`jsonl`] over text already read; `path` names it in errors.
fn jsonl_text<T>(
    path: &Path,
    text: &str,
    skip_bad: bool,
    parse: impl Fn(Value) -> Result<T, String>,
) -> Result<Loaded<T>, DatasetError> {
    let mut loaded = Loaded {
        items: Vec::new(),
        skipped: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let result = serde_json::from_str::<Value>(line)
            .map_err(|e| format!("invalid JSON: {e}"))
            .and_then(&parse);
        match result {
            Ok(item) => loaded.items.push(item),
            Err(message) if skip_bad => {
                loaded
                    .skipped
                    .push(format!("{}:{}: {message}", path.display(), i + 1))
            }
            Err(message) => {
                return Err(DatasetError::Bad {
                    path: path.display().to_string(),
                    line: i + 1,
                    message,
                })
            }
        }
    }
    Ok(loaded)
}

fn field<T: for<'de> Deserialize<'de>>(v: &Value, name: &str) -> Result<T, String> {
    let f = v
        .get(name)
        .ok_or_else(|| format!("missing field `{name}`"))?;
    serde_json::from_value(f.clone()).map_err(|e| format!("field `{name}`: {e}"))
}

fn id_string(v: &Value, name: &str) -> Result<String, String> {
    match v.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(format!(
            "field `{name}` must be a string or number, not {other}"
        )),
        None => Err(format!("missing field `{name}`")),
    }
}

fn one_of(label: String, allowed: &[&str]) -> Result<String, String> {
    if allowed.contains(&label.as_str()) {
        Ok(label)
    } else {
        Err(format!(
            "unknown label {label:?} (expected one of {})",
            allowed.join(", ")
        ))
    }
}

/// A Check-COVID claim with its gold abstract and rationale sentences.
#[derive(Debug, Clone)]
pub struct CheckCovidClaim {
    pub id: String,
    pub claim: String,
    pub cord_id: String,
    /// `SUPPORT`, `REFUTE` or `NOTENOUGHINFO`.
    pub label: String,
    /// Indexes into the gold abstract's sentence list.
    pub evidence_sentences: Vec<usize>,
}

pub const CHECK_COVID_LABELS: [&str; 3] = ["SUPPORT", "REFUTE", "NOTENOUGHINFO"];

pub fn check_covid_claims(
    path: &Path,
    skip_bad: bool,
) -> Result<Loaded<CheckCovidClaim>, DatasetError> {
    jsonl(path, skip_bad, |v| {
        let evidence: Vec<Value> = field(&v, "evidence_set")?;
        let evidence_sentences = evidence
            .iter()
            .map(|e| field::<usize>(e, "sent_index"))
            .collect::<Result<_, _>>()?;
        Ok(CheckCovidClaim {
            id: id_string(&v, "id")?,
            claim: field(&v, "claim")?,
            cord_id: field(&v, "cord_id")?,
            label: one_of(field(&v, "label")?, &CHECK_COVID_LABELS)?,
            evidence_sentences,
        })
    })
}

/// A Check-COVID corpus abstract.
#[derive(Debug, Clone)]
pub struct Abstract {
    pub cord_id: String,
    pub title: String,
    pub sentences: Vec<String>,
}

pub fn check_covid_corpus(path: &Path) -> Result<HashMap<String, Abstract>, DatasetError> {
    let loaded = jsonl(path, false, |v| {
        Ok(Abstract {
            cord_id: field(&v, "cord_id")?,
            title: field(&v, "title")?,
            sentences: field(&v, "abstract")?,
        })
    })?;
    Ok(loaded
        .items
        .into_iter()
        .map(|a| (a.cord_id.clone(), a))
        .collect())
}

/// A FEVER claim whose gold pages are in the default knowledge base.
#[derive(Debug, Clone)]
pub struct FeverClaim {
    pub id: String,
    pub claim: String,
    /// `SUPPORTS`, `REFUTES` or `NOT ENOUGH INFO`.
    pub label: String,
    pub evidence_pages: Vec<String>,
}

pub const FEVER_LABELS: [&str; 3] = ["SUPPORTS", "REFUTES", "NOT ENOUGH INFO"];

pub fn fever_claims(path: &Path, skip_bad: bool) -> Result<Loaded<FeverClaim>, DatasetError> {
    jsonl(path, skip_bad, |v| {
        Ok(FeverClaim {
            id: id_string(&v, "id")?,
            claim: field(&v, "claim")?,
            label: one_of(field(&v, "label")?, &FEVER_LABELS)?,
            evidence_pages: v
                .get("evidence_pages")
                .map(|p| {
                    serde_json::from_value(p.clone())
                        .map_err(|e| format!("field `evidence_pages`: {e}"))
                })
                .transpose()?
                .unwrap_or_default(),
        })
    })
}

/// A claim of factually's own plain-claims suite (`crates/eval/data/plain-claims.jsonl`):
/// plain statements over the default knowledge base, each about one article.
#[derive(Debug, Clone)]
pub struct PlainClaim {
    pub id: String,
    pub claim: String,
    /// `supported`, `refuted` (the article settles it) or `not_covered` (it does not).
    pub expected: String,
    /// `lead` (stated by the article's lead), `swap` (one detail swapped), `detail` (a detail
    /// the encyclopedia does not give).
    pub kind: String,
    pub article: String,
}

pub const PLAIN_LABELS: [&str; 3] = ["supported", "refuted", "not_covered"];

/// The suite compiled into the binary, for `factually eval plain` without `--claims`.
pub const BUNDLED_PLAIN_CLAIMS: &str = include_str!("../data/plain-claims.jsonl");

/// Reads a plain-claims file; `None` reads the suite compiled into the binary.
pub fn plain_claims(
    path: Option<&Path>,
    skip_bad: bool,
) -> Result<Loaded<PlainClaim>, DatasetError> {
    let bundled = Path::new("crates/eval/data/plain-claims.jsonl");
    let text = match path {
        Some(p) => read(p)?,
        None => BUNDLED_PLAIN_CLAIMS.to_string(),
    };
    jsonl_text(path.unwrap_or(bundled), &text, skip_bad, |v| {
        Ok(PlainClaim {
            id: id_string(&v, "id")?,
            claim: field(&v, "claim")?,
            expected: one_of(field(&v, "expected")?, &PLAIN_LABELS)?,
            kind: field(&v, "kind")?,
            article: field(&v, "article")?,
        })
    })
}

/// An AVeriTeC claim with its gold question-answer evidence.
#[derive(Debug, Clone)]
pub struct AveritecClaim {
    /// Position in the file (the dataset has no ids).
    pub id: String,
    pub claim: String,
    pub label: String,
    /// "Question? Answer." strings, one per answer.
    pub qa: Vec<String>,
}

pub const AVERITEC_LABELS: [&str; 4] = [
    "Supported",
    "Refuted",
    "Not Enough Evidence",
    "Conflicting Evidence/Cherrypicking",
];

/// Reads the AVeriTeC JSON array. "Line" numbers in errors are 1-based claim positions.
pub fn averitec_claims(path: &Path, skip_bad: bool) -> Result<Loaded<AveritecClaim>, DatasetError> {
    let text = read(path)?;
    let bad = |line, message: String| DatasetError::Bad {
        path: path.display().to_string(),
        line,
        message,
    };
    let all: Vec<Value> =
        serde_json::from_str(&text).map_err(|e| bad(e.line(), format!("invalid JSON: {e}")))?;
    let mut loaded = Loaded {
        items: Vec::new(),
        skipped: Vec::new(),
    };
    for (i, v) in all.into_iter().enumerate() {
        let parsed = (|| {
            let questions: Vec<Value> = field(&v, "questions")?;
            let mut qa = Vec::new();
            for q in &questions {
                let question: String = field(q, "question")?;
                let answers: Vec<Value> = q
                    .get("answers")
                    .and_then(|a| serde_json::from_value(a.clone()).ok())
                    .unwrap_or_default();
                for a in answers {
                    let mut answer: String = a
                        .get("answer")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    if let Some(expl) = a.get("boolean_explanation").and_then(Value::as_str) {
                        answer = format!("{answer}. {}", expl.trim());
                    }
                    if !answer.is_empty() {
                        qa.push(format!("{} {}", question.trim(), answer));
                    }
                }
            }
            Ok::<_, String>(AveritecClaim {
                id: i.to_string(),
                claim: field(&v, "claim")?,
                label: one_of(field(&v, "label")?, &AVERITEC_LABELS)?,
                qa,
            })
        })();
        match parsed {
            Ok(c) => loaded.items.push(c),
            Err(m) if skip_bad => {
                loaded
                    .skipped
                    .push(format!("{}: claim {}: {m}", path.display(), i + 1))
            }
            Err(m) => return Err(bad(i + 1, m)),
        }
    }
    Ok(loaded)
}

/// A LIAR-PLUS claim with the justification extracted from the PolitiFact ruling.
#[derive(Debug, Clone)]
pub struct LiarClaim {
    pub id: String,
    pub claim: String,
    pub label: String,
    pub justification: String,
}

pub const LIAR_LABELS: [&str; 6] = [
    "pants-fire",
    "false",
    "barely-true",
    "half-true",
    "mostly-true",
    "true",
];

pub fn liar_claims(path: &Path, skip_bad: bool) -> Result<Loaded<LiarClaim>, DatasetError> {
    jsonl(path, skip_bad, |v| {
        Ok(LiarClaim {
            id: id_string(&v, "id")?,
            claim: field(&v, "claim")?,
            label: one_of(field(&v, "label")?, &LIAR_LABELS)?,
            justification: v
                .get("justification")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
                .to_string(),
        })
    })
}

/// One SNLI pair (Bowman et al. 2015, CC BY-SA 4.0): training material only, never evaluated.
#[derive(Debug, Clone)]
pub struct SnliPair {
    pub id: String,
    pub premise: String,
    pub hypothesis: String,
    /// `entailment`, `neutral` or `contradiction`; `None` where the annotators did not agree
    /// (gold label `-`).
    pub label: Option<String>,
}

pub const SNLI_LABELS: [&str; 3] = ["entailment", "neutral", "contradiction"];

/// Reads SNLI's jsonl release format (`pairID`, `sentence1`, `sentence2`, `gold_label`).
pub fn snli_pairs(path: &Path, skip_bad: bool) -> Result<Loaded<SnliPair>, DatasetError> {
    jsonl(path, skip_bad, |v| {
        let gold: String = field(&v, "gold_label")?;
        Ok(SnliPair {
            id: id_string(&v, "pairID")?,
            premise: field(&v, "sentence1")?,
            hypothesis: field(&v, "sentence2")?,
            label: if gold == "-" {
                None
            } else {
                Some(one_of(gold, &SNLI_LABELS)?)
            },
        })
    })
}

/// Which half of a dataset without a training split a claim falls in. Claims in half 0 may be
/// used for training; half 1 is never trained on and is what "held-out" figures are computed on.
/// Decided by a hash of dataset name and claim id, so it is stable and independent of file order.
pub fn training_half(dataset: &str, id: &str) -> u8 {
    let digest = factually_core::sha256_hex(format!("{dataset}\u{0}{id}").as_bytes());
    u8::from_str_radix(&digest[..2], 16).unwrap_or(0) % 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_bundled_plain_suite_has_a_third_of_each_kind_one_article_each() {
        let suite = plain_claims(None, false).unwrap();
        assert!(suite.skipped.is_empty());
        assert!(suite.items.len() >= 150, "{}", suite.items.len());
        for (kind, expected) in [
            ("lead", "supported"),
            ("swap", "refuted"),
            ("detail", "not_covered"),
        ] {
            let of: Vec<&PlainClaim> = suite.items.iter().filter(|c| c.kind == kind).collect();
            assert_eq!(of.len() * 3, suite.items.len(), "{kind}");
            assert!(of.iter().all(|c| c.expected == expected), "{kind}");
        }
        let mut articles: Vec<&str> = suite.items.iter().map(|c| c.article.as_str()).collect();
        articles.sort_unstable();
        articles.dedup();
        assert_eq!(articles.len(), suite.items.len(), "one article per claim");
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn check_err(text: &str, want: &str) {
        let f = file(text);
        let err = fever_claims(f.path(), false).unwrap_err().to_string();
        assert!(err.contains(want), "{err:?} should contain {want:?}");
    }

    #[test]
    fn snli_lines_parse_and_unagreed_pairs_have_no_label() {
        let f = file(concat!(
            "{\"pairID\": \"a#1e\", \"sentence1\": \"A dog runs.\", \"sentence2\": \"An animal moves.\", \"gold_label\": \"entailment\"}\n",
            "{\"pairID\": \"a#1n\", \"sentence1\": \"A dog runs.\", \"sentence2\": \"A cat.\", \"gold_label\": \"-\"}\n",
        ));
        let pairs = snli_pairs(f.path(), false).unwrap().items;
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].label.as_deref(), Some("entailment"));
        assert_eq!(pairs[0].hypothesis, "An animal moves.");
        assert_eq!(pairs[1].label, None);
        let bad = file("{\"pairID\": \"x\", \"sentence1\": \"a\", \"sentence2\": \"b\", \"gold_label\": \"yes\"}\n");
        let err = snli_pairs(bad.path(), false).unwrap_err().to_string();
        assert!(err.contains(":1: unknown label \"yes\""), "{err}");
    }

    #[test]
    fn malformed_lines_are_named() {
        check_err(
            "{\"id\": 1, \"claim\": \"x\", \"label\": \"SUPPORTS\"}\n{oops\n",
            ":2: invalid JSON",
        );
        check_err(
            "{\"id\": 1, \"claim\": \"x\", \"label\": \"MAYBE\"}\n",
            ":1: unknown label \"MAYBE\"",
        );
        check_err(
            "{\"id\": 1, \"label\": \"SUPPORTS\"}\n",
            ":1: missing field `claim`",
        );
    }

    #[test]
    fn skip_bad_counts_instead_of_failing() {
        let f = file("{\"id\": 1, \"claim\": \"x\", \"label\": \"SUPPORTS\"}\nnot json\n\n{\"id\": 2, \"claim\": \"y\", \"label\": \"REFUTES\"}\n");
        let loaded = fever_claims(f.path(), true).unwrap();
        assert_eq!(loaded.items.len(), 2);
        assert_eq!(loaded.skipped.len(), 1);
        assert!(
            loaded.skipped[0].ends_with(":2: invalid JSON: expected ident at line 1 column 2"),
            "{:?}",
            loaded.skipped
        );
    }

    #[test]
    fn the_shared_datasets_parse() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        if !data.exists() {
            return; // the benchmark data lives beside the checkout, not in it
        }
        assert_eq!(
            check_covid_claims(&data.join("check-covid/dev.jsonl"), false)
                .unwrap()
                .items
                .len(),
            207
        );
        assert_eq!(
            check_covid_corpus(&data.join("check-covid/corpus.jsonl"))
                .unwrap()
                .len(),
            795
        );
        assert_eq!(
            fever_claims(&data.join("fever-wiki/dev.jsonl"), false)
                .unwrap()
                .items
                .len(),
            330
        );
        let averitec = averitec_claims(&data.join("averitec/dev-public.json"), false).unwrap();
        assert_eq!(averitec.items.len(), 250);
        assert!(averitec.items.iter().filter(|c| !c.qa.is_empty()).count() > 240);
        assert_eq!(
            liar_claims(&data.join("liar-plus/val2.jsonl"), false)
                .unwrap()
                .items
                .len(),
            1284
        );
    }

    #[test]
    fn halves_are_stable_and_balanced() {
        assert_eq!(
            training_half("fever-wiki", "181634"),
            training_half("fever-wiki", "181634")
        );
        let ones = (0..1000)
            .filter(|i| training_half("x", &i.to_string()) == 1)
            .count();
        assert!((400..600).contains(&ones), "{ones}");
    }
}
