//! In-process GGUF language models through llama.cpp, behind [`factually_llm::ChatModel`].
//!
//! Why in-process: a user with a GGUF file on disk should not have to run a server to get an
//! LLM-written report, and on a 2-core laptop llama.cpp is 3-10x faster than candle at quantised
//! generation (`shared/notes/local-models.md`). Why behind its own crate and a CLI feature:
//! llama.cpp is C++ built from vendored source (cmake, a C++ compiler and libclang for bindgen)
//! and costs minutes of build time; everything else in factually builds with cargo alone.
//!
//! What this crate guarantees:
//! * the chat template comes from the GGUF metadata (`tokenizer.chat_template`), so any
//!   instruct model is prompted the way it was trained;
//! * a request with a JSON Schema is decoded under a grammar compiled from that schema, so the
//!   answer is syntactically valid JSON of the right shape unless it runs out of tokens;
//! * a file that is not a GGUF model, a prompt longer than the context window, or a decoding
//!   failure is a named error, never a panic;
//! * generation is greedy at temperature 0 and seeded otherwise, so the same request gives the
//!   same answer (which is what makes the call cache honest).

use std::io::Read;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use factually_llm::{ChatModel, ChatRequest, ChatResponse, LlmError, Role, Usage};
use futures::future::BoxFuture;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;

/// Most likely tokens the grammar is asked about when the model's first choice breaks it.
const SHORTLIST: usize = 64;

/// Tokens decoded per llama.cpp batch while reading the prompt.
const PROMPT_BATCH: usize = 512;

/// A JSON grammar for schemas llama.cpp cannot compile: the answer is still valid JSON, and
/// `json_chat` checks its shape.
const ANY_JSON_GRAMMAR: &str = r#"
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9]{1,15})? ws
ws     ::= | " " | "\n" [ \t]{0,20}
"#;

#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a GGUF model file (it does not start with the GGUF magic bytes)")]
    NotGguf(PathBuf),
    #[error(
        "llama.cpp could not load {0} as a model (unsupported architecture, or a damaged file)"
    )]
    LoadFailed(PathBuf),
    #[error("{0} has no chat template in its metadata; use an instruct (chat) model")]
    NoChatTemplate(PathBuf),
    #[error("llama.cpp could not start: {0}")]
    Backend(String),
}

/// How to run a GGUF model.
#[derive(Debug, Clone)]
pub struct GgufOptions {
    /// CPU threads for generation and prompt reading.
    pub threads: usize,
    /// Largest context window to allocate (prompt plus answer), capped by what the model was
    /// trained for.
    pub max_context: u32,
}

impl Default for GgufOptions {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_context: 8192,
        }
    }
}

/// Speed of one call, for benchmarks and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    pub prompt_tokens: usize,
    pub prompt_seconds: f64,
    pub generated_tokens: usize,
    pub generate_seconds: f64,
}

impl Timing {
    pub fn prompt_tokens_per_second(&self) -> f64 {
        self.prompt_tokens as f64 / self.prompt_seconds.max(1e-9)
    }
    pub fn generate_tokens_per_second(&self) -> f64 {
        self.generated_tokens as f64 / self.generate_seconds.max(1e-9)
    }
}

/// A GGUF chat model loaded in this process. Cloning shares the weights.
#[derive(Clone)]
pub struct GgufModel {
    shared: Arc<Shared>,
}

struct Shared {
    model: LlamaModel,
    template: LlamaChatTemplate,
    name: String,
    options: GgufOptions,
    /// One generation at a time: each already uses every thread it is given.
    busy: Mutex<()>,
}

/// llama.cpp's backend may be started once per process.
fn backend() -> Result<&'static LlamaBackend, GgufError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let mut backend = LlamaBackend::init().map_err(|e| e.to_string())?;
            // llama.cpp prints every tensor it loads on stderr; the CLI's output is the report.
            backend.void_logs();
            Ok(backend)
        })
        .as_ref()
        .map_err(|e| GgufError::Backend(e.clone()))
}

/// Checks the magic bytes first: llama.cpp only says "null result" for a file that is not a model.
fn check_magic(path: &Path) -> Result<(), GgufError> {
    let io = |source| GgufError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut magic = [0u8; 4];
    let mut file = std::fs::File::open(path).map_err(io)?;
    match file.read_exact(&mut magic) {
        Ok(()) if &magic == b"GGUF" => Ok(()),
        Ok(()) => Err(GgufError::NotGguf(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(GgufError::NotGguf(path.to_path_buf()))
        }
        Err(e) => Err(io(e)),
    }
}

/// Changes whenever decoding changes (grammar handling, sampling), so that answers cached by an
/// older decoder are not served as this one's.
const DECODER_VERSION: &str = "factually-gguf-decoder-1";

/// A short fingerprint of the file (size, first and last 64 KiB) and of [`DECODER_VERSION`], so
/// that two files with the same name, or two decoders, never share a model id, and with it
/// cache entries, without hashing gigabytes at load.
fn fingerprint(path: &Path) -> Result<String, GgufError> {
    use std::io::{Seek, SeekFrom};
    let io = |source| GgufError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut bytes = DECODER_VERSION.as_bytes().to_vec();
    bytes.extend(len.to_le_bytes());
    let mut head = Vec::new();
    (&mut file)
        .take(65_536)
        .read_to_end(&mut head)
        .map_err(io)?;
    file.seek(SeekFrom::Start(len.saturating_sub(65_536)))
        .map_err(io)?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).map_err(io)?;
    bytes.extend(head);
    bytes.extend(tail);
    Ok(factually_core::sha256_hex(&bytes)[..8].to_string())
}

