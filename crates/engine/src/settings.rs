//! What a [`crate::CheckSession`] is built from: the knowledge base, where evidence comes from,
//! the models, and the `[web]` and `[llm]` tables of the config file with the environment and
//! flags applied. Everything here is resolved and checked before a session starts, so a wrong
//! setting stops a command or a worker at once instead of failing every check.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use factually_assets::hub::{Hub, HubModelId};
use factually_assets::AssetCache;
use factually_fetch::{
    api_client, Brave, Credibility, FetchConfig, Fetcher, SearchProvider, SearxNg, SnapshotCache,
    WebSources, Wikipedia, BRAVE_URL, WIKIPEDIA_URL,
};
use factually_kb::default_kb::BuildProgress;
use factually_kb::{DataDir, KbName};
use factually_llm::openai::OpenAiConfig;
use factually_report::llm::Budget;
use factually_stance::StanceModel;
use factually_verify::{Judge, JudgeMode, JudgeModel};
use serde::Deserialize;

use crate::SetupError;

/// Everything a session needs, resolved.
pub struct Settings {
    pub data: DataDir,
    pub cache: AssetCache,
    /// The knowledge base searched when [`Settings::search_kb`] is set.
    pub kb: KbName,
    pub search_kb: bool,
    /// Search the web (the providers of [`WebConfig`]) for every check.
    pub search_web: bool,
    /// Documents taken from retrieval for each statement.
    pub documents: usize,
    pub stance: StanceChoice,
    /// The embedding model asked for (`--embedder`); by default each knowledge base's own.
    pub embedder: factually_embed::EmbedderChoice,
    /// The judge's classifier: `None` is the bundled one.
    pub judge_model: Option<PathBuf>,
    pub llm: Option<LlmSettings>,
    pub web: WebConfig,
    /// Let the fetcher reach loopback and private addresses.
    pub allow_private_hosts: bool,
    /// Pages fetched from web search results per check.
    pub max_pages: usize,
    /// Wall time one check may take: statements and assumptions not reached by then are
    /// reported as not checked (web gathering and LLM calls have their own limits).
    pub check_budget: Option<std::time::Duration>,
    /// Told about each step when the default knowledge base is built on first use.
    pub build_progress: Option<Arc<dyn Fn(BuildProgress) + Send + Sync>>,
}

/// The stance model of a session (and of `verify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StanceChoice {
    /// The model trained for factually, fetched from PyPI.
    Bundled,
    /// A directory with a Hugging Face NLI cross-encoder, or an artifact file from
    /// `factually train stance`.
    Path(PathBuf),
    /// A Hugging Face NLI cross-encoder by hub id, fetched into the cache on first use.
    Hub(HubModelId),
    /// The configured language model (`[llm]`, `FACTUALLY_LLM_*`, `--llm-*`) judges each pair.
    Llm,
}

impl StanceChoice {
    /// `bundled`, a path that exists, or else a hub id (`owner/name[@revision]`); anything else
    /// is taken as a path, which loading then reports missing.
    pub fn parse(value: Option<&Path>) -> Self {
        let Some(p) = value else {
            return Self::Bundled;
        };
        if p.as_os_str() == "bundled" {
            return Self::Bundled;
        }
        if p.as_os_str() == "llm" {
            return Self::Llm;
        }
        if !p.exists() {
            if let Some(id) = p.to_str().and_then(HubModelId::parse) {
                return Self::Hub(id);
            }
        }
        Self::Path(p.to_path_buf())
    }

    /// The judge that suits this stance model. A language model's labels are not the bundled
    /// model's probabilities the stance classifier was fitted on, so for it the judge keeps the
    /// relevance gate and takes the model's own stance.
    pub fn judge_mode(&self) -> JudgeMode {
        match self {
            Self::Llm => JudgeMode::Relevance,
            _ => JudgeMode::Full,
        }
    }
}

