//! `factually kb ...` and `factually search`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use factually_core::DocId;
use factually_embed::Embedder;
use factually_kb::default_kb::DEFAULT_KB;
use factually_kb::{DenseScope, KbConfig, KbName, KnowledgeBase, RetrievalMode, SearchOptions};
use indicatif::ProgressBar;
use serde_json::json;

use crate::output::{print_json, wrap};
use crate::runtime::{bar_style, now_rfc3339, Context};
use crate::{CmdResult, Failure, Format};

/// Queries longer than this are refused: they are documents, not questions.
pub const MAX_QUERY_BYTES: usize = 1 << 20;

#[derive(Subcommand, Debug)]
pub enum KbCommand {
    /// Add files or directories (.txt .md .html .pdf .jsonl .json), recursively. Re-adding the
    /// same content changes nothing; a changed file replaces its older version.
    Add {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Knowledge base to add to (created if missing).
        #[arg(long, default_value = DEFAULT_KB)]
        kb: String,
        /// Skip dense vectors for a new knowledge base (BM25 only; much faster ingest).
        #[arg(long)]
        no_dense: bool,
    },
    /// Documents, passages, vectors, size and models of a knowledge base.
    Stats {
        #[arg(long, default_value = DEFAULT_KB)]
        kb: String,
    },
    /// Print a stored document's text byte for byte (metadata with --format json).
    Show {
        doc_id: String,
        /// Look only in this knowledge base (default: every knowledge base of the data dir).
        #[arg(long)]
        kb: Option<String>,
    },
    /// List the knowledge bases of the data directory.
    List,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// What to look for; `-` reads it from standard input.
    pub query: String,
    /// Number of passages.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    #[arg(long, default_value = DEFAULT_KB)]
    pub kb: String,
    /// Retrieval mode.
    #[arg(long, value_enum, default_value_t = Mode::Hybrid)]
    pub mode: Mode,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mode {
    Hybrid,
    Bm25,
    Dense,
}

impl From<Mode> for RetrievalMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Hybrid => RetrievalMode::Hybrid,
            Mode::Bm25 => RetrievalMode::Bm25,
            Mode::Dense => RetrievalMode::Dense,
        }
    }
}

pub fn run_kb(ctx: &Context, cmd: KbCommand) -> CmdResult {
    match cmd {
        KbCommand::Add {
            paths,
            kb,
            no_dense,
        } => add(ctx, &paths, &KbName::parse(&kb)?, no_dense),
        KbCommand::Stats { kb } => stats(ctx, &KbName::parse(&kb)?),
        KbCommand::Show { doc_id, kb } => show(ctx, &doc_id, kb.as_deref()),
        KbCommand::List => list(ctx),
    }
}

