//! What every command shares: locations, the clock, the embedding model, progress bars.

use std::path::PathBuf;
use std::sync::OnceLock;

use factually_assets::AssetCache;
use factually_embed::MiniLm;
use factually_kb::default_kb::{ensure_default_kb, BuildProgress, DEFAULT_KB};
use factually_kb::{DataDir, KbName, KnowledgeBase};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Format;

pub struct Context {
    pub data: DataDir,
    pub cache: AssetCache,
    pub format: Format,
    embedder: OnceLock<MiniLm>,
}

impl Context {
    pub fn new(data_dir: Option<PathBuf>, format: Format) -> Self {
        let data = DataDir::new(data_dir.unwrap_or_else(DataDir::default_location));
        Self {
            data,
            cache: AssetCache::from_env(),
            format,
            embedder: OnceLock::new(),
        }
    }

    /// The embedding model, loaded (and on first use fetched) once per process.
    pub fn embedder(&self) -> anyhow::Result<&MiniLm> {
        if let Some(e) = self.embedder.get() {
            return Ok(e);
        }
        let model = MiniLm::from_cache(&self.cache)?;
        Ok(self.embedder.get_or_init(|| model))
    }

    /// The embedder to query `kb` with: none when the KB has no dense vectors.
    pub fn embedder_for(
        &self,
        kb: &KnowledgeBase,
    ) -> anyhow::Result<Option<&dyn factually_embed::Embedder>> {
        if kb.config().dense == factually_kb::DenseScope::None {
            return Ok(None);
        }
        Ok(Some(self.embedder()?))
    }

    /// Opens a knowledge base by name; the default one is built on first use.
    pub fn open_kb(&self, name: &KbName) -> anyhow::Result<KnowledgeBase> {
        if name.as_str() == DEFAULT_KB {
            return self.default_kb();
        }
        Ok(self.data.open_kb(name)?)
    }

    pub fn default_kb(&self) -> anyhow::Result<KnowledgeBase> {
        let embedder = self.embedder()?;
        let progress = default_kb_progress();
        Ok(ensure_default_kb(
            &self.data,
            &self.cache,
            embedder,
            &now_rfc3339(),
            progress,
        )?)
    }
}

/// Tells the user about a first-use build of the default knowledge base: a line, then a bar.
pub fn default_kb_progress() -> impl Fn(BuildProgress) + Send + Sync {
    let bar = ProgressBar::hidden();
    move |p| match p {
        BuildProgress::Fetching => {
            eprintln!("factually: building the default knowledge base (Wikipedia vital-article summaries, once)...")
        }
        BuildProgress::Indexing {
            total_passages_to_embed,
        } => {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_length(total_passages_to_embed as u64);
            bar.set_style(bar_style("embedding"));
        }
        BuildProgress::Embedded(n) => bar.set_position(n as u64),
        BuildProgress::Committing => bar.finish_and_clear(),
    }
}

pub fn bar_style(what: &str) -> ProgressStyle {
    ProgressStyle::with_template(&format!(
        "{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} ({{eta}} left) {{msg}}"
    ))
    .expect("valid template")
    .progress_chars("=> ")
}

pub use factually_engine::now_rfc3339;