/// What `--stance-model llm` needs: the language model's settings, where its calls are
/// cached, and the runtime its calls run on.
pub struct LlmJudgeContext<'a> {
    pub settings: &'a LlmSettings,
    pub call_cache: PathBuf,
    pub handle: tokio::runtime::Handle,
}

/// Loads a stance model; one that cannot be loaded is a setting error naming the file.
/// `llm`: the language model, for [`StanceChoice::Llm`] (its first model when a jury is set).
pub fn load_stance(
    cache: &AssetCache,
    choice: &StanceChoice,
    llm: Option<LlmJudgeContext<'_>>,
) -> Result<StanceModel, SetupError> {
    let refused =
        |e: factually_stance::StanceError| SetupError::Invalid(format!("--stance-model: {e}"));
    match choice {
        StanceChoice::Bundled => StanceModel::bundled(cache).map_err(SetupError::Stance),
        StanceChoice::Path(p) if p.is_dir() => StanceModel::from_dir(p).map_err(refused),
        StanceChoice::Path(p) if p.is_file() => StanceModel::from_file(cache, p).map_err(refused),
        StanceChoice::Hub(id) => StanceModel::from_hub(cache, &Hub::from_env(), id).map_err(refused),
        StanceChoice::Llm => {
            let missing = || SetupError::Invalid(
                "--stance-model llm needs a language model: set FACTUALLY_LLM_URL and FACTUALLY_LLM_MODEL, an [llm] table in the config file, or (on check) --llm gguf".into(),
            );
            let context = llm.ok_or_else(missing)?;
            let spec = context.settings.models.first().ok_or_else(missing)?;
            let model = crate::writer::open(spec, cache, context.settings.threads, context.call_cache)
                .map_err(|e| SetupError::Invalid(format!("--stance-model llm: {e}")))?;
            Ok(crate::stance_llm::LlmStance::stance_model(model, context.handle))
        }
        StanceChoice::Path(p) => Err(SetupError::Invalid(format!(
            "--stance-model {}: no such file or directory (give `bundled`, a directory holding a Hugging Face NLI model's config.json, tokenizer.json and model.safetensors, a hub id such as cross-encoder/nli-deberta-v3-small, or a file from `factually train stance`)",
            p.display()
        ))),
    }
}

/// Loads the judge: the bundled classifier, or one from `factually train judge`.
pub fn load_judge(artifact: Option<&Path>, mode: JudgeMode) -> Result<Judge, SetupError> {
    let model = match artifact {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| SetupError::Invalid(format!("reading {}: {e}", path.display())))?;
            JudgeModel::from_json(&text)
                .map_err(|e| SetupError::Invalid(format!("{}: {e}", path.display())))?
        }
        None => JudgeModel::bundled().map_err(|e| SetupError::Failed(e.to_string()))?,
    };
    Ok(Judge { model, mode })
}

/// The `[web]` table of the config file; every key can also come from the environment, which
/// wins. See docs/web.md.
#[derive(Debug, Default, Clone, Deserialize)]
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
    /// Pages fetched at once by one process, across all its checks (default 16).
    pub max_concurrent_fetches: Option<usize>,
}

/// What one search provider answered `factually doctor` ([`WebConfig::probe`]).
#[derive(Debug, Clone)]
pub struct ProviderProbe {
    pub name: &'static str,
    /// Set up by the operator (not just on by default).
    pub configured: bool,
    /// Results for the probe query, or why there were none.
    pub answer: Result<usize, String>,
}

