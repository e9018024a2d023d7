//! `factually train rerank`: fits the re-ranker of retrieved fact-checks
//! (`factually_claims::rerank`) on tweets matched to fact-checked claims (CLEF-2020
//! CheckThat! task 2): each tweet's pool is retrieved exactly as `match` retrieves it, and
//! every (tweet, fact-check) pair of it is an example, matched when the task's qrels say so.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use factually_assets::sha256_file;
use factually_claims::rerank::{self, fit_rerank, pair_features, PoolEntry, Reranker};
use factually_embed::Embedder;
use factually_engine::{rank_fact_checks, RetrievedFactCheck};
use factually_eval::claim_retrieval::{score, tweet_query};
use indicatif::ProgressBar;

use crate::output::print_json;
use crate::runtime::{bar_style, now_rfc3339, Context};
use crate::verify_cmd::{claim_retrieval_task, ClaimRetrievalTask};
use crate::{CmdResult, Failure, Format};

#[derive(Args, Debug)]
pub struct RerankArgs {
    /// The fact-checked claims (`verified_claims.docs.tsv`).
    #[arg(long, value_name = "FILE")]
    claims: PathBuf,
    /// The tweets to train on (`train.tweets.queries.tsv`; keep dev apart to measure on).
    #[arg(long, value_name = "FILE")]
    queries: PathBuf,
    /// Which claim each tweet repeats (`train.qrels`).
    #[arg(long, value_name = "FILE")]
    qrels: PathBuf,
    /// Where to write the artifact.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "crates/claims/model/rerank.json"
    )]
    out: PathBuf,
    #[command(flatten)]
    fit: LinearFitArgs,
}

/// Writes the fitted model as one line of JSON (the artifact `include_str!` compiles in).
fn write_artifact(path: &std::path::Path, model: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string(model).map_err(anyhow::Error::from)?;
    std::fs::write(path, text + "\n").map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(())
}

/// How the re-ranker's logistic regression is fitted.
#[derive(Args, Debug)]
struct LinearFitArgs {
    /// Full-batch optimisation steps.
    #[arg(long, default_value_t = 400)]
    iterations: usize,
    /// L2 penalty on the weights.
    #[arg(long, default_value_t = 1e-2)]
    l2: f32,
    /// Adam's step size.
    #[arg(long, default_value_t = 0.05)]
    learning_rate: f32,
}

impl LinearFitArgs {
    fn optimiser(&self) -> factually_core::learn::Optimiser {
        factually_core::learn::Optimiser {
            iterations: self.iterations,
            learning_rate: self.learning_rate,
            l2: self.l2,
        }
    }
}

/// One tweet's retrieved pool and the claims it repeats.
struct Pool {
    query: String,
    id: String,
    retrieved: Vec<RetrievedFactCheck>,
}

impl Pool {
    fn entries(&self) -> Vec<PoolEntry<'_>> {
        self.retrieved
            .iter()
            .map(RetrievedFactCheck::pool_entry)
            .collect()
    }

    fn claim_ids(&self, order: impl IntoIterator<Item = usize>) -> Vec<String> {
        order
            .into_iter()
            .filter_map(|i| self.retrieved[i].doc.meta.external_id.clone())
            .collect()
    }
}

pub fn run(ctx: &Context, args: RerankArgs) -> CmdResult {
    let started = Instant::now();
    let ClaimRetrievalTask {
        claims,
        queries,
        qrels,
        kb,
    } = claim_retrieval_task(
        ctx,
        Some(&args.claims),
        Some(&args.queries),
        Some(&args.qrels),
        None,
    )?;
    let embedder = ctx.embedder_for(&kb)?.ok_or_else(|| {
        Failure::usage("the claims' knowledge base has no dense vectors to measure similarity by")
    })?;
    let bar = ProgressBar::new(queries.len() as u64).with_style(bar_style("tweets"));
    let mut pools = Vec::new();
    for q in queries.iter().filter(|q| qrels.contains_key(&q.id)) {
        let query = tweet_query(&q.text);
        let retrieved = rank_fact_checks(
            &kb,
            Some(&*embedder as &dyn Embedder),
            &query,
            rerank::POOL,
            None,
        )?;
        pools.push(Pool {
            query,
            id: q.id.clone(),
            retrieved,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let retrieval_seconds = started.elapsed().as_secs_f64();
    let mut examples = Vec::new();
    for pool in &pools {
        let relevant = &qrels[&pool.id];
        let features = pair_features(&pool.query, &pool.entries());
        for (x, r) in features.into_iter().zip(&pool.retrieved) {
            let matched = r
                .doc
                .meta
                .external_id
                .as_ref()
                .is_some_and(|id| relevant.contains(id));
            examples.push((x, matched));
        }
    }
    let optimiser = args.fit.optimiser();
    let mut model = fit_rerank(&examples, optimiser);
    let reranker = Reranker {
        model: model.clone(),
    };
    let ranked = |rerank: bool| -> HashMap<String, Vec<String>> {
        pools
            .iter()
            .map(|p| {
                let order = if rerank {
                    reranker.order(&p.query, &p.entries())
                } else {
                    (0..p.retrieved.len()).collect()
                };
                (p.id.clone(), p.claim_ids(order))
            })
            .collect()
    };
    let before = score(&ranked(false), &qrels);
    let after = score(&ranked(true), &qrels);
    let matched = examples.iter().filter(|(_, m)| *m).count();
    model.training = serde_json::json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "data": {
            "claims": { "file": args.claims.display().to_string(), "sha256": sha256_file(&args.claims)?, "count": claims },
            "queries": { "file": args.queries.display().to_string(), "sha256": sha256_file(&args.queries)? },
            "qrels": { "file": args.qrels.display().to_string(), "sha256": sha256_file(&args.qrels)? },
        },
        "tweets": pools.len(),
        "pairs": examples.len(),
        "matched_pairs": matched,
        "train_retrieval_order": before,
        "train_reranked": after,
        "fit": optimiser,
        "retrieval_seconds": retrieval_seconds,
        "trained_on": now_rfc3339(),
    });
    write_artifact(&args.out, &model)?;
    match ctx.format {
        Format::Json => print_json(&model.training),
        Format::Text => {
            println!("wrote {}", args.out.display());
            println!(
                "fitted on {} pairs of {} tweets ({matched} matched); train MAP@5 {:.3} in retrieval's order, {:.3} re-ranked (measure on dev with `factually eval claim-retrieval`)",
                examples.len(),
                pools.len(),
                before.map_at_5,
                after.map_at_5
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
