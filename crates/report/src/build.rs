//! The deterministic report writer: analysis and verifications in, a grounded [`Report`] out.
//!
//! No generative model writes here. Every sentence is built from a template, the input's own
//! words, a source's title, or a quote copied from a stored document, and every quote enters the
//! report through [`Citations::cite`], which numbers its source and records the byte offsets.
//! That is what makes the grounding invariant checkable ([`grounding_violations`]).

use std::collections::HashMap;

use factually_analyze::{Analysis, Checkability, InputKind, LoadedCategory, Trigger};
use factually_core::{DocId, Stance, VerdictLabel};
use factually_verify::{Evidence, Verification};

use crate::model::*;

/// What is known about a source document besides the evidence.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub kb: String,
    pub title: String,
    pub url: Option<String>,
    pub publisher: Option<String>,
    pub published: Option<String>,
    /// Domain reliability, for web sources.
    pub credibility: Option<f32>,
    /// When a web snapshot was fetched.
    pub retrieved_at: Option<String>,
    /// Syndicated copies of the same story.
    pub copies: Vec<String>,
}

/// Everything the writer needs. `statements[i]` verifies `analysis.statements[i]` (or, when the
/// analysis found no statement and no presupposition, the input itself); `presuppositions[i]`
/// verifies `analysis.presuppositions[i]`.
pub struct ReportInput<'a> {
    pub analysis: &'a Analysis,
    pub statements: Vec<&'a Verification>,
    pub presuppositions: Vec<&'a Verification>,
    pub sources: &'a HashMap<DocId, SourceInfo>,
    /// `YYYY-MM-DD`.
    pub checked_on: String,
    pub search_queries: Vec<String>,
    pub skipped_sources: Vec<SkippedSource>,
    pub warnings: Vec<String>,
    pub timings_ms: ReportTimings,
}

/// Evidence counts as saying something when its stance is not neutral with at least this
/// probability.
pub const DECISIVE: f32 = 0.5;

fn decisive(e: &Evidence) -> bool {
    e.stance != Stance::Neutral && e.probability >= DECISIVE
}

/// Numbers sources in order of first citation and collects the quotes taken from each.
#[derive(Default)]
struct Citations {
    order: Vec<DocId>,
    quotes: HashMap<DocId, Vec<EvidenceQuote>>,
}

impl Citations {
    fn cite(&mut self, e: &Evidence, judged_against: &str) -> usize {
        let n = match self.order.iter().position(|d| *d == e.doc_id) {
            Some(i) => i + 1,
            None => {
                self.order.push(e.doc_id.clone());
                self.order.len()
            }
        };
        let quotes = self.quotes.entry(e.doc_id.clone()).or_default();
        if !quotes
            .iter()
            .any(|q| q.start == e.start && q.end == e.end && q.judged_against == judged_against)
        {
            quotes.push(EvidenceQuote {
                quote: e.quote.clone(),
                start: e.start,
                end: e.end,
                stance: e.stance,
                probability: e.probability,
                judged_against: judged_against.to_string(),
            });
        }
        n
    }
}

/// "The Eiffel Tower is in Berlin." -> "the Eiffel Tower is in Berlin" (for use mid-sentence).
fn inline(sentence: &str) -> String {
    let s = sentence.trim().trim_end_matches(['.', '?', '!']);
    let mut chars = s.chars();
    match chars.next() {
        // Keep the capital of a name ("Einstein failed math"); lower a plain first word.
        Some(first) => {
            let word: String = s.split_whitespace().next().unwrap_or_default().to_string();
            let lower_first = matches!(
                word.to_lowercase().as_str(),
                "the"
                    | "a"
                    | "an"
                    | "there"
                    | "some"
                    | "someone"
                    | "something"
                    | "it"
                    | "they"
                    | "this"
                    | "these"
                    | "those"
                    | "people"
            );
            if lower_first {
                format!("{}{}", first.to_lowercase(), chars.as_str())
            } else {
                s.to_string()
            }
        }
        None => String::new(),
    }
}

