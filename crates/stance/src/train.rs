//! Fine-tuning a MiniLM classifier on CPU: the stance cross-encoder (`factually train stance`,
//! [`train`]) and any other [`Task`] (the check-worthiness classifier of `factually train
//! checkworthy`, [`fine_tune`]).
//!
//! Reproducible: one seed drives the shuffle, the held-out split, the head's initial weights and
//! the dropout masks, and candle's CPU kernels are deterministic for a fixed thread count.
//!
//! Cheap enough for two cores: the frozen lower layers run once per example and their output is
//! cached, so each epoch only back-propagates through the upper layers. Classes are balanced by
//! weighting the loss with inverse label frequencies. After training, a softmax temperature is
//! fitted on the held-out slice (grid search on the negative log-likelihood).
//!
//! Resumable: every `checkpoint_every` steps the trainable weights, the position in the run and
//! the random generator's state are written to a checkpoint directory (atomically: a file is
//! renamed into place). A run started again with the same data and configuration continues from
//! the last checkpoint on the same batches and dropout masks; only AdamW's moment estimates start
//! again from zero (candle keeps them private). A checkpoint of other data or another
//! configuration is refused rather than overwritten.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use factually_assets::{AssetCache, MINILM_L6_V2};
use factually_core::Stance;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::model::{self, Batch, Bottom, Pass, Task, Top, STANCE};
use crate::{ArtifactMeta, BaseModel, StanceError};

/// One training example of the stance task.
#[derive(Debug, Clone)]
pub struct TrainPair {
    pub claim: String,
    pub evidence: String,
    pub label: Stance,
    /// Which dataset it came from (reported, not used by the model).
    pub source: String,
}

/// One training example of any task: a text, or a pair of texts, and its label.
#[derive(Debug, Clone)]
pub struct Example {
    pub first: String,
    /// Empty for a one-text task.
    pub second: String,
    /// Index into the task's labels.
    pub label: usize,
    /// Which dataset it came from (reported, not used by the model).
    pub source: String,
}

/// Hyper-parameters; the defaults are what the committed artifact was trained with.
#[derive(Debug, Clone, Serialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub learning_rate: f64,
    /// The freshly initialised head learns faster than the pre-trained layers.
    pub head_learning_rate: f64,
    pub batch_size: usize,
    pub seed: u64,
    pub frozen_layers: usize,
    /// Transformer layers of the base model kept, from the bottom (all when `None`): a
    /// shallower network is faster to train and to run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<usize>,
    pub max_tokens: usize,
    /// Fraction of the pairs held out for calibration and the reported held-out accuracy.
    pub held_out: f32,
    pub dropout: f32,
}

/// Where and how often a run saves its progress.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    pub dir: PathBuf,
    /// Optimisation steps between two checkpoints.
    pub every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 3,
            learning_rate: 5e-5,
            head_learning_rate: 1e-3,
            batch_size: 16,
            seed: 17,
            frozen_layers: 3,
            layers: None,
            max_tokens: 160,
            held_out: 0.1,
            dropout: 0.1,
        }
    }
}

/// Progress of a training run, for a progress bar.
#[derive(Debug, Clone)]
pub enum TrainEvent {
    Caching {
        done: usize,
        total: usize,
    },
    Step {
        epoch: usize,
        step: usize,
        steps: usize,
        loss: f32,
    },
    EpochDone {
        epoch: usize,
        mean_loss: f32,
        seconds: f64,
    },
    /// A run picked up from its checkpoint at this step of this epoch.
    Resumed {
        epoch: usize,
        step: usize,
    },
}

/// What a run produced, written into the artifact's sidecar.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    pub config: TrainConfig,
    pub pairs_by_source: HashMap<String, HashMap<String, usize>>,
    pub train_pairs: usize,
    pub held_out_pairs: usize,
    pub epoch_losses: Vec<f32>,
    pub held_out_accuracy: f32,
    pub held_out_nll_before_calibration: f32,
    pub held_out_nll: f32,
    pub temperature: f32,
    pub cache_seconds: f64,
    pub train_seconds: f64,
    /// sha256 of the configuration and every pair, which a checkpoint must match.
    pub data_sha256: String,
    /// Times the run was resumed from a checkpoint.
    pub resumed: usize,
}

