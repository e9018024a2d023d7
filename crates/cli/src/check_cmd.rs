//! `factually check` (the full report), `factually analyze` (input analysis only) and
//! `factually schema` (the report's JSON Schema).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use factually_analyze::{analyze, validate_bytes, validate_input, Analysis};
use factually_engine::{
    CheckRequest, CheckSession, DocumentRequest, LlmFlags, LlmProvider, Settings,
};
use factually_kb::KbName;
use factually_report::{render, report_schema, DocumentOrigin, Report};
use factually_verify::VerifyOptions;

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
    /// The question or claim; `-` reads it from standard input. Leave it out to check a
    /// document (`--file`, `--text`, or one `--url`).
    #[arg(conflicts_with_all = ["file", "text"])]
    input: Option<String>,
    /// Check a document: the most check-worthy claims of a text, Markdown, HTML or PDF file,
    /// each checked and marked in the text.
    #[arg(long, value_name = "FILE", conflicts_with = "text")]
    file: Option<PathBuf>,
    /// Check a document given as text; `-` reads it from standard input.
    #[arg(long, value_name = "TEXT")]
    text: Option<String>,
    /// How many of a document's most check-worthy claims are checked.
    #[arg(long, default_value_t = 5, value_name = "N")]
    max_claims: usize,
    /// The date printed as "Checked on" (YYYY-MM-DD); today by default.
    #[arg(long, value_name = "DATE")]
    checked_on: Option<String>,
    /// A page to use as a source (repeatable); fetched and stored like a search result.
    /// Given alone (no claim, no --file or --text), the page is the document to check.
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
    /// cross-encoder (BERT, RoBERTa, XLM-RoBERTa or DeBERTa-v2/v3), a Hugging Face hub id of
    /// one (`owner/name[@revision]`, fetched once into the cache), `llm` (the language model
    /// judges each pair), or an artifact from `factually train stance`.
    #[arg(long, value_name = "bundled|DIR|HUB-ID|llm|FILE")]
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
    #[command(flatten)]
    llm: LlmArgs,
    /// Several models that each analyse the sources and give a verdict, comma-separated:
    /// `openai-compat:NAME` (on --llm-url), `gguf` or `gguf:FILE`. The first writes the prose.
    #[arg(long, value_delimiter = ',', value_name = "MODELS")]
    jury: Vec<String>,
}

/// The language model: for LLM mode, and for `--stance-model llm`.
#[derive(Args, Debug, Clone)]
pub struct LlmArgs {
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
}

impl LlmArgs {
    pub fn flags<'a>(&'a self, jury: &'a [String]) -> LlmFlags<'a> {
        LlmFlags {
            provider: self.llm.map(|kind| match kind {
                LlmKind::OpenaiCompat => LlmProvider::OpenaiCompat,
                LlmKind::Gguf => LlmProvider::Gguf,
            }),
            url: self.llm_url.as_deref(),
            model: self.llm_model.as_deref(),
            jury,
        }
    }
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

pub(crate) fn valid_date(s: &str) -> Result<String, Failure> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format)
        .map(|_| s.to_string())
        .map_err(|_| Failure::usage(format!("--checked-on {s:?} is not a date (YYYY-MM-DD)")))
}

pub fn run_check(ctx: &Context, format: ReportFormat, args: CheckArgs) -> CmdResult {
    let checked_on = match &args.checked_on {
        Some(d) => valid_date(d)?,
        None => today(),
    };
    let Some(input) = &args.input else {
        return run_document_check(ctx, format, &args, &checked_on);
    };
    let input = read_input(input)?;
    let session = args.pipeline.session(ctx, !args.urls.is_empty(), None)?;
    let report = session.check(
        &CheckRequest {
            input: &input,
            checked_on: &checked_on,
            urls: &args.urls,
            cancel: None,
        },
        &|_| {},
    )?;
    print_report(&report, format);
    Ok(ExitCode::SUCCESS)
}

