//! `factually verify` (claim in, verdict and evidence out) and `factually eval` (benchmarks).

use factually_embed::Embedder;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use factually_claims::rerank::Reranker;
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
    /// The stance model: `bundled` (default), a directory with a Hugging Face NLI
    /// cross-encoder (BERT, RoBERTa, XLM-RoBERTa or DeBERTa-v2/v3: config.json,
    /// tokenizer.json, model.safetensors), a Hugging Face hub id of one
    /// (`owner/name[@revision]`, fetched once into the cache), `llm` (the language model of
    /// `--llm`/`--llm-url`/`[llm]` judges each pair), or an artifact from `factually train
    /// stance`.
    #[arg(long, value_name = "bundled|DIR|HUB-ID|llm|FILE")]
    stance_model: Option<PathBuf>,
    #[command(flatten)]
    llm: crate::check_cmd::LlmArgs,
    /// Which parts of the judge run: `full` (relevance gate and the trained stance classifier),
    /// `relevance` (the gate, then the stance model's own probabilities) or `model` (the stance
    /// model alone, every sentence counted: the judge before the relevance gate). Default:
    /// `full`, or `relevance` with `--stance-model llm`.
    #[arg(long)]
    judge: Option<factually_verify::JudgeMode>,
    /// Use this judge artifact (from `factually train judge`) instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    judge_model: Option<PathBuf>,
}

fn read_claim(arg: &str) -> Result<String, Failure> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(factually_verify::MAX_CLAIM_CHARS as u64 * 4 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("reading the claim from stdin: {e}")))?;
    String::from_utf8(bytes).map_err(|_| Failure::usage("the claim on stdin is not UTF-8"))
}

