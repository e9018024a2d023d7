//! What every command shares: locations, the clock, the embedding model, progress bars.

use std::path::PathBuf;
use std::sync::Arc;

use factually_assets::AssetCache;
use factually_embed::{BertEmbedder, EmbedderChoice, Embedders};
use factually_kb::default_kb::{ensure_default_kb, BuildProgress, DEFAULT_KB};
use factually_kb::{DataDir, KbName, KnowledgeBase};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Format;

pub struct Context {
    pub data: DataDir,
    pub cache: AssetCache,
    pub format: Format,
    /// The embedding models, loaded (and on first use fetched) once per process.
    pub embedders: Embedders,
    /// What `--embedder` asked for (the models' own choice lives in `embedders`).
    pub embedder_choice: EmbedderChoice,
}

impl Context {
    pub fn new(data_dir: Option<PathBuf>, format: Format, embedder: EmbedderChoice) -> Self {
        let data = DataDir::new(data_dir.unwrap_or_else(DataDir::default_location));
        let cache = AssetCache::from_env();
        Self {
            data,
            embedders: Embedders::new(cache.clone(), embedder.clone()),
            cache,
            format,
            embedder_choice: embedder,
        }
    }

    /// The embedding model new knowledge bases are built with.
    pub fn embedder(&self) -> anyhow::Result<Arc<BertEmbedder>> {
        Ok(self.embedders.for_new_kb()?)
    }

    /// The model to query `kb` with (the one it was built with): none when the KB has no
    /// dense vectors.
    pub fn embedder_for(&self, kb: &KnowledgeBase) -> anyhow::Result<Option<Arc<BertEmbedder>>> {
        if kb.config().dense == factually_kb::DenseScope::None {
            return Ok(None);
        }
        let name = kb.dir().display().to_string();
        Ok(Some(
            self.embedders
                .for_kb(&name, kb.config().embedder.as_ref())?,
        ))
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
            &*embedder,
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
