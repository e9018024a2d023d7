//! A fine-tuned MiniLM classifier as a loaded network: the base model's embeddings and frozen
//! lower layers from the asset cache, the trained upper layers and head from an artifact.
//!
//! The stance cross-encoder is one (a claim and an evidence sentence, three labels); the
//! check-worthiness classifier of `factually-claims` is another (one sentence, two labels).
//! Both are trained by [`crate::train::fine_tune`] and share this code so that what was
//! trained is exactly what runs.

use std::sync::Mutex;

use candle_core::DType;
use candle_nn::VarBuilder;
use factually_assets::{AssetCache, MINILM_L6_V2};
use tokenizers::Tokenizer;

use crate::model::{self, Batch, Bottom, Pass, Task, Top};
use crate::{ArtifactMeta, BaseModel, StanceError};

/// Inputs scored per forward pass.
const BATCH: usize = 16;

/// A loaded classifier. Scoring is serialised (candle already uses every core).
pub struct Classifier {
    bottom: Bottom,
    top: Top,
    tokenizer: Tokenizer,
    temperature: f32,
    gate: Mutex<()>,
}

impl Classifier {
    /// The network `weights` (f16 safetensors as [`crate::train::fine_tune`] writes them)
    /// describes with `meta`, on top of the base weights from `cache`. Weights trained on
    /// another base package, weights whose sha256 is not the recorded one, or a frozen depth
    /// the base model does not have are refused.
    pub fn load(
        cache: &AssetCache,
        weights: Vec<u8>,
        meta: &ArtifactMeta,
        task: Task,
    ) -> Result<Self, StanceError> {
        if meta.base_package != MINILM_L6_V2.name || meta.base_version != MINILM_L6_V2.version {
            return Err(StanceError::Artifact(format!(
                "trained on {} {}, but this build uses {} {}",
                meta.base_package, meta.base_version, MINILM_L6_V2.name, MINILM_L6_V2.version
            )));
        }
        let sha = factually_core::sha256_hex(&weights);
        if sha != meta.weights_sha256 {
            return Err(StanceError::Artifact(format!(
                "weights sha256 {sha} does not match the recorded {}",
                meta.weights_sha256
            )));
        }
        let base = BaseModel::from_cache(cache)?;
        let depth = meta.layers.unwrap_or(base.config.num_hidden_layers);
        if depth == 0 || depth > base.config.num_hidden_layers {
            return Err(StanceError::Artifact(format!(
                "layers {depth}: the base model has {}",
                base.config.num_hidden_layers
            )));
        }
        if meta.frozen_layers > depth {
            return Err(StanceError::Artifact(format!(
                "frozen_layers {} is deeper than the model",
                meta.frozen_layers
            )));
        }
        let bottom = Bottom::load(&base.weights, &base.config, meta.frozen_layers)?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &bottom.device)?;
        let top = Top::load(vb, &base.config, meta.frozen_layers, depth, task)?;
        let tokenizer = model::pair_tokenizer(&base.tokenizer, meta.max_tokens)?;
        Ok(Self {
            bottom,
            top,
            tokenizer,
            temperature: meta.temperature,
            gate: Mutex::new(()),
        })
    }

    /// Calibrated label probabilities (in the task's label order) of each `(first, second)`
    /// input, in input order; an empty `second` reads `first` alone.
    pub fn probabilities(&self, inputs: &[(&str, &str)]) -> Result<Vec<Vec<f32>>, StanceError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = model::encode_pairs(&self.tokenizer, inputs)?;
        // Sorting by length keeps padding (wasted compute) small inside each batch.
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut out = vec![Vec::new(); inputs.len()];
        let _guard = self.gate.lock().unwrap_or_else(|p| p.into_inner());
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&tokenizers::Encoding> = chunk.iter().map(|&i| &encodings[i]).collect();
            let batch = Batch::new(&batch, &self.bottom.device)?;
            let hidden = self.bottom.forward(&batch)?;
            let logits = self.top.forward(&hidden, &batch.mask, Pass::Inference)?;
            let probs = crate::softmax_with_temperature(&logits, self.temperature)?;
            for (&i, p) in chunk.iter().zip(probs) {
                out[i] = p;
            }
        }
        Ok(out)
    }
}