impl GgufModel {
    /// Loads the model in `path` (memory-mapped).
    pub fn load(path: &Path, options: GgufOptions) -> Result<Self, GgufError> {
        check_magic(path)?;
        let backend = backend()?;
        let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default())
            .map_err(|_| GgufError::LoadFailed(path.to_path_buf()))?;
        let template = model
            .chat_template(None)
            .map_err(|_| GgufError::NoChatTemplate(path.to_path_buf()))?;
        let stem = path
            .file_stem()
            .map_or_else(|| "model".to_string(), |s| s.to_string_lossy().into_owned());
        let name = format!("{stem}@{}", fingerprint(path)?);
        Ok(Self {
            shared: Arc::new(Shared {
                model,
                template,
                name,
                options,
                busy: Mutex::new(()),
            }),
        })
    }

    /// Answers `request` on this thread, with its timing. [`ChatModel::chat`] runs this on
    /// tokio's blocking pool.
    pub fn generate(&self, request: &ChatRequest) -> Result<(ChatResponse, Timing), LlmError> {
        let shared = &*self.shared;
        let _turn = shared.busy.lock().unwrap_or_else(|p| p.into_inner());
        let model = &shared.model;
        let inference = |what: &str, e: &dyn std::fmt::Display| {
            LlmError::Inference(format!("{}: {what}: {e}", self.id()))
        };

        let messages = request
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::System => "system",
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                // A NUL byte cannot cross into C; it carries no meaning in a prompt.
                LlamaChatMessage::new(role.to_string(), m.content.replace('\0', ""))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| inference("bad message", &e))?;
        let prompt = model
            .apply_chat_template(&shared.template, &messages, true)
            .map_err(|e| inference("chat template", &e))?;
        let vocab = model.vocab();
        let mut tokens = vocab.tokenize(prompt.as_bytes(), false, true);
        if vocab.should_add_bos() && tokens.first() != Some(&vocab.bos()) {
            tokens.insert(0, vocab.bos());
        }

        let max_tokens = request.max_tokens.max(1) as usize;
        let window = shared.options.max_context.min(model.n_ctx_train()) as usize;
        if tokens.len() + max_tokens > window {
            return Err(LlmError::PromptTooLong {
                tokens: tokens.len() + max_tokens,
                window,
            });
        }
        let n_ctx = NonZeroU32::new((tokens.len() + max_tokens) as u32);
        let threads = shared.options.threads.max(1) as i32;
        let params = LlamaContextParams::default()
            .with_n_ctx(n_ctx)
            .with_n_batch(PROMPT_BATCH as u32)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let backend = backend().map_err(|e| inference("backend", &e))?;
        let mut ctx = model
            .new_context(backend, params)
            .map_err(|e| inference("context", &e))?;

        let mut picker = Picker::new(model, request).map_err(|e| inference("grammar", &e))?;

        let started = Instant::now();
        let mut batch = LlamaBatch::new(PROMPT_BATCH, 1);
        let last = tokens.len() - 1;
        for (chunk_index, chunk) in tokens.chunks(PROMPT_BATCH).enumerate() {
            batch.clear();
            for (i, token) in chunk.iter().enumerate() {
                let pos = chunk_index * PROMPT_BATCH + i;
                batch
                    .add(*token, pos as i32, &[0], pos == last)
                    .map_err(|e| inference("batch", &e))?;
            }
            ctx.decode(&mut batch)
                .map_err(|e| inference("reading the prompt", &e))?;
        }
        let prompt_seconds = started.elapsed().as_secs_f64();

        let started = Instant::now();
        let mut text = Vec::new();
        let mut generated = 0;
        let mut pos = tokens.len();
        while generated < max_tokens {
            let Some(token) = picker.pick(&ctx, batch.n_tokens() - 1) else {
                break;
            };
            if vocab.is_eog(token) {
                break;
            }
            generated += 1;
            vocab.token_to_piece_into(token, &mut text, false, None);
            batch.clear();
            batch
                .add(token, pos as i32, &[0], true)
                .map_err(|e| inference("batch", &e))?;
            pos += 1;
            ctx.decode(&mut batch)
                .map_err(|e| inference("generating", &e))?;
        }
        let timing = Timing {
            prompt_tokens: tokens.len(),
            prompt_seconds,
            generated_tokens: generated,
            generate_seconds: started.elapsed().as_secs_f64(),
        };
        let response = ChatResponse {
            text: String::from_utf8_lossy(&text).into_owned(),
            usage: Usage {
                prompt_tokens: tokens.len() as u64,
                completion_tokens: generated as u64,
            },
            model: shared.name.clone(),
            cached: false,
        };
        Ok((response, timing))
    }
}