pub fn run_verify(ctx: &Context, args: VerifyArgs) -> CmdResult {
    let claim = read_claim(&args.claim)?;
    factually_verify::validate_claim(&claim)?;
    let stance = load_stance(ctx, args.stance_model.as_deref(), &args.llm)?;
    let judge = load_judge(args.judge_model.as_deref(), stance.judge_mode(args.judge))?;
    let name = KbName::parse(&args.kb)?;
    let kb = ctx.open_kb(&name)?;
    let kb_embedder = ctx.embedder_for(&kb)?;
    let verifier = Verifier {
        kb: &kb,
        embedder: kb_embedder.as_deref().map(|e| e as &dyn Embedder),
        stance: &stance.model,
        judge: &judge,
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
        let relevant = v.evidence.iter().filter(|e| e.relevant).count();
        let _ = if relevant == 0 {
            writeln!(
                out,
                "\nNone of the {} sentences retrieved addresses the claim: the knowledge base does not cover it.",
                v.evidence.len()
            )
        } else {
            writeln!(
                out,
                "\nNo sentence in the top sources takes a side on the claim."
            )
        };
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
            if let Some(c) = &e.contrast {
                let _ = writeln!(out, "    (it {c})");
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
    /// factually's plain-claims suite over the default knowledge base (stated, swapped and
    /// not-covered claims).
    Plain,
    /// (QA)² questions: recall of the annotated questionable assumption (no retrieval).
    Qaqa,
    /// FalseQA questions: end-to-end checks, how often false premises are flagged.
    Falseqa,
    /// CLEF-2020 CheckThat! task 2: tweets (--queries) matched against verified claims
    /// (--claims) by hybrid retrieval, scored against --qrels (MAP@1/3/5, recall@5/20).
    ClaimRetrieval,
    /// ClaimBuster (--claims train.json): F1 of the check-worthy class on a balanced held-out
    /// fifth, the figure `factually claims` rests on.
    Checkworthy,
}

/// Where `eval check-covid` takes each claim's evidence from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvidenceSource {
    Retrieved,
    Gold,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Which benchmark the claims file belongs to.
    #[arg(value_enum)]
    dataset: Dataset,
    /// The claims file (for `plain`, the suite built into the binary when not given).
    #[arg(long, value_name = "FILE")]
    claims: Option<PathBuf>,
    /// check-covid: the abstracts (corpus.jsonl), ingested once into a cached knowledge base.
    #[arg(long, value_name = "FILE")]
    corpus: Option<PathBuf>,
    /// claim-retrieval: the tweets (`*.tweets.queries.tsv`).
    #[arg(long, value_name = "FILE")]
    queries: Option<PathBuf>,
    /// claim-retrieval: which verified claim each tweet repeats (`*.qrels`).
    #[arg(long, value_name = "FILE")]
    qrels: Option<PathBuf>,
    /// fever-wiki: the knowledge base to search.
    #[arg(long, default_value = factually_kb::default_kb::DEFAULT_KB)]
    kb: String,
    /// Score only the first N claims.
    #[arg(long)]
    limit: Option<usize>,
    /// Claims judged at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// check-covid: `retrieved` (default) searches the corpus for evidence, the way `check`
    /// works; `gold` judges each claim against its annotated rationale sentences (the dataset
    /// paper's setting, and the only one that can tell its NOTENOUGHINFO claims from their
    /// same-text SUPPORT/REFUTE twins).
    #[arg(long, value_enum, default_value_t = EvidenceSource::Retrieved)]
    evidence: EvidenceSource,
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
    /// The stance model: `bundled` (default), a directory with a Hugging Face NLI
    /// cross-encoder (BERT, RoBERTa, XLM-RoBERTa or DeBERTa-v2/v3: config.json,
    /// tokenizer.json, model.safetensors), a Hugging Face hub id of one
    /// (`owner/name[@revision]`, fetched once into the cache), `llm` (the language model of
    /// `--llm`/`--llm-url`/`[llm]` judges each pair), or an artifact from `factually train
    /// stance`.
    #[arg(long, value_name = "bundled|DIR|HUB-ID|llm|FILE")]
    stance_model: Option<PathBuf>,
    #[command(flatten)]
    llm: crate::check_cmd::LlmArgs,
    /// Which parts of the judge run: `full` (relevance gate and the trained stance classifier),
    /// `relevance` (the gate, then the stance model's own probabilities) or `model` (the stance
    /// model alone, every sentence counted: the judge before the relevance gate). Default:
    /// `full`, or `relevance` with `--stance-model llm`.
    #[arg(long)]
    judge: Option<factually_verify::JudgeMode>,
    /// Use this judge artifact (from `factually train judge`) instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    judge_model: Option<PathBuf>,
    /// Keep the stance model's scores in FILE (read at the start, written at the end), so that
    /// running the same claims again under another judge skips the model.
    #[arg(long, value_name = "FILE")]
    stance_cache: Option<PathBuf>,
    /// checkworthy: a check-worthiness artifact (from `factually train checkworthy`) instead
    /// of the built-in one.
    #[arg(long, value_name = "FILE")]
    checkworthy_model: Option<PathBuf>,
    /// claim-retrieval: how the retrieved fact-checks are ordered: `bundled` (the re-ranker
    /// `match` and `check` use), `none` (retrieval's fused order) or an artifact from
    /// `factually train rerank`.
    #[arg(long, value_name = "bundled|none|FILE", default_value = "bundled")]
    rerank: String,
}

/// The judge: the bundled artifact or one from `factually train judge`, in the given mode.
pub fn load_judge(
    artifact: Option<&Path>,
    mode: factually_verify::JudgeMode,
) -> Result<factually_verify::Judge, Failure> {
    Ok(factually_engine::load_judge(artifact, mode)?)
}

/// A loaded stance model, with the runtime its calls run on when it is a language model
/// (declared after the model: dropped after it).
pub struct LoadedStance {
    pub model: StanceModel,
    choice: factually_engine::StanceChoice,
    _runtime: Option<tokio::runtime::Runtime>,
}

impl LoadedStance {
    /// The judge mode asked for, else the one that suits the stance model.
    pub fn judge_mode(
        &self,
        asked: Option<factually_verify::JudgeMode>,
    ) -> factually_verify::JudgeMode {
        asked.unwrap_or_else(|| self.choice.judge_mode())
    }
}

/// The stance model: the bundled one (no value, or `bundled`), a Hugging Face NLI
/// cross-encoder in a directory or by hub id, the language model (`llm`), or an artifact file
/// from `factually train stance`. A model that cannot be loaded is a usage error naming the
/// file and the problem.
pub fn load_stance(
    ctx: &Context,
    artifact: Option<&Path>,
    llm: &crate::check_cmd::LlmArgs,
) -> Result<LoadedStance, Failure> {
    let config = crate::web::ConfigFile::read(ctx)?;
    let choice = config.models.stance_choice(artifact);
    if choice != factually_engine::StanceChoice::Llm {
        let model = factually_engine::load_stance(&ctx.cache, &choice, None)?;
        return Ok(LoadedStance {
            model,
            choice,
            _runtime: None,
        });
    }
    let settings = config.llm.resolve(llm.flags(&[]))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let context = settings
        .as_ref()
        .map(|settings| factually_engine::LlmJudgeContext {
            settings,
            call_cache: ctx.data.root().join(factually_engine::LLM_CALL_CACHE),
            handle: runtime.handle().clone(),
        });
    let model = factually_engine::load_stance(&ctx.cache, &choice, context)?;
    Ok(LoadedStance {
        model,
        choice,
        _runtime: Some(runtime),
    })
}

fn claims_file(args: &EvalArgs) -> Result<&Path, Failure> {
    args.claims
        .as_deref()
        .ok_or_else(|| Failure::usage("this dataset needs --claims FILE"))
}

fn limited<T>(mut items: Vec<T>, limit: Option<usize>) -> Vec<T> {
    if let Some(n) = limit {
        items.truncate(n);
    }
    items
}

pub fn run_eval(ctx: &Context, args: EvalArgs) -> CmdResult {
    match args.dataset {
        Dataset::ClaimRetrieval => return run_claim_retrieval(ctx, &args),
        Dataset::Checkworthy => {
            return crate::claims_cmd::run_eval(
                ctx,
                crate::claims_cmd::EvalArgs {
                    claims: claims_file(&args)?.to_path_buf(),
                    model: args.checkworthy_model.clone(),
                },
            )
        }
        _ => {}
    }
    let options = EvalOptions {
        jobs: args.jobs.clamp(1, 16),
    };
    let verify_options = VerifyOptions {
        documents: args.documents.clamp(1, 50),
        sentences_per_document: args.sentences_per_document.clamp(1, 50),
        ..VerifyOptions::default()
    };
    let mut loaded = load_stance(ctx, args.stance_model.as_deref(), &args.llm)?;
    let judge = load_judge(args.judge_model.as_deref(), loaded.judge_mode(args.judge))?;
    if let Some(path) = &args.stance_cache {
        loaded.model = loaded.model.with_cache(path);
    }
    let stance = &loaded.model;
    let bar = ProgressBar::new(0).with_style(bar_style("claims"));
    let tick = || bar.inc(1);
    let skipped: Vec<String>;
    let report: EvalReport = match args.dataset {
        Dataset::Qaqa | Dataset::Falseqa => {
            return run_presupposition_eval(ctx, &args, stance, &judge);
        }
        // Neither runs the verify pipeline: dispatched before the stance model loads.
        Dataset::ClaimRetrieval | Dataset::Checkworthy => return Ok(ExitCode::SUCCESS),
        Dataset::CheckCovid => {
            let corpus_path = args
                .corpus
                .as_deref()
                .ok_or_else(|| Failure::usage("check-covid needs --corpus FILE (the abstracts)"))?;
            let loaded = datasets::check_covid_claims(claims_file(&args)?, args.skip_bad)?;
            skipped = loaded.skipped;
            let claims = limited(loaded.items, args.limit);
            let corpus = datasets::check_covid_corpus(corpus_path)?;
            if args.evidence == EvidenceSource::Gold {
                bar.set_length(claims.len() as u64);
                run::check_covid_gold(&claims, &corpus, stance, &judge, options, &tick)
            } else {
                let kb = corpus_kb(ctx, corpus_path)?;
                let kb_embedder = ctx.embedder_for(&kb)?;
                let verifier = Verifier {
                    kb: &kb,
                    embedder: kb_embedder.as_deref().map(|e| e as &dyn Embedder),
                    stance,
                    judge: &judge,
                    options: verify_options,
                };
                bar.set_length(claims.len() as u64);
                run::check_covid(&claims, &corpus, &verifier, options, &tick)
            }
        }
        Dataset::FeverWiki => {
            let loaded = datasets::fever_claims(claims_file(&args)?, args.skip_bad)?;
            skipped = loaded.skipped;
            let claims = limited(loaded.items, args.limit);
            let kb = ctx.open_kb(&KbName::parse(&args.kb)?)?;
            let kb_embedder = ctx.embedder_for(&kb)?;
            let verifier = Verifier {
                kb: &kb,
                embedder: kb_embedder.as_deref().map(|e| e as &dyn Embedder),
                stance,
                judge: &judge,
                options: verify_options,
            };
            bar.set_length(claims.len() as u64);
            run::fever(&claims, &verifier, options, &tick)
        }
        Dataset::Plain => {
            let loaded = datasets::plain_claims(args.claims.as_deref(), args.skip_bad)?;
            skipped = loaded.skipped;
            let claims = limited(loaded.items, args.limit);
            let kb = ctx.open_kb(&KbName::parse(&args.kb)?)?;
            let kb_embedder = ctx.embedder_for(&kb)?;
            let verifier = Verifier {
                kb: &kb,
                embedder: kb_embedder.as_deref().map(|e| e as &dyn Embedder),
                stance,
                judge: &judge,
                options: verify_options,
            };
            bar.set_length(claims.len() as u64);
            run::plain(&claims, &verifier, options, &tick)
        }
        Dataset::Averitec => {
            let loaded = datasets::averitec_claims(claims_file(&args)?, args.skip_bad)?;
            skipped = loaded.skipped;
            let claims = limited(loaded.items, args.limit);
            bar.set_length(claims.len() as u64);
            run::averitec(&claims, stance, &judge, options, &tick)
        }
        Dataset::LiarPlus => {
            let loaded = datasets::liar_claims(claims_file(&args)?, args.skip_bad)?;
            skipped = loaded.skipped;
            let claims = limited(loaded.items, args.limit);
            bar.set_length(claims.len() as u64);
            run::liar_plus(&claims, stance, &judge, options, &tick)
        }
    };
    bar.finish_and_clear();
    if let Some(path) = &args.stance_cache {
        stance.save_cache(path)?;
    }
    if let Some(path) = &args.predictions {
        write_predictions(path, &report)?;
    }
    match ctx.format {
        Format::Json => {
            let mut value = serde_json::to_value(&report)?;
            value["skipped_lines"] = serde_json::json!(skipped);
            value["stance_model"] = serde_json::json!({
                "base": stance.meta().base_package,
                "weights_sha256": stance.meta().weights_sha256,
                "temperature": stance.meta().temperature,
            });
            value["judge"] = serde_json::json!({
                "mode": judge.mode,
                "training": judge.model.training["trained_on"],
            });
            print_json(&value);
        }
        Format::Text => print_report(&report, &skipped),
    }
    Ok(ExitCode::SUCCESS)
}

/// The re-ranker of retrieved fact-checks `--rerank` names: the bundled one, none, or an
/// artifact file.
pub fn load_reranker(choice: &str) -> Result<Option<Reranker>, Failure> {
    match choice {
        "bundled" => Ok(Some(Reranker::bundled().map_err(anyhow::Error::from)?)),
        "none" => Ok(None),
        path => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("--rerank {path}: {e}")))?;
            Reranker::from_json(&text)
                .map(Some)
                .map_err(|e| Failure::usage(format!("--rerank {path}: {e}")))
        }
    }
}

