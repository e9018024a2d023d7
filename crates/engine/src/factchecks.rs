//! Published fact-checks: "has this claim been checked already?"
//!
//! `factually factchecks import` keeps published fact-checks (schema.org ClaimReview, read by
//! `factually_ingest::claimreview`) as documents of a knowledge base of their own: the claim
//! is the text, the rating the description, the fact-checker the publisher. Matching a claim
//! is a search of that base, ranked as retrieval ranks (the order `eval claim-retrieval`
//! measures), with each match's similarity to the claim beside it.

use std::collections::HashSet;

use factually_embed::{dot, Embedder, Embedders};
use factually_kb::{DataDir, DenseScope, KbName, KnowledgeBase, SearchOptions};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use factually_report::PublishedCheck;

use crate::CheckError;

/// The knowledge base published fact-checks go to unless told otherwise.
pub const FACTCHECKS_KB: &str = "factchecks";

/// How similar a published fact-check's claim must be to a checked input to be shown at the
/// top of its report. On CheckThat! 2020 task 2 (tweets against Snopes claims, `eval
/// claim-retrieval`), the first match at 0.6 or more was right 95.7 % of the time for 61 % of
/// the train tweets (chosen there) and 96.5 % for 58 % of the dev tweets; at 0.5, 92-93 %.
pub const ALREADY_CHECKED: f32 = 0.6;

/// How deep the fused retrieval lists are: as deep as `eval claim-retrieval` measured them.
const SEARCH_DEPTH: usize = 40;

/// One published fact-check that matches a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FactCheckMatch {
    /// The claim as the fact-checker wrote it.
    pub claim: String,
    /// The fact-checker's verdict in its own words (and who made the claim, when known).
    pub rating: Option<String>,
    /// Who checked it.
    pub publisher: Option<String>,
    /// When the fact-check was published.
    pub published: Option<String>,
    /// The fact-check's page.
    pub url: Option<String>,
    /// The document in the fact-check knowledge base.
    pub doc_id: String,
    /// Cosine similarity of the two claims' sentence vectors (0-1 in practice); absent when
    /// the knowledge base has no dense vectors.
    pub similarity: Option<f32>,
}

/// The matches close enough to say the claim was checked already, closest first.
pub fn already_checked(matches: Vec<FactCheckMatch>) -> Vec<FactCheckMatch> {
    let mut close: Vec<FactCheckMatch> = matches
        .into_iter()
        .filter(|m| m.similarity.is_some_and(|s| s >= ALREADY_CHECKED))
        .collect();
    let similarity = |m: &FactCheckMatch| m.similarity.unwrap_or_default();
    close.sort_by(|a, b| similarity(b).total_cmp(&similarity(a)));
    close
}

impl FactCheckMatch {
    /// The match as a report shows it.
    pub fn published(&self) -> PublishedCheck {
        PublishedCheck {
            claim: self.claim.clone(),
            rating: self.rating.clone(),
            publisher: self.publisher.clone(),
            published: self.published.clone(),
            url: self.url.clone(),
            similarity: self.similarity.unwrap_or_default(),
        }
    }
}

/// The `k` published fact-checks in knowledge base `kb` that best match `claim`, in retrieval
/// order; `None` when `kb` does not exist (nothing was imported). The claim is validated as a
/// check's input is (not empty, not a document, English, no instructions).
pub fn match_fact_checks(
    data: &DataDir,
    embedders: &Embedders,
    kb: &KbName,
    claim: &str,
    k: usize,
) -> Result<Option<Vec<FactCheckMatch>>, CheckError> {
    let claim = factually_analyze::validate_input(claim)?;
    if !data.has_kb(kb) {
        return Ok(None);
    }
    Ok(Some(matches_in(&data.open_kb(kb)?, embedders, claim, k)?))
}

/// The `k` fact-checks of an open knowledge base that best match a validated `claim`.
pub(crate) fn matches_in(
    base: &KnowledgeBase,
    embedders: &Embedders,
    claim: &str,
    k: usize,
) -> Result<Vec<FactCheckMatch>, CheckError> {
    let embedder = match base.config().dense {
        DenseScope::None => None,
        _ => Some(embedders.for_kb(
            &base.dir().display().to_string(),
            base.config().embedder.as_ref(),
        )?),
    };
    let k = k.clamp(1, 100);
    let hits = base.search(
        claim,
        &SearchOptions {
            k: (k * 4).max(SEARCH_DEPTH),
            ..SearchOptions::default()
        },
        embedder.as_deref().map(|e| e as &dyn Embedder),
    )?;
    let mut seen = HashSet::new();
    let mut docs = Vec::new();
    for hit in hits {
        if docs.len() == k {
            break;
        }
        if seen.insert(hit.doc_id.clone()) {
            docs.extend(base.document(&hit.doc_id)?);
        }
    }
    // Cosine similarity of each published claim and this one, the matches embedded at once.
    let similarities: Vec<Option<f32>> = match &embedder {
        Some(e) if !docs.is_empty() => {
            let query = e.embed_query(claim)?;
            let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
            e.embed(&texts)?
                .iter()
                .map(|v| Some(dot(&query, v)))
                .collect()
        }
        _ => vec![None; docs.len()],
    };
    Ok(docs
        .into_iter()
        .zip(similarities)
        .map(|(doc, similarity)| FactCheckMatch {
            claim: doc.meta.title,
            rating: doc.meta.description,
            publisher: doc.meta.publisher,
            published: doc.meta.published,
            url: doc.meta.url,
            doc_id: doc.meta.id.as_str().to_string(),
            similarity,
        })
        .collect())
}
