//! `verify`: claim in, verdict and grounded evidence out.
//!
//! Four stages, each timed:
//! 1. **retrieve**: hybrid search ranks documents of a knowledge base for the claim;
//! 2. **select**: every sentence of the top documents is ranked by cheap lexical overlap with the
//!    claim (plus a bonus inside the passage retrieval matched), and the best few per document
//!    become candidates, each a byte range of the stored text;
//! 3. **stance**: the cross-encoder reads each (claim, sentence) pair, and the [`judge`] decides
//!    whether the sentence addresses the claim at all (an unrelated sentence is never evidence)
//!    and, for a relevant one, the stance that counts, combining the model's probabilities with
//!    explicit checks of names, numbers, negation and superlatives;
//! 4. **aggregate**: [`factually_core::aggregate`] turns the weighted judgements into a verdict.
//!
//! Evidence can also be given directly ([`Verifier::verify_with_evidence`]), which is how the
//! AVeriTeC and LIAR-PLUS evaluations feed gold evidence through the same stance and aggregation.

pub mod judge;

use std::collections::HashSet;
use std::time::Instant;

pub use factually_analyze::contrast::{Contrast, ContrastKind};
pub use judge::{Judge, JudgeError, JudgeMode, JudgeModel};

use factually_core::{
    aggregate, evidence_weight, split_sentences, DocId, Document, Span, Stance, StanceProbs,
    Verdict, WeightedStance,
};
use factually_embed::Embedder;
use factually_kb::{KbError, KnowledgeBase, RetrievalMode, SearchOptions};
use factually_stance::{StanceError, StanceModel};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the claim is empty")]
    EmptyClaim,
    #[error(
        "the claim is {0} characters long; a claim is one statement of at most {MAX_CLAIM_CHARS} characters"
    )]
    ClaimTooLong(usize),
    #[error("the claim has no words to check")]
    NoWords,
    #[error(transparent)]
    Kb(#[from] KbError),
    #[error(transparent)]
    Stance(#[from] StanceError),
}

/// Longest accepted claim: the input limit of `check`, so that a statement of any input
/// `check` accepts is a claim `verify` accepts (one set of limits for every stage).
pub const MAX_CLAIM_CHARS: usize = factually_analyze::MAX_INPUT_CHARS;

/// Knobs of the pipeline; the defaults are what the evaluations report.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct VerifyOptions {
    /// Documents taken from retrieval.
    pub documents: usize,
    /// Candidate sentences judged per document.
    pub sentences_per_document: usize,
    /// Credibility of the knowledge base's sources, in `0..=1`.
    pub credibility: f32,
    pub mode: RetrievalMode,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            documents: 5,
            sentences_per_document: 3,
            credibility: 1.0,
            mode: RetrievalMode::Hybrid,
        }
    }
}

/// One judged evidence sentence, grounded in the stored text.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub doc_id: DocId,
    pub title: String,
    /// Byte range of `quote` in the document's stored text.
    pub start: usize,
    pub end: usize,
    pub quote: String,
    pub stance: Stance,
    /// Probability of `stance`.
    pub probability: f32,
    /// The judge's stance probabilities, the ones that count (all neutral when the sentence
    /// is not relevant).
    pub probabilities: StanceProbs,
    /// The stance model's own probabilities, before the judge.
    pub model_probabilities: StanceProbs,
    /// Probability that the sentence addresses the claim.
    pub relevance: f32,
    /// Whether it does: only relevant sentences are quoted as evidence.
    pub relevant: bool,
    /// For a refutation, the detail the sentence states differently ("says Paris, not
    /// Berlin"), when it can be named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contrast: Option<Contrast>,
    /// Rank of the source document in retrieval, from 0.
    pub source_rank: usize,
    /// Weight in aggregation (credibility and rank).
    pub weight: f32,
}

/// Milliseconds per stage.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Timings {
    pub retrieve: f64,
    pub select: f64,
    pub stance: f64,
    pub aggregate: f64,
    pub total: f64,
}