fn quoted(q: &str) -> String {
    format!("“{}”", q.trim())
}

fn verdict_phrase(label: VerdictLabel) -> &'static str {
    match label {
        VerdictLabel::Supported => "supported by the sources",
        VerdictLabel::Refuted => "contradicted by the sources",
        VerdictLabel::Mixed => "disputed: the sources conflict",
        VerdictLabel::NotEnoughEvidence => "not settled by the sources",
    }
}

fn trigger_phrase(t: Trigger) -> &'static str {
    match t {
        Trigger::WhQuestion => {
            "the question asks who, what or where, so it assumes there is an answer"
        }
        Trigger::WhyQuestion => "asking why something is so assumes that it is so",
        Trigger::WhenHowQuestion => {
            "asking when or how something happened assumes that it happened"
        }
        Trigger::DefiniteDescription => "the wording refers to it as something that exists",
        Trigger::Superlative => "a superlative or \"only\" assumes what it ranks",
        Trigger::Factive => "a factive verb takes its complement for granted",
        Trigger::ChangeOfState => "a change-of-state verb assumes the earlier state",
        Trigger::Iterative => "\"again\" assumes it happened before",
        Trigger::Implicative => "an implicative verb assumes an attempt or an expectation",
        Trigger::RelativeClause => {
            "a relative clause assumes the people or things it describes exist"
        }
        Trigger::Consequence => "asking about consequences assumes the cause happens",
        Trigger::Quantifier => "a universal quantifier assumes there is something to quantify over",
    }
}

fn category_phrase(c: LoadedCategory) -> &'static str {
    match c {
        LoadedCategory::BiasInducing => "a bias-inducing word (MBIC lexicon): it colours the statement rather than describing it",
        LoadedCategory::FactiveVerb => "a factive verb: it presents what follows as established fact",
        LoadedCategory::AssertiveVerb => "an assertive verb: it signals the speaker's commitment, not the evidence",
        LoadedCategory::ImplicativeVerb => "an implicative verb: it implies an attempt or obligation without stating it",
        LoadedCategory::Hedge => "a hedge: it softens the statement so that it is hard to pin down",
        LoadedCategory::Weasel => "a weasel word: it sounds specific but names no one and no number",
        LoadedCategory::Absolute => "an absolute: it admits no exception, so a single counter-example refutes it",
    }
}

/// The most decisive evidence of a verification, for one stance, best first.
fn best(v: &Verification, stance: Stance, n: usize) -> Vec<&Evidence> {
    let mut out: Vec<&Evidence> = Vec::new();
    for e in v
        .evidence
        .iter()
        .filter(|e| e.stance == stance && decisive(e))
    {
        // One quote per document keeps the summary varied.
        if out.iter().any(|o| o.doc_id == e.doc_id) {
            continue;
        }
        out.push(e);
        if out.len() == n {
            break;
        }
    }
    out
}

/// The combined verdict over several checked statements: any refuted statement refutes the
/// whole; all supported supports it; otherwise the strongest partial outcome.
fn combine(verdicts: &[ReportVerdict]) -> Option<ReportVerdict> {
    let first = *verdicts.first()?;
    if verdicts.len() == 1 {
        return Some(first);
    }
    let of = |label| verdicts.iter().filter(move |v| v.label == label);
    if let Some(v) = of(VerdictLabel::Refuted).max_by(|a, b| a.confidence.total_cmp(&b.confidence))
    {
        return Some(*v);
    }
    if verdicts.iter().all(|v| v.label == VerdictLabel::Supported) {
        return verdicts
            .iter()
            .min_by(|a, b| a.confidence.total_cmp(&b.confidence))
            .copied();
    }
    of(VerdictLabel::Mixed)
        .next()
        .or_else(|| of(VerdictLabel::NotEnoughEvidence).next())
        .copied()
}

