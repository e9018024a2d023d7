//! `factually check` (the full report), `factually analyze` (input analysis only) and
//! `factually schema` (the report's JSON Schema).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use factually_analyze::{analyze, validate_bytes, validate_input, Analysis};
use factually_kb::KbName;
use factually_report::{render, report_schema, Checker, OfferedSources, Progress, Report};
use factually_verify::{Verifier, VerifyOptions};

use crate::output::print_json;
use crate::runtime::Context;
use crate::{CmdResult, Failure};

/// How `check` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Markdown,
    Html,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The question or claim; `-` reads it from standard input.
    input: String,
    /// The date printed as "Checked on" (YYYY-MM-DD); today by default.
    #[arg(long, value_name = "DATE")]
    checked_on: Option<String>,
    /// A page to use as a source (repeatable); fetched and stored like a search result.
    #[arg(long = "url", value_name = "URL")]
    urls: Vec<String>,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

/// How checks are run: shared by `check` and `serve`.
#[derive(Args, Debug, Clone)]
pub struct PipelineArgs {
    /// Knowledge base to search.
    #[arg(long, default_value = factually_kb::default_kb::DEFAULT_KB)]
    kb: String,
    /// Documents taken from retrieval for each statement and presupposition.
    #[arg(long, default_value_t = VerifyOptions::default().documents)]
    documents: usize,
    /// The stance model: `bundled` (default), a directory with a Hugging Face NLI
    /// cross-encoder (BERT, RoBERTa, XLM-RoBERTa or DeBERTa-v2/v3), or an artifact from
    /// `factually train stance`.
    #[arg(long, value_name = "bundled|DIR|FILE")]
    stance_model: Option<PathBuf>,
    /// Where evidence comes from: `kb` (the knowledge base), `web` (search and fetch), or
    /// both (`kb,web`). Default: `kb`, or only the given pages when `--url` is used.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "SOURCES")]
    sources: Vec<SourceKind>,
    /// Let the fetcher reach loopback and private network addresses (never needed for the
    /// public web; for self-hosted pages and tests).
    #[arg(long, env = "FACTUALLY_ALLOW_PRIVATE_HOSTS")]
    allow_private_hosts: bool,
    /// Pages fetched from web search results.
    #[arg(long, default_value_t = 8, value_name = "N")]
    max_pages: usize,
    /// Write the summary and context with a language model (behind the grounding gate):
    /// `openai-compat` is any OpenAI-compatible server, `gguf` a GGUF file run in this
    /// process. On by default when FACTUALLY_LLM_URL is set. The API key comes from
    /// FACTUALLY_LLM_API_KEY.
    #[arg(long, value_enum)]
    llm: Option<LlmKind>,
    /// Base URL of the OpenAI-compatible server, up to `/v1`.
    #[arg(long, env = "FACTUALLY_LLM_URL", value_name = "URL")]
    llm_url: Option<String>,
    /// Model name on that server, or the GGUF file for `--llm gguf` (default: SmolLM2-135M
    /// from PyPI).
    #[arg(long, env = "FACTUALLY_LLM_MODEL", value_name = "NAME")]
    llm_model: Option<String>,
    /// Several models that each analyse the sources and give a verdict, comma-separated:
    /// `openai-compat:NAME` (on --llm-url), `gguf` or `gguf:FILE`. The first writes the prose.
    #[arg(long, value_delimiter = ',', value_name = "MODELS")]
    jury: Vec<String>,
}

/// Where the language model of LLM mode runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LlmKind {
    /// Any server that speaks OpenAI's chat-completions API (OpenAI, Ollama, vLLM, llama.cpp).
    OpenaiCompat,
    /// A GGUF model file run in this process by llama.cpp (builds with `--features gguf`).
    Gguf,
}

/// A place evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceKind {
    Kb,
    Web,
}

#[derive(Args, Debug)]
pub struct FetchArgs {
    /// The page to fetch.
    url: String,
    /// Let the fetcher reach loopback and private network addresses.
    #[arg(long, env = "FACTUALLY_ALLOW_PRIVATE_HOSTS")]
    allow_private_hosts: bool,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The question or claim; `-` reads it from standard input.
    input: String,
}

#[derive(Subcommand, Debug)]
pub enum SchemaCommand {
    /// The JSON Schema of `check --format json` (kept at docs/report.schema.json).
    Report,
}

/// Reads the input argument or, for `-`, standard input, and validates it.
fn read_input(arg: &str) -> Result<String, Failure> {
    if arg != "-" {
        return Ok(validate_input(arg)?.to_string());
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(factually_analyze::MAX_INPUT_CHARS as u64 * 4 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("reading the input from stdin: {e}")))?;
    Ok(validate_bytes(&bytes)?.to_string())
}

pub fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn valid_date(s: &str) -> Result<String, Failure> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format)
        .map(|_| s.to_string())
        .map_err(|_| Failure::usage(format!("--checked-on {s:?} is not a date (YYYY-MM-DD)")))
}

