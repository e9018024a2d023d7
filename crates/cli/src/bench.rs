//! `factually bench retrieval`: build time, peak memory, query latency and retrieval quality.
//!
//! Builds are run as child processes of this same binary so that each one's wall time and
//! peak RSS (from `wait4`) is its own, not mixed with the benchmark's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context as _};
use clap::Subcommand;
use factually_core::FusionWeights;
use factually_embed::Embedder;
use factually_kb::{DataDir, KbName, KnowledgeBase, RetrievalMode, SearchOptions};
use serde::Serialize;
use serde_json::json;

use crate::output::print_json;
use crate::runtime::Context;
use crate::{CmdResult, Format};

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Check-COVID retrieval quality (recall@1/5/10 of the gold abstract) for BM25, dense and
    /// hybrid; build time and peak RSS for the Check-COVID and default knowledge bases; query latency.
    Retrieval {
        #[arg(long, default_value = "../shared/data/check-covid/corpus.jsonl")]
        corpus: PathBuf,
        #[arg(long, default_value = "../shared/data/check-covid/dev.jsonl")]
        claims: PathBuf,
        /// Claims used as queries for latency on the default KB.
        #[arg(long, default_value = "../shared/data/fever-wiki/dev.jsonl")]
        latency_queries: PathBuf,
        /// Reuse the data dir's default KB instead of timing a fresh build.
        #[arg(long)]
        skip_default_build: bool,
        /// Keep the Check-COVID KB in this directory and reuse it on later runs (its build is
        /// then timed only once); for trying fusion weights.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
        /// Fusion weight of the BM25 ranking.
        #[arg(long, default_value_t = FusionWeights::default().bm25)]
        bm25_weight: f64,
        /// Fusion weight of the dense ranking.
        #[arg(long, default_value_t = FusionWeights::default().dense)]
        dense_weight: f64,
        /// Fusion weight of the whole-document BM25 ranking.
        #[arg(long, default_value_t = FusionWeights::default().doc)]
        doc_weight: f64,
        /// RRF constant k.
        #[arg(long, default_value_t = FusionWeights::default().k)]
        rrf_k: f64,
        /// Also write one JSON line per claim and mode to FILE: the claim, its gold abstract
        /// and the rank (from 1; null when not in the top 100) it was retrieved at. For
        /// looking at what retrieval misses.
        #[arg(long, value_name = "FILE")]
        ranks: Option<PathBuf>,
    },
}

#[derive(Debug, Serialize)]
struct Build {
    what: String,
    seconds: f64,
    peak_rss_mb: f64,
}

#[derive(Debug, Serialize)]
struct Quality {
    mode: RetrievalMode,
    recall_at_1: f64,
    recall_at_5: f64,
    recall_at_10: f64,
    latency_p50_ms: f64,
    latency_p95_ms: f64,
}