impl Timings {
    pub fn add(&mut self, other: &Timings) {
        self.retrieve += other.retrieve;
        self.select += other.select;
        self.stance += other.stance;
        self.aggregate += other.aggregate;
        self.total += other.total;
    }
}

/// The result for one claim.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub claim: String,
    pub verdict: Verdict,
    /// Judged sentences, most decisive first.
    pub evidence: Vec<Evidence>,
    /// Documents retrieval ranked, best first (also those whose sentences were all neutral).
    pub retrieved: Vec<DocId>,
    pub timings_ms: Timings,
}

/// Evidence given by the caller rather than retrieved: text without a stored document.
#[derive(Debug, Clone)]
pub struct GivenEvidence {
    pub text: String,
    pub credibility: f32,
}

/// The judgement of one given evidence text.
#[derive(Debug, Clone, Serialize)]
pub struct JudgedText {
    pub text: String,
    pub stance: Stance,
    pub probability: f32,
    pub probabilities: StanceProbs,
    pub model_probabilities: StanceProbs,
    pub relevance: f32,
    pub relevant: bool,
}

/// The result for a claim checked against given evidence.
#[derive(Debug, Clone, Serialize)]
pub struct GivenVerification {
    pub claim: String,
    pub verdict: Verdict,
    pub evidence: Vec<JudgedText>,
    pub timings_ms: Timings,
}

/// Checks a claim and returns it trimmed, or says why it cannot be checked.
pub fn validate_claim(claim: &str) -> Result<&str, VerifyError> {
    let claim = claim.trim();
    if claim.is_empty() {
        return Err(VerifyError::EmptyClaim);
    }
    let chars = claim.chars().count();
    if chars > MAX_CLAIM_CHARS {
        return Err(VerifyError::ClaimTooLong(chars));
    }
    if !claim.chars().any(char::is_alphabetic) {
        return Err(VerifyError::NoWords);
    }
    Ok(claim)
}

pub struct Verifier<'a> {
    pub kb: &'a KnowledgeBase,
    pub embedder: Option<&'a dyn Embedder>,
    pub stance: &'a StanceModel,
    pub judge: &'a Judge,
    pub options: VerifyOptions,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// A document offered as evidence without retrieval (a fetched web page, a URL the user gave),
/// with the credibility of its source in `0..=1`.
#[derive(Debug, Clone, Copy)]
pub struct OfferedDocument<'d> {
    pub document: &'d Document,
    pub credibility: f32,
}

/// A document in the order evidence is taken from it.
struct RankedDocument<'d> {
    document: std::borrow::Cow<'d, Document>,
    /// The passage retrieval matched, whose sentences get a bonus in selection.
    passage: Option<(usize, usize)>,
    credibility: f32,
}

