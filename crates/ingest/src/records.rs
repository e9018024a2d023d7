//! Record files: JSON Lines (one object per line) and JSON arrays of the same objects.
//!
//! A record is `{title, text | abstract, url?, date? | published?, id? | cord_id? | doc_id?,
//! publisher?}` where `text` and `abstract` are a string or a list of sentences. A bad
//! record is skipped with a warning naming its line; the file fails only when no record
//! is usable.

use std::fmt;
use std::path::Path;

use factually_core::NewDocument;
use serde_json::{Map, Value};

use crate::dates::normalize_date;
use crate::text::normalize_newlines;
use crate::IngestError;

/// Where a record sits in its file.
#[derive(Clone, Copy)]
enum Place {
    /// 1-based line of a JSON Lines file.
    Line(usize),
    /// 0-based index in a JSON array (a JSON Pointer, as in `file.json#/3`).
    Index(usize),
}

impl Place {
    fn origin(self, path: &Path) -> String {
        match self {
            Self::Line(n) => format!("{}#L{n}", path.display()),
            Self::Index(i) => format!("{}#/{i}", path.display()),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Index(i) => write!(f, "record #/{i}"),
        }
    }
}

/// Accumulates the records of one file, turning per-record problems into warnings.
struct Batch<'a> {
    path: &'a Path,
    documents: Vec<NewDocument>,
    skipped: usize,
    first_problem: Option<String>,
    warnings: &'a mut Vec<String>,
}

impl<'a> Batch<'a> {
    fn new(path: &'a Path, warnings: &'a mut Vec<String>) -> Self {
        Self {
            path,
            documents: Vec::new(),
            skipped: 0,
            first_problem: None,
            warnings,
        }
    }

    fn add(&mut self, place: Place, value: Result<Value, String>) {
        let result = value.and_then(|value| record(self.path, place, &value, self.warnings));
        match result {
            Ok(document) => self.documents.push(document),
            Err(problem) => {
                let problem = format!("{place}: {problem}");
                self.warnings
                    .push(format!("{} {problem}; record skipped", self.path.display()));
                self.skipped += 1;
                self.first_problem.get_or_insert(problem);
            }
        }
    }

    fn finish(self) -> Result<Vec<NewDocument>, IngestError> {
        match self.first_problem {
            Some(first_problem) if self.documents.is_empty() => Err(IngestError::NoRecords {
                path: self.path.to_path_buf(),
                skipped: self.skipped,
                first_problem,
            }),
            None if self.documents.is_empty() => Err(IngestError::Empty {
                path: self.path.to_path_buf(),
            }),
            _ => Ok(self.documents),
        }
    }
}

/// A JSON Lines file. Blank lines are ignored; a UTF-8 byte-order mark and CRLF line ends
/// are accepted.
pub(crate) fn json_lines(
    path: &Path,
    bytes: &[u8],
    warnings: &mut Vec<String>,
) -> Result<Vec<NewDocument>, IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut batch = Batch::new(path, warnings);
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value = std::str::from_utf8(line)
            .map_err(|_| "not valid UTF-8".to_string())
            .and_then(|line| serde_json::from_str(line).map_err(|e| json_problem(&e)));
        batch.add(Place::Line(index + 1), value);
    }
    batch.finish()
}

/// A `.json` file: an array of records (a single record object is accepted too).
pub(crate) fn json_array(
    path: &Path,
    bytes: &[u8],
    warnings: &mut Vec<String>,
) -> Result<Vec<NewDocument>, IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: Value = serde_json::from_slice(bytes).map_err(|e| IngestError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        message: json_problem(&e),
    })?;
    let items = match value {
        Value::Array(items) => items,
        object @ Value::Object(_) => vec![object],
        _ => {
            return Err(IngestError::Json {
                path: path.to_path_buf(),
                line: 1,
                message: "expected an array of records".to_string(),
            })
        }
    };
    let mut batch = Batch::new(path, warnings);
    for (index, item) in items.into_iter().enumerate() {
        batch.add(Place::Index(index), Ok(item));
    }
    batch.finish()
}

/// serde_json's message without its "at line L column C" suffix (the caller names the
/// line), keeping the column.
fn json_problem(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let message = message.split(" at line ").next().unwrap_or_default();
    format!("invalid JSON at column {}: {message}", e.column())
}

