//! `factually`: the command-line interface. A thin shell over the library crates: it parses
//! arguments, picks the data directory and models, draws progress bars and prints results.

mod batch_cmd;
mod bench;
mod check_cmd;
mod claims_cmd;
mod config_cmd;
mod doctor_cmd;
mod factchecks_cmd;
mod judge_train;
mod kb_cmd;
mod mcp_cmd;
mod output;
mod rerank_train;
mod runtime;
mod serve_cmd;
mod train_cmd;
mod verify_cmd;
mod web;
mod worker_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXIT_HELP: &str = "\
Exit status:
  0  success
  1  the command could not do its job (unreadable knowledge base, missing model, I/O error)
  2  invalid usage or input: unknown option, bad name, or an input that cannot be checked
     (empty, over 2,000 characters, not UTF-8, control characters, not English,
     instructions to the program); nothing is written to stdout
  3  finished, but some inputs were skipped (e.g. `kb add` met unreadable files); see the summary

Environment:
  FACTUALLY_DATA_DIR   knowledge bases and database (default: $XDG_DATA_HOME/factually)
  FACTUALLY_CACHE_DIR  downloaded models and data packages (default: $XDG_CACHE_HOME/factually)
  FACTUALLY_CONFIG     config file (default: <data dir>/config.toml when it exists)
  FACTUALLY_SEARXNG_URL, FACTUALLY_BRAVE_API_KEY, FACTUALLY_BRAVE_URL, FACTUALLY_WIKIPEDIA_URL
                       web search providers (see docs/web.md)
  FACTUALLY_ALLOW_PRIVATE_HOSTS=1  let the fetcher reach loopback and private addresses
  FACTUALLY_TRUST_DOMAINS, FACTUALLY_BLOCK_DOMAINS  comma-separated domain lists
  FACTUALLY_LLM_URL, FACTUALLY_LLM_MODEL, FACTUALLY_LLM_API_KEY
                       LLM mode for `check` (an OpenAI-compatible server; see docs/llm.md)
  FACTUALLY_STRIPE_WEBHOOK_SECRET  signing secret of the donation webhook (`serve`; docs/site.md)
  FACTUALLY_ADMIN_TOKEN  opens /admin/reports (readers' error reports) to this token (`serve`)
  FACTUALLY_DATABASE_URL  the site's database for `serve` and `worker`: postgres://... or a
                       SQLite file (default: <data dir>/factually.db)
  FACTUALLY_LOG        log filter (default: warn), e.g. info or factually_web=debug";

#[derive(Parser, Debug)]
#[command(name = "factually", version, about = "Automated, grounded fact-checking, offline by default.", after_help = EXIT_HELP)]
struct Cli {
    /// Directory holding knowledge bases and the database.
    #[arg(long, global = true, env = "FACTUALLY_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Output format (`markdown` and `html` only for `check`).
    #[arg(long, global = true, value_enum, default_value_t = check_cmd::ReportFormat::Text)]
    format: check_cmd::ReportFormat,
    /// How log lines on stderr are written: `json` is one JSON object per line, for log
    /// collectors.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// The sentence-embedding model of knowledge bases this command creates: `bundled`
    /// (all-MiniLM-L6-v2), a directory, or a Hugging Face hub id of a BERT-architecture model
    /// (BAAI/bge-small-en-v1.5, intfloat/e5-small-v2, thenlper/gte-small...). Existing
    /// knowledge bases are always searched with the model they were built with; naming
    /// another is refused.
    #[arg(
        long,
        global = true,
        env = "FACTUALLY_EMBEDDER",
        value_name = "bundled|DIR|HUB-ID"
    )]
    embedder: Option<String>,
    /// How that model pools token vectors (default: its `1_Pooling/config.json`, else what its
    /// family uses: cls for bge, mean otherwise).
    #[arg(long, global = true, value_name = "mean|cls", requires = "embedder")]
    embedder_pooling: Option<factually_embed::Pooling>,
    /// Text put before every search query (default: `query: ` for e5, bge's English
    /// instruction for bge-*-en, none otherwise).
    #[arg(long, global = true, value_name = "TEXT", requires = "embedder")]
    embedder_query_prefix: Option<String>,
    /// Text put before every stored passage (default: `passage: ` for e5, none otherwise).
    #[arg(long, global = true, value_name = "TEXT", requires = "embedder")]
    embedder_passage_prefix: Option<String>,
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// `--embedder` and its settings; any setting given completes the rest from the guess.
    fn embedder_choice(&self) -> factually_embed::EmbedderChoice {
        factually_embed::EmbedderChoice::new(
            self.embedder.clone(),
            self.embedder_pooling,
            self.embedder_query_prefix.clone(),
            self.embedder_passage_prefix.clone(),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Output format of the commands other than `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fact-check a question or claim: the full report with verdict, presuppositions, context,
    /// follow-up questions and cited sources.
    Check(check_cmd::CheckArgs),
    /// The check-worthy claims of a text (file, page or standard input), ranked, each made to
    /// stand alone, with the byte span of its sentence.
    Claims(claims_cmd::ClaimsArgs),
    /// Published fact-checks (ClaimReview): `factchecks import` adds them from feeds and pages.
    Factchecks {
        #[command(subcommand)]
        command: factchecks_cmd::FactchecksCommand,
    },
    /// Published fact-checks of a claim, best match first, with how similar each claim is.
    Match(factchecks_cmd::MatchArgs),
    /// Analyse a question or claim without retrieval: its statements, presuppositions, loaded
    /// wording and whether it is checkable at all.
    Analyze(check_cmd::AnalyzeArgs),
    /// Print a JSON Schema of factually's output.
    Schema {
        #[command(subcommand)]
        command: check_cmd::SchemaCommand,
    },
    /// Manage knowledge bases: add documents, show statistics, print a stored document.
    Kb {
        #[command(subcommand)]
        command: kb_cmd::KbCommand,
    },
    /// Ranked passages from a knowledge base.
    Search(kb_cmd::SearchArgs),
    /// Fetch one web page and show what factually extracts from it (title, date, main text).
    Fetch(check_cmd::FetchArgs),
    /// Benchmarks that print figures (build time, memory, latency, retrieval quality).
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
    /// Check one claim against a knowledge base: verdict, confidence and grounded evidence.
    Verify(verify_cmd::VerifyArgs),
    /// Check many claims from a JSONL or CSV file: one JSON line per claim appended to --out,
    /// resumable (claims already there are skipped), with a progress bar and a summary.
    Batch(batch_cmd::BatchArgs),
    /// Score the verify pipeline on a public benchmark (accuracy, macro-F1, calibration, speed).
    Eval(verify_cmd::EvalArgs),
    /// Serve the web site and JSON API, and run submitted checks in background workers.
    Serve(serve_cmd::ServeArgs),
    /// Run checks from the site's queue (a shared database) without serving: any number of
    /// these, on any hosts, next to `serve --workers 0`.
    Worker(worker_cmd::WorkerArgs),
    /// Write or check the config file (`config init`, `config check`).
    Config {
        #[command(subcommand)]
        command: config_cmd::ConfigCommand,
    },
    /// Train models from benchmark training data (the stance model).
    Train {
        #[command(subcommand)]
        command: train_cmd::TrainCommand,
    },
    /// Print a shell completion script: `factually completions zsh > _factually`.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `factually man > factually.1`.
    Man,
    /// Serve the check engine to assistants over the Model Context Protocol (stdio): tools
    /// check, verify, search_knowledge_base, show_source and match_fact_checks.
    Mcp(mcp_cmd::McpArgs),
    /// What is installed, configured and reachable: models, knowledge bases, the config file,
    /// the language model, the database. Exit status 1 when something required is broken.
    Doctor(doctor_cmd::DoctorArgs),
}

/// An error with the exit status it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let error = e.into();
        let code = match error.downcast_ref::<factually_kb::KbError>() {
            Some(factually_kb::KbError::EmptyQuery | factually_kb::KbError::BadName(_)) => 2,
            _ if matches!(
                error.downcast_ref::<factually_verify::VerifyError>(),
                Some(
                    factually_verify::VerifyError::EmptyClaim
                        | factually_verify::VerifyError::ClaimTooLong(_)
                        | factually_verify::VerifyError::NoWords
                )
            ) =>
            {
                2
            }
            _ if error
                .downcast_ref::<factually_analyze::InputError>()
                .is_some() =>
            {
                2
            }
            _ if error
                .downcast_ref::<factually_engine::CheckError>()
                .is_some_and(factually_engine::CheckError::is_input) =>
            {
                2
            }
            _ if matches!(
                error.downcast_ref::<factually_store::StoreError>(),
                Some(factually_store::StoreError::UnknownDatabase(_))
            ) =>
            {
                2
            }
            _ if error
                .downcast_ref::<factually_engine::SetupError>()
                .is_some_and(factually_engine::SetupError::is_usage) =>
            {
                2
            }
            // A wrong `--embedder`: another model than the KB's, a directory that is not a
            // model, a hub id that cannot be fetched.
            _ if matches!(
                error.downcast_ref::<factually_embed::EmbedError>(),
                Some(
                    factually_embed::EmbedError::OtherModel { .. }
                        | factually_embed::EmbedError::Model { .. }
                        | factually_embed::EmbedError::Asset(
                            factually_assets::AssetError::Hub { .. }
                        )
                )
            ) =>
            {
                2
            }
            _ if matches!(
                error.downcast_ref::<factually_eval::datasets::DatasetError>(),
                Some(factually_eval::datasets::DatasetError::Bad { .. })
            ) =>
            {
                2
            }
            _ => 1,
        };
        Self { code, error }
    }
}

impl Failure {
    pub fn usage(msg: impl Into<String>) -> Self {
        Self {
            code: 2,
            error: anyhow::anyhow!(msg.into()),
        }
    }
}

pub type CmdResult = Result<ExitCode, Failure>;

/// An error and its causes on one line, leaving out a cause whose text the line already holds
/// (many errors repeat their source in their own message).
fn message(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// The hidden first argument that makes this process the PDF helper.
const PDF_HELPER_ARG: &str = "__pdf-text";

/// The PDF helper's address space: 2 GiB, room for the largest file `kb add` reads (64 MiB)
/// many times over (the helper reads a one-page PDF within 512 MiB, the binary included).
const PDF_HELPER_MEMORY_BYTES: u64 = 2 << 30;

fn main() -> ExitCode {
    // candle allocates and frees multi-megabyte tensors for every layer of every batch; with
    // glibc's defaults each one is a fresh mmap and page faults, which cost 15-20% of embedding
    // time (measured with the `throughput` example). Keeping them in the heap avoids that.
    // SAFETY: called first thing, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 512 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
    // This binary is also the PDF reader's child process: `factually __pdf-text` reads a PDF
    // on stdin and writes its text to stdout (factually_ingest::serve_pdf_text_helper), so
    // that a PDF on which the reader hangs can be killed instead of abandoned.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == PDF_HELPER_ARG)
    {
        return ExitCode::from(factually_ingest::serve_pdf_text_helper().clamp(0, 255) as u8);
    }
    if let Ok(program) = std::env::current_exe() {
        factually_ingest::extract_pdfs_in_child_processes(factually_ingest::PdfHelper {
            program,
            args: vec![PDF_HELPER_ARG.to_string()],
            memory_limit_bytes: Some(PDF_HELPER_MEMORY_BYTES),
        });
    }
    // Crash points named in FAILPOINTS (a test build only: the `failpoints` feature).
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FACTUALLY_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let format = match cli.format {
        check_cmd::ReportFormat::Text => Format::Text,
        check_cmd::ReportFormat::Json => Format::Json,
        _ if matches!(cli.command, Command::Check(_)) => Format::Text,
        other => {
            eprintln!("factually: error: --format {other:?} is only available for `check`; use text or json");
            return ExitCode::from(2);
        }
    };
    let mut ctx = runtime::Context::new(cli.data_dir.clone(), format, cli.embedder_choice());
    // Without `--embedder` (or FACTUALLY_EMBEDDER), the config file's `[models]` table may name
    // one. `config check` reads a broken file itself, to list every problem in it.
    let needs_config = !matches!(
        cli.command,
        Command::Config { .. } | Command::Completions { .. } | Command::Man | Command::Doctor(_)
    );
    if cli.embedder.is_none() && needs_config {
        match web::ConfigFile::read(&ctx) {
            Ok(config) if config.models.embedder.is_some() => {
                ctx = runtime::Context::new(cli.data_dir, format, config.models.embedder_choice());
            }
            Ok(_) => {}
            Err(f) => {
                eprintln!("factually: error: {}", message(&f.error));
                return ExitCode::from(f.code);
            }
        }
    }
    let result = match cli.command {
        Command::Check(args) => check_cmd::run_check(&ctx, cli.format, args),
        Command::Analyze(args) => check_cmd::run_analyze(&ctx, args),
        Command::Claims(args) => claims_cmd::run_claims(&ctx, args),
        Command::Factchecks { command } => factchecks_cmd::run(&ctx, command),
        Command::Match(args) => factchecks_cmd::run_match(&ctx, args),
        Command::Schema { command } => check_cmd::run_schema(command),
        Command::Kb { command } => kb_cmd::run_kb(&ctx, command),
        Command::Search(args) => kb_cmd::run_search(&ctx, args),
        Command::Fetch(args) => check_cmd::run_fetch(&ctx, args),
        Command::Bench { command } => bench::run(&ctx, command),
        Command::Verify(args) => verify_cmd::run_verify(&ctx, args),
        Command::Batch(args) => batch_cmd::run(&ctx, args),
        Command::Eval(args) => verify_cmd::run_eval(&ctx, args),
        Command::Train { command } => train_cmd::run(&ctx, command),
        Command::Config { command } => config_cmd::run(&ctx, command),
        Command::Serve(args) => serve_cmd::run_serve(ctx, args),
        Command::Worker(args) => worker_cmd::run_worker(ctx, args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "factually",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor(args) => doctor_cmd::run(&ctx, args),
        Command::Mcp(args) => mcp_cmd::run(&ctx, args),
        Command::Man => clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
            .render(&mut std::io::stdout())
            .map(|()| ExitCode::SUCCESS)
            .map_err(Failure::from),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("factually: error: {}", message(&f.error));
            ExitCode::from(f.code)
        }
    }
}