/// Progress of an interrupted run, stored as `checkpoint.json` beside `checkpoint.safetensors`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointState {
    data_sha256: String,
    /// The epoch under way, and how many of its batches are done.
    epoch: usize,
    step_in_epoch: usize,
    step_no: usize,
    /// The generator's position at the start of the epoch (its batch order is drawn from
    /// there) and now (the next dropout mask).
    rng_epoch_start: u128,
    rng_now: u128,
    loss_sum: f32,
    epoch_losses: Vec<f32>,
    train_seconds: f64,
    resumed: usize,
}

const CHECKPOINT_WEIGHTS: &str = "checkpoint.safetensors";
const CHECKPOINT_STATE: &str = "checkpoint.json";

/// One sha256 over the configuration and every pair in order: a checkpoint resumes only the run
/// it was written by.
fn data_fingerprint(
    config: &TrainConfig,
    task: Task,
    examples: &[Example],
) -> Result<String, StanceError> {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let config = serde_json::to_vec(config).map_err(|e| StanceError::Training(e.to_string()))?;
    hash.update(&config);
    for p in examples {
        for part in [p.first.as_str(), p.second.as_str(), task.labels[p.label]] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
    }
    Ok(hex::encode(hash.finalize()))
}

fn io_error(path: &Path, source: std::io::Error) -> StanceError {
    StanceError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `bytes` to `path` through a temporary file renamed into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StanceError> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}

fn save_checkpoint(
    varmap: &VarMap,
    dir: &Path,
    state: &CheckpointState,
) -> Result<(), StanceError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let weights = {
        let data = varmap.data().lock().unwrap_or_else(|p| p.into_inner());
        let tensors: HashMap<String, Tensor> = data
            .iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect();
        let tmp = dir.join("checkpoint.safetensors.partial");
        candle_core::safetensors::save(&tensors, &tmp)?;
        tmp
    };
    // Weights first, then the state that refers to them: a kill between the two renames leaves
    // new weights with the previous state, which at worst repeats the steps in between.
    std::fs::rename(&weights, dir.join(CHECKPOINT_WEIGHTS))
        .map_err(|e| io_error(&dir.join(CHECKPOINT_WEIGHTS), e))?;
    let text =
        serde_json::to_vec_pretty(state).map_err(|e| StanceError::Training(e.to_string()))?;
    write_atomically(&dir.join(CHECKPOINT_STATE), &text)
}

/// The checkpoint in `dir`, if there is one; one written for other data is an error.
fn load_checkpoint(
    varmap: &VarMap,
    dir: &Path,
    data_sha256: &str,
) -> Result<Option<CheckpointState>, StanceError> {
    let state_path = dir.join(CHECKPOINT_STATE);
    let text = match std::fs::read(&state_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(&state_path, e)),
    };
    let state: CheckpointState = serde_json::from_slice(&text)
        .map_err(|e| StanceError::Training(format!("checkpoint {}: {e}", state_path.display())))?;
    if state.data_sha256 != data_sha256 {
        return Err(StanceError::Training(format!(
            "the checkpoint in {} belongs to a run with other data or settings (sha256 {} here, {} there); remove the directory to start over",
            dir.display(),
            data_sha256,
            state.data_sha256
        )));
    }
    let weights_path = dir.join(CHECKPOINT_WEIGHTS);
    let saved = candle_core::safetensors::load(&weights_path, &Device::Cpu).map_err(|e| {
        StanceError::Training(format!("checkpoint {}: {e}", weights_path.display()))
    })?;
    let data = varmap.data().lock().unwrap_or_else(|p| p.into_inner());
    for (name, var) in data.iter() {
        let tensor = saved.get(name).ok_or_else(|| {
            StanceError::Training(format!(
                "checkpoint {} lacks {name}",
                weights_path.display()
            ))
        })?;
        var.set(tensor)?;
    }
    Ok(Some(state))
}

