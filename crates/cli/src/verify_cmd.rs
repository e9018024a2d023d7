//! `factually verify` (claim in, verdict and evidence out) and `factually eval` (benchmarks).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use factually_eval::datasets;
use factually_eval::run::{self, EvalOptions, EvalReport};
use factually_kb::{DenseScope, KbConfig, KbName, KnowledgeBase};
use factually_stance::StanceModel;
use factually_verify::{Verification, Verifier, VerifyOptions};
use indicatif::ProgressBar;

use crate::output::{print_json, wrap};
use crate::runtime::{bar_style, now_rfc3339, Context};
use crate::{CmdResult, Failure, Format};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The claim to check; `-` reads it from standard input.
    claim: String,
    /// Knowledge base to search.
    #[arg(long, default_value = factually_kb::default_kb::DEFAULT_KB)]
    kb: String,
    /// Documents taken from retrieval.
    #[arg(long, default_value_t = VerifyOptions::default().documents)]
    documents: usize,
    /// Use this stance artifact (from `factually train stance`) instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    stance_model: Option<PathBuf>,
}

fn read_claim(arg: &str) -> Result<String, Failure> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(factually_verify::MAX_CLAIM_BYTES as u64 * 4 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("reading the claim from stdin: {e}")))?;
    String::from_utf8(bytes).map_err(|_| Failure::usage("the claim on stdin is not UTF-8"))
}

