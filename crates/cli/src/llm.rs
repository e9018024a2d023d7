//! LLM mode for `check`: the models from the flags, environment and config file (one writer,
//! or a jury), their call cache in the data dir, and the stored texts of the report's sources
//! for the grounding gate.

use std::path::PathBuf;
use std::time::Duration;

use factually_kb::KbName;
use factually_llm::cache::CachedModel;
use factually_llm::openai::{OpenAiCompat, OpenAiConfig};
use factually_llm::ChatModel;
use factually_report::llm::{Budget, LlmRecord, LlmWriter, StoredSources, PROMPT_VERSION};
use factually_report::Report;
use factually_stance::StanceModel;
use serde::Deserialize;

use crate::check_cmd::LlmKind;
use crate::runtime::Context;
use crate::Failure;

/// The `[llm]` table of the config file. Flags and environment variables win over it.
#[derive(Debug, Default, Deserialize)]
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

/// The flags of `check` that choose LLM mode.
pub struct LlmFlags<'a> {
    pub kind: Option<LlmKind>,
    pub url: &'a Option<String>,
    pub model: &'a Option<String>,
    pub jury: &'a [String],
}

/// One model of LLM mode, before it is started.
#[derive(Debug, Clone)]
enum ModelSpec {
    OpenAi(OpenAiConfig),
    /// A GGUF file; `None` is the small model fetched from PyPI (SmolLM2-135M-Instruct).
    Gguf(Option<PathBuf>),
}

/// LLM mode as one check runs it.
pub struct LlmSettings {
    models: Vec<ModelSpec>,
    concurrency: usize,
    budget: Budget,
    threads: Option<usize>,
}

impl LlmSettings {
    /// How many models write (one, or the jury's size).
    pub fn models(&self) -> usize {
        self.models.len()
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
    /// off (no `--llm`, no `--jury`, and no URL from any source). Checked before the check
    /// runs: an incomplete or unknown model choice is a usage error.
    pub fn resolve(mut self, flags: LlmFlags<'_>) -> Result<Option<LlmSettings>, Failure> {
        if flags.url.is_some() {
            self.url.clone_from(flags.url);
        }
        if flags.model.is_some() {
            self.model.clone_from(flags.model);
        }
        if let Some(key) = crate::web::env("FACTUALLY_LLM_API_KEY") {
            self.api_key = Some(key);
        }
        if !flags.jury.is_empty() {
            self.jury = Some(flags.jury.to_vec());
        }
        let provider = match flags.kind {
            Some(LlmKind::OpenaiCompat) => Some("openai-compat".to_string()),
            Some(LlmKind::Gguf) => Some("gguf".to_string()),
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
    ) -> Result<ModelSpec, Failure> {
        let name = name.filter(|n| !n.is_empty());
        match kind {
            "openai-compat" => {
                let url = self.url.clone().ok_or_else(|| {
                    Failure::usage(
                        "LLM mode with openai-compat needs --llm-url (or FACTUALLY_LLM_URL, or url in [llm])",
                    )
                })?;
                let model = name.ok_or_else(|| {
                    Failure::usage(
                        "LLM mode needs --llm-model (or FACTUALLY_LLM_MODEL, or model in [llm])",
                    )
                })?;
                Ok(ModelSpec::OpenAi(OpenAiConfig {
                    api_key: self.api_key.clone(),
                    timeout,
                    ..OpenAiConfig::new(url, model)
                }))
            }
            "gguf" if cfg!(feature = "gguf") => Ok(ModelSpec::Gguf(name.map(|n| expand_home(&n)))),
            "gguf" => Err(Failure::usage(
                "this build of factually has no in-process GGUF support: build it with \
                 `cargo build --release --features gguf` (needs cmake, clang and libclang), \
                 or use --llm openai-compat with a llama.cpp server",
            )),
            other => Err(Failure::usage(format!(
                "unknown LLM provider {other:?}: use openai-compat or gguf"
            ))),
        }
    }
}

/// Starts one model with its call cache, or says why it cannot run.
fn open(
    ctx: &Context,
    spec: &ModelSpec,
    threads: Option<usize>,
) -> Result<Box<dyn ChatModel>, String> {
    let cache = ctx.data.root().join("llm-cache");
    match spec {
        ModelSpec::OpenAi(config) => OpenAiCompat::new(config.clone())
            .map(|m| Box::new(CachedModel::new(m, cache)) as Box<dyn ChatModel>)
            .map_err(|e| e.to_string()),
        ModelSpec::Gguf(path) => open_gguf(ctx, path.as_deref(), threads, cache),
    }
}

#[cfg(feature = "gguf")]
fn open_gguf(
    ctx: &Context,
    path: Option<&std::path::Path>,
    threads: Option<usize>,
    cache: PathBuf,
) -> Result<Box<dyn ChatModel>, String> {
    use factually_gguf::{GgufModel, GgufOptions};
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => ctx
            .cache
            .ensure(&factually_assets::SMOLLM2_135M)
            .map_err(|e| e.to_string())?
            .join(factually_assets::SMOLLM2_135M_GGUF),
    };
    let mut options = GgufOptions::default();
    if let Some(t) = threads {
        options.threads = t.clamp(1, 256);
    }
    GgufModel::load(&path, options)
        .map(|m| Box::new(CachedModel::new(m, cache)) as Box<dyn ChatModel>)
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "gguf"))]
fn open_gguf(
    _: &Context,
    _: Option<&std::path::Path>,
    _: Option<usize>,
    _: PathBuf,
) -> Result<Box<dyn ChatModel>, String> {
    Err("this build of factually has no in-process GGUF support (the gguf feature)".to_string())
}

/// Rewrites the report's summary and context with the configured model(s); on any model
/// failure the deterministic sections stay and the report says why.
pub fn write(
    ctx: &Context,
    report: &mut Report,
    stance: &StanceModel,
    settings: &LlmSettings,
) -> Result<(), Failure> {
    let mut models = Vec::new();
    let mut refused = Vec::new();
    for spec in &settings.models {
        match open(ctx, spec, settings.threads) {
            Ok(m) => models.push(m),
            Err(e) => refused.push(e),
        }
    }
    for e in &refused {
        report
            .warnings
            .push(format!("a language model could not start: {e}"));
    }
    if models.is_empty() {
        let reason = format!("no language model could start: {}", refused.join("; "));
        report.warnings.push(format!(
            "LLM mode fell back to the deterministic writer: {reason}"
        ));
        report.llm = Some(LlmRecord {
            prompt_version: PROMPT_VERSION.to_string(),
            fallback: Some(reason),
            ..LlmRecord::default()
        });
        return Ok(());
    }

    let mut texts = Vec::new();
    for s in &report.sources {
        let kb = KbName::parse(&s.kb).ok();
        if let Some((_, doc)) = ctx.data.find_document(&s.doc_id, kb.as_ref())? {
            texts.push((s.n, doc.text));
        } else {
            report.warnings.push(format!(
                "source {} ({}) could not be read for LLM mode",
                s.n, s.doc_id
            ));
        }
    }
    let stored = StoredSources {
        texts: texts.iter().map(|(n, t)| (*n, t.as_str())).collect(),
    };
    let models: Vec<&dyn ChatModel> = models.iter().map(|m| m.as_ref()).collect();
    let writer = LlmWriter {
        models: &models,
        judge: stance,
        concurrency: settings.concurrency,
        budget: settings.budget,
    };
    crate::web::runtime()?.block_on(writer.write(report, &stored));
    Ok(())
}
