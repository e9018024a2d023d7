//! Loaded wording: spans of the input matched against published lexicons.
//!
//! The lexicons ship in `lexicons/` (MIT and Apache-2.0, attributed in NOTICE):
//! - bias-inducing words: the 259 hand-picked MBIC seed words (Spinde et al.); the
//!   embedding-expanded list is too noisy to show to people;
//! - factive, assertive and implicative verbs (Hooper 1975, Karttunen 1971, via Recasens et al.);
//! - hedges (Hyland 2005, and the `hedges` npm list) and weasel words (the `weasels` npm list).
//!
//! The npm lists contain everyday function words ("are", "that", "up"); those are never flagged,
//! nor is a small list of words whose ordinary sense is far more common than the loaded one.
//! Absolutes ("always", "never", "all") are flagged as such: they make a claim easy to refute.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::words::{inflections, is_function_word, Word};

/// Why a span counts as loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoadedCategory {
    /// A word that annotators found to make news text biased (MBIC).
    BiasInducing,
    /// Takes the truth of its complement for granted ("realise", "reveal").
    FactiveVerb,
    /// Asserts with the speaker's commitment ("claim", "insist").
    AssertiveVerb,
    /// Implies something happened or not ("fail to", "manage to").
    ImplicativeVerb,
    /// Softens a statement so it cannot be pinned down ("reportedly", "might").
    Hedge,
    /// Sounds specific but says little ("experts", "many", "significantly").
    Weasel,
    /// Admits no exception ("always", "never", "everyone").
    Absolute,
}

/// One loaded span of the input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoadedSpan {
    /// The span as written.
    pub text: String,
    /// Byte offsets into the input.
    pub start: usize,
    pub end: usize,
    pub category: LoadedCategory,
}

struct Lexicon {
    /// (words of the entry, category), longest entries first.
    entries: Vec<(Vec<String>, LoadedCategory)>,
}

/// Words on the npm lists that are nearly always used in their plain sense.
const PLAIN_SENSE: &[&str] = &[
    "like",
    "just",
    "well",
    "then",
    "up",
    "down",
    "over",
    "own",
    "back",
    "far",
    "real",
    "works",
    "acts",
    "helps",
    "better",
    "close",
    "saw",
    "heard",
    "watched",
    "touched",
    "smelled",
    "looked",
    "looks",
    "began",
    "started",
    "wanted",
    "decided",
    "felt",
    "knew",
    "thought",
    "noticed",
    "understood",
    "wished",
    "wondered",
    "outside the box",
    "read",
    "say",
    "says",
    "find",
    "finds",
    "found",
    "look like",
    "think",
    "thinks",
    "will",
    "would",
    "can",
    "should",
    "must",
    "may",
    "little",
    "much",
    "overall",
    "consider",
    "considered",
    "considers",
    "understand",
    "understands",
    "still",
    "ever",
    "even",
    "again",
    "only",
    "enough",
    "bit",
    "number",
    "a number",
    "is a number",
    "supports",
    "effective",
    "efficient",
    "useful",
    "linked to",
];

/// Assertive verbs too neutral to flag ("say", "write", "report" are how news is written).
const NEUTRAL_ASSERTIVES: &[&str] = &[
    "say",
    "write",
    "answer",
    "reply",
    "report",
    "state",
    "mention",
    "explain",
    "figure",
    "grant",
    "charge",
    "verify",
    "calculate",
    "decide",
    "agree",
    "hope",
    "appear",
    "seem",
    "guess",
    "think",
    "believe",
    "suppose",
    "expect",
    "imagine",
    "sure",
    "clear",
    "certain",
    "afraid",
    "estimate",
    "point out",
    "indicate",
    "remark",
];

const ABSOLUTES: &[&str] = &[
    "always",
    "never",
    "all",
    "every",
    "everyone",
    "everybody",
    "everything",
    "nobody",
    "no one",
    "nothing",
    "none",
    "entirely",
    "completely",
    "totally",
    "100%",
    "undeniably",
    "unquestionably",
    "without exception",
];

