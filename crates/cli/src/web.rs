//! Web sources for `check --sources web`, `check --url` and `fetch`: configuration (a config
//! file, then the environment), one gathering round, and storing what was fetched as snapshots in
//! the `web` knowledge base, where citations point.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use factually_analyze::Analysis;
use factually_core::{sha256_hex, Document};
use factually_fetch::{
    api_client, queries_for, Brave, Credibility, FetchConfig, Fetcher, Gathered, SearchProvider,
    SearxNg, SnapshotCache, WebSources, Wikipedia, BRAVE_URL, WIKIPEDIA_URL,
};
use factually_kb::{DenseScope, KbConfig, KbName, KnowledgeBase};
use factually_report::{OfferedSource, OfferedSources, SkippedSource};
use serde::Deserialize;

use crate::runtime::{now_rfc3339, Context};
use crate::Failure;

/// The knowledge base web snapshots are stored in.
pub const WEB_KB: &str = "web";
/// Search queries per check.
pub const QUERIES: usize = 3;

/// The `[web]` table of the config file; every key can also come from the environment, which
/// wins. See docs/web.md.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// SearxNG base URL (`FACTUALLY_SEARXNG_URL`).
    pub searxng_url: Option<String>,
    /// Brave Search API key (`FACTUALLY_BRAVE_API_KEY`).
    pub brave_api_key: Option<String>,
    /// Brave API base URL (`FACTUALLY_BRAVE_URL`), for proxies and tests.
    pub brave_url: Option<String>,
    /// MediaWiki base URL (`FACTUALLY_WIKIPEDIA_URL`), English Wikipedia by default.
    pub wikipedia_url: Option<String>,
    /// Whether Wikipedia is searched (default true).
    pub wikipedia: Option<bool>,
    /// Let the fetcher reach loopback and private addresses (`FACTUALLY_ALLOW_PRIVATE_HOSTS=1`).
    pub allow_private_hosts: Option<bool>,
    /// Domains scored 1.0 (`FACTUALLY_TRUST_DOMAINS`, comma-separated).
    #[serde(default)]
    pub trust_domains: Vec<String>,
    /// Domains never fetched (`FACTUALLY_BLOCK_DOMAINS`, comma-separated).
    #[serde(default)]
    pub block_domains: Vec<String>,
    /// Reuse fetched pages younger than this many hours (default 24; 0 disables the cache).
    pub cache_hours: Option<u64>,
    /// Per-request time limit in seconds (default 15).
    pub timeout_seconds: Option<u64>,
}

/// The config file: `$FACTUALLY_CONFIG`, or `<data dir>/config.toml` when it exists.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub web: WebConfig,
    #[serde(default)]
    pub llm: crate::llm::LlmConfig,
    #[serde(default)]
    pub site: factually_web::SiteConfig,
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

pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

impl WebConfig {
    /// The `[web]` table of the config file, then the environment.
    pub fn load(ctx: &Context) -> Result<Self, Failure> {
        Ok(ConfigFile::read(ctx)?.web.with_env())
    }

    /// These settings with the environment applied over them.
    pub fn with_env(mut self) -> Self {
        let config = &mut self;
        let overrides = [
            ("FACTUALLY_SEARXNG_URL", &mut config.searxng_url),
            ("FACTUALLY_BRAVE_API_KEY", &mut config.brave_api_key),
            ("FACTUALLY_BRAVE_URL", &mut config.brave_url),
            ("FACTUALLY_WIKIPEDIA_URL", &mut config.wikipedia_url),
        ];
        for (name, slot) in overrides {
            if let Some(v) = env(name) {
                *slot = Some(v);
            }
        }
        if let Some(v) = env("FACTUALLY_TRUST_DOMAINS") {
            config.trust_domains = list(&v);
        }
        if let Some(v) = env("FACTUALLY_BLOCK_DOMAINS") {
            config.block_domains = list(&v);
        }
        self
    }

    fn fetch_config(&self, allow_private: bool) -> FetchConfig {
        let mut config = FetchConfig::default();
        if let Some(s) = self.timeout_seconds {
            config.timeout = Duration::from_secs(s.clamp(1, 300));
        }
        if allow_private || self.allow_private_hosts == Some(true) {
            config = config.allow_private_hosts();
        }
        config
    }

    fn providers(&self) -> Result<Vec<Box<dyn SearchProvider>>, Failure> {
        let client = api_client(&FetchConfig::default().user_agent, Duration::from_secs(10));
        let parse = |what: &str, raw: &str| {
            url::Url::parse(raw).map_err(|e| Failure::usage(format!("{what} {raw:?}: {e}")))
        };
        let mut providers: Vec<Box<dyn SearchProvider>> = Vec::new();
        if let Some(u) = &self.searxng_url {
            providers.push(Box::new(SearxNg::new(
                client.clone(),
                parse("SearxNG URL", u)?,
            )));
        }
        if let Some(key) = &self.brave_api_key {
            let base = parse("Brave URL", self.brave_url.as_deref().unwrap_or(BRAVE_URL))?;
            providers.push(Box::new(Brave::new(client.clone(), base, key.clone())));
        }
        if self.wikipedia != Some(false) {
            let base = parse(
                "Wikipedia URL",
                self.wikipedia_url.as_deref().unwrap_or(WIKIPEDIA_URL),
            )?;
            providers.push(Box::new(Wikipedia::new(client, base)));
        }
        Ok(providers)
    }

