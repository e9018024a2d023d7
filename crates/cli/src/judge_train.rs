//! `factually train judge`: fits the judge's relevance gate and stance classifier.
//!
//! The examples are what the judge will see in use: each training claim goes through the real
//! pipeline (retrieval, sentence selection, the stance model), and every sentence it judged is
//! labelled from what is known about the claim:
//! Relevance means "about what the claim is about": every sentence of the claim's own document
//! (its article, its gold abstract) is relevant, every sentence of another document is not.
//! - **encyclopedia claims** (`--encyclopedia N`): a claim cut from an article's first sentence
//!   (SUPPORT) and the same with one name, year or number swapped (REFUTE), made from articles
//!   that no evaluation claim is about (`--exclude`). The first sentence carries the claim's
//!   stance; the article's other sentences are relevant and neutral; other articles' are
//!   irrelevant (for a swapped claim, the article about the swapped-in name is left out: it
//!   may well refute it).
//! - **Check-COVID train** claims against the Check-COVID corpus: rationale sentences of the
//!   gold abstract carry the claim's label (an insufficient rationale is neutral); its other
//!   sentences are relevant and neutral; other abstracts' are irrelevant.
//! - **SNLI** pairs the stance model was not trained on (`--snli-skip`): relevant, with their
//!   inference label.
//!
//! The scored examples can be written out (`--examples-out`) and read back (`--examples`), so
//! that fitting variants (ablations) costs seconds, not another pass of the stance model.

use factually_embed::Embedder;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use factually_assets::WIKI_OFFLINE;
use factually_core::{sha256_hex, Stance, StanceProbs};
use factually_eval::datasets;
use factually_eval::training::{encyclopedia_swap_claims, snli_subset};
use factually_kb::{KbName, KnowledgeBase};
use factually_verify::judge::{features, fit, Example, FitConfig};
use factually_verify::{Judge, JudgeMode, JudgeModel, Verifier, VerifyOptions};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::runtime::{bar_style, now_rfc3339, Context};
use crate::{CmdResult, Failure, Format};

#[derive(Args, Debug)]
pub struct JudgeArgs {
    /// Synthetic claims from N encyclopedia articles (each gives a true and a swapped claim).
    #[arg(long, default_value_t = 600, value_name = "N")]
    encyclopedia: usize,
    /// Files whose claims' articles are kept out of the encyclopedia claims: JSON lines with an
    /// `article` field (the plain-claims suite) or FEVER's `evidence_pages`.
    #[arg(long, value_name = "FILE")]
    exclude: Vec<PathBuf>,
    /// Check-COVID training claims (train.jsonl); needs --check-covid-corpus.
    #[arg(long, value_name = "FILE", requires = "check_covid_corpus")]
    check_covid_train: Option<PathBuf>,
    /// Check-COVID abstracts (corpus.jsonl).
    #[arg(long, value_name = "FILE")]
    check_covid_corpus: Option<PathBuf>,
    /// SNLI pairs in its jsonl release format.
    #[arg(long, value_name = "FILE")]
    snli: Option<PathBuf>,
    /// SNLI pairs to use.
    #[arg(long, default_value_t = 3000)]
    snli_pairs: usize,
    /// SNLI pairs to skip first, in hash order: the ones the stance model was trained on.
    #[arg(long, default_value_t = 15000)]
    snli_skip: usize,
    /// Read scored examples from FILE instead of scoring claims.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["check_covid_train", "snli"])]
    examples: Option<PathBuf>,
    /// Write the scored examples to FILE (JSON lines).
    #[arg(long, value_name = "FILE")]
    examples_out: Option<PathBuf>,
    /// Fit only on examples of these sources (encyclopedia, check-covid, snli); all by default.
    #[arg(long, value_delimiter = ',')]
    sources: Vec<String>,
    /// A sentence is relevant when the gate's probability is at least this (0.25: of 0.15, 0.25
    /// and 0.35, the best held-out relevance accuracy on the training examples; the gate only
    /// turns away what is clearly about something else; see docs/verification.md).
    #[arg(long, default_value_t = 0.25)]
    relevance_threshold: f32,
    /// The stance model whose readings the judge learns from (`bundled`, or a candidate artifact
    /// from `factually train stance`, a directory or a hub id): a judge is fitted to one model's
    /// probabilities and ships with it.
    #[arg(long, value_name = "bundled|FILE|DIR|HUB-ID")]
    stance_model: Option<PathBuf>,
    /// The stance model's own share of a relevant sentence's stance, beside the fitted
    /// classifier's (0.5: of 0, 0.25, 0.5 and 0.75, the best FEVER-wiki training-half accuracy
    /// with the all-layer stance model; the classifier alone is fitted on synthetic claims and
    /// distrusts the model on real ones; see docs/verification.md).
    #[arg(long, default_value_t = 0.5, value_parser = share)]
    model_share: f32,
    /// The stance model's share instead when the checks name the detail that differs (a
    /// swapped name, number or year, a reversed superlative, another ordinal), where the
    /// classifier sees what the model misses (0: of 0, 0.25 and 0.5, the best plain-suite
    /// figures, FEVER-wiki's training half unchanged; see docs/verification.md).
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    contrast_model_share: f32,
    /// Where to write the judge artifact.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "crates/verify/model/judge.json"
    )]
    out: PathBuf,
}