pub fn run_verify(ctx: &Context, args: VerifyArgs) -> CmdResult {
    let claim = read_claim(&args.claim)?;
    factually_verify::validate_claim(&claim)?;
    let name = KbName::parse(&args.kb)?;
    let kb = ctx.open_kb(&name)?;
    let stance = load_stance(ctx, args.stance_model.as_deref())?;
    let verifier = Verifier {
        kb: &kb,
        embedder: ctx.embedder_for(&kb)?,
        stance: &stance,
        options: VerifyOptions {
            documents: args.documents.clamp(1, 50),
            ..VerifyOptions::default()
        },
    };
    let v = verifier.verify(&claim)?;
    match ctx.format {
        Format::Json => print_json(&v),
        Format::Text => print_verification(&v),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_verification(v: &Verification) {
    let out = &mut std::io::stdout().lock();
    let _ = writeln!(out, "Claim: {}", v.claim);
    let _ = writeln!(
        out,
        "Verdict: {} (confidence {:.2}, rating {}/5)",
        v.verdict.label, v.verdict.confidence, v.verdict.rating
    );
    let decisive: Vec<_> = v
        .evidence
        .iter()
        .filter(|e| e.stance != factually_core::Stance::Neutral)
        .collect();
    if decisive.is_empty() {
        let _ = writeln!(
            out,
            "\nNo sentence in the top sources takes a side on the claim."
        );
    } else {
        let _ = writeln!(out, "\nEvidence:");
        for (i, e) in decisive.iter().enumerate() {
            let stance = match e.stance {
                factually_core::Stance::Support => "supports",
                factually_core::Stance::Refute => "refutes",
                factually_core::Stance::Neutral => "neutral",
            };
            let _ = writeln!(
                out,
                "[{}] {stance} ({:.2}) {}, doc {} bytes {}..{}",
                i + 1,
                e.probability,
                e.title,
                e.doc_id,
                e.start,
                e.end
            );
            for line in wrap(&format!("\"{}\"", e.quote), 92) {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let t = &v.timings_ms;
    let _ = writeln!(
        out,
        "\n{:.0} ms (retrieve {:.0}, select {:.0}, stance {:.0})",
        t.total, t.retrieve, t.select, t.stance
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dataset {
    CheckCovid,
    FeverWiki,
    Averitec,
    LiarPlus,
    /// (QA)² questions: recall of the annotated questionable assumption (no retrieval).
    Qaqa,
    /// FalseQA questions: end-to-end checks, how often false premises are flagged.
    Falseqa,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Which benchmark the claims file belongs to.
    #[arg(value_enum)]
    dataset: Dataset,
    /// The claims file.
    #[arg(long, value_name = "FILE")]
    claims: PathBuf,
    /// check-covid: the abstracts (corpus.jsonl), ingested once into a cached knowledge base.
    #[arg(long, value_name = "FILE")]
    corpus: Option<PathBuf>,
    /// fever-wiki: the knowledge base to search.
    #[arg(long, default_value = factually_kb::default_kb::DEFAULT_KB)]
    kb: String,
    /// Score only the first N claims.
    #[arg(long)]
    limit: Option<usize>,
    /// Claims judged at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// check-covid, fever-wiki: documents taken from retrieval per claim.
    #[arg(long, default_value_t = VerifyOptions::default().documents)]
    documents: usize,
    /// check-covid, fever-wiki: candidate sentences judged per document.
    #[arg(long, default_value_t = VerifyOptions::default().sentences_per_document)]
    sentences_per_document: usize,
    /// Skip malformed lines (and count them) instead of failing on the first one.
    #[arg(long)]
    skip_bad: bool,
    /// Write one JSON line per claim (gold, prediction, verdict, evidence) to FILE.
    #[arg(long, value_name = "FILE")]
    predictions: Option<PathBuf>,
    /// Use this stance artifact (from `factually train stance`) instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    stance_model: Option<PathBuf>,
}

pub fn load_stance(ctx: &Context, artifact: Option<&Path>) -> Result<StanceModel, Failure> {
    Ok(match artifact {
        Some(path) => StanceModel::from_file(&ctx.cache, path)?,
        None => StanceModel::bundled(&ctx.cache)?,
    })
}

fn limited<T>(mut items: Vec<T>, limit: Option<usize>) -> Vec<T> {
    if let Some(n) = limit {
        items.truncate(n);
    }
    items
}

pub fn run_eval(ctx: &Context, args: EvalArgs) -> CmdResult {
    let options = EvalOptions {
        jobs: args.jobs.clamp(1, 16),
    };
    let verify_options = VerifyOptions {
        documents: args.documents.clamp(1, 50),
        sentences_per_document: args.sentences_per_document.clamp(1, 50),
        ..VerifyOptions::default()
    };
    let stance = load_stance(ctx, args.stance_model.as_deref())?;
    let bar = ProgressBar::new(0).with_style(bar_style("claims"));
    let tick = || bar.inc(1);
    let skipped: Vec<String>;
    let report: EvalReport = match args.dataset {
        Dataset::Qaqa | Dataset::Falseqa => {
            return run_presupposition_eval(ctx, &args, &stance);
        }
        Dataset::CheckCovid => {
            let corpus_path = args
                .corpus
                .as_deref()
                .ok_or_else(|| Failure::usage("check-covid needs --corpus FILE (the abstracts)"))?;
            let loaded = datasets::check_covid_claims(&args.claims, args.skip_bad)?;
            skipped = loaded.skipped;
            let claims = limited(loaded.items, args.limit);
            let corpus = datasets::check_covid_corpus(corpus_path)?;
            let kb = corpus_kb(ctx, corpus_path)?;
            let verifier = Verifier {
                kb: &kb,
                embedder: ctx.embedder_for(&kb)?,
                stance: &stance,
                options: verify_options,
            };
            bar.set_length(claims.len() as u64);
            run::check_covid(&claims, &corpus, &verifier, options, &tick)
        }
        Dataset::FeverWiki => {
            let loaded = datasets::fever_claims(&args.claims, args.skip_bad)?;
            skipped = loaded.skipped;
            let claims = limited(loaded.items, args.limit);
            let kb = ctx.open_kb(&KbName::parse(&args.kb)?)?;
            let verifier = Verifier {
                kb: &kb,
                embedder: ctx.embedder_for(&kb)?,
                stance: &stance,
                options: verify_options,
            };
            bar.set_length(claims.len() as u64);
            run::fever(&claims, &verifier, options, &tick)
        }
        Dataset::Averitec => {
            let loaded = datasets::averitec_claims(&args.claims, args.skip_bad)?;
            skipped = loaded.skipped;
            let claims = limited(loaded.items, args.limit);
            bar.set_length(claims.len() as u64);
            run::averitec(&claims, &stance, options, &tick)
        }
        Dataset::LiarPlus => {
            let loaded = datasets::liar_claims(&args.claims, args.skip_bad)?;
            skipped = loaded.skipped;
            let claims = limited(loaded.items, args.limit);
            bar.set_length(claims.len() as u64);
            run::liar_plus(&claims, &stance, options, &tick)
        }
    };
    bar.finish_and_clear();
    if let Some(path) = &args.predictions {
        write_predictions(path, &report)?;
    }
    match ctx.format {
        Format::Json => {
            let mut value = serde_json::to_value(&report)?;
            value["skipped_lines"] = serde_json::json!(skipped);
            value["stance_model"] = serde_json::json!({
                "weights_sha256": stance.meta().weights_sha256,
                "temperature": stance.meta().temperature,
            });
            print_json(&value);
        }
        Format::Text => print_report(&report, &skipped),
    }
    Ok(ExitCode::SUCCESS)
}

/// `eval qaqa` and `eval falseqa`: presupposition extraction and false-premise flags.
fn run_presupposition_eval(ctx: &Context, args: &EvalArgs, stance: &StanceModel) -> CmdResult {
    use factually_eval::presuppositions as p;
    let (value, predictions): (serde_json::Value, Vec<serde_json::Value>) = match args.dataset {
        Dataset::Qaqa => {
            let items = limited(p::read_qaqa(&args.claims)?, args.limit);
            let mut report = p::qaqa(&items);
            let predictions = std::mem::take(&mut report.predictions)
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?;
            (serde_json::to_value(&report)?, predictions)
        }
        _ => {
            let items = p::balanced(p::read_falseqa(&args.claims)?, args.limit);
            let kb = ctx.open_kb(&KbName::parse(&args.kb)?)?;
            let checker = factually_report::Checker {
                verifier: Verifier {
                    kb: &kb,
                    embedder: ctx.embedder_for(&kb)?,
                    stance,
                    options: VerifyOptions {
                        documents: args.documents.clamp(1, 50),
                        sentences_per_document: args.sentences_per_document.clamp(1, 50),
                        ..VerifyOptions::default()
                    },
                },
                kb_name: args.kb.clone(),
                search_kb: true,
                offered: factually_report::OfferedSources::default(),
            };
            let bar = ProgressBar::new(items.len() as u64).with_style(bar_style("questions"));
            let tick = || bar.inc(1);
            let checked_on = now_rfc3339()[..10].to_string();
            let mut report =
                p::falseqa(&items, &checker, &checked_on, args.jobs.clamp(1, 16), &tick);
            bar.finish_and_clear();
            let predictions = std::mem::take(&mut report.predictions)
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?;
            (serde_json::to_value(&report)?, predictions)
        }
    };
    if let Some(path) = &args.predictions {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        );
        for line in &predictions {
            writeln!(out, "{line}").map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        }
    }
    match ctx.format {
        Format::Json => print_json(&value),
        Format::Text => {
            let out = &mut std::io::stdout().lock();
            if let Some(map) = value.as_object() {
                for (k, v) in map {
                    let _ = writeln!(out, "{k:<28} {v}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_predictions(path: &Path, report: &EvalReport) -> Result<(), Failure> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
    );
    for p in &report.predictions {
        serde_json::to_writer(&mut out, p)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn print_report(r: &EvalReport, skipped: &[String]) {
    let out = &mut std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}: {} claims, accuracy {:.3}, macro-F1 {:.3}; held-out (never trained on) n={} accuracy {:.3}, macro-F1 {:.3}",
        r.dataset, r.n, r.accuracy, r.macro_f1, r.held_out.n, r.held_out.accuracy, r.held_out.macro_f1
    );
    let _ = writeln!(
        out,
        "\n{:<36} {:>9} {:>7} {:>7} {:>7}",
        "label", "precision", "recall", "F1", "gold n"
    );
    for l in &r.per_label {
        let _ = writeln!(
            out,
            "{:<36} {:>9.3} {:>7.3} {:>7.3} {:>7}",
            l.label, l.precision, l.recall, l.f1, l.support
        );
    }
    let _ = writeln!(
        out,
        "\nconfusion (rows gold, columns predicted, order as above):"
    );
    for (label, row) in r.labels.iter().zip(&r.confusion) {
        let cells: Vec<String> = row.iter().map(|c| format!("{c:>5}")).collect();
        let _ = writeln!(out, "{label:<36} {}", cells.join(""));
    }
    let _ = writeln!(
        out,
        "\ncalibration error (ECE, 10 bins): {:.3}",
        r.calibration_error
    );
    if r.extra.as_object().is_some_and(|o| !o.is_empty()) {
        let _ = writeln!(out, "extra: {}", r.extra);
    }
    let t = &r.stage_ms;
    let _ = writeln!(
        out,
        "speed: {:.1} s, {:.2} claims/s; per claim ms: retrieve {:.0}, select {:.0}, stance {:.0}, aggregate {:.1}, total {:.0}",
        r.seconds, r.claims_per_second, t.retrieve, t.select, t.stance, t.aggregate, t.total
    );
    let _ = writeln!(
        out,
        "latency per claim: p50 {:.0} ms, p95 {:.0} ms",
        r.latency_ms.p50, r.latency_ms.p95
    );
    if r.errors > 0 {
        let _ = writeln!(
            out,
            "{} claim(s) could not be judged (counted wrong); see --predictions",
            r.errors
        );
    }
    if !skipped.is_empty() {
        let _ = writeln!(out, "{} malformed line(s) skipped:", skipped.len());
        for s in skipped.iter().take(20) {
            let _ = writeln!(out, "  {s}");
        }
    }
}

/// The knowledge base holding a corpus file, built on first use and cached by the file's hash.
fn corpus_kb(ctx: &Context, corpus: &Path) -> Result<KnowledgeBase, Failure> {
    let bytes = std::fs::read(corpus).map_err(|e| anyhow::anyhow!("{}: {e}", corpus.display()))?;
    let hash = factually_core::sha256_hex(&bytes);
    let name = KbName::parse(&format!("eval-{}", &hash[..12]))?;
    let dir = ctx.data.kb_dir(&name);
    if dir.join("kb.json").is_file() {
        return Ok(KnowledgeBase::open(&dir)?);
    }
    eprintln!(
        "factually: indexing {} into knowledge base {name} (once; cached by content hash)",
        corpus.display()
    );
    let embedder = ctx.embedder()?;
    let staging = dir.with_extension("building");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .map_err(|e| anyhow::anyhow!("{}: {e}", staging.display()))?;
    }
    let outcome = factually_ingest::read_file(corpus, &now_rfc3339())?;
    {
        let kb = KnowledgeBase::create(
            &staging,
            KbConfig::new(DenseScope::AllPassages, Some(embedder), now_rfc3339()),
        )?;
        let bar = ProgressBar::new(0).with_style(bar_style("embedding"));
        let mut writer = kb.writer()?;
        writer.add(outcome.documents, Some(embedder), |_| bar.tick())?;
        writer.commit()?;
        bar.finish_and_clear();
    }
    std::fs::rename(&staging, &dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    Ok(KnowledgeBase::open(&dir)?)
}