/// Writes the report.
/// Cites a published fact-check of the input (from the `factchecks` knowledge base): a
/// numbered source whose one quote is its stored claim (`stored_text`, the whole document),
/// and a summary statement after the verdict saying who checked that claim, when, and how they
/// rated it. The rating and date are the fact-check's own metadata, as a source's publisher is.
pub fn cite_published_check(
    report: &mut Report,
    check: &PublishedCheck,
    doc_id: DocId,
    kb: &str,
    stored_text: &str,
) {
    let n = report.sources.len() + 1;
    let input = report.input.clone();
    report.sources.push(Source {
        n,
        doc_id,
        kb: kb.to_string(),
        title: stored_text.to_string(),
        url: check.url.clone(),
        publisher: check.publisher.clone(),
        published: check.published.clone(),
        credibility: None,
        retrieved_at: None,
        copies: Vec::new(),
        evidence: vec![EvidenceQuote {
            quote: stored_text.to_string(),
            start: 0,
            end: stored_text.len(),
            stance: Stance::Neutral,
            probability: check.similarity,
            judged_against: input,
        }],
    });
    let text = format!(
        "{} checked the claim “{}”{} and rated it: {} [{n}]",
        check.publisher.as_deref().unwrap_or("A fact-checker"),
        stored_text.trim(),
        check
            .published
            .as_deref()
            .map(|d| format!(" on {}", crate::render::long_date(d)))
            .unwrap_or_default(),
        check.rating.as_deref().unwrap_or("no rating given"),
    );
    let at = report.sections.summary.len().min(1);
    report.sections.summary.insert(
        at,
        Item {
            text,
            citations: vec![n],
        },
    );
}