/// A non-empty environment variable.
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
        if let Some(n) = self.max_concurrent_fetches {
            config.max_concurrent = n.clamp(1, 1024);
        }
        if allow_private || self.allow_private_hosts == Some(true) {
            config = config.allow_private_hosts();
        }
        config
    }

    fn providers(&self) -> Result<Vec<Box<dyn SearchProvider>>, SetupError> {
        let client = api_client(&FetchConfig::default().user_agent, Duration::from_secs(10));
        let parse = |what: &str, raw: &str| {
            url::Url::parse(raw).map_err(|e| SetupError::Invalid(format!("{what} {raw:?}: {e}")))
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

    /// Asks each search provider one query (`factually doctor`): its name, whether the
    /// operator configured it (Wikipedia is searched unless turned off; SearxNG and Brave only
    /// when configured), and how many results it gave or why it gave none.
    pub async fn probe(&self) -> Result<Vec<ProviderProbe>, SetupError> {
        let mut out = Vec::new();
        for provider in self.providers()? {
            let name = provider.name();
            let configured = match name {
                "wikipedia" => self.wikipedia == Some(true) || self.wikipedia_url.is_some(),
                _ => true,
            };
            let answer = provider
                .search("Eiffel Tower", 1)
                .await
                .map(|hits| hits.len())
                .map_err(|e| e.to_string());
            out.push(ProviderProbe {
                name,
                configured,
                answer,
            });
        }
        Ok(out)
    }

    /// The web side, ready to gather: search providers only when `search` is wanted; fetched
    /// pages are cached under `data`.
    pub fn sources(
        &self,
        data: &DataDir,
        allow_private: bool,
        search: bool,
        max_pages: usize,
    ) -> Result<WebSources, SetupError> {
        let cache_hours = self.cache_hours.unwrap_or(24);
        Ok(WebSources {
            fetcher: Arc::new(
                Fetcher::new(self.fetch_config(allow_private))
                    .map_err(|e| SetupError::Failed(format!("the web fetcher: {e}")))?,
            ),
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
                dir: data.root().join("web-cache"),
                max_age: Duration::from_secs(cache_hours * 3600),
            }),
            max_pages: max_pages.clamp(1, 50),
            results_per_query: 5,
            concurrency: 8,
        })
    }
}

/// The `[limits]` table of the config file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Wall time one check may take, in seconds (default 300; 0 for no limit).
    pub check_seconds: Option<u64>,
}

impl LimitsConfig {
    /// The budget of one check.
    pub fn check_budget(&self) -> Option<Duration> {
        match self.check_seconds.unwrap_or(300) {
            0 => None,
            s => Some(Duration::from_secs(s.min(24 * 3600))),
        }
    }
}

/// The `[models]` table of the config file: the stance model and the embedding model used when
/// no flag names one (`--stance-model`; `--embedder`, `FACTUALLY_EMBEDDER`). Flags win.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    /// `bundled`, a directory or Hugging Face hub id of an NLI cross-encoder, `llm`, or an
    /// artifact of `factually train stance` (`--stance-model`).
    pub stance: Option<String>,
    /// `bundled`, a directory or hub id of a BERT-architecture sentence-embedding model, for
    /// knowledge bases created from now on (`--embedder`).
    pub embedder: Option<String>,
    /// `mean` or `cls` (`--embedder-pooling`).
    pub embedder_pooling: Option<factually_embed::Pooling>,
    /// Text put before every search query (`--embedder-query-prefix`).
    pub embedder_query_prefix: Option<String>,
    /// Text put before every stored passage (`--embedder-passage-prefix`).
    pub embedder_passage_prefix: Option<String>,
}

impl ModelsConfig {
    /// The stance model: the flag's, else this table's, else the bundled one.
    pub fn stance_choice(&self, flag: Option<&Path>) -> StanceChoice {
        StanceChoice::parse(flag.or(self.stance.as_deref().map(Path::new)))
    }

    /// The embedding model this table names, with its settings: the model of knowledge bases
    /// created from now on; existing ones keep theirs.
    pub fn embedder_choice(&self) -> factually_embed::EmbedderChoice {
        factually_embed::EmbedderChoice {
            as_default: true,
            ..factually_embed::EmbedderChoice::new(
                self.embedder.clone(),
                self.embedder_pooling,
                self.embedder_query_prefix.clone(),
                self.embedder_passage_prefix.clone(),
            )
        }
    }
}