fn label_index(s: Stance) -> u32 {
    match s {
        Stance::Support => 0,
        Stance::Refute => 1,
        Stance::Neutral => 2,
    }
}

/// Frozen-layer output of one example, kept between epochs.
struct Cached {
    hidden: Vec<f32>,
    len: usize,
    label: u32,
}

/// Trains the stance model on `pairs` and writes `out` (f16 safetensors) plus `out` with a
/// `.json` extension (the [`ArtifactMeta`] that `StanceModel::from_file` reads).
pub fn train(
    cache: &AssetCache,
    pairs: Vec<TrainPair>,
    config: &TrainConfig,
    out: &Path,
    checkpoints: Option<&Checkpoints>,
    progress: &dyn Fn(TrainEvent),
) -> Result<TrainSummary, StanceError> {
    let examples = pairs
        .into_iter()
        .map(|p| Example {
            first: p.claim,
            second: p.evidence,
            label: label_index(p.label) as usize,
            source: p.source,
        })
        .collect();
    let done = fine_tune(cache, examples, STANCE, config, out, checkpoints, progress)?;
    let meta_path = out.with_extension("json");
    let text = serde_json::to_string_pretty(&done.meta)
        .map_err(|e| StanceError::Training(e.to_string()))?;
    std::fs::write(&meta_path, text + "\n").map_err(|e| io_error(&meta_path, e))?;
    Ok(done.summary)
}

/// What [`fine_tune`] produced besides the weights file.
pub struct FineTuned {
    pub summary: TrainSummary,
    /// The description [`crate::Classifier::load`] needs, for the caller to store.
    pub meta: ArtifactMeta,
    /// The held-out examples, scored: for choosing a decision threshold on data the network
    /// was not trained on.
    pub held_out: Vec<HeldOut>,
}

/// One held-out example as the trained network scores it.
pub struct HeldOut {
    /// Calibrated, in the task's label order.
    pub probabilities: Vec<f32>,
    pub label: usize,
    /// The example's [`Example::source`].
    pub source: String,
}