impl Verifier<'_> {
    /// Retrieves evidence from the knowledge base and reaches a verdict.
    pub fn verify(&self, claim: &str) -> Result<Verification, VerifyError> {
        let claim = validate_claim(claim)?;
        let started = Instant::now();
        let mut timings = Timings::default();

        let t = Instant::now();
        let opts = SearchOptions {
            k: self.options.documents,
            mode: self.options.mode,
            ..SearchOptions::default()
        };
        let hits = self.kb.search_documents(claim, &opts, self.embedder)?;
        let mut ranked = Vec::with_capacity(hits.len());
        for hit in &hits {
            if let Some(document) = self.kb.document(&hit.doc_id)? {
                ranked.push(RankedDocument {
                    document: std::borrow::Cow::Owned(document),
                    passage: Some((hit.start, hit.end)),
                    credibility: self.options.credibility,
                });
            }
        }
        timings.retrieve = ms(t);
        let retrieved = hits.into_iter().map(|h| h.doc_id).collect();
        self.judge(claim, ranked, retrieved, timings, started)
    }

    /// Reaches a verdict from documents the caller offers instead of retrieval: the
    /// `options.documents` documents whose best sentence shares most words with the claim are
    /// judged, each weighted by its own credibility.
    pub fn verify_documents(
        &self,
        claim: &str,
        offered: &[OfferedDocument<'_>],
    ) -> Result<Verification, VerifyError> {
        let claim = validate_claim(claim)?;
        let started = Instant::now();
        let mut timings = Timings::default();
        let t = Instant::now();
        let claim_terms = terms(claim);
        let mut scored: Vec<(f32, usize)> = offered
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let doc = o.document;
                let best = split_sentences(&doc.text)
                    .into_iter()
                    .map(|s| overlap(&claim_terms, &doc.text[s.start..s.end]))
                    .fold(overlap(&claim_terms, &doc.meta.title) * 0.5, f32::max);
                (best, i)
            })
            .filter(|&(score, _)| score > 0.0)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(self.options.documents);
        let ranked: Vec<RankedDocument> = scored
            .iter()
            .map(|&(_, i)| RankedDocument {
                document: std::borrow::Cow::Borrowed(offered[i].document),
                passage: None,
                credibility: offered[i].credibility,
            })
            .collect();
        let retrieved = ranked.iter().map(|r| r.document.meta.id.clone()).collect();
        timings.retrieve = ms(t);
        self.judge(claim, ranked, retrieved, timings, started)
    }

    /// Selects candidate sentences from ranked documents, judges them, and aggregates.
    fn judge(
        &self,
        claim: &str,
        ranked: Vec<RankedDocument<'_>>,
        retrieved: Vec<DocId>,
        mut timings: Timings,
        started: Instant,
    ) -> Result<Verification, VerifyError> {
        let t = Instant::now();
        let claim_terms = terms(claim);
        // Each document is split once: selection ranks its sentences, and the stance model's
        // reading of a pronoun looks back through them.
        let sentences: Vec<Vec<Span>> = ranked
            .iter()
            .map(|r| split_sentences(&r.document.text))
            .collect();
        // (rank, index into that document's sentences) per candidate sentence.
        let mut candidates: Vec<(usize, usize)> = Vec::new();
        for (rank, r) in ranked.iter().enumerate() {
            for i in candidate_sentences(
                &claim_terms,
                &r.document,
                &sentences[rank],
                r.passage,
                self.options.sentences_per_document,
            ) {
                candidates.push((rank, i));
            }
        }
        timings.select = ms(t);

        let t = Instant::now();
        let read: Vec<String> = candidates
            .iter()
            .map(|&(rank, i)| {
                let document = &ranked[rank].document;
                standalone_in(&document.text, &document.meta.title, &sentences[rank], i)
            })
            .collect();
        let pairs: Vec<(&str, &str)> = read.iter().map(|r| (claim, r.as_str())).collect();
        let probs = self.stance.score(&pairs)?;
        timings.stance = ms(t);

        let t = Instant::now();
        let mut judged: Vec<judge::Judgement> = candidates
            .iter()
            .zip(&probs)
            .map(|(&(rank, i), &model)| {
                let r = &ranked[rank];
                let Span { start, end } = sentences[rank][i];
                self.judge.judge(
                    claim,
                    &r.document.text[start..end],
                    &r.document.meta.title,
                    model,
                )
            })
            .collect();
        judge::outweigh(&mut judged);
        let mut evidence: Vec<Evidence> = candidates
            .iter()
            .zip(probs)
            .zip(judged)
            .map(|((&(rank, i), model), j)| {
                let r = &ranked[rank];
                let Span { start, end } = sentences[rank][i];
                let quote = &r.document.text[start..end];
                let p = j.probs;
                Evidence {
                    doc_id: r.document.meta.id.clone(),
                    title: r.document.meta.title.clone(),
                    start,
                    end,
                    quote: quote.to_string(),
                    stance: p.stance(),
                    probability: p.probability(),
                    probabilities: p,
                    model_probabilities: model,
                    relevance: j.relevance,
                    relevant: j.relevant,
                    contrast: j.contrast,
                    source_rank: rank,
                    weight: evidence_weight(rank, r.credibility),
                }
            })
            .collect();
        let verdict = verdict_of(&evidence);
        sort_by_decisiveness(&mut evidence);
        timings.aggregate = ms(t);
        timings.total = ms(started);
        Ok(Verification {
            claim: claim.to_string(),
            verdict,
            evidence,
            retrieved,
            timings_ms: timings,
        })
    }
}

