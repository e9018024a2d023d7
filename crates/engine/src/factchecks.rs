//! Published fact-checks: "has this claim been checked already?"
//!
//! `factually factchecks import` keeps published fact-checks (schema.org ClaimReview, read by
//! `factually_ingest::claimreview`) as documents of a knowledge base of their own: the claim
//! is the text, the rating the description, the fact-checker the publisher. Matching a claim
//! is a search of that base, ranked as retrieval ranks (the order `eval claim-retrieval`
//! measures), the retrieved pool re-ranked ([`factually_claims::rerank`]), with each match's
//! similarity to the claim beside it.

use std::collections::HashSet;

use factually_claims::rerank::{self, PoolEntry, Reranker};
use factually_core::Document;
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
/// the train tweets (chosen there, before the re-ranker) and, re-ranked, 95.7 % for 59 % of
/// the dev tweets; at 0.5, 92 %.
pub const ALREADY_CHECKED: f32 = 0.6;

/// How deep the fused retrieval lists are at least: deep enough for [`rerank::POOL`]
/// distinct fact-checks (a long one can fill two passages).
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

/// The matches close enough to say the claim was checked already, in the order they came
/// (the re-ranker's: likeliest first, the order `eval claim-retrieval` measures).
pub fn already_checked(matches: Vec<FactCheckMatch>) -> Vec<FactCheckMatch> {
    matches
        .into_iter()
        .filter(|m| m.similarity.is_some_and(|s| s >= ALREADY_CHECKED))
        .collect()
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
    let reranker = Reranker::bundled().map_err(|e| CheckError::Runtime(e.to_string()))?;
    let k = k.clamp(1, 100);
    let ranked = rank_fact_checks(
        base,
        embedder.as_deref().map(|e| e as &dyn Embedder),
        claim,
        k.max(rerank::POOL),
        Some(&reranker),
    )?;
    Ok(ranked
        .into_iter()
        .take(k)
        .map(|r| FactCheckMatch {
            claim: r.doc.meta.title,
            rating: r.doc.meta.description,
            publisher: r.doc.meta.publisher,
            published: r.doc.meta.published,
            url: r.doc.meta.url,
            doc_id: r.doc.meta.id.as_str().to_string(),
            similarity: r.similarity,
        })
        .collect())
}

/// A published fact-check retrieval found for a claim.
#[derive(Debug, Clone)]
pub struct RetrievedFactCheck {
    pub doc: Document,
    /// Rank (from 1) of its passage in the BM25 and the dense list, if it was there.
    pub bm25_rank: Option<usize>,
    pub dense_rank: Option<usize>,
    /// Cosine similarity of the two claims' sentence vectors; absent without an embedder.
    pub similarity: Option<f32>,
}

impl RetrievedFactCheck {
    /// What the re-ranker reads of it.
    pub fn pool_entry(&self) -> PoolEntry<'_> {
        PoolEntry {
            text: &self.doc.text,
            bm25_rank: self.bm25_rank,
            dense_rank: self.dense_rank,
            similarity: self.similarity.unwrap_or_default(),
        }
    }
}

/// The fact-checks of `base` that may be the one `claim` repeats: the first `depth` distinct
/// documents of a hybrid search, each with its similarity to the claim, ordered by `reranker`
/// (when given, and the knowledge base has dense vectors; it orders the first
/// [`rerank::POOL`]) or else as retrieval ranked them. What `match`, `check` and `eval
/// claim-retrieval` all rank by.
pub fn rank_fact_checks(
    base: &KnowledgeBase,
    embedder: Option<&dyn Embedder>,
    claim: &str,
    depth: usize,
    reranker: Option<&Reranker>,
) -> Result<Vec<RetrievedFactCheck>, CheckError> {
    let hits = base.search(
        claim,
        &SearchOptions {
            k: (depth * 2).max(SEARCH_DEPTH),
            ..SearchOptions::default()
        },
        embedder,
    )?;
    let mut seen = HashSet::new();
    let mut pool = Vec::new();
    for hit in hits {
        if pool.len() == depth {
            break;
        }
        if !seen.insert(hit.doc_id.clone()) {
            continue;
        }
        if let Some(doc) = base.document(&hit.doc_id)? {
            pool.push(RetrievedFactCheck {
                doc,
                bm25_rank: hit.bm25_rank,
                dense_rank: hit.dense_rank,
                similarity: None,
            });
        }
    }
    // Cosine similarity of each published claim and this one, the pool embedded at once.
    let Some(e) = embedder.filter(|_| !pool.is_empty()) else {
        return Ok(pool);
    };
    let query = e.embed_query(claim)?;
    let texts: Vec<&str> = pool.iter().map(|r| r.doc.text.as_str()).collect();
    let vectors = e.embed(&texts)?;
    for (r, v) in pool.iter_mut().zip(vectors) {
        r.similarity = Some(dot(&query, &v));
    }
    let Some(reranker) = reranker else {
        return Ok(pool);
    };
    let entries: Vec<PoolEntry> = pool.iter().map(RetrievedFactCheck::pool_entry).collect();
    let order = reranker.order(claim, &entries);
    let mut slots: Vec<Option<RetrievedFactCheck>> = pool.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}