pub fn run_check(ctx: &Context, format: ReportFormat, args: CheckArgs) -> CmdResult {
    let input = read_input(&args.input)?;
    let checked_on = match &args.checked_on {
        Some(d) => valid_date(d)?,
        None => today(),
    };
    let pipeline = Pipeline::new(ctx, &args.pipeline, !args.urls.is_empty())?;
    let report = pipeline.run(ctx, &input, &checked_on, &args.urls, &|_| {})?;
    print_report(&report, format);
    Ok(ExitCode::SUCCESS)
}

/// Everything a check needs that does not change from one check to the next: resolved once
/// by `check`, and once per server by `serve`.
pub struct Pipeline {
    kb: KbName,
    search_kb: bool,
    search_web: bool,
    documents: usize,
    stance: factually_stance::StanceModel,
    judge: factually_verify::Judge,
    llm: Option<crate::llm::LlmSettings>,
    web: crate::web::WebConfig,
    allow_private_hosts: bool,
    max_pages: usize,
    /// The searched knowledge base, kept open between checks (opening the default one reads
    /// its vectors, about a quarter of a second) and reopened when a commit changed it.
    opened: std::sync::Mutex<Option<OpenedKb>>,
}

/// A knowledge base as opened, with the modification time of its last commit then.
struct OpenedKb {
    committed: Option<std::time::SystemTime>,
    kb: std::sync::Arc<factually_kb::KnowledgeBase>,
}

impl Pipeline {
    /// Resolves the options and the config file and loads the stance model. `with_urls`: the
    /// checks come with pages of their own, so without `--sources` only those are used.
    pub fn new(ctx: &Context, args: &PipelineArgs, with_urls: bool) -> Result<Self, Failure> {
        let sources = if args.sources.is_empty() && !with_urls {
            vec![SourceKind::Kb]
        } else {
            args.sources.clone()
        };
        let kb = KbName::parse(&args.kb)?;
        let stance = crate::verify_cmd::load_stance(ctx, args.stance_model.as_deref())?;
        // The config file is read once, before any work: a malformed one is refused up front.
        let config = crate::web::ConfigFile::read(ctx)?;
        let llm = config.llm.resolve(crate::llm::LlmFlags {
            kind: args.llm,
            url: &args.llm_url,
            model: &args.llm_model,
            jury: &args.jury,
        })?;
        Ok(Self {
            kb,
            search_kb: sources.contains(&SourceKind::Kb),
            search_web: sources.contains(&SourceKind::Web),
            documents: args.documents.clamp(1, 50),
            stance,
            judge: crate::verify_cmd::load_judge(None, factually_verify::JudgeMode::Full)?,
            llm,
            web: config.web.with_env(),
            allow_private_hosts: args.allow_private_hosts,
            max_pages: args.max_pages,
            opened: std::sync::Mutex::new(None),
        })
    }

    /// The searched knowledge base: the one opened for an earlier check unless a commit
    /// (`kb add`) has changed it since.
    fn searched_kb(
        &self,
        ctx: &Context,
    ) -> Result<std::sync::Arc<factually_kb::KnowledgeBase>, Failure> {
        let meta = ctx.data.kb_dir(&self.kb).join("index").join("meta.json");
        let committed = || std::fs::metadata(&meta).and_then(|m| m.modified()).ok();
        let mut opened = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = opened.as_ref().filter(|o| o.committed == committed()) {
            return Ok(o.kb.clone());
        }
        let kb = std::sync::Arc::new(ctx.open_kb(&self.kb)?);
        *opened = Some(OpenedKb {
            committed: committed(),
            kb: kb.clone(),
        });
        Ok(kb)
    }

    /// The knowledge base checks search (built on first use when it is the default one), so
    /// a server can prepare it before taking checks.
    pub fn open_kb(&self, ctx: &Context) -> Result<(), Failure> {
        if self.search_kb {
            self.searched_kb(ctx)?;
        }
        Ok(())
    }

    /// Checks one input, telling `progress` about each step.
    pub fn run(
        &self,
        ctx: &Context,
        input: &str,
        checked_on: &str,
        urls: &[String],
        progress: &dyn Fn(Progress),
    ) -> Result<Report, Failure> {
        let (offered, web_kb) = if self.search_web || !urls.is_empty() {
            let web = self.web.sources(
                ctx,
                self.allow_private_hosts,
                self.search_web,
                self.max_pages,
            )?;
            let analysis = analyze(validate_input(input)?);
            if self.search_web {
                progress(Progress::Searching {
                    queries: factually_fetch::queries_for(&analysis, crate::web::QUERIES),
                });
            }
            let (offered, kb) =
                crate::web::gather_for_check(ctx, &web, &analysis, urls, self.search_web)?;
            progress(Progress::Fetched {
                pages: offered.documents.len(),
            });
            (offered, Some(kb))
        } else {
            (OfferedSources::default(), None)
        };
        // Without `kb` among the sources the knowledge base is never searched, so the web KB
        // stands in for it (and the default KB is not built just to be ignored).
        let kb = match (self.search_kb, web_kb) {
            (false, Some(web)) => std::sync::Arc::new(web),
            _ => self.searched_kb(ctx)?,
        };
        let checker = Checker {
            verifier: Verifier {
                kb: &kb,
                embedder: if self.search_kb {
                    ctx.embedder_for(&kb)?
                } else {
                    None
                },
                stance: &self.stance,
                judge: &self.judge,
                options: VerifyOptions {
                    documents: self.documents,
                    ..VerifyOptions::default()
                },
            },
            kb_name: self.kb.to_string(),
            search_kb: self.search_kb,
            offered,
        };
        let mut report = checker.check_with_progress(input, checked_on, progress)?;
        if let Some(settings) = &self.llm {
            progress(Progress::WritingWithModel {
                models: settings.models(),
            });
            crate::llm::write(ctx, &mut report, &self.stance, settings)?;
        }
        Ok(report)
    }
}

