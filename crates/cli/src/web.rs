//! The config file (`$FACTUALLY_CONFIG`, or `<data dir>/config.toml`): its `[web]`, `[llm]`,
//! `[site]`, `[limits]` and `[models]` tables, read once per command before any work.

use std::path::PathBuf;

use anyhow::Context as _;
use factually_engine::{env, LimitsConfig, LlmConfig, ModelsConfig, WebConfig};
use serde::Deserialize;

use crate::runtime::Context;
use crate::Failure;

/// The config file: `$FACTUALLY_CONFIG`, or `<data dir>/config.toml` when it exists.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub web: WebConfig,
    #[serde(default)]
    pub llm: LlmConfig,
    #[serde(default)]
    pub site: factually_web::SiteConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub models: ModelsConfig,
}

impl ConfigFile {
    /// Reads the file; a missing default file is an empty configuration, a missing
    /// `$FACTUALLY_CONFIG` or a malformed file is an error naming the file.
    pub fn read(ctx: &Context) -> Result<Self, Failure> {
        let (path, required) = match env("FACTUALLY_CONFIG") {
            Some(p) => (PathBuf::from(p), true),
            None => (ctx.data.root().join("config.toml"), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str::<ConfigFile>(&text)
                .map_err(|e| Failure::usage(format!("{}: {e}", path.display()))),
            Err(e) if required || e.kind() != std::io::ErrorKind::NotFound => {
                Err(Failure::usage(format!("{}: {e}", path.display())))
            }
            Err(_) => Ok(ConfigFile::default()),
        }
    }
}

/// The web sources of the config file (and environment) with a runtime to drive them: how
/// `fetch`, `claims --url` and `factchecks import --url` fetch pages (robots.txt, size and
/// type limits, no private addresses unless allowed).
pub struct PageFetcher {
    pub web: factually_fetch::WebSources,
    runtime: tokio::runtime::Runtime,
}

impl PageFetcher {
    pub fn new(ctx: &Context, allow_private_hosts: bool) -> Result<Self, Failure> {
        let config: WebConfig = ConfigFile::read(ctx)?.web.with_env();
        Ok(Self {
            web: config.sources(&ctx.data, allow_private_hosts, false, 1)?,
            runtime: runtime()?,
        })
    }

    pub fn fetch(
        &self,
        url: &str,
    ) -> Result<factually_fetch::Fetched, factually_fetch::FetchError> {
        self.runtime.block_on(self.web.fetcher.fetch(url))
    }
}

/// A small runtime for a command's one round of async work (`fetch`).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}