pub fn run(ctx: &Context, cmd: BenchCommand) -> CmdResult {
    let BenchCommand::Retrieval {
        corpus,
        claims,
        latency_queries,
        skip_default_build,
        keep,
        bm25_weight,
        dense_weight,
        doc_weight,
        rrf_k,
        ranks,
    } = cmd;
    let weights = FusionWeights {
        bm25: bm25_weight,
        dense: dense_weight,
        doc: doc_weight,
        k: rrf_k,
    };
    let scratch = tempfile::tempdir()?;
    let mut builds = Vec::new();

    // 1. Check-COVID corpus build, in a child process.
    let cc_data = keep.unwrap_or_else(|| scratch.path().join("check-covid"));
    if !DataDir::new(&cc_data).has_kb(&KbName::parse("check-covid")?) {
        let args = [
            "--data-dir",
            path_str(&cc_data)?,
            "kb",
            "add",
            "--kb",
            "check-covid",
            path_str(&corpus)?,
        ];
        builds.push(timed_child("Check-COVID corpus (kb add)", &args)?);
    }

    // 2. Default KB build, in a child process.
    let default_data = if skip_default_build {
        ctx.data.root().to_path_buf()
    } else {
        let d = scratch.path().join("default");
        builds.push(timed_child(
            "default KB (first use)",
            &[
                "--data-dir",
                path_str(&d)?,
                "kb",
                "stats",
                "--format",
                "json",
            ],
        )?);
        d
    };

    // 3. Retrieval quality and latency on Check-COVID.
    let embedder = ctx.embedder()?;
    let embedder: &dyn Embedder = &*embedder;
    let cc = KnowledgeBase::open(&DataDir::new(&cc_data).kb_dir(&KbName::parse("check-covid")?))?;
    let doc_external = external_ids(&cc)?;
    let claims = read_claims(&claims)?;
    let mut quality = Vec::new();
    let mut rank_lines = String::new();
    for mode in [
        RetrievalMode::Bm25,
        RetrievalMode::Dense,
        RetrievalMode::Hybrid,
    ] {
        let (q, gold_ranks) = evaluate(&cc, embedder, &claims, mode, weights, &doc_external)?;
        quality.push(q);
        if ranks.is_none() {
            continue;
        }
        for (c, rank) in claims.iter().zip(gold_ranks) {
            rank_lines.push_str(
                &json!({"claim": c.claim, "gold": c.gold, "mode": mode, "rank": rank}).to_string(),
            );
            rank_lines.push('\n');
        }
    }
    if let Some(path) = &ranks {
        std::fs::write(path, rank_lines).with_context(|| format!("writing {}", path.display()))?;
    }

    // 4. Query latency on the default KB.
    let default_kb =
        KnowledgeBase::open(&DataDir::new(&default_data).kb_dir(&KbName::parse("default")?))?;
    let queries: Vec<String> = std::fs::read_to_string(&latency_queries)
        .with_context(|| format!("reading {}", latency_queries.display()))?
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("claim").and_then(|c| c.as_str()).map(str::to_string))
        .collect();
    let mut latency = Vec::new();
    for mode in [
        RetrievalMode::Bm25,
        RetrievalMode::Dense,
        RetrievalMode::Hybrid,
    ] {
        let opts = SearchOptions {
            k: 10,
            mode,
            weights,
        };
        // Warm-up: the first query pays for page faults in the model and index.
        default_kb.search("warm up", &opts, Some(embedder))?;
        let mut times = Vec::new();
        for q in &queries {
            let t = Instant::now();
            default_kb.search(q, &opts, Some(embedder))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        latency.push(json!({"mode": mode, "queries": times.len(), "p50_ms": percentile(&mut times, 0.5), "p95_ms": percentile(&mut times, 0.95)}));
    }

    match ctx.format {
        Format::Json => print_json(&json!({
            "builds": builds,
            "check_covid": {"claims": claims.len(), "weights": {"bm25": weights.bm25, "dense": weights.dense, "doc": weights.doc, "k": weights.k}, "retrieval": quality},
            "default_kb_latency": latency,
            "query_process_peak_rss_mb": own_peak_rss_mb(),
        })),
        Format::Text => {
            println!("Builds");
            println!("  {:<32} {:>9} {:>14}", "what", "seconds", "peak RSS (MB)");
            for b in &builds {
                println!(
                    "  {:<32} {:>9.1} {:>14.0}",
                    b.what, b.seconds, b.peak_rss_mb
                );
            }
            println!();
            println!(
                "Check-COVID dev ({} claims; gold abstract = cord_id; RRF k={}, weights bm25 {} dense {} doc {})",
                claims.len(), weights.k, weights.bm25, weights.dense, weights.doc
            );
            println!(
                "  {:<8} {:>6} {:>6} {:>6} {:>9} {:>9}",
                "mode", "R@1", "R@5", "R@10", "p50 ms", "p95 ms"
            );
            for q in &quality {
                println!(
                    "  {:<8} {:>6.3} {:>6.3} {:>6.3} {:>9.1} {:>9.1}",
                    format!("{:?}", q.mode).to_lowercase(),
                    q.recall_at_1,
                    q.recall_at_5,
                    q.recall_at_10,
                    q.latency_p50_ms,
                    q.latency_p95_ms
                );
            }
            println!();
            println!(
                "Default KB query latency (queries: {}, k=10, after start-up)",
                queries.len()
            );
            for l in &latency {
                println!(
                    "  {:<8} p50 {:>6.1} ms   p95 {:>6.1} ms",
                    l["mode"].as_str().unwrap_or(""),
                    l["p50_ms"].as_f64().unwrap_or(0.0),
                    l["p95_ms"].as_f64().unwrap_or(0.0)
                );
            }
            if let Some(mb) = own_peak_rss_mb() {
                println!();
                println!(
                    "Peak RSS of this benchmark process (both KBs open, model loaded): {mb:.0} MB"
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// This process's peak resident set size in MB (Linux `VmHWM`), if readable.
fn own_peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .ok_or_else(|| anyhow::anyhow!("path {} is not UTF-8", p.display()))
}

/// Runs this binary with `args`, returning its wall time and peak RSS.
fn timed_child(what: &str, args: &[&str]) -> anyhow::Result<Build> {
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let child = Command::new(exe)
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for the child we just spawned.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    if rc != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{what}: the child process failed (status {status})");
    }
    Ok(Build {
        what: what.to_string(),
        seconds,
        peak_rss_mb: usage.ru_maxrss as f64 / 1024.0,
    })
}

struct Claim {
    claim: String,
    gold: String,
}

fn read_claims(path: &Path) -> anyhow::Result<Vec<Claim>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{} line {}", path.display(), i + 1))?;
        let (Some(claim), Some(gold)) = (v["claim"].as_str(), v["cord_id"].as_str()) else {
            bail!(
                "{} line {}: needs \"claim\" and \"cord_id\"",
                path.display(),
                i + 1
            );
        };
        out.push(Claim {
            claim: claim.to_string(),
            gold: gold.to_string(),
        });
    }
    Ok(out)
}

/// doc id -> the record's own id (cord_id).
fn external_ids(kb: &KnowledgeBase) -> anyhow::Result<HashMap<String, String>> {
    let mut map = HashMap::new();
    for key in kb.all_document_ids()? {
        if let Some(doc) = kb.document(&key)? {
            if let Some(ext) = doc.meta.external_id {
                map.insert(key.to_string(), ext);
            }
        }
    }
    Ok(map)
}

fn evaluate(
    kb: &KnowledgeBase,
    embedder: &dyn Embedder,
    claims: &[Claim],
    mode: RetrievalMode,
    weights: FusionWeights,
    external: &HashMap<String, String>,
) -> anyhow::Result<(Quality, Vec<Option<usize>>)> {
    let opts = SearchOptions {
        k: 100,
        mode,
        weights,
    };
    let mut hits_at = [0usize; 3];
    let mut gold_ranks = Vec::with_capacity(claims.len());
    let mut times = Vec::new();
    for c in claims {
        let t = Instant::now();
        let hits = kb.search_documents(&c.claim, &opts, Some(embedder))?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        let mut docs: Vec<&str> = Vec::new();
        for h in &hits {
            let ext = external
                .get(h.doc_id.as_str())
                .map(String::as_str)
                .unwrap_or("");
            if !docs.contains(&ext) {
                docs.push(ext);
            }
        }
        let rank = docs.iter().position(|d| *d == c.gold).map(|i| i + 1);
        for (slot, k) in [1, 5, 10].into_iter().enumerate() {
            if rank.is_some_and(|r| r <= k) {
                hits_at[slot] += 1;
            }
        }
        gold_ranks.push(rank);
    }
    let n = claims.len().max(1) as f64;
    let quality = Quality {
        mode,
        recall_at_1: hits_at[0] as f64 / n,
        recall_at_5: hits_at[1] as f64 / n,
        recall_at_10: hits_at[2] as f64 / n,
        latency_p50_ms: percentile(&mut times, 0.5),
        latency_p95_ms: percentile(&mut times, 0.95),
    };
    Ok((quality, gold_ranks))
}

fn percentile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let idx = ((values.len() as f64 - 1.0) * q).round() as usize;
    values[idx]
}