pub fn build_report(input: ReportInput<'_>) -> Report {
    let a = input.analysis;
    let mut cites = Citations::default();
    let kind_word = match a.input_kind {
        InputKind::Question => "question",
        InputKind::Claim => "claim",
    };
    let statement_texts: Vec<String> = if a.statements.is_empty() && a.presuppositions.is_empty() {
        vec![a.input.clone()]
    } else {
        a.statements.clone()
    };

    // Statements and presuppositions with their verdicts.
    let mut statements = Vec::new();
    for (text, v) in statement_texts.iter().zip(&input.statements) {
        let mut citations = Vec::new();
        for e in best(v, Stance::Support, 2)
            .into_iter()
            .chain(best(v, Stance::Refute, 2))
        {
            citations.push(cites.cite(e, text));
        }
        citations.sort_unstable();
        citations.dedup();
        statements.push(StatementCheck {
            text: text.clone(),
            verdict: (&v.verdict).into(),
            citations,
            supporting_origins: origins(v, Stance::Support),
            refuting_origins: origins(v, Stance::Refute),
        });
    }
    let mut presuppositions = Vec::new();
    for (p, v) in a.presuppositions.iter().zip(&input.presuppositions) {
        let mut citations = Vec::new();
        for e in best(v, Stance::Support, 1)
            .into_iter()
            .chain(best(v, Stance::Refute, 1))
        {
            citations.push(cites.cite(e, &p.text));
        }
        citations.sort_unstable();
        citations.dedup();
        presuppositions.push(PresuppositionCheck {
            text: p.text.clone(),
            trigger: p.trigger,
            verdict: (&v.verdict).into(),
            status: PresuppositionStatus::of(v.verdict.label),
            citations,
        });
    }

    // The overall verdict: the statements', or, for a question that only presupposes (who is
    // the X), its presuppositions'.
    let statement_verdicts: Vec<ReportVerdict> = statements.iter().map(|s| s.verdict).collect();
    let presupposition_verdicts: Vec<ReportVerdict> =
        presuppositions.iter().map(|p| p.verdict).collect();
    // An opinion or a prediction gets no true-or-false verdict, whatever the sources lean to.
    let undecidable = ReportVerdict {
        label: VerdictLabel::NotEnoughEvidence,
        confidence: 1.0,
        rating: 3,
    };
    let verdict = if a.check_worthy {
        combine(&statement_verdicts)
            .or_else(|| combine(&presupposition_verdicts))
            .unwrap_or(undecidable)
    } else {
        undecidable
    };

    let mut sections = Sections::default();
    // A question that only presupposes ("what are the consequences for X") is summarised by
    // what the sources say about its first assumptions.
    let (summary_texts, summary_checks): (Vec<String>, Vec<&Verification>) =
        if a.statements.is_empty() && !a.presuppositions.is_empty() {
            a.presuppositions
                .iter()
                .zip(&input.presuppositions)
                .take(2)
                .map(|(p, v)| (p.text.clone(), *v))
                .unzip()
        } else {
            (statement_texts.clone(), input.statements.clone())
        };
    summary(
        &mut sections.summary,
        &mut cites,
        a,
        kind_word,
        &summary_texts,
        &summary_checks,
        &presuppositions,
        verdict,
    );
    // When nothing retrieved addresses the input, say so plainly and how to widen the search,
    // rather than quoting the nearest unrelated text.
    let judged: usize = input
        .statements
        .iter()
        .chain(&input.presuppositions)
        .map(|v| v.evidence.len())
        .sum();
    let covered = input
        .statements
        .iter()
        .chain(&input.presuppositions)
        .any(|v| v.evidence.iter().any(|e| e.relevant));
    if a.check_worthy && !covered {
        let found = match judged {
            0 => "nothing was found for it".to_string(),
            1 => "the one passage retrieved for it is about something else".to_string(),
            n => format!("none of the {n} passages retrieved for it addresses it"),
        };
        sections.summary.push(Item {
            text: format!(
                "The sources searched do not cover this {kind_word}: {found}, so nothing is quoted. To widen the search, check it against the web (--sources web) or add documents to the knowledge base (factually kb add)."
            ),
            citations: vec![],
        });
    }
    missing_context(
        &mut sections.missing_context,
        &mut cites,
        &statement_texts,
        &input.statements,
        &presuppositions,
    );
    misinformation_bias(
        &mut sections.misinformation_bias,
        &mut cites,
        a,
        kind_word,
        &presuppositions,
        &input.presuppositions,
    );

    let sources: Vec<Source> = cites
        .order
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let info = input.sources.get(id);
            Source {
                n: i + 1,
                doc_id: id.clone(),
                kb: info.map(|s| s.kb.clone()).unwrap_or_default(),
                title: info.map(|s| s.title.clone()).unwrap_or_default(),
                url: info.and_then(|s| s.url.clone()),
                publisher: info.and_then(|s| s.publisher.clone()),
                published: info.and_then(|s| s.published.clone()),
                credibility: info.and_then(|s| s.credibility),
                retrieved_at: info.and_then(|s| s.retrieved_at.clone()),
                copies: info.map(|s| s.copies.clone()).unwrap_or_default(),
                evidence: cites.quotes.get(id).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let follow_up_questions = follow_ups(&statements, &presuppositions, &input);

    Report {
        schema_version: SCHEMA_VERSION,
        input: a.input.clone(),
        input_kind: a.input_kind,
        checked_on: input.checked_on,
        already_checked: Vec::new(),
        verdict,
        check_worthy: a.check_worthy,
        checkability: a.checkability,
        statements,
        sections,
        presuppositions,
        loaded_language: a.loaded_language.clone(),
        follow_up_questions,
        sources,
        skipped_sources: input.skipped_sources,
        search_queries: input.search_queries,
        warnings: input.warnings,
        llm: None,
        timings_ms: input.timings_ms,
    }
}

/// Distinct sources with decisive evidence of one stance. Syndicated copies were collapsed into
/// one source before verification, so each source is one independent origin.
fn origins(v: &Verification, stance: Stance) -> usize {
    let mut docs: Vec<&DocId> = v
        .evidence
        .iter()
        .filter(|e| e.stance == stance && decisive(e))
        .map(|e| &e.doc_id)
        .collect();
    docs.sort_unstable();
    docs.dedup();
    docs.len()
}

#[allow(clippy::too_many_arguments)]
fn summary(
    out: &mut Vec<Item>,
    cites: &mut Citations,
    a: &Analysis,
    kind_word: &str,
    texts: &[String],
    checks: &[&Verification],
    presuppositions: &[PresuppositionCheck],
    verdict: ReportVerdict,
) {
    // 1. The verdict in one sentence.
    let lead = if !a.check_worthy {
        let what = match a.checkability {
            Checkability::Opinion => "an opinion",
            Checkability::Prediction => "a prediction",
            Checkability::Factual => "a statement",
        };
        format!(
            "This {kind_word} is {what}: {}. factually gives it no true-or-false verdict; the evidence below is context.",
            a.checkability_reason.as_deref().unwrap_or("it cannot be settled by evidence")
        )
    } else if a.statements.is_empty() && !presuppositions.is_empty() {
        let refuted = presuppositions
            .iter()
            .filter(|p| p.status == PresuppositionStatus::Refuted)
            .count();
        if refuted > 0 {
            format!(
                "The {kind_word} rests on {refuted} assumption{} that the sources contradict (confidence {:.2}); see below.",
                if refuted == 1 { "" } else { "s" },
                verdict.confidence
            )
        } else {
            format!(
                "The {kind_word} asks for information rather than asserting something; what it takes for granted is {} (confidence {:.2}).",
                verdict_phrase(verdict.label),
                verdict.confidence
            )
        }
    } else if texts.len() == 1 && a.statements.is_empty() {
        format!(
            "The {kind_word} asserts nothing that can be checked as such; the sources retrieved for it are summarised below."
        )
    } else {
        let what = if a.input_kind == InputKind::Question {
            "The question asks, in effect, whether"
        } else {
            "The claim that"
        };
        let joined = texts
            .iter()
            .map(|t| inline(t))
            .collect::<Vec<_>>()
            .join("; and ");
        if a.input_kind == InputKind::Question {
            format!(
                "{what} {joined}. That is {} (confidence {:.2}).",
                verdict_phrase(verdict.label),
                verdict.confidence
            )
        } else {
            format!(
                "{what} {joined} is {} (confidence {:.2}).",
                verdict_phrase(verdict.label),
                verdict.confidence
            )
        }
    };
    out.push(Item {
        text: lead,
        citations: vec![],
    });

    // 2. Statements drawn from the evidence.
    let mut closest_shown: Vec<(DocId, usize)> = Vec::new();
    for (text, v) in texts.iter().zip(checks) {
        let support = best(v, Stance::Support, 2);
        let refute = best(v, Stance::Refute, 2);
        if support.is_empty() && refute.is_empty() {
            let mut item = Item {
                text: format!(
                    "None of the sources clearly settles whether {}.",
                    inline(text)
                ),
                citations: vec![],
            };
            // The closest: the best-ranked source's best candidate sentence, if it addresses
            // the statement at all (an unrelated sentence is never quoted). A passage already
            // shown as the closest for an earlier statement is not repeated.
            let closest = v
                .evidence
                .iter()
                .filter(|e| e.relevant)
                .min_by_key(|e| e.source_rank)
                .filter(|e| !closest_shown.contains(&(e.doc_id.clone(), e.start)));
            if let Some(e) = closest {
                closest_shown.push((e.doc_id.clone(), e.start));
                let n = cites.cite(e, text);
                item.text.push_str(&format!(
                    " The closest, “{}”, says: {} [{n}]",
                    e.title,
                    quoted(&e.quote)
                ));
                item.citations.push(n);
            }
            out.push(item);
            continue;
        }
        for (stance_word, list) in [("supports", support), ("contradicts", refute)] {
            for e in list {
                let n = cites.cite(e, text);
                let about = if texts.len() > 1 {
                    format!(" that {}", inline(text))
                } else {
                    String::new()
                };
                // A refutation says what in the quote contradicts the claim, when the judge
                // could name it ("it says Paris, not Berlin").
                let why = match &e.contrast {
                    Some(c) if e.stance == Stance::Refute => format!(" It {c}."),
                    _ => String::new(),
                };
                out.push(Item {
                    text: format!(
                        "“{}” {stance_word} the statement{about}: {} [{n}]{why}",
                        e.title,
                        quoted(&e.quote)
                    ),
                    citations: vec![n],
                });
            }
        }
    }
}

fn missing_context(
    out: &mut Vec<Item>,
    cites: &mut Citations,
    texts: &[String],
    checks: &[&Verification],
    presuppositions: &[PresuppositionCheck],
) {
    for (text, v) in texts.iter().zip(checks) {
        let support = best(v, Stance::Support, 1);
        let refute = best(v, Stance::Refute, 1);
        if let (Some(s), Some(r)) = (support.first(), refute.first()) {
            let (ns, nr) = (cites.cite(s, text), cites.cite(r, text));
            out.push(Item {
                text: format!(
                    "Sources conflict on whether {}: “{}” supports it ({}) [{ns}], while “{}” contradicts it ({}) [{nr}].",
                    inline(text),
                    s.title,
                    quoted(&s.quote),
                    r.title,
                    quoted(&r.quote)
                ),
                citations: vec![ns, nr],
            });
        }
        // Related context: what the best-ranked sources say that bears on neither side.
        let mut shown = 0;
        for e in v
            .evidence
            .iter()
            .filter(|e| e.stance == Stance::Neutral && e.relevant)
        {
            if shown == 2 || e.source_rank > 2 {
                continue;
            }
            if cites
                .quotes
                .get(&e.doc_id)
                .is_some_and(|q| q.iter().any(|q| q.start == e.start))
            {
                continue;
            }
            let n = cites.cite(e, text);
            out.push(Item {
                text: format!(
                    "Related context from “{}”: {} [{n}]",
                    e.title,
                    quoted(&e.quote)
                ),
                citations: vec![n],
            });
            shown += 1;
        }
    }
    // Framings: which sources line up on which side, across everything checked.
    let mut for_side: Vec<usize> = Vec::new();
    let mut against_side: Vec<usize> = Vec::new();
    for v in checks {
        for e in v.evidence.iter().filter(|e| decisive(e)) {
            if let Some(i) = cites.order.iter().position(|d| *d == e.doc_id) {
                let side = if e.stance == Stance::Support {
                    &mut for_side
                } else {
                    &mut against_side
                };
                if !side.contains(&(i + 1)) {
                    side.push(i + 1);
                }
            }
        }
    }
    if !for_side.is_empty() && !against_side.is_empty() {
        let list = |v: &[usize]| {
            v.iter()
                .map(|n| format!("[{n}]"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut citations: Vec<usize> = for_side.iter().chain(&against_side).copied().collect();
        citations.sort_unstable();
        citations.dedup();
        out.push(Item {
            text: format!(
                "The sources frame it differently: {} read as supporting the statement, {} as contradicting it; who is right may depend on definitions, dates or scope the question leaves open.",
                list(&for_side),
                list(&against_side)
            ),
            citations,
        });
    }
    for p in presuppositions {
        if p.status == PresuppositionStatus::Unsupported {
            out.push(Item {
                text: format!(
                    "No source covers whether {}. The answer depends on it, so treat any answer as incomplete.",
                    inline(&p.text)
                ),
                citations: vec![],
            });
        }
    }
    if out.is_empty() {
        out.push(Item {
            text: "No conflicting or missing context was found among the sources retrieved; the knowledge base may still lack sources that would add it.".into(),
            citations: vec![],
        });
    }
}

fn misinformation_bias(
    out: &mut Vec<Item>,
    cites: &mut Citations,
    a: &Analysis,
    kind_word: &str,
    presuppositions: &[PresuppositionCheck],
    checks: &[&Verification],
) {
    for (p, v) in presuppositions.iter().zip(checks) {
        let mut citations = Vec::new();
        let status = match p.status {
            PresuppositionStatus::Holds => "Sources support this",
            PresuppositionStatus::Refuted => "Sources contradict this, so the wording may mislead",
            PresuppositionStatus::Disputed => "Sources disagree on this",
            PresuppositionStatus::Unsupported => {
                "No source supports or contradicts it, so it is an unverified assumption"
            }
        };
        let mut text = format!(
            "The {kind_word} assumes that {} ({}). {status}",
            inline(&p.text),
            trigger_phrase(p.trigger)
        );
        let quote = match p.status {
            PresuppositionStatus::Holds => best(v, Stance::Support, 1),
            PresuppositionStatus::Refuted => best(v, Stance::Refute, 1),
            PresuppositionStatus::Disputed => {
                let mut both = best(v, Stance::Support, 1);
                both.extend(best(v, Stance::Refute, 1));
                both
            }
            PresuppositionStatus::Unsupported => vec![],
        };
        for e in quote {
            let n = cites.cite(e, &p.text);
            text.push_str(&format!(": {} [{n}]", quoted(&e.quote)));
            citations.push(n);
        }
        if !text.ends_with(']') {
            text.push('.');
        }
        out.push(Item { text, citations });
    }
    for span in &a.loaded_language {
        out.push(Item {
            text: format!(
                "“{}” (characters {}–{}) is {}.",
                span.text,
                span.start,
                span.end,
                category_phrase(span.category)
            ),
            citations: vec![],
        });
    }
    if let Some(reason) = &a.checkability_reason {
        out.push(Item {
            text: format!("The {kind_word} is not a checkable statement of fact: {reason}."),
            citations: vec![],
        });
    }
    if out.is_empty() {
        out.push(Item {
            text: format!("No presupposition or loaded wording was found in the {kind_word}."),
            citations: vec![],
        });
    }
}

/// Questions as text, each ending in "?".
fn as_question_about(statement: &str) -> String {
    format!("Is it true that {}?", inline(statement))
}

fn follow_ups(
    statements: &[StatementCheck],
    presuppositions: &[PresuppositionCheck],
    input: &ReportInput<'_>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let push = |q: String, out: &mut Vec<String>| {
        if out.len() < 5 && !out.contains(&q) {
            out.push(q);
        }
    };
    // Unresolved assumptions first: they are what the input leaves open.
    for p in presuppositions
        .iter()
        .filter(|p| p.status != PresuppositionStatus::Holds)
    {
        push(as_question_about(&p.text), &mut out);
    }
    for s in statements {
        match s.verdict.label {
            VerdictLabel::NotEnoughEvidence => push(
                format!("Which sources document whether {}?", inline(&s.text)),
                &mut out,
            ),
            VerdictLabel::Mixed => push(
                format!("Why do sources disagree about whether {}?", inline(&s.text)),
                &mut out,
            ),
            VerdictLabel::Refuted => push(
                format!(
                    "What do the sources say instead of the claim that {}?",
                    inline(&s.text)
                ),
                &mut out,
            ),
            VerdictLabel::Supported => {}
        }
    }
    // Then the subjects of the best-ranked sources: what the input is about.
    for v in &input.statements {
        for e in v
            .evidence
            .iter()
            .filter(|e| e.source_rank == 0 && e.relevant)
        {
            push(
                format!("What else is documented about {}?", e.title),
                &mut out,
            );
        }
    }
    for p in presuppositions {
        push(as_question_about(&p.text), &mut out);
    }
    for v in &input.presuppositions {
        for e in v
            .evidence
            .iter()
            .filter(|e| e.source_rank == 0 && e.relevant)
        {
            if out.len() < 3 {
                push(
                    format!("What else is documented about {}?", e.title),
                    &mut out,
                );
            }
        }
    }
    // Only when fewer than three remain: questions any statement raises about its origin.
    let texts = statements
        .iter()
        .map(|s| &s.text)
        .chain(presuppositions.iter().map(|p| &p.text));
    for text in texts {
        for template in [
            "When and where was it first reported that {}?",
            "Who has an interest in the claim that {}?",
            "What do primary sources say about whether {}?",
        ] {
            if out.len() < 3 {
                push(template.replace("{}", &inline(text)), &mut out);
            }
        }
    }
    out
}

/// Every way the report breaks the grounding invariant: a citation that names no listed source,
/// or a quote that is not exactly the stored text between its offsets. `stored_text` returns
/// the stored text of a document of a knowledge base.
pub fn grounding_violations(
    report: &Report,
    mut stored_text: impl FnMut(&str, &DocId) -> Option<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let listed: Vec<usize> = report.sources.iter().map(|s| s.n).collect();
    let mut cited: Vec<(String, &Vec<usize>)> = Vec::new();
    for (name, items) in [
        ("summary", &report.sections.summary),
        ("missing_context", &report.sections.missing_context),
        ("misinformation_bias", &report.sections.misinformation_bias),
    ] {
        for item in items {
            cited.push((format!("{name}: {}", item.text), &item.citations));
            // Every [n] written in the text is also a citation of the item (quotes, which may
            // contain brackets of their own, are left out of the scan).
            let mut text = item.text.clone();
            for q in report.sources.iter().flat_map(|s| &s.evidence) {
                text = text.replace(q.quote.trim(), "");
            }
            for n in bracketed_numbers(&text) {
                if !item.citations.contains(&n) {
                    problems.push(format!(
                        "{name}: [{n}] in the text is not among the item's citations"
                    ));
                }
            }
        }
    }
    for s in &report.statements {
        cited.push((format!("statement: {}", s.text), &s.citations));
    }
    for p in &report.presuppositions {
        cited.push((format!("presupposition: {}", p.text), &p.citations));
    }
    for (what, citations) in cited {
        for n in citations {
            if !listed.contains(n) {
                problems.push(format!("{what}: citation [{n}] is not a listed source"));
            }
        }
    }
    for (i, s) in report.sources.iter().enumerate() {
        if s.n != i + 1 {
            problems.push(format!("source {} is numbered {}", i + 1, s.n));
        }
        let Some(text) = stored_text(&s.kb, &s.doc_id) else {
            problems.push(format!("source [{}] {} is not stored", s.n, s.doc_id));
            continue;
        };
        for e in &s.evidence {
            if text.get(e.start..e.end) != Some(e.quote.as_str()) {
                problems.push(format!(
                    "source [{}] {}: the quote at {}..{} is not the stored text",
                    s.n, s.doc_id, e.start, e.end
                ));
            }
        }
    }
    problems
}

/// The numbers written as `[n]` in a text.
fn bracketed_numbers(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        if let Some(close) = rest.find(']') {
            if let Ok(n) = rest[..close].parse::<usize>() {
                out.push(n);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_numbers_are_found() {
        assert_eq!(bracketed_numbers("a [1] b [12] c [x] [3"), vec![1, 12]);
    }

    #[test]
    fn statements_read_inline() {
        assert_eq!(inline("The earth is flat."), "the earth is flat");
        assert_eq!(inline("Einstein failed math."), "Einstein failed math");
    }

    #[test]
    fn any_refuted_statement_refutes_the_whole() {
        let v = |label, confidence| ReportVerdict {
            label,
            confidence,
            rating: 3,
        };
        let got = combine(&[
            v(VerdictLabel::Supported, 0.9),
            v(VerdictLabel::Refuted, 0.7),
        ]);
        assert_eq!(got.unwrap().label, VerdictLabel::Refuted);
        let got = combine(&[
            v(VerdictLabel::Supported, 0.9),
            v(VerdictLabel::Supported, 0.6),
        ]);
        assert_eq!(got.unwrap().confidence, 0.6);
        assert!(combine(&[]).is_none());
    }
}
