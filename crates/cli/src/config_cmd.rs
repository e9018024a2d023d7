//! `factually config check`: reads a config file the way every command does and names each
//! problem in it (an unknown table or key, a value of the wrong type, a setting that cannot
//! work), all at once, instead of stopping at the first.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use factually_engine::{LlmConfig, LlmFlags, WebConfig};
use serde::de::DeserializeOwned;

use crate::runtime::Context;
use crate::web::ConfigFile;
use crate::{CmdResult, Failure};

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Check a config file: every unknown key, wrong value and unusable setting is named.
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The file (default: $FACTUALLY_CONFIG, else config.toml in the data directory).
    #[arg(long, value_name = "FILE")]
    path: Option<PathBuf>,
}

pub fn run(ctx: &Context, command: ConfigCommand) -> CmdResult {
    match command {
        ConfigCommand::Check(args) => check(ctx, args),
    }
}

/// A value as the file wrote it, near enough for a message.
fn shown(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("{s:?}"),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(_) => "[...]".to_string(),
        toml::Value::Table(_) => "{...}".to_string(),
    }
}

/// Each problem of one table: every key is read on its own, so one bad key does not hide the
/// next.
fn table_problems<T: DeserializeOwned>(name: &str, table: &toml::Table) -> Vec<String> {
    table
        .iter()
        .filter_map(|(key, value)| {
            let mut one = toml::Table::new();
            one.insert(key.clone(), value.clone());
            let error = toml::Value::Table(one).try_into::<T>().err()?;
            Some(format!(
                "[{name}] {key} = {}: {}",
                shown(value),
                error.message().trim()
            ))
        })
        .collect()
}

fn check(ctx: &Context, args: CheckArgs) -> CmdResult {
    let path = args
        .path
        .or_else(|| factually_engine::env("FACTUALLY_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| ctx.data.root().join("config.toml"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| Failure::usage(format!("{}: not valid TOML: {e}", path.display())))?;
    let mut problems = Vec::new();
    for (name, value) in &table {
        let Some(inner) = value.as_table() else {
            problems.push(format!(
                "{name}: a top-level key; settings go in the [web], [llm], [site], [limits] or [models] table"
            ));
            continue;
        };
        problems.extend(match name.as_str() {
            "web" => table_problems::<WebConfig>(name, inner),
            "llm" => table_problems::<LlmConfig>(name, inner),
            "site" => table_problems::<factually_web::SiteConfig>(name, inner),
            "limits" => table_problems::<factually_engine::LimitsConfig>(name, inner),
            "models" => table_problems::<factually_engine::ModelsConfig>(name, inner),
            other => vec![format!(
                "[{other}]: unknown table; the tables are [web], [llm], [site], [limits] and [models]"
            )],
        });
    }
    // Values of the right types can still make a setting that cannot work.
    if problems.is_empty() {
        let config: ConfigFile = toml::from_str(&text)
            .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
        if let Err(e) = config.llm.resolve(LlmFlags::default()) {
            problems.push(format!("[llm]: {e}"));
        }
        if let Err(e) = config.web.sources(&ctx.data, false, true, 1) {
            problems.push(format!("[web]: {e}"));
        }
        if let factually_engine::StanceChoice::Path(p) = config.models.stance_choice(None) {
            if !p.exists() {
                problems.push(format!(
                    "[models] stance: {}: no such file or directory, and not a hub id (owner/name)",
                    p.display()
                ));
            }
        }
        if let Some(embedder) = &config.models.embedder {
            let hub_id = factually_assets::hub::HubModelId::parse(embedder).is_some();
            if embedder != "bundled" && !hub_id && !std::path::Path::new(embedder).is_dir() {
                problems.push(format!(
                    "[models] embedder: {embedder}: not a directory, and not a hub id (owner/name)"
                ));
            }
        }
        if let Some(token) = &config.site.admin_token {
            if token.chars().count() < 16 {
                problems.push("[site] admin_token: at least 16 characters".to_string());
            }
        }
    }
    if problems.is_empty() {
        println!("{}: ok", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        eprintln!("{}: {p}", path.display());
    }
    Err(Failure::usage(format!(
        "{} problem(s) in {}",
        problems.len(),
        path.display()
    )))
}