fn print_report(report: &Report, format: ReportFormat) {
    let text = match format {
        ReportFormat::Json => {
            print_json(report);
            return;
        }
        ReportFormat::Text => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            render::to_text(report, colour)
        }
        ReportFormat::Markdown => render::to_markdown(report),
        ReportFormat::Html => render::to_html(report),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

pub fn run_analyze(ctx: &Context, args: AnalyzeArgs) -> CmdResult {
    let input = read_input(&args.input)?;
    let analysis = analyze(&input);
    match ctx.format {
        crate::Format::Json => print_json(&analysis),
        crate::Format::Text => print_analysis(&analysis),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_analysis(a: &Analysis) {
    let out = &mut std::io::stdout().lock();
    let kind = serde_json::to_value(a.input_kind).unwrap_or_default();
    let checkability = serde_json::to_value(a.checkability).unwrap_or_default();
    let _ = writeln!(out, "Input: {}", a.input);
    let _ = writeln!(
        out,
        "Kind: {} ({}{})",
        kind.as_str().unwrap_or_default(),
        checkability.as_str().unwrap_or_default(),
        if a.check_worthy {
            ", check-worthy"
        } else {
            ", not check-worthy"
        }
    );
    if let Some(reason) = &a.checkability_reason {
        let _ = writeln!(out, "  {reason}");
    }
    let _ = writeln!(out, "\nStatements:");
    if a.statements.is_empty() {
        let _ = writeln!(out, "  (none: the input asks for information)");
    }
    for s in &a.statements {
        let _ = writeln!(out, "  - {s}");
    }
    let _ = writeln!(out, "\nPresuppositions:");
    if a.presuppositions.is_empty() {
        let _ = writeln!(out, "  (none found)");
    }
    for p in &a.presuppositions {
        let _ = writeln!(out, "  - {} [{}]", p.text, p.trigger);
    }
    let _ = writeln!(out, "\nLoaded language:");
    if a.loaded_language.is_empty() {
        let _ = writeln!(out, "  (none found)");
    }
    for l in &a.loaded_language {
        let category = serde_json::to_value(l.category).unwrap_or_default();
        let _ = writeln!(
            out,
            "  - \"{}\" (bytes {}..{}): {}",
            l.text,
            l.start,
            l.end,
            category.as_str().unwrap_or_default()
        );
    }
}

pub fn run_schema(command: SchemaCommand) -> CmdResult {
    match command {
        SchemaCommand::Report => print!("{}", report_schema()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `factually fetch URL`: what the fetcher makes of one page, without storing it.
pub fn run_fetch(ctx: &Context, args: FetchArgs) -> CmdResult {
    let config = crate::web::WebConfig::load(ctx)?;
    let web = config.sources(ctx, args.allow_private_hosts, false, 1)?;
    let page = crate::web::runtime()?
        .block_on(web.fetcher.fetch(&args.url))
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.url))?;
    let doc =
        factually_fetch::to_document(&page).map_err(|e| anyhow::anyhow!("{}: {e}", page.url))?;
    let host = page.url.host_str().unwrap_or_default().to_string();
    let (credibility, credibility_source) = web.credibility.score(&host);
    let words = doc.text.split_whitespace().count();
    match ctx.format {
        crate::Format::Json => print_json(&serde_json::json!({
            "url": args.url,
            "final_url": page.url.as_str(),
            "media_type": page.media_type,
            "title": doc.title,
            "canonical_url": doc.url,
            "publisher": doc.publisher,
            "published": doc.published,
            "language": doc.language,
            "description": doc.description,
            "credibility": credibility,
            "credibility_source": credibility_source,
            "words": words,
            "sha256": factually_core::sha256_hex(doc.text.as_bytes()),
            "text": doc.text,
        })),
        crate::Format::Text => {
            let out = &mut std::io::stdout().lock();
            let _ = writeln!(out, "Title: {}", doc.title);
            let _ = writeln!(out, "URL: {}", page.url);
            if let Some(p) = &doc.publisher {
                let _ = writeln!(out, "Publisher: {p}");
            }
            if let Some(d) = &doc.published {
                let _ = writeln!(out, "Published: {d}");
            }
            let _ = writeln!(
                out,
                "Domain reliability: {credibility:.2} ({})",
                serde_json::to_value(credibility_source)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            );
            let _ = writeln!(out, "Words: {words}\n");
            let _ = writeln!(out, "{}", doc.text);
        }
    }
    Ok(ExitCode::SUCCESS)
}