/// `eval claim-retrieval`: the verified claims become a knowledge base (cached by content),
/// and each tweet is ranked against it as `match` ranks a claim: the first 20 distinct
/// fact-checks of a hybrid search, re-ranked (`--rerank`).
/// The files of CheckThat! 2020 task 2 and the knowledge base of its verified claims.
pub(crate) struct ClaimRetrievalTask {
    pub claims: usize,
    pub queries: Vec<factually_eval::claim_retrieval::Query>,
    pub qrels: HashMap<String, HashSet<String>>,
    pub kb: KnowledgeBase,
}

/// Reads the task's files (`--claims`, `--queries`, `--qrels`; the first `limit` tweets) and
/// makes the verified claims a knowledge base, cached by content under the data dir.
pub(crate) fn claim_retrieval_task(
    ctx: &Context,
    claims: Option<&Path>,
    queries: Option<&Path>,
    qrels: Option<&Path>,
    limit: Option<usize>,
) -> Result<ClaimRetrievalTask, Failure> {
    use factually_eval::claim_retrieval as cr;
    let need = |path: Option<&Path>, what: &str| {
        path.map(Path::to_path_buf).ok_or_else(|| {
            Failure::usage(format!(
                "claim-retrieval needs --claims (verified_claims.docs.tsv), --queries and --qrels; {what} is missing"
            ))
        })
    };
    let claims = cr::read_verified_claims(&need(claims, "--claims")?)?;
    let queries = limited(cr::read_queries(&need(queries, "--queries")?)?, limit);
    let qrels = cr::read_qrels(&need(qrels, "--qrels")?)?;
    // The claims as ingestable records, written where the data dir keeps them: the knowledge
    // base is cached by the records' hash, so a second run searches at once.
    let records: String = claims
        .iter()
        .map(|c| {
            serde_json::json!({ "id": c.id, "title": c.title, "text": c.claim }).to_string() + "\n"
        })
        .collect();
    let dir = ctx.data.root().join("eval-records");
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let path = dir.join(format!(
        "claim-retrieval-{}.jsonl",
        &factually_core::sha256_hex(records.as_bytes())[..12]
    ));
    std::fs::write(&path, &records).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(ClaimRetrievalTask {
        claims: claims.len(),
        queries,
        qrels,
        kb: corpus_kb(ctx, &path)?,
    })
}