fn share(value: &str) -> Result<f32, String> {
    match value.parse::<f32>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{value} is not a share between 0 and 1")),
    }
}

/// One scored, labelled (claim, sentence) pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Scored {
    source: String,
    claim: String,
    sentence: String,
    title: String,
    stance: Stance,
    relevant: bool,
    model: StanceProbs,
}

pub fn run(ctx: &Context, args: JudgeArgs) -> CmdResult {
    let mut inputs: Vec<serde_json::Value> = Vec::new();
    if let Some(path) = args.stance_model.as_deref().filter(|p| p.is_file()) {
        inputs.push(file_record(path)?);
    }
    let mut scored: Vec<Scored> = match &args.examples {
        Some(path) => {
            inputs.push(file_record(path)?);
            read_examples(path)?
        }
        None => score_examples(ctx, &args, &mut inputs)?,
    };
    add_negations(ctx, &args, &mut scored)?;
    if let Some(path) = &args.examples_out {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        );
        for s in &scored {
            serde_json::to_writer(&mut f, s)?;
            f.write_all(b"\n")?;
        }
        f.flush()?;
    }
    let chosen: Vec<&Scored> = scored
        .iter()
        .filter(|s| {
            let family = s.source.split('-').next().unwrap_or_default().to_string();
            args.sources.is_empty()
                || args.sources.contains(&s.source)
                || args.sources.contains(&family)
        })
        .collect();
    if chosen.is_empty() {
        return Err(Failure::usage(
            "no training examples: give --encyclopedia, --check-covid-train or --snli (or --examples)",
        ));
    }
    // A tenth of the claims (by hash) is held out to report how well each part generalises.
    let held = |s: &Scored| sha256_hex(s.claim.as_bytes()).as_bytes()[0].is_multiple_of(10);
    let example = |s: &Scored| Example {
        features: features(
            &s.model,
            &factually_analyze::contrast::compare(&s.claim, &s.sentence, &s.title),
        ),
        stance: s.stance,
        relevant: s.relevant,
        weight: 1.0,
    };
    let mut train: Vec<Example> = chosen
        .iter()
        .filter(|s| !held(s))
        .map(|s| example(s))
        .collect();
    // Each family of sources weighs the same in the fit, whatever its size: Check-COVID's
    // retrieval brings tens of thousands of irrelevant sentences, the encyclopedia claims a few
    // thousand pairs, and neither kind of claim should drown the other. A family is the source
    // name before its first '-': the 219 negated encyclopedia claims are part of the
    // encyclopedia's share, not a share of their own (weighed as a third source, each of them
    // counted as much as 28 encyclopedia pairs; docs/verification.md has what that cost).
    let family = |s: &Scored| s.source.split('-').next().unwrap_or_default().to_string();
    let mut per_family: HashMap<String, usize> = HashMap::new();
    for s in chosen.iter().filter(|s| !held(s)) {
        *per_family.entry(family(s)).or_default() += 1;
    }
    let mean = train.len() as f32 / per_family.len().max(1) as f32;
    for (e, s) in train.iter_mut().zip(chosen.iter().filter(|s| !held(s))) {
        e.weight = mean / per_family[&family(s)] as f32;
    }
    let test: Vec<(&Scored, Example)> = chosen
        .iter()
        .filter(|s| held(s))
        .map(|s| (*s, example(s)))
        .collect();
    let config = FitConfig::default();
    let mut model = fit(&train, config, args.relevance_threshold);
    model.model_share = args.model_share;
    model.contrast_model_share = Some(args.contrast_model_share);
    let judge = Judge {
        model: model.clone(),
        mode: JudgeMode::Full,
    };
    let held_out = held_out_scores(&judge.model, &test, args.relevance_threshold);
    let mut counts: HashMap<String, HashMap<String, usize>> = HashMap::new();
    for s in &chosen {
        let key = format!(
            "{}{}",
            stance_name(s.stance),
            if s.relevant { "" } else { " (irrelevant)" }
        );
        *counts
            .entry(s.source.clone())
            .or_default()
            .entry(key)
            .or_default() += 1;
    }
    model.training = serde_json::json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "inputs": inputs,
        "examples_by_source": counts,
        "train_examples": train.len(),
        "held_out_examples": test.len(),
        "held_out": held_out,
        "fit": config,
        "trained_on": now_rfc3339(),
    });
    let text = serde_json::to_string_pretty(&model)?;
    std::fs::write(&args.out, text + "\n")
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
    match ctx.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&model.training)?),
        Format::Text => {
            println!("wrote {}", args.out.display());
            println!(
                "{} examples ({} trained on, {} held out)",
                chosen.len(),
                train.len(),
                test.len()
            );
            println!("held out: {}", serde_json::to_string(&held_out)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Negated encyclopedia claims: for every supported one ("Paris is the capital of France"),
/// the claim with its first verb negated ("Paris is not the capital of France") against the
/// same sentence is REFUTE. The swaps teach names, years and numbers; without these the
/// classifier read "The measles vaccine does not cause autism" as support for "The measles
/// vaccine causes autism" (every word matches). Added once: examples already holding them are
/// left as they are.
fn add_negations(ctx: &Context, args: &JudgeArgs, scored: &mut Vec<Scored>) -> Result<(), Failure> {
    const SOURCE: &str = "encyclopedia-negation";
    if scored.iter().any(|s| s.source == SOURCE) {
        return Ok(());
    }
    let made: Vec<Scored> = scored
        .iter()
        .filter(|s| s.source == "encyclopedia" && s.relevant && s.stance == Stance::Support)
        .filter_map(|s| {
            negate(&s.claim).map(|claim| Scored {
                source: SOURCE.into(),
                claim,
                stance: Stance::Refute,
                ..s.clone()
            })
        })
        .collect();
    if made.is_empty() {
        return Ok(());
    }
    let stance = stance_model(ctx, args)?;
    let pairs: Vec<(&str, &str)> = made
        .iter()
        .map(|s| (s.claim.as_str(), s.sentence.as_str()))
        .collect();
    let probs = stance.score(&pairs)?;
    scored.extend(
        made.into_iter()
            .zip(probs)
            .map(|(s, model)| Scored { model, ..s }),
    );
    Ok(())
}

/// The claim with "not" after its first form of "be" or "have" ("is" -> "is not"), or `None`
/// when it has none or is negated already.
fn negate(claim: &str) -> Option<String> {
    use factually_analyze::words::words;
    let ws = words(claim);
    if ws
        .iter()
        .any(|w| matches!(w.lower.as_str(), "not" | "no" | "never") || w.lower.ends_with("n't"))
    {
        return None;
    }
    let verb = ws.iter().find(|w| {
        matches!(
            w.lower.as_str(),
            "is" | "are" | "was" | "were" | "has" | "have" | "had"
        )
    })?;
    Some(format!("{} not{}", &claim[..verb.end], &claim[verb.end..]))
}

fn stance_name(s: Stance) -> &'static str {
    match s {
        Stance::Support => "support",
        Stance::Refute => "refute",
        Stance::Neutral => "neutral",
    }
}

/// Accuracy of the relevance gate, and 3-way accuracy of the judge against the stance model
/// alone, on held-out examples (an irrelevant example's right answer is neutral).
fn held_out_scores(
    model: &JudgeModel,
    test: &[(&Scored, Example)],
    threshold: f32,
) -> serde_json::Value {
    if test.is_empty() {
        return serde_json::Value::Null;
    }
    let n = test.len() as f64;
    let mut relevance_right = 0.0;
    let mut judge_right = 0.0;
    let mut model_right = 0.0;
    for (s, e) in test {
        let relevant = model.relevance(&e.features) >= threshold;
        if relevant == s.relevant {
            relevance_right += 1.0;
        }
        let want = if s.relevant {
            s.stance
        } else {
            Stance::Neutral
        };
        let judged = if relevant {
            model.stance_given(&e.features, s.model).stance()
        } else {
            Stance::Neutral
        };
        if judged == want {
            judge_right += 1.0;
        }
        if s.model.stance() == want {
            model_right += 1.0;
        }
    }
    serde_json::json!({
        "relevance_accuracy": relevance_right / n,
        "judge_accuracy": judge_right / n,
        "stance_model_accuracy": model_right / n,
    })
}

fn file_record(path: &Path) -> anyhow::Result<serde_json::Value> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(serde_json::json!({
        "file": path.display().to_string(),
        "sha256": sha256_hex(&bytes),
    }))
}