/// The indices into `sentences` (the document's, from [`split_sentences`]) of its best `n`
/// candidate evidence sentences for a claim: ranked
/// by the share of the claim's words they contain, with a bonus inside the passage retrieval
/// matched (`passage`).
///
/// A sentence that shares no word with the claim, in a document whose title shares none
/// either, is about something else: it is not evidence either way, and a stance model trained
/// on inference data tends to read "unrelated" as "contradicts".
fn candidate_sentences(
    claim_terms: &HashSet<String>,
    doc: &Document,
    sentences: &[Span],
    passage: Option<(usize, usize)>,
    n: usize,
) -> Vec<usize> {
    let on_topic_title = overlap(claim_terms, &doc.meta.title) > 0.0;
    let mut scored: Vec<(f32, usize)> = sentences
        .iter()
        .enumerate()
        .filter(|(_, s)| is_statement(&doc.text[s.start..s.end], &doc.meta.title))
        .filter_map(|(i, s)| {
            let shared = overlap(claim_terms, &doc.text[s.start..s.end]);
            if shared == 0.0 && !on_topic_title {
                return None;
            }
            let inside = passage.is_some_and(|(start, end)| s.start >= start && s.end <= end);
            Some((shared + if inside { 0.25 } else { 0.0 }, i))
        })
        .collect();
    // Sentences are in text order, so index order is position order.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(n).map(|(_, i)| i).collect()
}

/// Sentence `i` of `text` (`sentences` are its spans) as the stance model reads it: a subject
/// "It", "He", "She" or "They" replaced by the name the text's first sentence or one of the
/// three before it opens with ("It is headquartered in Geneva" -> "The World Health
/// Organization is headquartered in Geneva"). Read alone, such a sentence says nothing about
/// the claim's subject, and the model calls it neutral. The quote and its offsets stay the
/// source's.
fn standalone_in(text: &str, title: &str, sentences: &[Span], i: usize) -> String {
    let at = |s: &Span| &text[s.start..s.end];
    // The first sentence, then up to three more just before `i` (none twice).
    let first = i.min(1);
    let nearest = i.saturating_sub(3).max(first);
    let earlier: Vec<&str> = sentences[..first]
        .iter()
        .chain(&sentences[nearest..i])
        .map(at)
        .collect();
    let subject = sentences
        .first()
        .and_then(|s| described_subject(at(s), title));
    factually_claims::standalone_or(at(&sentences[i]), &earlier, subject)
}

/// The words a document's first sentence names its subject with when that subject is no
/// proper name: "The blue whale" in "The blue whale is a marine mammal ..." under the title
/// "Blue whale" (the title before a parenthesis, matched without regard to case).
fn described_subject<'t>(first: &'t str, title: &str) -> Option<&'t str> {
    let head = title.split('(').next().unwrap_or("").trim();
    let end = "The ".len() + head.len();
    let opening = first.get(..end)?;
    let follows = first[end..].starts_with(' ');
    let (article, rest) = (opening.get(..4)?, opening.get(4..)?);
    (!head.is_empty()
        && follows
        && article.eq_ignore_ascii_case("the ")
        && rest.eq_ignore_ascii_case(head))
    .then_some(opening)
}

/// Most decisive evidence first; ties go to the better-ranked source.
pub fn sort_by_decisiveness(evidence: &mut [Evidence]) {
    evidence.sort_by(|a, b| {
        b.probabilities
            .decisiveness()
            .total_cmp(&a.probabilities.decisiveness())
            .then(a.source_rank.cmp(&b.source_rank))
    });
}

/// The verdict that judged evidence adds up to, each sentence counted with its weight.
pub fn verdict_of(evidence: &[Evidence]) -> Verdict {
    aggregate(
        &evidence
            .iter()
            .map(|e| WeightedStance {
                probs: e.probabilities,
                weight: e.weight,
            })
            .collect::<Vec<_>>(),
    )
}