fn run_claim_retrieval(ctx: &Context, args: &EvalArgs) -> CmdResult {
    use factually_eval::claim_retrieval as cr;
    let ClaimRetrievalTask {
        claims,
        queries,
        qrels,
        kb,
    } = claim_retrieval_task(
        ctx,
        args.claims.as_deref(),
        args.queries.as_deref(),
        args.qrels.as_deref(),
        args.limit,
    )?;
    let embedder = ctx.embedder_for(&kb)?;
    let reranker = load_reranker(&args.rerank)?;
    let started = std::time::Instant::now();
    let mut rankings = HashMap::new();
    // Each tweet's first match and its similarity to the tweet (cosine of the sentence
    // vectors): how sure a "this was checked already" line at the top of a report can be.
    let mut first_matches: Vec<(String, String, f32)> = Vec::new();
    let bar = ProgressBar::new(queries.len() as u64).with_style(bar_style("tweets"));
    for q in &queries {
        let ranked = factually_engine::rank_fact_checks(
            &kb,
            embedder.as_deref().map(|e| e as &dyn Embedder),
            &cr::tweet_query(&q.text),
            factually_claims::rerank::POOL,
            reranker.as_ref(),
        )?;
        if let Some((Some(id), Some(similarity))) = ranked
            .first()
            .map(|r| (r.doc.meta.external_id.clone(), r.similarity))
        {
            first_matches.push((q.id.clone(), id, similarity));
        }
        let ids = ranked.into_iter().filter_map(|r| r.doc.meta.external_id);
        rankings.insert(q.id.clone(), ids.collect::<Vec<_>>());
        bar.inc(1);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    // Only the queries read (with --limit, the first N) are scored.
    let read: HashSet<&str> = queries.iter().map(|q| q.id.as_str()).collect();
    let qrels: HashMap<String, HashSet<String>> = qrels
        .into_iter()
        .filter(|(q, _)| read.contains(q.as_str()))
        .collect();
    let scores = cr::score(&rankings, &qrels);
    let ms_per_query = seconds * 1e3 / queries.len().max(1) as f64;
    // For each similarity threshold: the share of tweets whose first match reaches it
    // (coverage), and how often that match is a right one (precision).
    let thresholds: Vec<serde_json::Value> = [0.5f32, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9]
        .iter()
        .map(|&t| {
            let shown: Vec<&(String, String, f32)> =
                first_matches.iter().filter(|m| m.2 >= t).collect();
            let right = shown
                .iter()
                .filter(|(q, id, _)| qrels.get(q).is_some_and(|ids| ids.contains(id)))
                .count();
            serde_json::json!({
                "similarity_at_least": t,
                "coverage": shown.len() as f64 / queries.len().max(1) as f64,
                "precision": if shown.is_empty() { 0.0 } else { right as f64 / shown.len() as f64 },
            })
        })
        .collect();
    match ctx.format {
        Format::Json => {
            let mut value = serde_json::to_value(&scores)?;
            value["dataset"] = "claim-retrieval".into();
            value["verified_claims"] = claims.into();
            value["ms_per_query"] = ms_per_query.into();
            value["first_match_by_similarity"] = thresholds.into();
            print_json(&value);
        }
        Format::Text => {
            println!(
                "claim-retrieval: {} tweets against {} verified claims: MAP@1 {:.3}  MAP@3 {:.3}  MAP@5 {:.3}  recall@5 {:.3}  recall@20 {:.3}  ({:.1} ms per tweet)",
                scores.queries,
                claims,
                scores.map_at_1,
                scores.map_at_3,
                scores.map_at_5,
                scores.recall_at_5,
                scores.recall_at_20,
                ms_per_query
            );
            println!("first match shown when its similarity is at least:");
            for t in &thresholds {
                println!(
                    "  {:.2}: {:.1} % of tweets, right {:.1} % of the time",
                    t["similarity_at_least"].as_f64().unwrap_or_default(),
                    t["coverage"].as_f64().unwrap_or_default() * 100.0,
                    t["precision"].as_f64().unwrap_or_default() * 100.0
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `eval qaqa` and `eval falseqa`: presupposition extraction and false-premise flags.
fn run_presupposition_eval(
    ctx: &Context,
    args: &EvalArgs,
    stance: &StanceModel,
    judge: &factually_verify::Judge,
) -> CmdResult {
    use factually_eval::presuppositions as p;
    let (value, predictions): (serde_json::Value, Vec<serde_json::Value>) = match args.dataset {
        Dataset::Qaqa => {
            let items = limited(p::read_qaqa(claims_file(args)?)?, args.limit);
            let mut report = p::qaqa(&items);
            let predictions = std::mem::take(&mut report.predictions)
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?;
            (serde_json::to_value(&report)?, predictions)
        }
        _ => {
            let items = p::balanced(p::read_falseqa(claims_file(args)?)?, args.limit);
            let kb = ctx.open_kb(&KbName::parse(&args.kb)?)?;
            let kb_embedder = ctx.embedder_for(&kb)?;
            let checker = factually_report::Checker {
                verifier: Verifier {
                    kb: &kb,
                    embedder: kb_embedder.as_deref().map(|e| e as &dyn Embedder),
                    stance,
                    judge,
                    options: VerifyOptions {
                        documents: args.documents.clamp(1, 50),
                        sentences_per_document: args.sentences_per_document.clamp(1, 50),
                        ..VerifyOptions::default()
                    },
                },
                kb_name: args.kb.clone(),
                search_kb: true,
                offered: factually_report::OfferedSources::default(),
                deadline: None,
                cancelled: None,
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
pub(crate) fn corpus_kb(ctx: &Context, corpus: &Path) -> Result<KnowledgeBase, Failure> {
    let bytes = std::fs::read(corpus).map_err(|e| anyhow::anyhow!("{}: {e}", corpus.display()))?;
    let hash = factually_core::sha256_hex(&bytes);
    let name = KbName::parse(&format!("eval-{}", &hash[..12]))?;
    let dir = ctx.data.kb_dir(&name);
    if KnowledgeBase::exists(&dir) {
        return Ok(KnowledgeBase::open(&dir)?);
    }
    eprintln!(
        "factually: indexing {} into knowledge base {name} (once; cached by content hash)",
        corpus.display()
    );
    let embedder = ctx.embedder()?;
    let embedder: &dyn Embedder = &*embedder;
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
