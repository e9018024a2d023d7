//! Rank fusion: combining the BM25 and dense rankings into one.
//!
//! Reciprocal-rank fusion (Cormack et al., 2009) ignores the raw scores, which live on
//! incomparable scales (BM25 is unbounded, cosine is in -1..1), and rewards items that
//! several retrievers rank well. Each list contributes `weight / (k + rank)` (rank from 1).
//!
//! Three lists are fused: passage BM25, passage dense, and document BM25 (title and whole
//! text). The document list matters when a claim's words are spread over several passages
//! of one source, as with news claims checked against scientific abstracts.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// Weights of the fused lists and the RRF constant (see `docs/retrieval.md` for how the
/// defaults were chosen).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionWeights {
    /// Passage-level BM25.
    pub bm25: f64,
    /// Passage-level dense (cosine) ranking.
    pub dense: f64,
    /// Document-level BM25 (title and whole text), credited to every passage of the document.
    pub doc: f64,
    /// The RRF constant `k`; larger values flatten the rank curve.
    pub k: f64,
}

impl Default for FusionWeights {
    fn default() -> Self {
        Self {
            bm25: 1.0,
            dense: 1.0,
            doc: 1.0,
            k: 20.0,
        }
    }
}

/// The ranked lists retrieved for one query: passages with the document they belong to,
/// and documents. Best first.
#[derive(Debug, Clone)]
pub struct RankedLists<P, D> {
    pub passage_bm25: Vec<(P, D)>,
    pub passage_dense: Vec<(P, D)>,
    pub doc_bm25: Vec<D>,
}

fn rrf(weight: f64, k: f64, rank0: Option<usize>) -> f64 {
    rank0.map_or(0.0, |r| weight / (k + r as f64 + 1.0))
}

impl<P: Clone + Eq + Hash, D: Clone + Eq + Hash> RankedLists<P, D> {
    /// Passages from either passage list, scored by their own ranks plus their document's
    /// whole-text rank. Best first; ties keep first appearance.
    pub fn fuse_passages(&self, w: &FusionWeights) -> Vec<(P, D, f64)> {
        let mut doc_rank: HashMap<&D, usize> = HashMap::new();
        for (i, d) in self.doc_bm25.iter().enumerate() {
            doc_rank.entry(d).or_insert(i);
        }
        let mut order: Vec<(P, D)> = Vec::new();
        let mut ranks: HashMap<P, [Option<usize>; 2]> = HashMap::new();
        for (slot, list) in [&self.passage_bm25, &self.passage_dense]
            .into_iter()
            .enumerate()
        {
            for (i, (p, d)) in list.iter().enumerate() {
                let entry = ranks.entry(p.clone()).or_insert_with(|| {
                    order.push((p.clone(), d.clone()));
                    [None; 2]
                });
                entry[slot].get_or_insert(i);
            }
        }
        let mut scored: Vec<(usize, P, D, f64)> = order
            .into_iter()
            .enumerate()
            .map(|(seen, (p, d))| {
                let [rb, rd] = ranks[&p];
                let score = rrf(w.bm25, w.k, rb)
                    + rrf(w.dense, w.k, rd)
                    + rrf(w.doc, w.k, doc_rank.get(&d).copied());
                (seen, p, d, score)
            })
            .collect();
        scored.sort_by(|a, b| b.3.total_cmp(&a.3).then(a.0.cmp(&b.0)));
        scored.into_iter().map(|(_, p, d, s)| (p, d, s)).collect()
    }

    /// Documents from any list, scored by their rank in each list (a passage list ranks a
    /// document by its best passage, counting distinct documents). Best first; ties keep
    /// first appearance.
    pub fn fuse_documents(&self, w: &FusionWeights) -> Vec<(D, f64)> {
        let lists: [Vec<&D>; 3] = [
            self.passage_bm25.iter().map(|(_, d)| d).collect(),
            self.passage_dense.iter().map(|(_, d)| d).collect(),
            self.doc_bm25.iter().collect(),
        ];
        let mut order: Vec<D> = Vec::new();
        let mut ranks: HashMap<D, [Option<usize>; 3]> = HashMap::new();
        for (slot, list) in lists.iter().enumerate() {
            let mut distinct: HashSet<&D> = HashSet::new();
            for &d in list {
                if !distinct.insert(d) {
                    continue;
                }
                let rank = distinct.len() - 1;
                let entry = ranks.entry(d.clone()).or_insert_with(|| {
                    order.push(d.clone());
                    [None; 3]
                });
                entry[slot].get_or_insert(rank);
            }
        }
        let mut scored: Vec<(usize, D, f64)> = order
            .into_iter()
            .enumerate()
            .map(|(seen, d)| {
                let r = ranks[&d];
                (
                    seen,
                    d,
                    rrf(w.bm25, w.k, r[0]) + rrf(w.dense, w.k, r[1]) + rrf(w.doc, w.k, r[2]),
                )
            })
            .collect();
        scored.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        scored.into_iter().map(|(_, d, s)| (d, s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> RankedLists<&'static str, &'static str> {
        RankedLists {
            passage_bm25: vec![("p1", "A"), ("p2", "B")],
            passage_dense: vec![("p3", "C"), ("p2", "B")],
            doc_bm25: vec!["C", "B"],
        }
    }

    #[test]
    fn passages_ranked_well_everywhere_win_and_the_document_rank_counts() {
        let w = FusionWeights::default();
        let fused = lists().fuse_passages(&w);
        let order: Vec<&str> = fused.iter().map(|x| x.0).collect();
        // p2: 3/(k+2); p3: 2/(k+1); p1: 1/(k+1).
        assert_eq!(order, ["p2", "p3", "p1"]);
        assert!((fused[0].2 - 3.0 / (w.k + 2.0)).abs() < 1e-12);
        let no_doc = FusionWeights { doc: 0.0, ..w };
        let order: Vec<&str> = lists().fuse_passages(&no_doc).iter().map(|x| x.0).collect();
        assert_eq!(order, ["p2", "p1", "p3"], "ties keep first appearance");
    }

    #[test]
    fn documents_are_ranked_by_their_best_passage_counting_distinct_documents() {
        let w = FusionWeights::default();
        let docs: Vec<&str> = lists().fuse_documents(&w).iter().map(|x| x.0).collect();
        assert_eq!(docs, ["B", "C", "A"]);
        let only_bm25: RankedLists<&str, &str> = RankedLists {
            passage_bm25: vec![("a1", "A"), ("a2", "A"), ("b1", "B")],
            passage_dense: vec![],
            doc_bm25: vec![],
        };
        let docs = only_bm25.fuse_documents(&w);
        assert_eq!(docs, [("A", 1.0 / (w.k + 1.0)), ("B", 1.0 / (w.k + 2.0))]);
    }

    #[test]
    fn a_zero_weight_list_is_ignored() {
        let w = FusionWeights {
            bm25: 1.0,
            dense: 0.0,
            doc: 0.0,
            k: 60.0,
        };
        let order: Vec<&str> = lists().fuse_passages(&w).iter().map(|x| x.0).collect();
        assert_eq!(order, ["p1", "p2", "p3"]);
    }
}