/// Judges a claim against evidence texts the caller supplies (gold evidence in evaluations).
pub fn verify_with_evidence(
    stance: &StanceModel,
    judge: &Judge,
    claim: &str,
    evidence: &[GivenEvidence],
) -> Result<GivenVerification, VerifyError> {
    let claim = validate_claim(claim)?;
    let started = Instant::now();
    let t = Instant::now();
    let pairs: Vec<(&str, &str)> = evidence.iter().map(|e| (claim, e.text.as_str())).collect();
    let probs: Vec<(StanceProbs, judge::Judgement)> = stance
        .score(&pairs)?
        .into_iter()
        .zip(evidence)
        .map(|(model, e)| (model, judge.judge_given(claim, &e.text, model)))
        .collect();
    let stance_ms = ms(t);
    let t = Instant::now();
    let weighted: Vec<WeightedStance> = evidence
        .iter()
        .zip(&probs)
        .map(|(e, (_, j))| WeightedStance {
            probs: j.probs,
            weight: e.credibility,
        })
        .collect();
    let verdict = aggregate(&weighted);
    let judged = evidence
        .iter()
        .zip(probs)
        .map(|(e, (model, j))| JudgedText {
            text: e.text.clone(),
            stance: j.probs.stance(),
            probability: j.probs.probability(),
            probabilities: j.probs,
            model_probabilities: model,
            relevance: j.relevance,
            relevant: j.relevant,
        })
        .collect();
    Ok(GivenVerification {
        claim: claim.to_string(),
        verdict,
        evidence: judged,
        timings_ms: Timings {
            stance: stance_ms,
            aggregate: ms(t),
            total: ms(started),
            ..Timings::default()
        },
    })
}

const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "did", "do", "does",
    "for", "from", "had", "has", "have", "he", "her", "his", "in", "is", "it", "its", "of", "on",
    "or", "she", "that", "the", "their", "there", "they", "this", "to", "was", "were", "which",
    "who", "will", "with",
];

/// Lower-cased content words of a text, with a crude plural strip, for sentence pre-ranking.
fn terms(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            match w.strip_suffix('s') {
                Some(stem) if stem.len() > 3 => stem.to_string(),
                _ => w,
            }
        })
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect()
}

/// A sentence can be evidence only if it states something: a heading line (a Markdown `#`
/// line, or the title repeated), or a fragment of one or two words, cannot support or refute
/// anything.
fn is_statement(sentence: &str, title: &str) -> bool {
    let s = sentence.trim();
    let heading = s.starts_with('#') && s.trim_start_matches('#').starts_with(char::is_whitespace);
    !heading && s != title.trim() && s.split_whitespace().count() >= 3
}

