//! LLM mode for `check`: the model from the flags and environment, its call cache in the data
//! dir, and the stored texts of the report's sources for the grounding gate.

use std::time::Duration;

use factually_kb::KbName;
use factually_llm::cache::CachedModel;
use factually_llm::openai::{OpenAiCompat, OpenAiConfig};
use factually_report::llm::{Budget, LlmWriter, StoredSources};
use factually_report::Report;
use factually_stance::StanceModel;

use crate::runtime::Context;
use crate::Failure;

/// Sources analysed at once.
const CONCURRENCY: usize = 8;

/// Rewrites the report's summary and context with the configured model; on any model failure
/// the deterministic sections stay and the report says why.
pub fn write(
    ctx: &Context,
    report: &mut Report,
    stance: &StanceModel,
    url: &Option<String>,
    model: &Option<String>,
) -> Result<(), Failure> {
    let url = url
        .as_deref()
        .ok_or_else(|| Failure::usage("LLM mode needs --llm-url (or FACTUALLY_LLM_URL)"))?;
    let model = model
        .as_deref()
        .ok_or_else(|| Failure::usage("LLM mode needs --llm-model (or FACTUALLY_LLM_MODEL)"))?;
    let config = OpenAiConfig {
        api_key: std::env::var("FACTUALLY_LLM_API_KEY")
            .ok()
            .filter(|k| !k.is_empty()),
        timeout: Duration::from_secs(120),
        ..OpenAiConfig::new(url, model)
    };
    let client = CachedModel::new(
        OpenAiCompat::new(config)?,
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
        concurrency: CONCURRENCY,
        budget: Budget::default(),
    };
    crate::web::runtime()?.block_on(writer.write(report, &stored));
    Ok(())
}