/// One record as a document; `Err` says why it cannot be used.
fn record(
    path: &Path,
    place: Place,
    value: &Value,
    warnings: &mut Vec<String>,
) -> Result<NewDocument, String> {
    let fields = value.as_object().ok_or("not a JSON object")?;
    let text = match (fields.get("text"), fields.get("abstract")) {
        (Some(text), _) => text_value(text, "text")?,
        (None, Some(text)) => text_value(text, "abstract")?,
        (None, None) => String::new(),
    };
    if text.is_empty() {
        return Err("missing text".to_string());
    }
    let external_id = ["id", "cord_id", "doc_id"]
        .iter()
        .find_map(|key| id_value(fields.get(*key)?));
    let origin = place.origin(path);
    let published = match string_field(fields, "date").or_else(|| string_field(fields, "published"))
    {
        Some(raw) => {
            let date = normalize_date(&raw);
            if date.is_none() {
                warnings.push(format!(
                    "{} {place}: unrecognised date {raw:?} ignored",
                    path.display()
                ));
            }
            date
        }
        None => None,
    };
    Ok(NewDocument {
        title: string_field(fields, "title")
            .or_else(|| external_id.clone())
            .unwrap_or_else(|| origin.clone()),
        text,
        url: string_field(fields, "url"),
        origin,
        publisher: string_field(fields, "publisher"),
        published,
        language: None,
        external_id,
        description: string_field(fields, "description"),
    })
}

/// A text field: a string, or a list of sentences joined with single spaces so that each
/// sentence of the source stays findable verbatim in the stored text.
fn text_value(value: &Value, key: &str) -> Result<String, String> {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Array(items) => {
            let mut sentences = Vec::with_capacity(items.len());
            for item in items {
                let sentence = item
                    .as_str()
                    .ok_or(format!("{key:?} must hold only strings"))?
                    .trim();
                if !sentence.is_empty() {
                    sentences.push(sentence);
                }
            }
            sentences.join(" ")
        }
        Value::Null => String::new(),
        _ => return Err(format!("{key:?} must be a string or a list of strings")),
    };
    Ok(normalize_newlines(&text))
}

/// A non-empty string field, trimmed. Numbers are accepted (a year given as `2020`).
fn string_field(fields: &Map<String, Value>, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn id_value(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &str) -> (Result<Vec<NewDocument>, IngestError>, Vec<String>) {
        let mut warnings = Vec::new();
        let result = json_lines(Path::new("c.jsonl"), input.as_bytes(), &mut warnings);
        (result, warnings)
    }

    #[test]
    fn record_fields() {
        let input = concat!(
            r#"{"title": "T", "abstract": [" First one. ", "", "Second one."], "cord_id": "ab12", "date": "2020-05-01T00:00:00Z"}"#,
            "\n\n",
            r#"{"text": "Body.\r\nMore.", "id": 42, "url": "https://e.org/x", "publisher": "Pub", "published": "May 2, 2021"}"#,
            "\n",
        );
        let (result, warnings) = lines(input);
        let docs = result.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].text, "First one. Second one.");
        assert_eq!(docs[0].external_id.as_deref(), Some("ab12"));
        assert_eq!(docs[0].published.as_deref(), Some("2020-05-01"));
        assert_eq!(docs[0].origin, "c.jsonl#L1");
        assert_eq!(docs[1].title, "42");
        assert_eq!(docs[1].text, "Body.\nMore.");
        assert_eq!(docs[1].origin, "c.jsonl#L3");
        assert_eq!(docs[1].url.as_deref(), Some("https://e.org/x"));
        assert_eq!(docs[1].publisher.as_deref(), Some("Pub"));
        assert_eq!(docs[1].published.as_deref(), Some("2021-05-02"));
    }

    #[test]
    fn bad_records_are_skipped_with_their_line() {
        let input = "{\"text\": \"ok\"}\n[1]\n{\"text\": 5}\n{\"title\": \"t\"}\n{\"text\": [\"a\", 1]}\n{broken\n\u{0}\n{\"text\": \"x\", \"date\": \"soon\"}";
        let (result, warnings) = lines(input);
        assert_eq!(result.unwrap().len(), 2);
        let expected = [
            "c.jsonl line 2: not a JSON object; record skipped",
            "c.jsonl line 3: \"text\" must be a string or a list of strings; record skipped",
            "c.jsonl line 4: missing text; record skipped",
            "c.jsonl line 5: \"text\" must hold only strings; record skipped",
            "c.jsonl line 6: invalid JSON at column 2: key must be a string; record skipped",
            "c.jsonl line 7: invalid JSON at column 1: expected value; record skipped",
            "c.jsonl line 8: unrecognised date \"soon\" ignored",
        ];
        assert_eq!(warnings.len(), expected.len(), "{warnings:#?}");
        for (got, want) in warnings.iter().zip(expected) {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn all_bad_or_blank_is_an_error() {
        match lines("nope\n{\"title\": \"t\"}\n").0 {
            Err(IngestError::NoRecords {
                skipped: 2,
                first_problem,
                ..
            }) => assert!(first_problem.starts_with("line 1: invalid JSON")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(lines("\n  \n").0, Err(IngestError::Empty { .. })));
    }
}