    /// The web side, ready to gather: providers only when `search` is wanted.
    pub fn sources(
        &self,
        ctx: &Context,
        allow_private: bool,
        search: bool,
        max_pages: usize,
    ) -> Result<WebSources, Failure> {
        let cache_hours = self.cache_hours.unwrap_or(24);
        Ok(WebSources {
            fetcher: Arc::new(Fetcher::new(self.fetch_config(allow_private))?),
            providers: if search {
                self.providers()?
            } else {
                Vec::new()
            },
            credibility: Credibility::new(
                self.trust_domains.iter().cloned(),
                self.block_domains.iter().cloned(),
            ),
            cache: (cache_hours > 0).then(|| SnapshotCache {
                dir: ctx.data.root().join("web-cache"),
                max_age: Duration::from_secs(cache_hours * 3600),
            }),
            max_pages: max_pages.clamp(1, 50),
            results_per_query: 5,
            concurrency: 8,
        })
    }
}

/// A small runtime for the web round; the rest of the CLI is synchronous.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Searches (when `search`) and fetches the sources of one check, then stores them.
pub fn gather_for_check(
    ctx: &Context,
    web: &WebSources,
    analysis: &Analysis,
    urls: &[String],
    search: bool,
) -> anyhow::Result<(OfferedSources, KnowledgeBase)> {
    let queries = if search {
        queries_for(analysis, QUERIES)
    } else {
        Vec::new()
    };
    let started = std::time::Instant::now();
    let gathered = runtime()?.block_on(web.gather(&queries, urls));
    let kb = open_web_kb(ctx)?;
    let mut offered = store(&kb, gathered);
    offered.gather_ms = started.elapsed().as_secs_f64() * 1e3;
    Ok((offered, kb))
}

/// The `web` knowledge base, created on first use. It holds no dense vectors: web documents are
/// chosen per check by the search engines, not by retrieval, so embedding them would only cost
/// time.
pub fn open_web_kb(ctx: &Context) -> anyhow::Result<KnowledgeBase> {
    let name = KbName::parse(WEB_KB)?;
    let dir = ctx.data.kb_dir(&name);
    if dir.join("kb.json").is_file() {
        return Ok(KnowledgeBase::open(&dir)?);
    }
    Ok(KnowledgeBase::create(
        &dir,
        KbConfig::new(DenseScope::None, None, now_rfc3339()),
    )?)
}

/// Stores the gathered pages as snapshots and turns them into offered sources. A page is
/// offered only once it is stored: a citation must always point at a stored copy.
fn store(kb: &KnowledgeBase, gathered: Gathered) -> OfferedSources {
    let mut offered = OfferedSources {
        queries: gathered.queries,
        skipped: gathered
            .skipped
            .into_iter()
            .map(|s| SkippedSource {
                url: s.url,
                reason: s.reason,
            })
            .collect(),
        warnings: gathered.warnings,
        documents: Vec::new(),
        gather_ms: 0.0,
    };
    let mut seen = HashSet::new();
    let candidates: Vec<(Document, f32, Vec<String>)> = gathered
        .documents
        .into_iter()
        .map(|w| {
            let mut new = w.document;
            // Each distinct content of a URL is its own snapshot: a page that changes later
            // must not replace the copy earlier reports cite.
            new.origin = format!(
                "{}#sha256={}",
                w.url,
                &sha256_hex(new.text.as_bytes())[..16]
            );
            (Document::new(new, w.fetched_at), w.credibility, w.copies)
        })
        .filter(|(doc, _, _)| seen.insert(doc.meta.id.clone()))
        .collect();
    if candidates.is_empty() {
        return offered;
    }
    // A snapshot already stored (same title and text) is cited as stored, with its original
    // fetch time; only new ones are written.
    let mut candidates = candidates;
    let mut new_docs = Vec::new();
    for (doc, _, _) in &mut candidates {
        match kb.document(&doc.meta.id) {
            Ok(Some(existing)) => *doc = existing,
            _ => new_docs.push(doc.clone()),
        }
    }
    let stored = if new_docs.is_empty() {
        Ok(())
    } else {
        kb.writer().and_then(|mut w| {
            w.add(new_docs, None, |_| {})?;
            w.commit()
        })
    };
    match stored {
        Ok(()) => {
            offered.documents = candidates
                .into_iter()
                .map(|(document, credibility, copies)| OfferedSource {
                    document,
                    kb: WEB_KB.to_string(),
                    credibility,
                    copies,
                })
                .collect();
        }
        Err(e) => offered.warnings.push(format!(
            "the fetched pages could not be stored ({e}), so none of them is cited"
        )),
    }
    offered
}