/// The `[llm]` table of the config file. Flags and environment variables win over it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// `openai-compat` or `gguf` (`--llm`). Default: `openai-compat` when a URL is set.
    pub provider: Option<String>,
    /// OpenAI-compatible base URL, up to `/v1` (`--llm-url`, `FACTUALLY_LLM_URL`). Setting it
    /// turns LLM mode on for every check.
    pub url: Option<String>,
    /// Model name on the server, or the GGUF file (`--llm-model`, `FACTUALLY_LLM_MODEL`).
    pub model: Option<String>,
    /// API key (`FACTUALLY_LLM_API_KEY`).
    pub api_key: Option<String>,
    /// Several models, each `openai-compat:NAME`, `gguf` or `gguf:FILE` (`--jury`).
    pub jury: Option<Vec<String>>,
    /// Sources analysed at once (default 8).
    pub concurrency: Option<usize>,
    /// Tokens one check may spend before falling back (default 40,000).
    pub max_tokens: Option<u64>,
    /// Seconds one check may spend, and one call may take (default 120).
    pub max_seconds: Option<u64>,
    /// CPU threads of an in-process GGUF model (default: all cores).
    pub threads: Option<usize>,
}

/// Where the language model of LLM mode runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmProvider {
    /// Any server that speaks OpenAI's chat-completions API (OpenAI, Ollama, vLLM, llama.cpp).
    OpenaiCompat,
    /// A GGUF model file run in this process by llama.cpp (the `gguf` feature).
    Gguf,
}

/// The flags that choose LLM mode; they win over the config file.
#[derive(Debug, Default)]
pub struct LlmFlags<'a> {
    pub provider: Option<LlmProvider>,
    pub url: Option<&'a str>,
    pub model: Option<&'a str>,
    pub jury: &'a [String],
}

/// One model of LLM mode, before it is started.
#[derive(Debug, Clone)]
pub(crate) enum ModelSpec {
    OpenAi(OpenAiConfig),
    /// A GGUF file; `None` is the small model fetched from PyPI (SmolLM2-135M-Instruct).
    Gguf(Option<PathBuf>),
}

/// LLM mode as a session runs it.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    pub(crate) models: Vec<ModelSpec>,
    pub(crate) concurrency: usize,
    pub(crate) budget: Budget,
    pub(crate) threads: Option<usize>,
}

impl LlmSettings {
    /// How many models write (one, or the jury's size).
    pub fn models(&self) -> usize {
        self.models.len()
    }

