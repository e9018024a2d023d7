//! `factually claims` (the check-worthy claims of a text), `factually train checkworthy` and
//! `factually eval checkworthy` (ClaimBuster).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use factually_claims::{
    balanced_threshold, CheckWorthiness, WorthinessMeta, CHECK_WORTHINESS, MAX_TEXT_BYTES,
};
use factually_eval::checkworthy::{balanced_held_out, read_claimbuster, score, training, Sentence};
use factually_stance::train::{fine_tune, Example, TrainConfig};
use indicatif::ProgressBar;

use crate::output::print_json;
use crate::runtime::{bar_style, now_rfc3339, Context};
use crate::{CmdResult, Failure, Format};

#[derive(Args, Debug)]
pub struct ClaimsArgs {
    /// A text, Markdown, HTML or PDF file; `-` reads plain text from standard input.
    #[arg(
        value_name = "FILE",
        required_unless_present = "url",
        conflicts_with = "url"
    )]
    input: Option<PathBuf>,
    /// A web page instead of a file, fetched through the same guarded fetcher as web sources.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Let the fetcher reach loopback and private network addresses.
    #[arg(long, env = "FACTUALLY_ALLOW_PRIVATE_HOSTS")]
    allow_private_hosts: bool,
    /// Show at most N claims (all that pass the threshold when not given).
    #[arg(long, value_name = "N")]
    top: Option<usize>,
    /// Keep sentences whose check-worthiness is at least this (default: the model's own).
    #[arg(long, value_name = "P")]
    threshold: Option<f32>,
    /// A check-worthiness artifact from `factually train checkworthy` (`NAME.safetensors`,
    /// with `NAME.json` beside it) instead of the built-in.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// ClaimBuster's labelled sentences (`train.json`: `[{sentence_id, label, text}]`).
    #[arg(long, value_name = "FILE")]
    claimbuster: PathBuf,
    /// Where to write the weights; the description goes beside them with a .json extension.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "crates/claims/model/checkworthy.safetensors"
    )]
    out: PathBuf,
    #[command(flatten)]
    fine_tune: crate::train_cmd::FineTuneArgs,
    /// Add the first two sentences of N encyclopedia articles (chosen by a hash of their
    /// titles) as check-worthy: plain factual statements ("The Eiffel Tower is in Paris"),
    /// which debates rarely make and an article check must find.
    #[arg(long, default_value_t = 0, value_name = "N")]
    encyclopedia: usize,
    /// Add claim-sized statements cut from the first sentences of N encyclopedia articles,
    /// each as stated and with one name, year or number swapped, as check-worthy.
    #[arg(long, default_value_t = 0, value_name = "N")]
    encyclopedia_claims: usize,
    /// Files whose claims' articles are kept out of the encyclopedia sentences: JSON lines with
    /// an `article` field (the plain-claims suite).
    #[arg(long, value_name = "FILE")]
    exclude: Vec<PathBuf>,
}

/// Encyclopedia sentences added as check-worthy by `--encyclopedia N`: the first two
/// candidate sentences of N articles taken in sha256-of-title order, none whose title an
/// evaluation claim names; with `--encyclopedia-claims M`, also the claim-sized prefix of the
/// first sentence of M articles and the same with one name, year or number swapped (a short
/// claim, true or false, is as check-worthy as a long one).
fn encyclopedia_sentences(ctx: &Context, args: &TrainArgs) -> Result<Vec<String>, Failure> {
    if args.encyclopedia == 0 && args.encyclopedia_claims == 0 {
        return Ok(Vec::new());
    }
    let excluded = crate::judge_train::excluded_articles(&args.exclude)?;
    let dir = ctx.cache.ensure(&factually_assets::WIKI_OFFLINE)?;
    let documents: Vec<factually_core::Document> =
        factually_kb::default_kb::read_summaries(&dir, &now_rfc3339())?
            .into_iter()
            .filter(|d| !excluded.contains(&d.meta.title.to_lowercase()))
            .collect();
    let mut articles: Vec<(String, &str)> = documents
        .iter()
        .map(|d| {
            (
                factually_core::sha256_hex(d.meta.title.as_bytes()),
                d.text.as_str(),
            )
        })
        .collect();
    articles.sort();
    let mut out: Vec<String> = articles
        .iter()
        .take(args.encyclopedia)
        .flat_map(|(_, text)| {
            factually_claims::candidates(text)
                .into_iter()
                .take(2)
                .map(|c| c.text)
        })
        .collect();
    if args.encyclopedia_claims > 0 {
        let wiki: std::collections::HashMap<String, factually_core::Document> = documents
            .into_iter()
            .map(|d| (d.meta.title.to_lowercase(), d))
            .collect();
        for c in factually_eval::training::encyclopedia_swap_claims(
            &wiki,
            args.encyclopedia_claims,
            &excluded,
        ) {
            out.push(c.original);
            out.push(c.swapped);
        }
    }
    Ok(out)
}

