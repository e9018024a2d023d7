//! NLI cross-encoders people bring: a Hugging Face sequence-classification model in a directory
//! (`config.json`, `tokenizer.json`, `model.safetensors`), in the BERT, RoBERTa, XLM-RoBERTa or
//! DeBERTa-v2/v3 architecture (candle-transformers), its labels mapped from `config.json`'s
//! `id2label`: entailment = support, contradiction = refute, neutral (or any other label) =
//! neutral. The bundled model is small because it has to run on two cores; a user with a
//! stronger NLI model (an MNLI/FEVER-trained DeBERTa, say) plugs it in with `--stance-model DIR`.

use std::path::Path;

use candle_core::{DType, Device, Module};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::{bert, debertav2, xlm_roberta};
use factually_assets::hub::{Hub, HubModelId};
use factually_assets::AssetCache;
use factually_core::StanceProbs;
use tokenizers::Tokenizer;

use crate::model::{encode_pairs, pair_tokenizer, Batch};
use crate::StanceError;

/// What a model directory must hold.
const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Longest tokenised pair given to an external model.
const MAX_TOKENS: usize = 256;

/// The files of a model directory and their sha256s, recorded with every result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelFiles {
    pub dir: String,
    /// `owner/name@commit` when the model came from a Hugging Face hub.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub: Option<String>,
    pub architecture: String,
    pub config_sha256: String,
    pub weights_sha256: String,
    pub tokenizer_sha256: String,
}

// One value per loaded model: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Network {
    Bert {
        model: bert::BertModel,
        pooler: Linear,
        classifier: Linear,
    },
    Roberta(Box<xlm_roberta::XLMRobertaForSequenceClassification>),
    Deberta(Box<debertav2::DebertaV2SeqClassificationModel>),
}

/// A loaded external cross-encoder.
pub struct ExternalModel {
    network: Network,
    tokenizer: Tokenizer,
    /// Logit index of entailment and of contradiction; every other label counts as neutral.
    entailment: usize,
    contradiction: usize,
    labels: usize,
    device: Device,
    pub files: ModelFiles,
}