fn read_examples(path: &Path) -> Result<Vec<Scored>, Failure> {
    let f = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .map_err(|e| Failure::usage(format!("{} line {}: {e}", path.display(), i + 1)))?,
        );
    }
    Ok(out)
}

/// Lower-cased article titles that evaluation claims are about.
pub(crate) fn excluded_articles(paths: &[PathBuf]) -> Result<HashSet<String>, Failure> {
    let mut out = HashSet::new();
    for path in paths {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| Failure::usage(format!("{} line {}: {e}", path.display(), i + 1)))?;
            if let Some(a) = v["article"].as_str() {
                out.insert(a.to_lowercase());
            }
            for p in v["evidence_pages"].as_array().into_iter().flatten() {
                if let Some(p) = p.as_str() {
                    out.insert(p.replace('_', " ").to_lowercase());
                }
            }
        }
    }
    Ok(out)
}

/// The stance model named by `--stance-model` (the bundled one by default); the LLM judge is
/// refused: its readings are not probabilities a judge can be fitted to.
fn stance_model(ctx: &Context, args: &JudgeArgs) -> Result<factually_stance::StanceModel, Failure> {
    let choice = factually_engine::StanceChoice::parse(args.stance_model.as_deref());
    if choice == factually_engine::StanceChoice::Llm {
        return Err(Failure::usage(
            "--stance-model llm: a judge is fitted to a trained model's probabilities; name bundled, an artifact, a directory or a hub id",
        ));
    }
    Ok(factually_engine::load_stance(&ctx.cache, &choice, None)?)
}