/// What `factually eval checkworthy` reads.
pub struct EvalArgs {
    /// ClaimBuster's labelled sentences (`train.json`).
    pub claims: PathBuf,
    /// A check-worthiness artifact instead of the built-in one.
    pub model: Option<PathBuf>,
}

/// The fine-tuning settings the bundled classifier was trained with: the base model's lower
/// four layers of six (the network scores a 5,000-word text in under 2 s on 2 cores, at the
/// six-layer network's F1), the two lowest kept as they are, three epochs, sentences cut at 96
/// word pieces (debate sentences are shorter).
fn checkworthy_defaults() -> TrainConfig {
    TrainConfig {
        frozen_layers: 2,
        layers: Some(4),
        epochs: 3,
        max_tokens: 96,
        ..TrainConfig::default()
    }
}

fn load_model(ctx: &Context, path: Option<&Path>) -> Result<CheckWorthiness, Failure> {
    match path {
        None => Ok(CheckWorthiness::bundled(&ctx.cache).map_err(anyhow::Error::from)?),
        Some(path) => CheckWorthiness::from_file(&ctx.cache, path)
            .map_err(|e| Failure::usage(format!("{}: {e}", path.display()))),
    }
}

/// Where a text to find claims in comes from.
pub enum TextSource<'a> {
    /// A text, Markdown, HTML or PDF file (through the `kb add` readers).
    File(&'a Path),
    /// Plain UTF-8 text on standard input.
    Stdin,
    /// A web page through the guarded fetcher.
    Url {
        url: &'a str,
        allow_private_hosts: bool,
    },
}

/// A text read for `claims` or a document check.
pub struct Text {
    /// The file name, "standard input" or the page's title.
    pub title: String,
    /// The page's address (for a page).
    pub url: Option<String>,
    pub text: String,
}

/// Reads a text: a file through the ingest readers, a page through the fetcher, or standard
/// input. Empty, binary, many-record and oversized inputs are refused with a clear message.
pub fn read_text(ctx: &Context, source: TextSource<'_>) -> Result<Text, Failure> {
    let (title, url, text) = match source {
        TextSource::Url {
            url,
            allow_private_hosts,
        } => {
            let page = crate::web::PageFetcher::new(ctx, allow_private_hosts)?
                .fetch(url)
                .map_err(|e| Failure::usage(format!("{url}: {e}")))?;
            let doc = factually_fetch::to_document(&page)
                .map_err(|e| Failure::usage(format!("{url}: {e}")))?;
            (doc.title, Some(page.url.to_string()), doc.text)
        }
        TextSource::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(MAX_TEXT_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| Failure::usage(format!("reading standard input: {e}")))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Failure::usage("standard input is not UTF-8 text"))?;
            ("standard input".to_string(), None, text)
        }
        TextSource::File(path) => {
            let outcome = factually_ingest::read_file(path, &now_rfc3339())
                .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
            let mut documents = outcome.documents.into_iter();
            match (documents.next(), documents.next()) {
                (Some(doc), None) => (path.display().to_string(), None, doc.text),
                (None, _) => {
                    return Err(Failure::usage(format!("{}: no text in it", path.display())))
                }
                (Some(_), Some(_)) => {
                    return Err(Failure::usage(format!(
                        "{}: a file of many records; give one text, Markdown, HTML or PDF file",
                        path.display()
                    )))
                }
            }
        }
    };
    if text.len() > MAX_TEXT_BYTES {
        return Err(Failure::usage(format!(
            "the text is {:.1} MB; at most {} MB is read",
            text.len() as f64 / 1e6,
            MAX_TEXT_BYTES >> 20
        )));
    }
    if text.trim().is_empty() {
        return Err(Failure::usage("the input has no text"));
    }
    Ok(Text { title, url, text })
}