fn entries_of(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn split_entry(entry: &str) -> Vec<String> {
    entry
        .replace('_', " ")
        .to_lowercase()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut entries: Vec<(Vec<String>, LoadedCategory)> = Vec::new();
        let mut add = |words: Vec<String>, category| {
            if words.is_empty() || entries.iter().any(|(w, _)| *w == words) {
                return;
            }
            let joined = words.join(" ");
            let function_only = words.iter().all(|w| is_function_word(w));
            if category != LoadedCategory::Absolute
                && (function_only || PLAIN_SENSE.contains(&joined.as_str()))
            {
                return;
            }
            entries.push((words, category));
        };
        for w in entries_of(include_str!("../lexicons/bias-mbic-seed.txt")) {
            add(split_entry(w), LoadedCategory::BiasInducing);
        }
        let verbs = [
            (
                include_str!("../lexicons/factives_hooper1975.txt"),
                LoadedCategory::FactiveVerb,
            ),
            (
                include_str!("../lexicons/assertives_hooper1975.txt"),
                LoadedCategory::AssertiveVerb,
            ),
            (
                include_str!("../lexicons/implicatives_karttunen1971.txt"),
                LoadedCategory::ImplicativeVerb,
            ),
        ];
        for (text, category) in verbs {
            for entry in entries_of(text) {
                if category == LoadedCategory::AssertiveVerb && NEUTRAL_ASSERTIVES.contains(&entry)
                {
                    continue;
                }
                let words = split_entry(entry);
                // Implicatives count only with their "to" ("fail to", "manage to").
                let tail: Vec<String> = if category == LoadedCategory::ImplicativeVerb {
                    vec!["to".to_string()]
                } else {
                    words[1..].to_vec()
                };
                if category == LoadedCategory::ImplicativeVerb && words.len() > 1 {
                    continue;
                }
                for form in inflections(&words[0]) {
                    let mut w = vec![form];
                    w.extend(tail.iter().cloned());
                    add(w, category);
                }
            }
        }
        for w in ABSOLUTES {
            add(split_entry(w), LoadedCategory::Absolute);
        }
        for w in entries_of(include_str!("../lexicons/hedges_hyland2005.txt"))
            .chain(entries_of(include_str!("../lexicons/hedges-npm.txt")))
        {
            add(split_entry(w), LoadedCategory::Hedge);
        }
        for w in entries_of(include_str!("../lexicons/weasels-npm.txt")) {
            add(split_entry(w), LoadedCategory::Weasel);
        }
        entries.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        Lexicon { entries }
    })
}

/// Finds loaded spans, longest match first, without overlaps, in input order.
pub fn loaded_language(input: &str, words: &[Word<'_>]) -> Vec<LoadedSpan> {
    let lex = lexicon();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let hit = lex.entries.iter().find(|(entry, _)| {
            entry.len() <= words.len() - i
                && entry.iter().zip(&words[i..]).all(|(e, w)| *e == w.lower)
        });
        match hit {
            Some((entry, category)) => {
                let (start, end) = (words[i].start, words[i + entry.len() - 1].end);
                out.push(LoadedSpan {
                    text: input[start..end].to_string(),
                    start,
                    end,
                    category: *category,
                });
                i += entry.len();
            }
            None => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::words;

    fn check(input: &str, expected: &[(&str, LoadedCategory)]) {
        let ws = words(input);
        let got = loaded_language(input, &ws);
        for span in &got {
            assert_eq!(&input[span.start..span.end], span.text);
        }
        let got: Vec<(&str, LoadedCategory)> =
            got.iter().map(|s| (s.text.as_str(), s.category)).collect();
        assert_eq!(got, expected, "{input}");
    }

    #[test]
    fn lexicon_spans_are_found_with_categories() {
        use LoadedCategory::*;
        check(
            "Experts reportedly claim the senator always fails to vote.",
            &[
                ("Experts", Weasel),
                ("reportedly", Weasel),
                ("claim", AssertiveVerb),
                ("always", Absolute),
                ("fails to", ImplicativeVerb),
            ],
        );
        check(
            "The mayor realised that taxes rose.",
            &[("realised", FactiveVerb)],
        );
        check("Is the sky blue?", &[]);
        check(
            "Critics bemoaned the derailing of the plan.",
            &[("bemoaned", BiasInducing), ("derailing", BiasInducing)],
        );
    }
}