fn score_examples(
    ctx: &Context,
    args: &JudgeArgs,
    inputs: &mut Vec<serde_json::Value>,
) -> Result<Vec<Scored>, Failure> {
    let stance = stance_model(ctx, args)?;
    // The stance model alone, every sentence kept: the judge learns from its raw readings.
    let raw = Judge {
        model: JudgeModel::bundled()?,
        mode: JudgeMode::Model,
    };
    let mut out = Vec::new();
    let excluded = excluded_articles(&args.exclude)?;
    for p in &args.exclude {
        inputs.push(file_record(p)?);
    }
    if args.encyclopedia > 0 {
        let mut wiki = HashMap::new();
        let dir = ctx.cache.ensure(&WIKI_OFFLINE)?;
        for doc in factually_kb::default_kb::read_summaries(&dir, &now_rfc3339())? {
            wiki.insert(doc.meta.title.to_lowercase(), doc);
        }
        inputs.push(serde_json::json!({
            "package": format!("{}=={}", WIKI_OFFLINE.name, WIKI_OFFLINE.version),
            "sha256": WIKI_OFFLINE.sha256,
            "excluded_articles": excluded.len(),
        }));
        let claims = encyclopedia_swap_claims(&wiki, args.encyclopedia, &excluded);
        let kb = ctx.open_kb(&KbName::parse(factually_kb::default_kb::DEFAULT_KB)?)?;
        let kb_embedder = ctx.embedder_for(&kb)?;
        let verifier = Verifier {
            kb: &kb,
            embedder: kb_embedder.as_deref().map(|e| e as &dyn Embedder),
            stance: &stance,
            judge: &raw,
            options: VerifyOptions::default(),
        };
        let bar =
            ProgressBar::new(claims.len() as u64).with_style(bar_style("encyclopedia claims"));
        for c in &claims {
            let doc = &wiki[&c.key];
            let first = &doc.text[c.first_sentence.0..c.first_sentence.1];
            for (claim, label) in [(&c.original, Stance::Support), (&c.swapped, Stance::Refute)] {
                let v = verifier.verify(claim)?;
                let mut saw_first = false;
                for e in &v.evidence {
                    let gold = e.title.to_lowercase() == c.key;
                    let about_replacement = label == Stance::Refute
                        && (e.title.contains(&c.replacement) || c.replacement.contains(&e.title));
                    if about_replacement && !gold {
                        continue;
                    }
                    let is_first = gold && e.quote == first;
                    saw_first |= is_first;
                    out.push(Scored {
                        source: "encyclopedia".into(),
                        claim: claim.clone(),
                        sentence: e.quote.clone(),
                        title: e.title.clone(),
                        stance: if is_first { label } else { Stance::Neutral },
                        relevant: gold,
                        model: e.model_probabilities,
                    });
                }
                if !saw_first {
                    let model = stance.score(&[(claim.as_str(), first)])?[0];
                    out.push(Scored {
                        source: "encyclopedia".into(),
                        claim: claim.clone(),
                        sentence: first.to_string(),
                        title: doc.meta.title.clone(),
                        stance: label,
                        relevant: true,
                        model,
                    });
                }
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
    }
    if let (Some(claims_path), Some(corpus_path)) =
        (&args.check_covid_train, &args.check_covid_corpus)
    {
        inputs.push(file_record(claims_path)?);
        inputs.push(file_record(corpus_path)?);
        let claims = datasets::check_covid_claims(claims_path, false)?.items;
        let corpus = datasets::check_covid_corpus(corpus_path)?;
        let kb: KnowledgeBase = crate::verify_cmd::corpus_kb(ctx, corpus_path)?;
        let kb_embedder = ctx.embedder_for(&kb)?;
        let verifier = Verifier {
            kb: &kb,
            embedder: kb_embedder.as_deref().map(|e| e as &dyn Embedder),
            stance: &stance,
            judge: &raw,
            options: VerifyOptions::default(),
        };
        let bar = ProgressBar::new(claims.len() as u64).with_style(bar_style("Check-COVID claims"));
        let mut cord_of: HashMap<factually_core::DocId, Option<String>> = HashMap::new();
        for c in &claims {
            let label = match c.label.as_str() {
                "SUPPORT" => Stance::Support,
                "REFUTE" => Stance::Refute,
                _ => Stance::Neutral,
            };
            let rationale: Vec<&str> = corpus
                .get(&c.cord_id)
                .map(|a| {
                    c.evidence_sentences
                        .iter()
                        .filter_map(|&i| a.sentences.get(i).map(|s| s.trim()))
                        .collect()
                })
                .unwrap_or_default();
            let v = verifier.verify(&c.claim)?;
            let mut seen: HashSet<&str> = HashSet::new();
            for e in &v.evidence {
                let cord = cord_of
                    .entry(e.doc_id.clone())
                    .or_insert_with(|| {
                        kb.document(&e.doc_id)
                            .ok()
                            .flatten()
                            .and_then(|d| d.meta.external_id)
                    })
                    .clone();
                let gold = cord.as_deref() == Some(c.cord_id.as_str());
                let in_rationale = rationale.iter().filter(|_| gold).find(|r| {
                    !r.is_empty() && (e.quote.contains(**r) || r.contains(e.quote.trim()))
                });
                if let Some(r) = in_rationale {
                    seen.insert(r);
                }
                out.push(Scored {
                    source: "check-covid".into(),
                    claim: c.claim.clone(),
                    sentence: e.quote.clone(),
                    title: e.title.clone(),
                    stance: if in_rationale.is_some() {
                        label
                    } else {
                        Stance::Neutral
                    },
                    relevant: gold,
                    model: e.model_probabilities,
                });
            }
            let title = corpus
                .get(&c.cord_id)
                .map(|a| a.title.clone())
                .unwrap_or_default();
            let missing: Vec<&str> = rationale
                .iter()
                .filter(|r| !r.is_empty() && !seen.contains(**r))
                .copied()
                .collect();
            let pairs: Vec<(&str, &str)> = missing.iter().map(|r| (c.claim.as_str(), *r)).collect();
            for (r, model) in missing.iter().zip(stance.score(&pairs)?) {
                out.push(Scored {
                    source: "check-covid".into(),
                    claim: c.claim.clone(),
                    sentence: r.to_string(),
                    title: title.clone(),
                    stance: label,
                    relevant: true,
                    model,
                });
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
    }
    if let Some(path) = &args.snli {
        inputs.push(file_record(path)?);
        let pairs = snli_subset(path, args.snli_skip, args.snli_pairs)?;
        let bar = ProgressBar::new(pairs.len() as u64).with_style(bar_style("SNLI pairs"));
        for chunk in pairs.chunks(64) {
            let texts: Vec<(&str, &str)> = chunk
                .iter()
                .map(|p| (p.claim.as_str(), p.evidence.as_str()))
                .collect();
            for (p, model) in chunk.iter().zip(stance.score(&texts)?) {
                out.push(Scored {
                    source: "snli".into(),
                    claim: p.claim.clone(),
                    sentence: p.evidence.clone(),
                    title: String::new(),
                    stance: p.label,
                    relevant: true,
                    model,
                });
            }
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
    }
    Ok(out)
}