pub fn run_claims(ctx: &Context, args: ClaimsArgs) -> CmdResult {
    let model = load_model(ctx, args.model.as_deref())?;
    let threshold = args.threshold.unwrap_or(model.meta.threshold);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(Failure::usage("--threshold must be between 0 and 1"));
    }
    let source = match (&args.input, &args.url) {
        (_, Some(url)) => TextSource::Url {
            url,
            allow_private_hosts: args.allow_private_hosts,
        },
        (Some(path), None) if path.as_os_str() == "-" => TextSource::Stdin,
        (Some(path), None) => TextSource::File(path),
        (None, None) => return Err(Failure::usage("give a FILE, `-` or --url")),
    };
    let Text { title, text, .. } = read_text(ctx, source)?;
    let started = Instant::now();
    let found = model.find(&text, threshold).map_err(anyhow::Error::from)?;
    let mut claims = found.claims;
    let total = claims.len();
    if let Some(top) = args.top {
        claims.truncate(top);
    }
    let elapsed = started.elapsed().as_secs_f64();
    match ctx.format {
        Format::Json => print_json(&serde_json::json!({
            "title": title,
            "sentences": found.sentences,
            "threshold": threshold,
            "claims_found": total,
            "claims": claims,
            "seconds": elapsed,
        })),
        Format::Text => {
            let out = &mut std::io::stdout().lock();
            let _ = writeln!(
                out,
                "{title}: {total} check-worthy claims in {} sentences{}",
                found.sentences,
                if claims.len() < total {
                    format!(" (the first {} shown)", claims.len())
                } else {
                    String::new()
                }
            );
            for c in &claims {
                let _ = writeln!(out, "\n{:>2}. [{:.2}] {}", c.rank, c.score, c.claim);
                if c.claim != c.sentence {
                    let _ = writeln!(out, "    as written: {}", c.sentence);
                }
                let _ = write!(out, "    bytes {}..{}", c.start, c.end);
                for [s, e] in &c.also_at {
                    let _ = write!(out, ", also {s}..{e}");
                }
                let _ = writeln!(out);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Scores sentences in chunks under a progress bar.
fn score_all(model: &CheckWorthiness, texts: &[&str]) -> Result<Vec<f32>, Failure> {
    let bar = ProgressBar::new(texts.len() as u64).with_style(bar_style("sentences"));
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(64) {
        out.extend(model.score(chunk).map_err(anyhow::Error::from)?);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(out)
}

fn texts<'a>(sentences: &[&'a Sentence]) -> Vec<&'a str> {
    sentences.iter().map(|s| s.text.as_str()).collect()
}

/// The source name of ClaimBuster's sentences among the training examples.
const CLAIMBUSTER: &str = "claimbuster";

pub fn run_train(ctx: &Context, args: TrainArgs) -> CmdResult {
    let bytes = std::fs::read(&args.claimbuster)
        .map_err(|e| Failure::usage(format!("{}: {e}", args.claimbuster.display())))?;
    let all = read_claimbuster(&args.claimbuster)?;
    let train = training(&all);
    let test = balanced_held_out(&all);
    let data_sha256 = factually_core::sha256_hex(&bytes);
    let example = |text: &str, worthy: bool, source: &str| Example {
        first: text.to_string(),
        second: String::new(),
        label: usize::from(worthy),
        source: source.to_string(),
    };
    let mut examples: Vec<Example> = train
        .iter()
        .map(|s| example(&s.text, s.check_worthy(), CLAIMBUSTER))
        .collect();
    let encyclopedia = encyclopedia_sentences(ctx, &args)?;
    examples.extend(
        encyclopedia
            .iter()
            .map(|text| example(text, true, "encyclopedia")),
    );
    let config = args.fine_tune.config(checkworthy_defaults());
    let checkpoints = args.fine_tune.checkpoints(&args.out);
    eprintln!(
        "factually: fine-tuning the check-worthiness classifier on {} sentences",
        examples.len()
    );
    let bar = ProgressBar::new(0);
    let done = fine_tune(
        &ctx.cache,
        examples,
        CHECK_WORTHINESS,
        &config,
        &args.out,
        Some(&checkpoints),
        &|e| crate::train_cmd::fine_tune_progress(&bar, &checkpoints, e),
    )
    .map_err(anyhow::Error::from)?;
    bar.finish_and_clear();
    // The threshold comes from the ClaimBuster sentences of the training run's own held-out
    // slice, never from the sentences the figure is measured on. The encyclopedia sentences
    // held out with them are left out: easy positives that would pull it up.
    let scored: Vec<(f32, bool)> = done
        .held_out
        .iter()
        .filter(|h| h.source == CLAIMBUSTER)
        .map(|h| (h.probabilities[1], h.label == 1))
        .collect();
    let threshold = balanced_threshold(&scored);
    let positives = train.iter().filter(|s| s.check_worthy()).count();
    let mut meta = WorthinessMeta {
        threshold,
        classifier: done.meta,
        training: serde_json::Value::Null,
    };
    let meta_path = args.out.with_extension("json");
    let write_meta = |meta: &WorthinessMeta| -> Result<(), Failure> {
        let text = serde_json::to_string_pretty(meta).map_err(anyhow::Error::from)?;
        std::fs::write(&meta_path, text + "\n")
            .map_err(|e| Failure::from(anyhow::anyhow!("{}: {e}", meta_path.display())))
    };
    write_meta(&meta)?;
    let model = CheckWorthiness::from_file(&ctx.cache, &args.out).map_err(anyhow::Error::from)?;
    let predicted: Vec<bool> = score_all(&model, &texts(&test))?
        .into_iter()
        .map(|p| p >= threshold)
        .collect();
    let held_out = score(&test, &predicted);
    meta.training = serde_json::json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "data": {
            "file": args.claimbuster.display().to_string(),
            "sha256": data_sha256,
            "sentences": all.len(),
        },
        "train_sentences": train.len(),
        "train_check_worthy": positives,
        "encyclopedia": {
            "articles": args.encyclopedia,
            "claim_articles": args.encyclopedia_claims,
            "sentences": encyclopedia.len(),
            "excluded": args.exclude.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "package": format!("{}=={}", factually_assets::WIKI_OFFLINE.name, factually_assets::WIKI_OFFLINE.version),
        },
        "threshold_note": "the best F1 with classes weighted equally on the ClaimBuster sentences of the fine-tuning run's held-out slice",
        "held_out": held_out,
        "held_out_note": "balanced: every held-out check-worthy sentence and as many others (sentence ids hashing to 0 mod 5 are never trained on)",
        "trained_on": now_rfc3339(),
    });
    write_meta(&meta)?;
    match ctx.format {
        Format::Json => print_json(&meta.training),
        Format::Text => {
            println!("wrote {} (+ .json)", args.out.display());
            println!(
                "trained on {} sentences ({positives} check-worthy) and {} encyclopedia sentences; threshold {threshold:.2}; held out (balanced, n={}): precision {:.3}, recall {:.3}, F1 {:.3}, accuracy {:.3}",
                train.len(),
                encyclopedia.len(),
                held_out.n,
                held_out.precision,
                held_out.recall,
                held_out.f1,
                held_out.accuracy
            );
            let t = &meta.classifier.training;
            println!(
                "time: {:.0} s encoding, {:.0} s training",
                t["cache_seconds"].as_f64().unwrap_or(0.0),
                t["train_seconds"].as_f64().unwrap_or(0.0)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_eval(ctx: &Context, args: EvalArgs) -> CmdResult {
    let model = load_model(ctx, args.model.as_deref())?;
    let all = read_claimbuster(&args.claims)?;
    let test = balanced_held_out(&all);
    let everything: Vec<&Sentence> = all.iter().collect();
    let started = Instant::now();
    let predicted: Vec<bool> = score_all(&model, &texts(&everything))?
        .into_iter()
        .map(|p| p >= model.meta.threshold)
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    let held: std::collections::HashSet<u64> = test.iter().map(|s| s.sentence_id).collect();
    let (test_predicted, test_sentences): (Vec<bool>, Vec<&Sentence>) = predicted
        .iter()
        .zip(&everything)
        .filter(|(_, s)| held.contains(&s.sentence_id))
        .map(|(p, s)| (*p, *s))
        .unzip();
    let held_out = score(&test_sentences, &test_predicted);
    let all_scores = score(&everything, &predicted);
    match ctx.format {
        Format::Json => print_json(&serde_json::json!({
            "dataset": "claimbuster",
            "held_out_balanced": held_out,
            "all_sentences": all_scores,
            "all_sentences_note": "four fifths of these were trained on",
            "sentences_per_second": everything.len() as f64 / seconds.max(1e-9),
        })),
        Format::Text => {
            let line = |name: &str, s: &factually_eval::checkworthy::Scores| {
                println!(
                    "{name:<34} n={:<5} precision {:.3}  recall {:.3}  F1 {:.3}  accuracy {:.3}",
                    s.n, s.precision, s.recall, s.f1, s.accuracy
                )
            };
            line("held out, balanced (the figure)", &held_out);
            line("all sentences (4/5 trained on)", &all_scores);
            println!(
                "{:.0} sentences/s",
                everything.len() as f64 / seconds.max(1e-9)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