/// `check --file | --text | --url` without a claim: a document report.
fn run_document_check(
    ctx: &Context,
    format: ReportFormat,
    args: &CheckArgs,
    checked_on: &str,
) -> CmdResult {
    use crate::claims_cmd::{read_text, Text, TextSource};
    if !(1..=factually_engine::MAX_CLAIMS).contains(&args.max_claims) {
        return Err(Failure::usage(format!(
            "--max-claims must be between 1 and {}",
            factually_engine::MAX_CLAIMS
        )));
    }
    // With --file or --text, the pages are sources; alone, one page is the document.
    let (read, origin, sources) = match (&args.file, &args.text, args.urls.as_slice()) {
        (Some(path), _, urls) => (Some(TextSource::File(path)), DocumentOrigin::File, urls),
        (None, Some(text), urls) if text == "-" => {
            (Some(TextSource::Stdin), DocumentOrigin::Text, urls)
        }
        (None, Some(_), urls) => (None, DocumentOrigin::Text, urls),
        (None, None, [url]) => (
            Some(TextSource::Url {
                url,
                allow_private_hosts: args.pipeline.allow_private_hosts,
            }),
            DocumentOrigin::Url,
            &[][..],
        ),
        (None, None, []) => {
            return Err(Failure::usage(
                "give a question or claim to check, or a document: --file FILE, --text TEXT (`-`: standard input) or --url URL",
            ))
        }
        (None, None, _) => {
            return Err(Failure::usage(
                "several --url without a claim: give the claim to check against these pages, or one --url to check that page",
            ))
        }
    };
    let Text { title, url, text } = match (read, &args.text) {
        (Some(source), _) => read_text(ctx, source)?,
        (None, given) => Text {
            title: "Pasted text".to_string(),
            url: None,
            text: given.clone().unwrap_or_default(),
        },
    };
    let session = args.pipeline.session(ctx, !sources.is_empty(), None)?;
    let report = session.check_document(
        &DocumentRequest {
            text: &text,
            title: &title,
            origin,
            url: url.as_deref(),
            max_claims: args.max_claims,
            checked_on,
            urls: sources,
            cancel: None,
        },
        &|_| {},
    )?;
    let out = match format {
        ReportFormat::Json => {
            print_json(&report);
            return Ok(ExitCode::SUCCESS);
        }
        ReportFormat::Text => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            render::document::to_text(&report, colour)
        }
        ReportFormat::Markdown => render::document::to_markdown(&report),
        ReportFormat::Html => render::document::to_html(&report),
    };
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(ExitCode::SUCCESS)
}

impl PipelineArgs {
    /// The check session these flags and the config file describe: the models are loaded and
    /// every setting checked before it returns. `with_urls`: the checks come with pages of
    /// their own, so without `--sources` only those are used. `runtime`: the caller's async
    /// runtime (`serve`), else the session starts its own.
    pub fn session(
        &self,
        ctx: &Context,
        with_urls: bool,
        runtime: Option<tokio::runtime::Handle>,
    ) -> Result<CheckSession, Failure> {
        let sources = if self.sources.is_empty() && !with_urls {
            vec![SourceKind::Kb]
        } else {
            self.sources.clone()
        };
        // The config file is read once, before any work: a malformed one is refused up front.
        let config = crate::web::ConfigFile::read(ctx)?;
        let llm = config.llm.resolve(self.llm.flags(&self.jury))?;
        let settings = Settings {
            data: ctx.data.clone(),
            cache: ctx.cache.clone(),
            kb: KbName::parse(&self.kb)?,
            search_kb: sources.contains(&SourceKind::Kb),
            search_web: sources.contains(&SourceKind::Web),
            documents: self.documents,
            stance: config.models.stance_choice(self.stance_model.as_deref()),
            embedder: ctx.embedder_choice.clone(),
            judge_model: None,
            llm,
            web: config.web.with_env(),
            allow_private_hosts: self.allow_private_hosts,
            max_pages: self.max_pages,
            check_budget: config.limits.check_budget(),
            build_progress: Some(std::sync::Arc::new(crate::runtime::default_kb_progress())),
        };
        Ok(match runtime {
            Some(handle) => CheckSession::with_runtime(settings, handle)?,
            None => CheckSession::new(settings)?,
        })
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
    let pages = crate::web::PageFetcher::new(ctx, args.allow_private_hosts)?;
    let page = pages
        .fetch(&args.url)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.url))?;
    let doc =
        factually_fetch::to_document(&page).map_err(|e| anyhow::anyhow!("{}: {e}", page.url))?;
    let host = page.url.host_str().unwrap_or_default().to_string();
    let (credibility, credibility_source) = pages.web.credibility.score(&host);
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
