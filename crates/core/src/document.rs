//! Documents: the stored, hashed text that every citation points into.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A document id: 16 lower-case hex digits derived from the title and text
/// (see [`doc_id_for`]). Stable across machines and re-ingests.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocId(String);

impl DocId {
    /// Accepts only the canonical form (16 lower-case hex digits).
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == 16
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lower-case hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The id of a document is derived from its content (title and text), so re-adding the
/// same content is a no-op, and the same article ingested on two machines gets the same id.
pub fn doc_id_for(title: &str, text: &str) -> DocId {
    let mut h = Sha256::new();
    h.update(b"factually-doc-v1\0");
    h.update(title.as_bytes());
    h.update(b"\0");
    h.update(text.as_bytes());
    DocId(hex::encode(&h.finalize()[..8]))
}

/// What is known about a document besides its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentMeta {
    pub id: DocId,
    pub title: String,
    /// Canonical URL when the document came from the web or the record named one.
    pub url: Option<String>,
    /// Where the text came from: a URL, a file path, or `package:record`.
    pub origin: String,
    pub publisher: Option<String>,
    /// Publication date as ISO 8601 (`YYYY-MM-DD` or a full timestamp) when known.
    pub published: Option<String>,
    /// BCP 47 language tag, `en` unless the source says otherwise.
    pub language: String,
    /// RFC 3339 time the text was read or fetched.
    pub retrieved_at: String,
    /// sha256 of the stored UTF-8 text.
    pub sha256: String,
    /// An id the source itself gave the record (e.g. a CORD-19 `cord_id`).
    pub external_id: Option<String>,
    /// A one-line description of what the document is about, when the source gives one
    /// (e.g. Wikipedia's short description "Tower in Paris, France").
    #[serde(default)]
    pub description: Option<String>,
}

/// A document: metadata plus the exact stored text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub meta: DocumentMeta,
    pub text: String,
}

/// The fields a reader knows before the id and hash are derived.
#[derive(Debug, Clone, Default)]
pub struct NewDocument {
    pub title: String,
    pub text: String,
    pub url: Option<String>,
    pub origin: String,
    pub publisher: Option<String>,
    pub published: Option<String>,
    pub language: Option<String>,
    pub external_id: Option<String>,
    pub description: Option<String>,
}

impl Document {
    /// Derives the id and hash. `retrieved_at` is passed in because this crate reads no clock.
    pub fn new(new: NewDocument, retrieved_at: String) -> Self {
        let id = doc_id_for(&new.title, &new.text);
        let sha256 = sha256_hex(new.text.as_bytes());
        Self {
            meta: DocumentMeta {
                id,
                title: new.title,
                url: new.url,
                origin: new.origin,
                publisher: new.publisher,
                published: new.published,
                language: new.language.unwrap_or_else(|| "en".to_string()),
                retrieved_at,
                sha256,
                external_id: new.external_id,
                description: new.description,
            },
            text: new.text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_content_derived() {
        let a = doc_id_for("Eiffel Tower", "The Eiffel Tower is in Paris.");
        assert_eq!(
            a,
            doc_id_for("Eiffel Tower", "The Eiffel Tower is in Paris.")
        );
        assert_ne!(
            a,
            doc_id_for("Eiffel Tower", "The Eiffel Tower is in Paris!")
        );
        assert_ne!(
            a,
            doc_id_for("Eiffel", "Tower The Eiffel Tower is in Paris.")
        );
        assert_eq!(DocId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(a.as_str().len(), 16);
    }

    #[test]
    fn parse_rejects_non_canonical_ids() {
        for bad in [
            "",
            "xyz",
            "0123456789ABCDEF",
            "0123456789abcde",
            "0123456789abcdef0",
            "../etc/passwd0000",
        ] {
            assert_eq!(DocId::parse(bad), None, "{bad}");
        }
    }
}
