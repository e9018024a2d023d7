//! `factually check` (the full report), `factually analyze` (input analysis only) and
//! `factually schema` (the report's JSON Schema).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use factually_analyze::{analyze, validate_bytes, validate_input, Analysis};
use factually_kb::KbName;
use factually_report::{render, report_schema, Checker, Report};
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
    /// Knowledge base to search.
    #[arg(long, default_value = factually_kb::default_kb::DEFAULT_KB)]
    kb: String,
    /// Documents taken from retrieval for each statement and presupposition.
    #[arg(long, default_value_t = VerifyOptions::default().documents)]
    documents: usize,
    /// The date printed as "Checked on" (YYYY-MM-DD); today by default.
    #[arg(long, value_name = "DATE")]
    checked_on: Option<String>,
    /// Use this stance artifact (from `factually train stance`) instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    stance_model: Option<PathBuf>,
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

fn today() -> String {
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
    let name = KbName::parse(&args.kb)?;
    let kb = ctx.open_kb(&name)?;
    let stance = crate::verify_cmd::load_stance(ctx, args.stance_model.as_deref())?;
    let checker = Checker {
        verifier: Verifier {
            kb: &kb,
            embedder: ctx.embedder_for(&kb)?,
            stance: &stance,
            options: VerifyOptions {
                documents: args.documents.clamp(1, 50),
                ..VerifyOptions::default()
            },
        },
        kb_name: name.to_string(),
    };
    let report = checker.check(&input, &checked_on)?;
    print_report(&report, format);
    Ok(ExitCode::SUCCESS)
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