    /// Asks each model for a one-word answer, uncached (`factually doctor`): its name and the
    /// answer, or why it could not answer. A GGUF model is only looked for, not loaded.
    pub async fn probe(&self) -> Vec<(String, Result<String, String>)> {
        use factually_llm::{ChatModel, ChatRequest, Message};
        let mut out = Vec::new();
        for spec in &self.models {
            match spec {
                ModelSpec::OpenAi(config) => {
                    let name = format!("{} at {}", config.model, config.base_url);
                    let config = OpenAiConfig {
                        max_retries: 0,
                        timeout: Duration::from_secs(10),
                        ..config.clone()
                    };
                    let answer = match factually_llm::openai::OpenAiCompat::new(config) {
                        Ok(model) => {
                            let mut request =
                                ChatRequest::new(vec![Message::user("Answer with the word OK.")]);
                            request.max_tokens = 4;
                            model
                                .chat(&request)
                                .await
                                .map(|r| r.text.trim().to_string())
                                .map_err(|e| e.to_string())
                        }
                        Err(e) => Err(e.to_string()),
                    };
                    out.push((name, answer));
                }
                ModelSpec::Gguf(path) => {
                    let (name, found) = match path {
                        Some(p) => (p.display().to_string(), p.is_file()),
                        None => (
                            format!(
                                "{} (fetched on first use)",
                                factually_assets::SMOLLM2_135M.name
                            ),
                            true,
                        ),
                    };
                    let answer = if !cfg!(feature = "gguf") {
                        Err("this build has no in-process GGUF support (the gguf feature)".into())
                    } else if found {
                        Ok("in-process model file present".to_string())
                    } else {
                        Err("no such file".to_string())
                    };
                    out.push((format!("gguf {name}"), answer));
                }
            }
        }
        out
    }
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

impl LlmConfig {
    /// The file's settings with the flags and environment applied; `None` when LLM mode is
    /// off (no provider, no jury, and no URL from any source). An incomplete or unknown model
    /// choice is a setting error.
    pub fn resolve(mut self, flags: LlmFlags<'_>) -> Result<Option<LlmSettings>, SetupError> {
        if let Some(url) = flags.url {
            self.url = Some(url.to_string());
        }
        if let Some(model) = flags.model {
            self.model = Some(model.to_string());
        }
        if let Some(key) = env("FACTUALLY_LLM_API_KEY") {
            self.api_key = Some(key);
        }
        if !flags.jury.is_empty() {
            self.jury = Some(flags.jury.to_vec());
        }
        let provider = match flags.provider {
            Some(LlmProvider::OpenaiCompat) => Some("openai-compat".to_string()),
            Some(LlmProvider::Gguf) => Some("gguf".to_string()),
            None => self.provider.clone(),
        };
        let jury = self.jury.clone().unwrap_or_default();
        if provider.is_none() && self.url.is_none() && jury.is_empty() {
            return Ok(None);
        }
        let seconds = self.max_seconds.unwrap_or(120).clamp(1, 3600);
        let timeout = Duration::from_secs(seconds);
        let models = if jury.is_empty() {
            vec![self.spec(
                provider.as_deref().unwrap_or("openai-compat"),
                self.model.clone(),
                timeout,
            )?]
        } else {
            jury.iter()
                .map(|juror| {
                    let (kind, name) = match juror.split_once(':') {
                        Some((k, n)) => (k.trim(), Some(n.trim().to_string())),
                        None => (juror.trim(), None),
                    };
                    self.spec(kind, name, timeout)
                })
                .collect::<Result<_, _>>()?
        };
        Ok(Some(LlmSettings {
            models,
            concurrency: self.concurrency.unwrap_or(8).clamp(1, 64),
            budget: Budget {
                max_tokens: self.max_tokens.unwrap_or(Budget::default().max_tokens),
                max_time: timeout,
            },
            threads: self.threads,
        }))
    }

    /// One model: `kind` with `name` (the configured model, or a juror's own: a juror without
    /// one never takes the configured model; for `gguf` it is the default SmolLM2).
    fn spec(
        &self,
        kind: &str,
        name: Option<String>,
        timeout: Duration,
    ) -> Result<ModelSpec, SetupError> {
        let name = name.filter(|n| !n.is_empty());
        match kind {
            "openai-compat" => {
                let url = self.url.clone().ok_or_else(|| {
                    SetupError::Invalid(
                        "LLM mode with openai-compat needs --llm-url (or FACTUALLY_LLM_URL, or url in [llm])".into(),
                    )
                })?;
                let model = name.ok_or_else(|| {
                    SetupError::Invalid(
                        "LLM mode needs --llm-model (or FACTUALLY_LLM_MODEL, or model in [llm])"
                            .into(),
                    )
                })?;
                Ok(ModelSpec::OpenAi(OpenAiConfig {
                    api_key: self.api_key.clone(),
                    timeout,
                    ..OpenAiConfig::new(url, model)
                }))
            }
            "gguf" if cfg!(feature = "gguf") => Ok(ModelSpec::Gguf(name.map(|n| expand_home(&n)))),
            "gguf" => Err(SetupError::Invalid(
                "this build of factually has no in-process GGUF support: build it with \
                 `cargo build --release --features gguf` (needs cmake, clang and libclang), \
                 or use --llm openai-compat with a llama.cpp server"
                    .into(),
            )),
            other => Err(SetupError::Invalid(format!(
                "unknown LLM provider {other:?}: use openai-compat or gguf"
            ))),
        }
    }
}
