//! Per-domain source credibility.
//!
//! The shipped table (`data/credibility.tsv`, 17k domains) is built by
//! `data/build_credibility.py` from three public lists: the news-domain reliability scores of
//! Burdisso et al. (NAACL 2024, Apache-2.0), Wikipedia's perennial-sources labels (CC BY-SA) and
//! the Iffy.news low-factuality index (MIT); the rule that combines them is in the script. A
//! score weights a source's evidence in the verdict and is shown in the sources list.
//!
//! Users can trust or block domains on top of the table: a trusted domain scores 1.0, a blocked
//! one is never fetched.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// Score of a domain no list knows.
pub const UNKNOWN: f32 = 0.5;

const TABLE: &str = include_str!("../data/credibility.tsv");

fn table() -> &'static HashMap<&'static str, f32> {
    static TABLE_MAP: OnceLock<HashMap<&'static str, f32>> = OnceLock::new();
    TABLE_MAP.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (domain, score) = l.split_once('\t')?;
                Some((domain, score.parse().ok()?))
            })
            .collect()
    })
}

/// Where a credibility score came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreSource {
    /// The shipped table.
    Table,
    /// The user's trusted domains.
    Trusted,
    /// No list knows the domain.
    Unknown,
}

/// Credibility lookups with the user's own trusted and blocked domains.
#[derive(Debug, Clone, Default)]
pub struct Credibility {
    trusted: HashSet<String>,
    blocked: HashSet<String>,
}

impl Credibility {
    pub fn new(
        trusted: impl IntoIterator<Item = String>,
        blocked: impl IntoIterator<Item = String>,
    ) -> Self {
        let norm = |d: String| d.trim().trim_start_matches("www.").to_ascii_lowercase();
        Self {
            trusted: trusted
                .into_iter()
                .map(norm)
                .filter(|d| !d.is_empty())
                .collect(),
            blocked: blocked
                .into_iter()
                .map(norm)
                .filter(|d| !d.is_empty())
                .collect(),
        }
    }

    /// True when the host or a parent domain is on the block list.
    pub fn is_blocked(&self, host: &str) -> bool {
        suffixes(host).any(|d| self.blocked.contains(d))
    }

    /// The score of a host in `0..=1`, from the most specific domain any list knows.
    pub fn score(&self, host: &str) -> (f32, ScoreSource) {
        for d in suffixes(host) {
            if self.trusted.contains(d) {
                return (1.0, ScoreSource::Trusted);
            }
            if let Some(&s) = table().get(d) {
                return (s.clamp(0.0, 1.0), ScoreSource::Table);
            }
        }
        (UNKNOWN, ScoreSource::Unknown)
    }
}

/// `news.bbc.co.uk`, `bbc.co.uk`, `co.uk`: the host and its parents with at least one dot.
fn suffixes(host: &str) -> impl Iterator<Item = &str> {
    let host = host.trim_end_matches('.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    std::iter::successors(Some(host), |h| h.split_once('.').map(|(_, rest)| rest))
        .filter(|h| h.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(host: &str, expected: f32, source: ScoreSource) {
        let (score, from) = Credibility::default().score(host);
        assert!((score - expected).abs() < 0.01, "{host}: {score}");
        assert_eq!(from, source, "{host}");
    }

    #[test]
    fn table_scores_follow_the_lists() {
        check("www.reuters.com", 1.0, ScoreSource::Table);
        check("apnews.com", 1.0, ScoreSource::Table);
        check("www.infowars.com", 0.05, ScoreSource::Table);
        check("en.wikipedia.org", 0.7, ScoreSource::Table);
        check("no-such-site.example", UNKNOWN, ScoreSource::Unknown);
    }

    #[test]
    fn subdomains_inherit_and_user_lists_win() {
        let (news, _) = Credibility::default().score("news.bbc.co.uk");
        assert!(news > 0.9);
        let c = Credibility::new(
            ["my-lab.example".to_string()],
            ["www.infowars.com".to_string()],
        );
        assert_eq!(c.score("data.my-lab.example"), (1.0, ScoreSource::Trusted));
        assert!(c.is_blocked("infowars.com"));
        assert!(c.is_blocked("shop.infowars.com"));
        assert!(!c.is_blocked("reuters.com"));
    }
}
