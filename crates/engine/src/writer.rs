//! LLM mode: the chat models, started once per session, and the rewrite of a report's summary
//! and context behind the grounding gate.
//!
//! Why once per session: starting an in-process GGUF model reads hundreds of megabytes; doing
//! it for every check (as `serve` once did) cost more than the check. A model that cannot
//! start is remembered too, so each report says why LLM mode fell back without retrying the
//! start on every check.

use std::path::PathBuf;

use factually_assets::AssetCache;
use factually_core::DocId;
use factually_llm::cache::CachedModel;
use factually_llm::openai::OpenAiCompat;
use factually_llm::ChatModel;
use factually_report::llm::{LlmRecord, LlmWriter, StoredSources, PROMPT_VERSION};
use factually_report::Report;
use factually_stance::StanceModel;

use crate::settings::{LlmSettings, ModelSpec};

/// The models of LLM mode as started: those that run, and why the others could not start.
pub(crate) struct StartedModels {
    models: Vec<Box<dyn ChatModel>>,
    refused: Vec<String>,
}

impl StartedModels {
    pub(crate) fn start(settings: &LlmSettings, cache: &AssetCache, call_cache: PathBuf) -> Self {
        let mut models = Vec::new();
        let mut refused = Vec::new();
        for spec in &settings.models {
            match open(spec, cache, settings.threads, call_cache.clone()) {
                Ok(m) => models.push(m),
                Err(e) => refused.push(e),
            }
        }
        Self { models, refused }
    }
}

/// Starts one model with its call cache, or says why it cannot run.
pub(crate) fn open(
    spec: &ModelSpec,
    cache: &AssetCache,
    threads: Option<usize>,
    call_cache: PathBuf,
) -> Result<Box<dyn ChatModel>, String> {
    match spec {
        ModelSpec::OpenAi(config) => OpenAiCompat::new(config.clone())
            .map(|m| Box::new(CachedModel::new(m, call_cache)) as Box<dyn ChatModel>)
            .map_err(|e| e.to_string()),
        ModelSpec::Gguf(path) => open_gguf(cache, path.as_deref(), threads, call_cache),
    }
}

#[cfg(feature = "gguf")]
fn open_gguf(
    cache: &AssetCache,
    path: Option<&std::path::Path>,
    threads: Option<usize>,
    call_cache: PathBuf,
) -> Result<Box<dyn ChatModel>, String> {
    use factually_gguf::{GgufModel, GgufOptions};
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => cache
            .ensure(&factually_assets::SMOLLM2_135M)
            .map_err(|e| e.to_string())?
            .join(factually_assets::SMOLLM2_135M_GGUF),
    };
    let mut options = GgufOptions::default();
    if let Some(t) = threads {
        options.threads = t.clamp(1, 256);
    }
    GgufModel::load(&path, options)
        .map(|m| Box::new(CachedModel::new(m, call_cache)) as Box<dyn ChatModel>)
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "gguf"))]
fn open_gguf(
    _: &AssetCache,
    _: Option<&std::path::Path>,
    _: Option<usize>,
    _: PathBuf,
) -> Result<Box<dyn ChatModel>, String> {
    Err("this build of factually has no in-process GGUF support (the gguf feature)".to_string())
}

/// Rewrites the report's summary and context with the started model(s); on any model failure
/// the deterministic sections stay and the report says why. `text_of` gives the stored text of
/// a cited source, from the documents the check already holds.
pub(crate) async fn write(
    report: &mut Report,
    started: &StartedModels,
    stance: &StanceModel,
    settings: &LlmSettings,
    text_of: impl Fn(&DocId) -> Option<String>,
) {
    for e in &started.refused {
        report
            .warnings
            .push(format!("a language model could not start: {e}"));
    }
    if started.models.is_empty() {
        let reason = format!(
            "no language model could start: {}",
            started.refused.join("; ")
        );
        report.warnings.push(format!(
            "LLM mode fell back to the deterministic writer: {reason}"
        ));
        report.llm = Some(LlmRecord {
            prompt_version: PROMPT_VERSION.to_string(),
            fallback: Some(reason),
            ..LlmRecord::default()
        });
        return;
    }
    let mut texts = Vec::new();
    for s in &report.sources {
        match text_of(&s.doc_id) {
            Some(text) => texts.push((s.n, text)),
            None => report.warnings.push(format!(
                "source {} ({}) could not be read for LLM mode",
                s.n, s.doc_id
            )),
        }
    }
    let stored = StoredSources {
        texts: texts.iter().map(|(n, t)| (*n, t.as_str())).collect(),
    };
    let models: Vec<&dyn ChatModel> = started.models.iter().map(|m| m.as_ref()).collect();
    let writer = LlmWriter {
        models: &models,
        judge: stance,
        concurrency: settings.concurrency,
        budget: settings.budget,
    };
    writer.write(report, &stored).await;
}
