//! `factually factchecks import` and `factually match`: a collection of published fact-checks
//! (ClaimReview), kept as a knowledge base of its own, and the search that asks "has this been
//! checked already?".

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Subcommand};
use factually_core::Document;
use factually_embed::Embedder;
use factually_engine::{match_fact_checks, FACTCHECKS_KB};
use factually_ingest::claimreview::{
    claim_reviews, claim_reviews_in_html, read_claim_reviews, FactCheck,
};
use factually_kb::KbName;
use serde_json::json;

use crate::output::print_json;
use crate::runtime::{now_rfc3339, Context};
use crate::{CmdResult, Failure, Format};

#[derive(Subcommand, Debug)]
pub enum FactchecksCommand {
    /// Add published fact-checks: ClaimReview JSON (one review, an array, or a DataFeed),
    /// JSON lines, HTML pages that embed ClaimReview JSON-LD, or pages by --url. Importing the
    /// same fact-check again changes nothing.
    Import {
        #[arg(value_name = "FILE")]
        paths: Vec<PathBuf>,
        /// A fact-check page to fetch (repeatable), through the guarded fetcher.
        #[arg(long, value_name = "URL")]
        url: Vec<String>,
        /// Let the fetcher reach loopback and private network addresses.
        #[arg(long, env = "FACTUALLY_ALLOW_PRIVATE_HOSTS")]
        allow_private_hosts: bool,
        /// The knowledge base that holds the fact-checks.
        #[arg(long, default_value = FACTCHECKS_KB)]
        kb: String,
    },
}

#[derive(Args, Debug)]
pub struct MatchArgs {
    /// The claim to look for; `-` reads it from standard input.
    claim: String,
    /// Number of fact-checks to list.
    #[arg(short, long, default_value_t = 5)]
    k: usize,
    /// The knowledge base that holds the fact-checks.
    #[arg(long, default_value = FACTCHECKS_KB)]
    kb: String,
}

pub fn run(ctx: &Context, command: FactchecksCommand) -> CmdResult {
    match command {
        FactchecksCommand::Import {
            paths,
            url,
            allow_private_hosts,
            kb,
        } => import(ctx, &paths, &url, allow_private_hosts, &KbName::parse(&kb)?),
    }
}

fn import(
    ctx: &Context,
    paths: &[PathBuf],
    urls: &[String],
    allow_private_hosts: bool,
    name: &KbName,
) -> CmdResult {
    if paths.is_empty() && urls.is_empty() {
        return Err(Failure::usage(
            "give fact-check files or --url pages to import",
        ));
    }
    let started = Instant::now();
    let retrieved_at = now_rfc3339();
    let mut documents: Vec<Document> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let mut take = |checks: Vec<FactCheck>, origin: &str| {
        documents.extend(
            checks
                .iter()
                .map(|c| Document::new(c.to_document(origin), retrieved_at.clone())),
        );
    };
    let (files, unreadable) = factually_ingest::collect_files(paths);
    failed.extend(unreadable.iter().map(|(_, e)| e.to_string()));
    for path in &files {
        match read_claim_reviews(path) {
            Ok((checks, more)) => {
                take(checks, &path.display().to_string());
                problems.extend(more);
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    if !urls.is_empty() {
        let pages = crate::web::PageFetcher::new(ctx, allow_private_hosts)?;
        for url in urls {
            match pages.fetch(url) {
                Ok(page) => {
                    let (checks, more) = if page.media_type.contains("json") {
                        match serde_json::from_slice(&page.body) {
                            Ok(value) => claim_reviews(&value),
                            Err(e) => (Vec::new(), vec![format!("not JSON: {e}")]),
                        }
                    } else {
                        claim_reviews_in_html(&String::from_utf8_lossy(&page.body))
                    };
                    if checks.is_empty() && more.is_empty() {
                        problems.push(format!("{url}: no ClaimReview on the page"));
                    }
                    take(checks, url);
                    problems.extend(more.into_iter().map(|p| format!("{url}: {p}")));
                }
                Err(e) => failed.push(format!("{url}: {e}")),
            }
        }
    }
    let found = documents.len();
    let stats = if documents.is_empty() {
        None
    } else {
        let kb = crate::kb_cmd::open_or_create(ctx, name, false)?;
        let embedder = ctx.embedder_for(&kb)?;
        let mut writer = kb.writer_waiting(|| {
            eprintln!(
                "factually: another process is writing to knowledge base {name}; waiting for it to finish"
            )
        })?;
        let stats = writer.add(
            documents,
            embedder.as_deref().map(|e| e as &dyn Embedder),
            |_| {},
        )?;
        writer.commit()?;
        Some(stats)
    };
    let (added, unchanged, replaced) = stats
        .map(|s| (s.added, s.unchanged, s.replaced))
        .unwrap_or_default();
    match ctx.format {
        Format::Json => print_json(&json!({
            "kb": name.as_str(),
            "fact_checks": found,
            "added": added,
            "unchanged": unchanged,
            "replaced": replaced,
            "problems": problems,
            "failed": failed,
            "seconds": started.elapsed().as_secs_f64(),
        })),
        Format::Text => {
            println!(
                "{found} fact-check(s) read into knowledge base {name}: {added} added, {unchanged} unchanged, {replaced} replaced."
            );
            for p in &problems {
                println!("skipped: {p}");
            }
            for f in &failed {
                println!("failed: {f}");
            }
        }
    }
    if found == 0 {
        return Err(Failure {
            code: 1,
            error: anyhow::anyhow!(
                "no fact-check could be imported ({})",
                failed
                    .iter()
                    .chain(&problems)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        });
    }
    if !problems.is_empty() || !failed.is_empty() {
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_match(ctx: &Context, args: MatchArgs) -> CmdResult {
    let claim = crate::kb_cmd::query_text(&args.claim)?;
    if !(1..=100).contains(&args.k) {
        return Err(Failure::usage("-k must be between 1 and 100"));
    }
    let name = KbName::parse(&args.kb)?;
    let Some(matches) = match_fact_checks(&ctx.data, &ctx.embedders, &name, &claim, args.k)? else {
        return Err(Failure {
            code: 1,
            error: anyhow::anyhow!(
                "no fact-checks in knowledge base {name} yet: add some with `factually factchecks import FILE`"
            ),
        });
    };
    match ctx.format {
        Format::Json => {
            print_json(&json!({"claim": claim, "kb": name.as_str(), "matches": matches}))
        }
        Format::Text => {
            let out = &mut std::io::stdout().lock();
            if matches.is_empty() {
                let _ = writeln!(out, "No published fact-check in {name} matches.");
            }
            for (i, m) in matches.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{}. {}{}\n   {}: {}{}{}",
                    i + 1,
                    m.claim,
                    m.similarity
                        .map(|s| format!(" (similarity {s:.2})"))
                        .unwrap_or_default(),
                    m.publisher.as_deref().unwrap_or("unknown publisher"),
                    m.rating.as_deref().unwrap_or("no rating"),
                    m.published
                        .as_deref()
                        .map(|d| format!(", {d}"))
                        .unwrap_or_default(),
                    m.url
                        .as_deref()
                        .map(|u| format!("\n   {u}"))
                        .unwrap_or_default(),
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