/// Fine-tunes a classifier for `task` on `examples` and writes its weights to `out` (f16
/// safetensors).
pub fn fine_tune(
    cache: &AssetCache,
    mut pairs: Vec<Example>,
    task: Task,
    config: &TrainConfig,
    out: &Path,
    checkpoints: Option<&Checkpoints>,
    progress: &dyn Fn(TrainEvent),
) -> Result<FineTuned, StanceError> {
    if pairs.len() < 10 {
        return Err(StanceError::Training(format!(
            "{} training examples are too few",
            pairs.len()
        )));
    }
    if let Some(bad) = pairs.iter().find(|p| p.label >= task.labels.len()) {
        return Err(StanceError::Training(format!(
            "label {} of an example is not one of the task's {}",
            bad.label,
            task.labels.len()
        )));
    }
    let base = BaseModel::from_cache(cache)?;
    let depth = config.layers.unwrap_or(base.config.num_hidden_layers);
    if depth > base.config.num_hidden_layers {
        return Err(StanceError::Training(format!(
            "the base model has {} layers, not {depth}",
            base.config.num_hidden_layers
        )));
    }
    if config.frozen_layers >= depth {
        return Err(StanceError::Training(format!(
            "at least one layer must be trainable: {} frozen of {depth}",
            config.frozen_layers
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut pairs_by_source: HashMap<String, HashMap<String, usize>> = HashMap::new();
    for p in &pairs {
        *pairs_by_source
            .entry(p.source.clone())
            .or_default()
            .entry(task.labels[p.label].into())
            .or_default() += 1;
    }
    pairs.shuffle(&mut rng);
    let data_sha256 = data_fingerprint(config, task, &pairs)?;
    let n_held = ((pairs.len() as f32 * config.held_out).round() as usize).max(1);
    let held_out = pairs.split_off(pairs.len() - n_held);

    let device = Device::Cpu;
    let bottom = Bottom::load(&base.weights, &base.config, config.frozen_layers)?;
    let tokenizer = model::pair_tokenizer(&base.tokenizer, config.max_tokens)?;
    let started = Instant::now();
    let total = pairs.len() + held_out.len();
    let train_set = cache_bottom(&bottom, &tokenizer, &pairs, &|done| {
        progress(TrainEvent::Caching { done, total })
    })?;
    let held_set = cache_bottom(&bottom, &tokenizer, &held_out, &|done| {
        progress(TrainEvent::Caching {
            done: pairs.len() + done,
            total,
        })
    })?;
    let cache_seconds = started.elapsed().as_secs_f64();

    // Trainable part: upper layers initialised from the base weights, head from the seed.
    let varmap = VarMap::new();
    let top = Top::load(
        VarBuilder::from_varmap(&varmap, DType::F32, &device),
        &base.config,
        config.frozen_layers,
        depth,
        task,
    )?;
    init_from_base(
        &varmap,
        &base.weights,
        task,
        &mut rng,
        base.config.hidden_size,
    )?;

    let labels = task.labels.len();
    let mut counts = vec![0usize; labels];
    for c in &train_set {
        counts[c.label as usize] += 1;
    }
    let class_weight: Vec<f32> = counts
        .iter()
        .map(|&n| {
            if n == 0 {
                0.0
            } else {
                train_set.len() as f32 / (labels * n) as f32
            }
        })
        .collect();

    let steps_per_epoch = train_set.len().div_ceil(config.batch_size);
    let total_steps = steps_per_epoch * config.epochs;
    let warmup = (total_steps / 10).max(1);
    let (head_vars, body_vars): (Vec<_>, Vec<_>) = {
        let data = varmap.data().lock().unwrap_or_else(|p| p.into_inner());
        let mut named: Vec<(String, candle_core::Var)> =
            data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        named
            .into_iter()
            .partition(|(k, _)| k.starts_with(task.head))
    };
    let adamw = |vars: Vec<(String, candle_core::Var)>, lr| {
        AdamW::new(
            vars.into_iter().map(|(_, v)| v).collect(),
            ParamsAdamW {
                lr,
                weight_decay: 0.01,
                ..Default::default()
            },
        )
    };
    let mut opt = adamw(body_vars, config.learning_rate)?;
    let mut head_opt = adamw(head_vars, config.head_learning_rate)?;
    let hidden_size = base.config.hidden_size;
    let resume = match checkpoints {
        Some(c) => load_checkpoint(&varmap, &c.dir, &data_sha256)?,
        None => None,
    };
    let mut epoch_losses = resume
        .as_ref()
        .map(|r| r.epoch_losses.clone())
        .unwrap_or_default();
    let mut step_no = resume.as_ref().map_or(0, |r| r.step_no);
    let resumed = resume.as_ref().map_or(0, |r| r.resumed + 1);
    let seconds_before = resume.as_ref().map_or(0.0, |r| r.train_seconds);
    let first_epoch = resume.as_ref().map_or(0, |r| r.epoch);
    let train_started = Instant::now();
    for epoch in first_epoch..config.epochs {
        let epoch_started = Instant::now();
        let continuing = resume.as_ref().filter(|r| r.epoch == epoch);
        if let Some(r) = continuing {
            rng.set_word_pos(r.rng_epoch_start);
        }
        let rng_epoch_start = rng.get_word_pos();
        let batches = length_bucketed_batches(&train_set, config.batch_size, &mut rng);
        let mut loss_sum = 0.0f32;
        let mut first_step = 0;
        if let Some(r) = continuing {
            rng.set_word_pos(r.rng_now);
            loss_sum = r.loss_sum;
            first_step = r.step_in_epoch;
            progress(TrainEvent::Resumed {
                epoch,
                step: first_step,
            });
        }
        for (i, batch) in batches.iter().enumerate().skip(first_step) {
            let schedule = if step_no < warmup {
                (step_no + 1) as f64 / warmup as f64
            } else {
                (total_steps - step_no) as f64 / (total_steps - warmup).max(1) as f64
            };
            opt.set_learning_rate(config.learning_rate * schedule);
            head_opt.set_learning_rate(config.head_learning_rate * schedule);
            let (hidden, mask, labels) = assemble(&train_set, batch, hidden_size, &device)?;
            let keep = dropout_mask(batch.len(), hidden_size, config.dropout, &mut rng, &device)?;
            let logits = top.forward(
                &hidden,
                &mask,
                Pass::Training {
                    dropout: keep.as_ref(),
                },
            )?;
            let weights: Vec<f32> = batch
                .iter()
                .map(|&j| class_weight[train_set[j].label as usize])
                .collect();
            let loss = weighted_cross_entropy(
                &logits,
                &labels,
                &Tensor::new(weights.as_slice(), &device)?,
            )?;
            let grads = loss.backward()?;
            opt.step(&grads)?;
            head_opt.step(&grads)?;
            let l = loss.to_scalar::<f32>()?;
            if !l.is_finite() {
                return Err(StanceError::Training(format!(
                    "loss became {l} at epoch {epoch} step {i}"
                )));
            }
            loss_sum += l;
            step_no += 1;
            progress(TrainEvent::Step {
                epoch,
                step: i + 1,
                steps: batches.len(),
                loss: l,
            });
            if let Some(c) = checkpoints.filter(|c| c.every > 0 && step_no % c.every == 0) {
                let state = CheckpointState {
                    data_sha256: data_sha256.clone(),
                    epoch,
                    step_in_epoch: i + 1,
                    step_no,
                    rng_epoch_start,
                    rng_now: rng.get_word_pos(),
                    loss_sum,
                    epoch_losses: epoch_losses.clone(),
                    train_seconds: seconds_before + train_started.elapsed().as_secs_f64(),
                    resumed,
                };
                save_checkpoint(&varmap, &c.dir, &state)?;
            }
        }
        let mean_loss = loss_sum / batches.len().max(1) as f32;
        epoch_losses.push(mean_loss);
        progress(TrainEvent::EpochDone {
            epoch,
            mean_loss,
            seconds: epoch_started.elapsed().as_secs_f64(),
        });
    }
    let train_seconds = seconds_before + train_started.elapsed().as_secs_f64();

    // Held-out logits, temperature, accuracy.
    let mut logits_all: Vec<Vec<f32>> = Vec::new();
    let order: Vec<usize> = (0..held_set.len()).collect();
    for chunk in order.chunks(32) {
        let (hidden, mask, _) = assemble(&held_set, chunk, hidden_size, &device)?;
        logits_all.extend(
            top.forward(&hidden, &mask, Pass::Inference)?
                .to_vec2::<f32>()?,
        );
    }
    let gold: Vec<usize> = held_set.iter().map(|c| c.label as usize).collect();
    let nll = |t: f32| mean_nll(&logits_all, &gold, t);
    let temperature = (10..=500)
        .map(|i| i as f32 / 100.0)
        .min_by(|a, b| nll(*a).total_cmp(&nll(*b)))
        .unwrap_or(1.0);
    let correct = logits_all
        .iter()
        .zip(&gold)
        .filter(|(l, &g)| (0..labels).max_by(|&a, &b| l[a].total_cmp(&l[b])) == Some(g))
        .count();

    let summary = TrainSummary {
        config: config.clone(),
        pairs_by_source,
        train_pairs: train_set.len(),
        held_out_pairs: held_set.len(),
        epoch_losses,
        held_out_accuracy: correct as f32 / held_set.len().max(1) as f32,
        held_out_nll_before_calibration: nll(1.0),
        held_out_nll: nll(temperature),
        temperature,
        cache_seconds,
        train_seconds,
        data_sha256,
        resumed,
    };
    let meta = save_weights(&varmap, out, config, &summary)?;
    if let Some(c) = checkpoints {
        // The artifact holds everything now; a checkpoint left behind would only be resumed
        // into a finished run.
        for name in [CHECKPOINT_STATE, CHECKPOINT_WEIGHTS] {
            match std::fs::remove_file(c.dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io_error(&c.dir.join(name), e))
                }
                _ => {}
            }
        }
        // The directory goes too when nothing else is in it (an error here means it is not
        // empty or already gone: either way nothing of the run is left in it).
        let _ = std::fs::remove_dir(&c.dir);
    }
    let held_out = logits_all
        .iter()
        .zip(gold)
        .zip(held_out)
        .map(|((l, label), example)| HeldOut {
            probabilities: softmax(l, temperature),
            label,
            source: example.source,
        })
        .collect();
    Ok(FineTuned {
        summary,
        meta,
        held_out,
    })
}

fn softmax(logits: &[f32], t: f32) -> Vec<f32> {
    let m = logits.iter().copied().fold(f32::MIN, f32::max);
    let e: Vec<f32> = logits.iter().map(|x| ((x - m) / t).exp()).collect();
    let z: f32 = e.iter().sum();
    e.into_iter().map(|x| x / z).collect()
}

/// Dropout on the pooled vector, drawn from the run's seeded generator (candle's own dropout
/// uses an unseeded one, which would make runs irreproducible).
fn dropout_mask(
    rows: usize,
    hidden: usize,
    p: f32,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Result<Option<Tensor>, StanceError> {
    if p <= 0.0 {
        return Ok(None);
    }
    let keep = 1.0 / (1.0 - p);
    let values: Vec<f32> = (0..rows * hidden)
        .map(|_| if rng.random::<f32>() < p { 0.0 } else { keep })
        .collect();
    Ok(Some(Tensor::from_vec(values, (rows, hidden), device)?))
}

fn cache_bottom(
    bottom: &Bottom,
    tokenizer: &tokenizers::Tokenizer,
    pairs: &[Example],
    progress: &dyn Fn(usize),
) -> Result<Vec<Cached>, StanceError> {
    let texts: Vec<(&str, &str)> = pairs
        .iter()
        .map(|p| (p.first.as_str(), p.second.as_str()))
        .collect();
    let encodings = model::encode_pairs(tokenizer, &texts)?;
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by_key(|&i| encodings[i].get_ids().len());
    let mut out: Vec<Option<Cached>> = (0..pairs.len()).map(|_| None).collect();
    let mut done = 0;
    for chunk in order.chunks(32) {
        let encs: Vec<&tokenizers::Encoding> = chunk.iter().map(|&i| &encodings[i]).collect();
        let batch = Batch::new(&encs, &bottom.device)?;
        let hidden = bottom.forward(&batch)?.to_vec3::<f32>()?;
        for ((&i, rows), enc) in chunk.iter().zip(hidden).zip(&encs) {
            let len = enc.get_ids().len();
            out[i] = Some(Cached {
                hidden: rows.into_iter().take(len).flatten().collect(),
                len,
                label: pairs[i].label as u32,
            });
        }
        done += chunk.len();
        progress(done);
    }
    Ok(out
        .into_iter()
        .map(|c| c.expect("every example is cached"))
        .collect())
}

/// Shuffled batches of similar lengths (less padding), in shuffled order.
fn length_bucketed_batches(
    set: &[Cached],
    batch_size: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..set.len()).collect();
    idx.shuffle(rng);
    let mut batches = Vec::new();
    for window in idx.chunks(batch_size * 20) {
        let mut w = window.to_vec();
        w.sort_by_key(|&i| set[i].len);
        batches.extend(w.chunks(batch_size).map(<[usize]>::to_vec));
    }
    batches.shuffle(rng);
    batches
}

fn assemble(
    set: &[Cached],
    batch: &[usize],
    hidden: usize,
    device: &Device,
) -> Result<(Tensor, Tensor, Tensor), StanceError> {
    let len = batch.iter().map(|&i| set[i].len).max().unwrap_or(1);
    let mut data = vec![0f32; batch.len() * len * hidden];
    let mut mask = vec![0u32; batch.len() * len];
    for (row, &i) in batch.iter().enumerate() {
        let c = &set[i];
        data[row * len * hidden..row * len * hidden + c.len * hidden].copy_from_slice(&c.hidden);
        mask[row * len..row * len + c.len].fill(1);
    }
    let labels: Vec<u32> = batch.iter().map(|&i| set[i].label).collect();
    Ok((
        Tensor::from_vec(data, (batch.len(), len, hidden), device)?,
        Tensor::from_vec(mask, (batch.len(), len), device)?,
        Tensor::new(labels.as_slice(), device)?,
    ))
}

fn weighted_cross_entropy(
    logits: &Tensor,
    labels: &Tensor,
    weights: &Tensor,
) -> Result<Tensor, StanceError> {
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = log_probs.gather(&labels.unsqueeze(1)?, 1)?.squeeze(1)?;
    let weighted = (picked * weights)?.sum_all()?;
    Ok((weighted.neg()? / weights.sum_all()?.to_scalar::<f32>()? as f64)?)
}

fn mean_nll(logits: &[Vec<f32>], gold: &[usize], t: f32) -> f32 {
    let total: f32 = logits
        .iter()
        .zip(gold)
        .map(|(l, &g)| {
            let m = l.iter().copied().fold(f32::MIN, f32::max);
            let z: f32 = l.iter().map(|x| ((x - m) / t).exp()).sum();
            -((l[g] - m) / t - z.ln())
        })
        .sum();
    total / logits.len().max(1) as f32
}

/// Copies base weights into the upper layers and draws the head from the seeded generator.
fn init_from_base(
    varmap: &VarMap,
    weights: &Path,
    task: Task,
    rng: &mut ChaCha8Rng,
    hidden: usize,
) -> Result<(), StanceError> {
    // SAFETY: the weights file lives in our cache and is not modified while mapped.
    let base = unsafe { candle_core::safetensors::MmapedSafetensors::new(weights)? };
    let data = varmap.data().lock().unwrap_or_else(|p| p.into_inner());
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    let bound = 1.0 / (hidden as f32).sqrt();
    for name in names {
        let var = &data[name];
        if name.starts_with(task.head) {
            let shape = var.shape().clone();
            let values: Vec<f32> = if name.ends_with(".bias") {
                vec![0.0; shape.elem_count()]
            } else {
                (0..shape.elem_count())
                    .map(|_| rng.random_range(-bound..bound))
                    .collect()
            };
            var.set(&Tensor::from_vec(values, shape, var.device())?)?;
        } else {
            var.set(&base.load(name, var.device())?)?;
        }
    }
    Ok(())
}

/// Writes the trained weights in f16 and describes them.
fn save_weights(
    varmap: &VarMap,
    out: &Path,
    config: &TrainConfig,
    summary: &TrainSummary,
) -> Result<ArtifactMeta, StanceError> {
    let data = varmap.data().lock().unwrap_or_else(|p| p.into_inner());
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for (name, var) in data.iter() {
        tensors.insert(name.clone(), var.as_tensor().to_dtype(DType::F16)?);
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    candle_core::safetensors::save(&tensors, out)?;
    let bytes = std::fs::read(out).map_err(|e| io_error(out, e))?;
    Ok(ArtifactMeta {
        base_package: MINILM_L6_V2.name.into(),
        base_version: MINILM_L6_V2.version.into(),
        frozen_layers: config.frozen_layers,
        layers: config.layers,
        max_tokens: config.max_tokens,
        temperature: summary.temperature,
        weights_sha256: factually_core::sha256_hex(&bytes),
        training: serde_json::to_value(summary)
            .map_err(|e| StanceError::Training(e.to_string()))?,
    })
}
