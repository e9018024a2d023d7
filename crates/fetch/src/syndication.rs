//! Syndication: the same wire story on many sites is one origin, not many.
//!
//! Counting ten copies of one agency report as ten independent confirmations is how automated
//! checkers get fooled. Pages are compared by word 5-gram shingles; when most of the shorter
//! page's shingles appear in the longer one (containment, so that a site's own intro or
//! footer around the story does not hide the copy), the two share an origin.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// Containment at or above which two pages are copies of one story.
pub const SAME_ORIGIN: f64 = 0.7;
const SHINGLE: usize = 5;

fn shingles(text: &str) -> HashSet<u64> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(SHINGLE)
        .map(|w| {
            let mut h = DefaultHasher::new();
            w.hash(&mut h);
            h.finish()
        })
        .collect()
}

/// Share of the smaller set's shingles found in the larger set.
fn containment(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if small.is_empty() {
        return 0.0;
    }
    small.intersection(large).count() as f64 / small.len() as f64
}

/// For each text, the index of the first text of its origin group (itself when it is the
/// first or has no copy earlier in the list). Earlier texts are preferred as representatives,
/// so callers list their best-ranked sources first.
pub fn origin_groups(texts: &[&str]) -> Vec<usize> {
    let sets: Vec<HashSet<u64>> = texts.iter().map(|t| shingles(t)).collect();
    let mut group: Vec<usize> = (0..texts.len()).collect();
    for i in 0..texts.len() {
        if let Some(j) =
            (0..i).find(|&j| group[j] == j && containment(&sets[i], &sets[j]) >= SAME_ORIGIN)
        {
            group[i] = j;
        }
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIRE: &str = "Officials said on Tuesday that the bridge would reopen next month after \
        repairs costing 12 million dollars were completed ahead of schedule. The transport \
        ministry confirmed that engineers had replaced the damaged cables and inspected every \
        support beam. Traffic is expected to return to normal levels by the end of the summer.";

    #[test]
    fn copies_with_their_own_frame_share_an_origin() {
        let copy = format!("Local news desk. {WIRE} Sign up for our newsletter for more stories.");
        let other = "The city council voted to build a new library in the northern district, \
            with construction due to begin in the spring and finish within two years.";
        let texts = [WIRE, other, copy.as_str(), "too short"];
        assert_eq!(origin_groups(&texts), vec![0, 1, 0, 3]);
    }

    #[test]
    fn different_stories_on_one_topic_stay_apart() {
        let rewrite = "The bridge will reopen next month, according to officials, because \
            engineers finished the cable repairs early. The ministry said all beams were \
            inspected and that the work cost about 12 million dollars in total.";
        assert_eq!(origin_groups(&[WIRE, rewrite]), vec![0, 1]);
    }
}
