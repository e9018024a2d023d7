//! Rank fusion: combining the BM25 and dense rankings into one.
//!
//! Reciprocal-rank fusion (Cormack et al., 2009) ignores the raw scores, which live on
//! incomparable scales (BM25 is unbounded, cosine is in -1..1), and rewards items that both
//! retrievers rank well. Each list contributes `weight / (k + rank)` (rank from 1).

use std::collections::HashMap;
use std::hash::Hash;

/// Weights of the fused lists and the RRF constant. The defaults were chosen on
/// Check-COVID *train* claims (see `docs/retrieval.md`): lexical matching carries the
/// entity names and numbers that claims hinge on, dense matching the paraphrases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionWeights {
    pub bm25: f64,
    pub dense: f64,
    /// The RRF constant `k`; larger values flatten the rank curve.
    pub k: f64,
}

impl Default for FusionWeights {
    fn default() -> Self {
        Self {
            bm25: 1.0,
            dense: 1.0,
            k: 60.0,
        }
    }
}

/// Fuses ranked lists (best first) into one list of `(item, score)`, best first.
/// Ties are broken by the order in which items first appear, so the result is deterministic.
pub fn reciprocal_rank_fusion<T: Clone + Eq + Hash>(
    lists: &[(&[T], f64)],
    k: f64,
) -> Vec<(T, f64)> {
    let mut scores: HashMap<T, (f64, usize)> = HashMap::new();
    let mut seen = 0usize;
    for (list, weight) in lists {
        for (rank, item) in list.iter().enumerate() {
            let entry = scores.entry(item.clone()).or_insert_with(|| {
                seen += 1;
                (0.0, seen)
            });
            entry.0 += weight / (k + rank as f64 + 1.0);
        }
    }
    let mut fused: Vec<(T, f64, usize)> = scores.into_iter().map(|(t, (s, o))| (t, s, o)).collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    fused.into_iter().map(|(t, s, _)| (t, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_ranked_well_by_both_lists_win_and_ties_keep_first_appearance() {
        let bm25 = ["a", "b", "c"];
        let dense = ["d", "b", "e"];
        let fused = reciprocal_rank_fusion(&[(&bm25[..], 1.0), (&dense[..], 1.0)], 60.0);
        let order: Vec<&str> = fused.iter().map(|(t, _)| *t).collect();
        assert_eq!(order, ["b", "a", "d", "c", "e"]);
        assert!((fused[0].1 - 2.0 / 62.0).abs() < 1e-12);
    }

    #[test]
    fn a_zero_weight_list_does_not_change_the_order() {
        let bm25 = ["a", "b", "c"];
        let dense = ["c", "b", "a"];
        let fused = reciprocal_rank_fusion(&[(&bm25[..], 1.0), (&dense[..], 0.0)], 60.0);
        let order: Vec<&str> = fused.iter().map(|(t, _)| *t).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }
}
