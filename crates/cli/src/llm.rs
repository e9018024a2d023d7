//! LLM mode for `check`: the model from the flags and environment, its call cache in the data
//! dir, and the stored texts of the report's sources for the grounding gate.

use std::time::Duration;

use factually_kb::KbName;
use factually_llm::cache::CachedModel;
use factually_llm::openai::{OpenAiCompat, OpenAiConfig};
use factually_report::llm::{Budget, LlmWriter, StoredSources};
use factually_report::Report;
use factually_stance::StanceModel;
use serde::Deserialize;

use crate::runtime::Context;
use crate::Failure;

/// The `[llm]` table of the config file. Flags and environment variables win over it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// OpenAI-compatible base URL, up to `/v1` (`--llm-url`, `FACTUALLY_LLM_URL`). Setting it
    /// turns LLM mode on for every check.
    pub url: Option<String>,
    /// Model name (`--llm-model`, `FACTUALLY_LLM_MODEL`).
    pub model: Option<String>,
    /// API key (`FACTUALLY_LLM_API_KEY`).
    pub api_key: Option<String>,
    /// Sources analysed at once (default 8).
    pub concurrency: Option<usize>,
    /// Tokens one check may spend before falling back (default 40,000).
    pub max_tokens: Option<u64>,
    /// Seconds one check may spend, and one call may take (default 120).
    pub max_seconds: Option<u64>,
}

impl LlmConfig {
    /// The file's settings with the flags and environment applied; `None` when LLM mode is
    /// off (no `--llm`, and no URL from any source). Checked before the check runs: LLM mode
    /// without a URL or a model is a usage error.
    pub fn resolve(
        mut self,
        on: bool,
        url: &Option<String>,
        model: &Option<String>,
    ) -> Result<Option<LlmSettings>, Failure> {
        if url.is_some() {
            self.url.clone_from(url);
        }
        if model.is_some() {
            self.model.clone_from(model);
        }
        if let Some(key) = crate::web::env("FACTUALLY_LLM_API_KEY") {
            self.api_key = Some(key);
        }
        if !on && self.url.is_none() {
            return Ok(None);
        }
        let url = self.url.ok_or_else(|| {
            Failure::usage("LLM mode needs --llm-url (or FACTUALLY_LLM_URL, or url in [llm])")
        })?;
        let model = self.model.ok_or_else(|| {
            Failure::usage("LLM mode needs --llm-model (or FACTUALLY_LLM_MODEL, or model in [llm])")
        })?;
        let seconds = self.max_seconds.unwrap_or(120).clamp(1, 3600);
        Ok(Some(LlmSettings {
            model: OpenAiConfig {
                api_key: self.api_key,
                timeout: Duration::from_secs(seconds),
                ..OpenAiConfig::new(url, model)
            },
            concurrency: self.concurrency.unwrap_or(8).clamp(1, 64),
            budget: Budget {
                max_tokens: self.max_tokens.unwrap_or(Budget::default().max_tokens),
                max_time: Duration::from_secs(seconds),
            },
        }))
    }
}

/// LLM mode as one check runs it.
pub struct LlmSettings {
    model: OpenAiConfig,
    concurrency: usize,
    budget: Budget,
}

/// Rewrites the report's summary and context with the configured model; on any model failure
/// the deterministic sections stay and the report says why.
pub fn write(
    ctx: &Context,
    report: &mut Report,
    stance: &StanceModel,
    settings: LlmSettings,
) -> Result<(), Failure> {
    let client = CachedModel::new(
        OpenAiCompat::new(settings.model)?,
        ctx.data.root().join("llm-cache"),
    );

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
    let writer = LlmWriter {
        model: &client,
        judge: stance,
        concurrency: settings.concurrency,
        budget: settings.budget,
    };
    crate::web::runtime()?.block_on(writer.write(report, &stored));
    Ok(())
}