/// Share of the claim's terms found in the sentence, damped for long sentences.
fn overlap(claim: &HashSet<String>, sentence: &str) -> f32 {
    if claim.is_empty() {
        return 0.0;
    }
    let s = terms(sentence);
    let shared = claim.intersection(&s).count() as f32;
    shared / claim.len() as f32 / (1.0 + s.len() as f32 / 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_claims_are_refused() {
        assert!(matches!(
            validate_claim("   "),
            Err(VerifyError::EmptyClaim)
        ));
        assert!(matches!(
            validate_claim("1234 %% 99"),
            Err(VerifyError::NoWords)
        ));
        assert!(matches!(
            validate_claim(&"word ".repeat(MAX_CLAIM_CHARS / 5 + 1)),
            Err(VerifyError::ClaimTooLong(_))
        ));
        assert_eq!(
            validate_claim("  The sky is blue. ").unwrap(),
            "The sky is blue."
        );
    }

    #[test]
    fn a_leading_pronoun_is_read_as_the_name_it_stands_for() {
        let text = "The Eiffel Tower is a lattice tower in Paris. It was the tallest \
                    man-made structure in the world until 1930. Its height is 330 metres. \
                    Paris is the capital of France.";
        let sentences = split_sentences(text);
        let read = |sentence: &str| {
            let i = sentences
                .iter()
                .position(|s| &text[s.start..s.end] == sentence)
                .unwrap();
            standalone_in(text, "Eiffel Tower", &sentences, i)
        };
        assert_eq!(
            read("It was the tallest man-made structure in the world until 1930."),
            "The Eiffel Tower was the tallest man-made structure in the world until 1930."
        );
        assert_eq!(
            read("Its height is 330 metres."),
            "The Eiffel Tower's height is 330 metres."
        );
        // Sentences without a leading pronoun, and the first one, are read as they are.
        assert_eq!(
            read("Paris is the capital of France."),
            "Paris is the capital of France."
        );
        assert_eq!(
            read("The Eiffel Tower is a lattice tower in Paris."),
            "The Eiffel Tower is a lattice tower in Paris."
        );
        // A subject that is no proper name: the first sentence's own words, after the title.
        let whale =
            "The blue whale is a marine mammal. Reaching 30 m, it is the largest animal known.";
        let spans = split_sentences(whale);
        assert_eq!(
            standalone_in(whale, "Blue whale", &spans, 1),
            "Reaching 30 m, the blue whale is the largest animal known."
        );
        assert_eq!(
            described_subject("The blue whale is big.", "Blue whale"),
            Some("The blue whale")
        );
        assert_eq!(
            described_subject("The blue whales are big.", "Blue whale"),
            None
        );
        assert_eq!(
            described_subject("Blue whales are big.", "Blue whale"),
            None
        );
        assert_eq!(
            described_subject("The cell is small.", "Cell (biology)"),
            Some("The cell")
        );
        // Not every first letter is one byte.
        assert_eq!(
            described_subject("Agnès Varda was a director.", "Agnès"),
            None
        );
        assert_eq!(described_subject("Thé é is.", "é"), None);
    }

    #[test]
    fn headings_and_fragments_are_not_evidence() {
        assert!(!is_statement("Albert Einstein", "Albert Einstein"));
        assert!(!is_statement("See also.", "Physics"));
        assert!(!is_statement("# The Eiffel Tower", "The Eiffel Tower"));
        assert!(!is_statement("## History of the tower", "The Eiffel Tower"));
        assert!(is_statement(
            "#MeToo spread on social media in 2017.",
            "MeToo"
        ));
        assert!(is_statement("Einstein was a physicist.", "Albert Einstein"));
    }

    fn doc(title: &str, text: &str) -> Document {
        Document::new(
            factually_core::NewDocument {
                title: title.to_string(),
                text: text.to_string(),
                origin: "test".into(),
                ..Default::default()
            },
            "2026-11-30T00:00:00Z".into(),
        )
    }

    fn check_candidates(claim: &str, d: &Document, want: &[&str]) {
        let sentences = split_sentences(&d.text);
        let got: Vec<&str> = candidate_sentences(&terms(claim), d, &sentences, None, 3)
            .into_iter()
            .map(|i| &d.text[sentences[i].start..sentences[i].end])
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn only_sentences_about_the_claim_are_candidates() {
        let claim = "The Great Wall of China is visible from the Moon.";
        let eiffel = doc(
            "The Eiffel Tower",
            "# The Eiffel Tower\n\nThe Eiffel Tower stands in Paris. It was the tallest structure until 1930.",
        );
        check_candidates(claim, &eiffel, &[]);
        let wall = doc(
            "The Great Wall and the Moon",
            "The Great Wall of China is often said to be visible from the Moon. Astronauts report that no structure can be seen from that distance. It is long.",
        );
        // In a document whose title is on topic, sentences sharing no word (the pronoun's
        // sentence) still count, after those that share some.
        check_candidates(
            claim,
            &wall,
            &[
                "The Great Wall of China is often said to be visible from the Moon.",
                "Astronauts report that no structure can be seen from that distance.",
                "It is long.",
            ],
        );
    }

    #[test]
    fn sentences_sharing_the_claims_words_rank_first() {
        let claim = terms("The Eiffel Tower is located in Berlin.");
        let on_topic = overlap(
            &claim,
            "The Eiffel Tower is a wrought-iron lattice tower in Paris.",
        );
        let off_topic = overlap(
            &claim,
            "Photosynthesis converts light into chemical energy.",
        );
        assert!(on_topic > off_topic, "{on_topic} vs {off_topic}");
        assert_eq!(off_topic, 0.0);
    }
}