fn model_error(path: &Path, message: impl std::fmt::Display) -> StanceError {
    StanceError::Model {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, StanceError> {
    std::fs::read(path).map_err(|e| StanceError::Io {
        path: path.display().to_string(),
        source: e,
    })
}

/// Which logits are entailment and contradiction, from `id2label` (keys are the indices).
fn label_indices(
    config: &serde_json::Value,
    path: &Path,
) -> Result<(usize, usize, usize), StanceError> {
    let map = config
        .get("id2label")
        .and_then(|m| m.as_object())
        .ok_or_else(|| model_error(path, "no id2label: not a sequence-classification model"))?;
    let mut entailment = None;
    let mut contradiction = None;
    for (index, label) in map {
        let index: usize = index
            .parse()
            .map_err(|_| model_error(path, format!("id2label key {index:?} is not a number")))?;
        if index >= map.len() {
            return Err(model_error(
                path,
                format!("id2label index {index} out of range"),
            ));
        }
        let label = label.as_str().unwrap_or_default().to_lowercase();
        if label.starts_with("entail") {
            entailment = Some(index);
        } else if label.starts_with("contradict") {
            contradiction = Some(index);
        }
    }
    match (entailment, contradiction) {
        (Some(e), Some(c)) => Ok((e, c, map.len())),
        _ => Err(model_error(
            path,
            format!(
                "id2label {} has no entailment and contradiction labels: not an NLI model",
                serde_json::Value::Object(map.clone())
            ),
        )),
    }
}

impl ExternalModel {
    /// Loads a model directory, or says which file is missing or wrong.
    pub fn from_dir(dir: &Path) -> Result<Self, StanceError> {
        if !dir.is_dir() {
            return Err(model_error(
                dir,
                "not a directory with config.json, tokenizer.json and model.safetensors",
            ));
        }
        let config_path = dir.join("config.json");
        let weights_path = dir.join("model.safetensors");
        let tokenizer_path = dir.join("tokenizer.json");
        let config_bytes = read(&config_path)?;
        let config: serde_json::Value =
            serde_json::from_slice(&config_bytes).map_err(|e| model_error(&config_path, e))?;
        let (entailment, contradiction, labels) = label_indices(&config, &config_path)?;
        let architecture = config
            .get("model_type")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_string();
        let weights = read(&weights_path)?;
        let weights_sha256 = factually_core::sha256_hex(&weights);
        let tokenizer_bytes = read(&tokenizer_path)?;
        let tokenizer = pair_tokenizer(&tokenizer_path, MAX_TOKENS)?;
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| model_error(&weights_path, e))?;
        let typed = |e: serde_json::Error| model_error(&config_path, e);
        let load = |e: candle_core::Error| model_error(&weights_path, e);
        let network = match architecture.as_str() {
            "bert" => {
                let c: bert::Config = serde_json::from_value(config.clone()).map_err(typed)?;
                let model = bert::BertModel::load(vb.clone(), &c).map_err(load)?;
                let pooler = candle_nn::linear(c.hidden_size, c.hidden_size, vb.pp("bert.pooler.dense"))
                    .map_err(load)?;
                let classifier =
                    candle_nn::linear(c.hidden_size, labels, vb.pp("classifier")).map_err(load)?;
                Network::Bert {
                    model,
                    pooler,
                    classifier,
                }
            }
            "roberta" | "xlm-roberta" => {
                let c: xlm_roberta::Config = serde_json::from_value(config.clone()).map_err(typed)?;
                Network::Roberta(Box::new(
                    xlm_roberta::XLMRobertaForSequenceClassification::new(labels, &c, vb.clone())
                        .map_err(load)?,
                ))
            }
            "deberta-v2" => {
                let c: debertav2::Config = serde_json::from_value(config.clone()).map_err(typed)?;
                Network::Deberta(Box::new(
                    debertav2::DebertaV2SeqClassificationModel::load(vb.pp("deberta"), &c, None)
                        .map_err(load)?,
                ))
            }
            other => {
                return Err(model_error(
                    &config_path,
                    format!(
                        "model_type {other:?} is not supported: bert, roberta, xlm-roberta or deberta-v2"
                    ),
                ))
            }
        };
        Ok(Self {
            network,
            tokenizer,
            entailment,
            contradiction,
            labels,
            device,
            files: ModelFiles {
                dir: dir.display().to_string(),
                hub: None,
                architecture,
                config_sha256: factually_core::sha256_hex(&config_bytes),
                weights_sha256,
                tokenizer_sha256: factually_core::sha256_hex(&tokenizer_bytes),
            },
        })
    }

    /// A model named by its Hugging Face hub id: its three files fetched into the cache on first
    /// use (read from there afterwards, offline), then loaded as a directory.
    pub fn from_hub(cache: &AssetCache, hub: &Hub, id: &HubModelId) -> Result<Self, StanceError> {
        let snapshot = cache.hub_model(hub, id, &MODEL_FILES)?;
        let mut model = Self::from_dir(&snapshot.dir)?;
        model.files.hub = Some(format!("{}@{}", id.repo, snapshot.commit));
        Ok(model)
    }

    /// Scores pairs: softmax over the model's labels, every label other than entailment and
    /// contradiction counted as neutral.
    pub fn score(&self, pairs: &[(&str, &str)]) -> Result<Vec<StanceProbs>, StanceError> {
        let mut out = Vec::with_capacity(pairs.len());
        for chunk in pairs.chunks(16) {
            let encodings = encode_pairs(&self.tokenizer, chunk)?;
            let refs: Vec<&tokenizers::Encoding> = encodings.iter().collect();
            let batch = Batch::new(&refs, &self.device)?;
            let logits = match &self.network {
                Network::Bert {
                    model,
                    pooler,
                    classifier,
                } => {
                    let hidden = model.forward(&batch.ids, &batch.types, Some(&batch.mask))?;
                    let cls = hidden.narrow(1, 0, 1)?.squeeze(1)?;
                    classifier.forward(&pooler.forward(&cls)?.tanh()?)?
                }
                Network::Roberta(m) => m.forward(&batch.ids, &batch.mask, &batch.types)?,
                Network::Deberta(m) => m.forward(
                    &batch.ids,
                    Some(batch.types.clone()),
                    Some(batch.mask.clone()),
                )?,
            };
            let probs = candle_nn::ops::softmax(&logits, 1)?.to_vec2::<f32>()?;
            for p in probs {
                if p.len() != self.labels {
                    return Err(StanceError::Artifact(format!(
                        "the model gave {} scores for {} labels",
                        p.len(),
                        self.labels
                    )));
                }
                let support = p[self.entailment];
                let refute = p[self.contradiction];
                out.push(StanceProbs {
                    support,
                    refute,
                    neutral: (1.0 - support - refute).max(0.0),
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::VarMap;
    use std::path::PathBuf;

    /// A tiny WordPiece tokenizer with BERT's pair template.
    fn tokenizer_json() -> String {
        let words = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "<s>", "</s>", "the", "sky", "is", "blue", "green",
            "paris", "in", "france", "germany", "capital", "of", ".",
        ];
        let vocab: serde_json::Map<String, serde_json::Value> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.to_string(), i.into()))
            .collect();
        serde_json::json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": [],
            "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {
                    "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                    "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}
                }
            },
            "decoder": null,
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab}
        })
        .to_string()
    }

    fn config(model_type: &str, id2label: serde_json::Value) -> serde_json::Value {
        let mut c = serde_json::json!({
            "model_type": model_type,
            "vocab_size": 18,
            "hidden_size": 8,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 16,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0,
            "max_position_embeddings": 64,
            "type_vocab_size": 2,
            "initializer_range": 0.02,
            "layer_norm_eps": 1e-7,
            "pad_token_id": 0,
            "position_embedding_type": "absolute",
            "id2label": id2label,
        });
        if model_type == "deberta-v2" {
            let extra = serde_json::json!({
                "relative_attention": true, "max_relative_positions": -1, "position_biased_input": false,
                "pos_att_type": ["p2c", "c2p"], "position_buckets": 16, "share_att_key": true,
                "norm_rel_ebd": "layer_norm", "pooler_dropout": 0.0, "pooler_hidden_act": "gelu",
                "pooler_hidden_size": 8,
            });
            for (k, v) in extra.as_object().unwrap() {
                c[k] = v.clone();
            }
        }
        c
    }

    fn nli_labels() -> serde_json::Value {
        serde_json::json!({"0": "contradiction", "1": "entailment", "2": "neutral"})
    }

    /// Writes a randomly initialised model of the architecture: candle creates every tensor
    /// the loader asks for, and the var map is saved as the safetensors file.
    fn write_model(dir: &Path, model_type: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let c = config(model_type, nli_labels());
        let map = VarMap::new();
        let vb = VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu);
        match model_type {
            "bert" => {
                let bc: bert::Config = serde_json::from_value(c.clone()).unwrap();
                bert::BertModel::load(vb.pp("bert"), &bc).unwrap();
                candle_nn::linear(8, 8, vb.pp("bert.pooler.dense")).unwrap();
                candle_nn::linear(8, 3, vb.pp("classifier")).unwrap();
            }
            "xlm-roberta" | "roberta" => {
                let xc: xlm_roberta::Config = serde_json::from_value(c.clone()).unwrap();
                xlm_roberta::XLMRobertaForSequenceClassification::new(3, &xc, vb).unwrap();
            }
            _ => {
                let dc: debertav2::Config = serde_json::from_value(c.clone()).unwrap();
                debertav2::DebertaV2SeqClassificationModel::load(vb.pp("deberta"), &dc, None)
                    .unwrap();
            }
        }
        map.save(dir.join("model.safetensors")).unwrap();
        std::fs::write(dir.join("config.json"), c.to_string()).unwrap();
        std::fs::write(dir.join("tokenizer.json"), tokenizer_json()).unwrap();
    }

    #[test]
    fn each_architecture_loads_from_a_directory_and_scores_pairs() {
        for arch in ["bert", "roberta", "xlm-roberta", "deberta-v2"] {
            let dir = tempfile::tempdir().unwrap();
            write_model(dir.path(), arch);
            let m = ExternalModel::from_dir(dir.path()).unwrap_or_else(|e| panic!("{arch}: {e}"));
            assert_eq!(m.files.architecture, arch);
            let p = m
                .score(&[
                    ("The sky is blue.", "The sky is green."),
                    ("Paris is in France.", "Paris is the capital of France."),
                ])
                .unwrap();
            assert_eq!(p.len(), 2);
            for p in p {
                let sum = p.support + p.refute + p.neutral;
                assert!((sum - 1.0).abs() < 1e-4, "{arch}: {p:?}");
            }
        }
    }

    /// A loopback stand-in for the Hugging Face hub: answers `GET /{repo}/resolve/{rev}/{file}`
    /// from `root/{repo}/{file}` with the headers hf-hub reads (etag, commit, content range),
    /// 404 for anything else. Returns the endpoint and a count of requests served.
    fn fake_hub(root: PathBuf) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let served = std::sync::Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap();
                let mut range = None;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                        let (a, b) = v.trim().split_once('-').unwrap();
                        range = Some((a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()));
                    }
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                let file = path.split_once("/resolve/").and_then(|(repo, rest)| {
                    let (_rev, name) = rest.split_once('/')?;
                    std::fs::read(root.join(repo.trim_start_matches('/')).join(name)).ok()
                });
                let reply = match file {
                    Some(bytes) => {
                        let (a, b) = range.unwrap_or((0, bytes.len().saturating_sub(1)));
                        let b = b.min(bytes.len().saturating_sub(1));
                        let body = &bytes[a..=b];
                        let mut head = format!(
                            "HTTP/1.1 206 Partial Content\r\netag: \"{}\"\r\nx-repo-commit: {}\r\ncontent-range: bytes {a}-{b}/{}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            factually_core::sha256_hex(&bytes),
                            "c0ffee0000000000000000000000000000000001",
                            bytes.len(),
                            body.len()
                        )
                        .into_bytes();
                        head.extend_from_slice(body);
                        head
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&reply);
            }
        });
        (endpoint, served)
    }

    #[test]
    fn a_hub_model_is_fetched_once_then_loaded_from_the_cache() {
        let hub_root = tempfile::tempdir().unwrap();
        write_model(&hub_root.path().join("acme/tiny-nli"), "deberta-v2");
        std::fs::create_dir_all(hub_root.path().join("acme/no-weights")).unwrap();
        write_model(&hub_root.path().join("acme/no-weights"), "bert");
        std::fs::remove_file(hub_root.path().join("acme/no-weights/model.safetensors")).unwrap();
        let (endpoint, served) = fake_hub(hub_root.path().to_path_buf());
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = AssetCache::new(cache_dir.path());
        let hub = Hub {
            endpoint: endpoint.clone(),
            token: None,
        };
        let id = HubModelId::parse("acme/tiny-nli").unwrap();

        let m = ExternalModel::from_hub(&cache, &hub, &id).unwrap();
        assert_eq!(m.files.architecture, "deberta-v2");
        assert_eq!(
            m.files.hub.as_deref(),
            Some("acme/tiny-nli@c0ffee0000000000000000000000000000000001")
        );
        let direct = ExternalModel::from_dir(&hub_root.path().join("acme/tiny-nli")).unwrap();
        assert_eq!(m.files.weights_sha256, direct.files.weights_sha256);
        let pairs = [("Paris is in France.", "Paris is the capital of France.")];
        assert_eq!(m.score(&pairs).unwrap(), direct.score(&pairs).unwrap());

        // Second load: from the cache, with the hub gone.
        let before = served.load(std::sync::atomic::Ordering::SeqCst);
        let offline = Hub {
            endpoint: "http://127.0.0.1:1".into(),
            token: None,
        };
        let again = ExternalModel::from_hub(&cache, &offline, &id).unwrap();
        assert_eq!(again.files.weights_sha256, m.files.weights_sha256);
        assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), before);

        let check = |hub: &Hub, id: &str, want: &[&str]| {
            let id = HubModelId::parse(id).unwrap();
            let err = ExternalModel::from_hub(&cache, hub, &id)
                .err()
                .expect("refused")
                .to_string();
            for w in want {
                assert!(err.contains(w), "{w}: {err}");
            }
        };
        check(
            &hub,
            "acme/missing",
            &["acme/missing", "has no config.json"],
        );
        check(&hub, "acme/no-weights", &["has no model.safetensors"]);
        check(
            &offline,
            "acme/other",
            &["could not reach http://127.0.0.1:1", "HF_ENDPOINT"],
        );
    }

    #[test]
    fn broken_model_directories_are_named_with_the_problem() {
        let check = |setup: &dyn Fn(&Path), want: &str| {
            let dir = tempfile::tempdir().unwrap();
            write_model(dir.path(), "bert");
            setup(dir.path());
            let err = ExternalModel::from_dir(dir.path())
                .err()
                .expect("refused")
                .to_string();
            assert!(err.contains(want), "{want}: {err}");
        };
        check(
            &|d| std::fs::remove_file(d.join("model.safetensors")).unwrap(),
            "model.safetensors",
        );
        check(
            &|d| std::fs::write(d.join("model.safetensors"), b"not safetensors").unwrap(),
            "model.safetensors",
        );
        check(
            &|d| std::fs::write(d.join("tokenizer.json"), b"{").unwrap(),
            "tokenizer",
        );
        check(
            &|d| {
                std::fs::write(
                    d.join("config.json"),
                    config("gpt2", nli_labels()).to_string(),
                )
                .unwrap()
            },
            "gpt2",
        );
        check(
            &|d| {
                std::fs::write(
                    d.join("config.json"),
                    config("bert", serde_json::json!({"0": "LABEL_0", "1": "LABEL_1"})).to_string(),
                )
                .unwrap()
            },
            "no entailment and contradiction",
        );
        let missing = ExternalModel::from_dir(Path::new("/nonexistent/model"))
            .err()
            .unwrap();
        assert!(missing.to_string().contains("/nonexistent/model"));
    }
}
