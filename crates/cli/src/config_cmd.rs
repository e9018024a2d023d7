//! `factually config check`: reads a config file the way every command does and names each
//! problem in it (an unknown table or key, a value of the wrong type, a setting that cannot
//! work), all at once, instead of stopping at the first. `factually config init` writes one
//! with every key, commented out at its default.

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
    /// Write a config file with every key, commented out at its default.
    Init(InitArgs),
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Where to write it (default: $FACTUALLY_CONFIG, else config.toml in the data directory).
    #[arg(long, value_name = "FILE")]
    path: Option<PathBuf>,
    /// Replace a file that exists.
    #[arg(long)]
    force: bool,
}

/// The file `config init` writes: every table, every key with its default and what it does.
const TEMPLATE: &str = include_str!("../config-template.toml");

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The file (default: $FACTUALLY_CONFIG, else config.toml in the data directory).
    #[arg(long, value_name = "FILE")]
    path: Option<PathBuf>,
}

pub fn run(ctx: &Context, command: ConfigCommand) -> CmdResult {
    match command {
        ConfigCommand::Check(args) => check(ctx, args),
        ConfigCommand::Init(args) => init(ctx, args),
    }
}

fn config_path(ctx: &Context, given: Option<PathBuf>) -> PathBuf {
    given
        .or_else(|| factually_engine::env("FACTUALLY_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| ctx.data.root().join("config.toml"))
}

fn init(ctx: &Context, args: InitArgs) -> CmdResult {
    let path = config_path(ctx, args.path);
    if path.exists() && !args.force {
        return Err(Failure::usage(format!(
            "{}: exists; --force replaces it",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    }
    // Written beside the target and renamed: an interrupted run leaves the old file whole.
    let partial = path.with_extension("toml.partial");
    std::fs::write(&partial, TEMPLATE)
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
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
    let path = config_path(ctx, args.path);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys a table accepts, read from serde's message for an unknown one.
    fn keys_of<T: DeserializeOwned>() -> Vec<String> {
        let mut probe = toml::Table::new();
        probe.insert("__probe".into(), toml::Value::Integer(1));
        let error = toml::Value::Table(probe).try_into::<T>().err().unwrap();
        let message = error.message().to_string();
        let expected = message.split("expected").nth(1).unwrap_or_default();
        expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    /// The template with every commented setting and table header turned on.
    fn uncommented() -> String {
        TEMPLATE
            .lines()
            .filter_map(|line| {
                if line.starts_with('[') {
                    return Some(line.to_string());
                }
                let setting = line.strip_prefix("# ")?;
                if setting.starts_with('[') {
                    return Some(format!("{}]", setting.split(']').next()?));
                }
                let (key, rest) = setting.split_once(" = ")?;
                if !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    return None;
                }
                let value = rest.split(" #").next()?.trim();
                Some(format!("{key} = {value}"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_template_names_every_key_of_every_table() {
        let tables = [
            ("web", keys_of::<WebConfig>()),
            ("llm", keys_of::<LlmConfig>()),
            ("site", keys_of::<factually_web::SiteConfig>()),
            (
                "site.campaign",
                keys_of::<factually_web::donate::Campaign>(),
            ),
            ("limits", keys_of::<factually_engine::LimitsConfig>()),
            ("models", keys_of::<factually_engine::ModelsConfig>()),
        ];
        for (table, keys) in tables {
            assert!(!keys.is_empty(), "[{table}]");
            assert!(TEMPLATE.contains(&format!("[{table}]")), "[{table}]");
            for key in keys {
                assert!(
                    TEMPLATE.contains(&format!("# {key} = "))
                        || TEMPLATE.contains(&format!("[{table}.{key}]")),
                    "[{table}] {key} is not in the template"
                );
            }
        }
    }

    #[test]
    fn the_template_as_written_and_with_every_setting_on_is_a_valid_config() {
        toml::from_str::<ConfigFile>(TEMPLATE).unwrap();
        let on = uncommented();
        assert!(
            on.contains("searxng_url = \"http://localhost:8888\""),
            "{on}"
        );
        assert!(on.contains("goal = 5000"), "{on}");
        let config: ConfigFile = toml::from_str(&on).unwrap_or_else(|e| panic!("{e}\n{on}"));
        assert_eq!(config.limits.check_seconds, Some(300));
        assert_eq!(config.models.stance.as_deref(), Some("bundled"));
    }
}