fn add(ctx: &Context, paths: &[PathBuf], name: &KbName, no_dense: bool) -> CmdResult {
    let started = Instant::now();
    let kb = open_or_create(ctx, name, no_dense)?;
    // Documents added later are embedded with the model the knowledge base was built with.
    let kb_embedder = ctx.embedder_for(&kb)?;
    let embedder = kb_embedder.as_deref().map(|e| e as &dyn Embedder);

    let (files, mut failures) = factually_ingest::collect_files(paths);
    let bar = ProgressBar::new(files.len() as u64).with_style(bar_style("reading"));
    // Another `kb add` (or `serve` storing web snapshots) may be writing: wait for it.
    let mut writer = kb.writer_waiting(|| {
        bar.suspend(|| {
            eprintln!(
                "factually: another process is writing to knowledge base {name}; waiting for it to finish"
            )
        })
    })?;
    let mut totals = factually_kb::AddStats::default();
    let mut warnings = Vec::new();
    let retrieved_at = now_rfc3339();
    for path in &files {
        bar.set_message(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        match factually_ingest::read_file(path, &retrieved_at) {
            Ok(outcome) => {
                warnings.extend(outcome.warnings);
                let stats = writer.add(outcome.documents, embedder, |_| bar.tick())?;
                totals.added += stats.added;
                totals.unchanged += stats.unchanged;
                totals.replaced += stats.replaced;
                totals.passages += stats.passages;
                totals.embedded += stats.embedded;
            }
            Err(e) => failures.push((path.clone(), e)),
        }
        bar.inc(1);
    }
    writer.commit()?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    match ctx.format {
        Format::Json => print_json(&json!({
            "kb": name.as_str(),
            "files": files.len(),
            "added": totals.added,
            "unchanged": totals.unchanged,
            "replaced": totals.replaced,
            "passages": totals.passages,
            "embedded": totals.embedded,
            "warnings": warnings,
            "failed": failures.iter().map(|(p, e)| json!({"path": p.display().to_string(), "error": e.to_string()})).collect::<Vec<_>>(),
            "seconds": seconds,
        })),
        Format::Text => {
            println!(
                "{} file(s) read into knowledge base {name}: {} document(s) added, {} unchanged, {} replaced; {} passage(s), {} embedded ({seconds:.1} s).",
                files.len(), totals.added, totals.unchanged, totals.replaced, totals.passages, totals.embedded
            );
            for w in &warnings {
                println!("warning: {w}");
            }
            for (p, e) in &failures {
                println!("skipped {}: {e}", p.display());
            }
        }
    }
    if !failures.is_empty() {
        if totals.added + totals.unchanged == 0 {
            let list: Vec<String> = failures
                .iter()
                .map(|(p, e)| format!("{}: {e}", p.display()))
                .collect();
            return Err(Failure {
                code: 1,
                error: anyhow::anyhow!("no input could be read ({})", list.join("; ")),
            });
        }
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

/// The knowledge base `name`, created (with dense vectors of the chosen embedder unless
/// `no_dense`) when it does not exist yet.
pub fn open_or_create(
    ctx: &Context,
    name: &KbName,
    no_dense: bool,
) -> anyhow::Result<KnowledgeBase> {
    Ok(if name.as_str() == DEFAULT_KB || ctx.data.has_kb(name) {
        ctx.open_kb(name)?
    } else {
        let new_embedder = if no_dense {
            None
        } else {
            Some(ctx.embedder()?)
        };
        let scope = if no_dense {
            DenseScope::None
        } else {
            DenseScope::AllPassages
        };
        KnowledgeBase::create(
            &ctx.data.kb_dir(name),
            KbConfig::new(
                scope,
                new_embedder.as_deref().map(|e| e as &dyn Embedder),
                now_rfc3339(),
            ),
        )?
    })
}

fn stats(ctx: &Context, name: &KbName) -> CmdResult {
    let kb = ctx.open_kb(name)?;
    let s = kb.stats()?;
    match ctx.format {
        Format::Json => {
            let mut v = serde_json::to_value(&s)?;
            v["kb"] = json!(name.as_str());
            v["path"] = json!(kb.dir().display().to_string());
            // How the model is loaded for every search: where it comes from, its pooling and
            // prefixes (null for the bundled model).
            v["embedder"] = json!(kb.config().embedder);
            print_json(&v)
        }
        Format::Text => {
            println!("knowledge base  {name} ({})", kb.dir().display());
            println!("documents       {}", s.documents);
            println!(
                "passages        {} (windows of {} sentences, stride {})",
                s.passages, s.passage_window, s.passage_stride
            );
            println!("vectors         {} ({:?})", s.vectors, s.dense);
            println!(
                "embedding model {}",
                s.model.as_deref().unwrap_or("none (BM25 only)")
            );
            println!("size on disk    {:.1} MB", s.bytes_on_disk as f64 / 1e6);
            println!("created         {}", s.created_at);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(ctx: &Context, doc_id: &str, kb: Option<&str>) -> CmdResult {
    let id = DocId::parse(doc_id.trim()).ok_or_else(|| {
        Failure::usage(format!(
            "{doc_id:?} is not a document id (16 hex digits, as printed by `search`)"
        ))
    })?;
    let kb = kb.map(KbName::parse).transpose()?;
    if kb.as_ref().is_some_and(|k| k.as_str() == DEFAULT_KB)
        || (kb.is_none() && ctx.data.list().is_empty())
    {
        ctx.default_kb()?;
    }
    let Some((found_in, doc)) = ctx.data.find_document(&id, kb.as_ref())? else {
        return Err(Failure {
            code: 1,
            error: anyhow::anyhow!("no document {id} in {}", ctx.data.root().display()),
        });
    };
    match ctx.format {
        Format::Json => {
            let mut v = serde_json::to_value(&doc.meta)?;
            v["kb"] = json!(found_in.as_str());
            v["text"] = json!(doc.text);
            print_json(&v)
        }
        // Byte for byte: no trailing newline added, nothing re-encoded.
        Format::Text => {
            let mut out = std::io::stdout().lock();
            out.write_all(doc.text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(ctx: &Context) -> CmdResult {
    let names: Vec<String> = ctx.data.list().iter().map(|n| n.to_string()).collect();
    match ctx.format {
        Format::Json => print_json(&json!({ "knowledge_bases": names })),
        Format::Text => names.iter().for_each(|n| println!("{n}")),
    }
    Ok(ExitCode::SUCCESS)
}

/// The query text: the argument, or standard input when it is `-` (read at most one byte
/// past the limit, so an endless stream cannot exhaust memory).
pub fn query_text(arg: &str) -> Result<String, Failure> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let mut buf = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::io::stdin().lock(), MAX_QUERY_BYTES as u64 + 1),
        &mut buf,
    )?;
    String::from_utf8(buf)
        .map_err(|_| Failure::usage("the query on standard input is not valid UTF-8"))
}

pub fn run_search(ctx: &Context, mut args: SearchArgs) -> CmdResult {
    args.query = query_text(&args.query)?;
    if args.query.trim().is_empty() {
        return Err(Failure::usage("empty query: type some words to search for"));
    }
    if args.query.len() > MAX_QUERY_BYTES {
        return Err(Failure::usage(format!(
            "the query is {} bytes; queries are limited to {MAX_QUERY_BYTES} bytes (add long texts with `kb add`)",
            args.query.len()
        )));
    }
    if args.k == 0 || args.k > 1000 {
        return Err(Failure::usage("-k must be between 1 and 1000"));
    }
    let name = KbName::parse(&args.kb)?;
    let kb = ctx.open_kb(&name)?;
    let kb_embedder = match args.mode {
        Mode::Bm25 => None,
        _ => ctx.embedder_for(&kb)?,
    };
    let embedder = kb_embedder.as_deref().map(|e| e as &dyn Embedder);
    let started = Instant::now();
    let opts = SearchOptions {
        k: args.k,
        mode: args.mode.into(),
        ..Default::default()
    };
    let hits = kb.search(&args.query, &opts, embedder)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match ctx.format {
        Format::Json => print_json(&json!({
            "query": args.query,
            "kb": name.as_str(),
            "mode": RetrievalMode::from(args.mode),
            "hits": hits,
            "timings_ms": { "search": ms },
        })),
        Format::Text => {
            if hits.is_empty() {
                println!("No passages match.");
            }
            for (i, h) in hits.iter().enumerate() {
                println!(
                    "{:>2}. {}  [{} bytes {}..{}]  score {:.4}",
                    i + 1,
                    h.title,
                    h.doc_id,
                    h.start,
                    h.end,
                    h.score
                );
                for line in wrap(&h.text, 76) {
                    println!("    {line}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