/// The grammar with llama.cpp's whitespace rule (up to two newlines and 20 indents between any
/// two JSON tokens) narrowed to one optional space: a small model pretty-prints otherwise, and
/// every newline and indent is a generated token, about a third of an answer.
fn compact(grammar: &str) -> String {
    grammar
        .lines()
        .map(|line| {
            if line.starts_with("space ::=") {
                "space ::= \" \"?"
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Picks each next token: greedy at temperature 0, seeded sampling otherwise, under a grammar
/// compiled from the request's schema when it has one.
struct Picker {
    grammar: Option<LlamaSampler>,
    /// Temperature and seeded draw, when the temperature is above 0.
    sampling: Option<LlamaSampler>,
}

impl Picker {
    fn new(model: &LlamaModel, request: &ChatRequest) -> Result<Self, llama_cpp_2::GrammarError> {
        let grammar = match &request.schema {
            Some(schema) => {
                let gbnf = llama_cpp_2::json_schema_to_grammar(&schema.schema.to_string())
                    .map(|g| compact(&g))
                    .unwrap_or_else(|e| {
                        tracing::warn!(schema = %schema.name, error = %e, "schema not compilable; any JSON allowed");
                        ANY_JSON_GRAMMAR.to_string()
                    });
                Some(LlamaSampler::grammar(model, &gbnf, "root")?)
            }
            None => None,
        };
        let sampling = (request.temperature > 0.0).then(|| {
            LlamaSampler::chain_simple([
                LlamaSampler::temp(request.temperature),
                LlamaSampler::dist(request.seed.unwrap_or(0) as u32),
            ])
        });
        Ok(Self { grammar, sampling })
    }

    /// The next token after output `idx` of the last decode. `None` when the grammar allows no
    /// token at all.
    ///
    /// Masking 49k tokens with a grammar at every step costs more than running a small model,
    /// so the grammar is asked in widening circles, as llama.cpp's own sampler does: about the
    /// model's own choice alone; when that breaks the grammar, about the [`SHORTLIST`] most
    /// likely tokens; only when none of those fits, about the whole vocabulary. At temperature
    /// 0 this picks exactly the token a full mask would.
    fn pick(&mut self, ctx: &LlamaContext<'_>, idx: i32) -> Option<LlamaToken> {
        let Some(sampling) = self.sampling.as_mut() else {
            return self.pick_greedy(ctx.get_logits_ith(idx), || ctx.token_data_array_ith(idx));
        };
        let mut all = ctx.token_data_array_ith(idx);
        if let Some(grammar) = self.grammar.as_mut() {
            all.apply_sampler(grammar);
        }
        all.apply_sampler(sampling);
        let token = all.selected_token()?;
        if let Some(grammar) = self.grammar.as_mut() {
            grammar.accept(token);
        }
        Some(token)
    }

    fn pick_greedy(
        &mut self,
        logits: &[f32],
        everything: impl FnOnce() -> LlamaTokenDataArray,
    ) -> Option<LlamaToken> {
        let data = |i: usize| LlamaTokenData::new(LlamaToken(i as i32), logits[i], 0.0);
        let best_of = |array: &LlamaTokenDataArray| {
            array
                .data
                .iter()
                .filter(|d| d.logit().is_finite())
                .max_by(|a, b| a.logit().total_cmp(&b.logit()))
                .map(|d| d.id())
        };
        let first = logits
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_finite())
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)?;
        let Some(grammar) = self.grammar.as_mut() else {
            return Some(LlamaToken(first as i32));
        };
        let mut alone = LlamaTokenDataArray::new(vec![data(first)], false);
        alone.apply_sampler(grammar);
        let token = match best_of(&alone) {
            Some(t) => t,
            None => {
                let mut order: Vec<usize> = (0..logits.len()).collect();
                let k = SHORTLIST.min(order.len() - 1);
                order.select_nth_unstable_by(k, |a, b| logits[*b].total_cmp(&logits[*a]));
                let mut shortlist =
                    LlamaTokenDataArray::from_iter(order[..k].iter().map(|i| data(*i)), false);
                shortlist.apply_sampler(grammar);
                match best_of(&shortlist) {
                    Some(t) => t,
                    None => {
                        let mut all = everything();
                        all.apply_sampler(grammar);
                        best_of(&all)?
                    }
                }
            }
        };
        grammar.accept(token);
        Some(token)
    }
}

impl ChatModel for GgufModel {
    fn id(&self) -> String {
        format!("gguf:{}", self.shared.name)
    }

    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>> {
        let model = self.clone();
        let request = request.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || model.generate(&request).map(|(r, _)| r))
                .await
                .map_err(|e| LlmError::Inference(format!("generation stopped: {e}")))?
        })
    }
}
