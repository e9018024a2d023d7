//! Language models behind one narrow trait, [`ChatModel`]: chat messages in, text out.
//!
//! Why a trait this small: factually must work with whatever model a user already runs (OpenAI,
//! OpenRouter, vLLM, Ollama, a llama.cpp server, a GGUF file on disk), and everything the report
//! pipeline needs from any of them is "answer these messages, as JSON of this shape when asked".
//! What a model says is never trusted: [`json_chat`] validates every structured answer by
//! deserialising it into the caller's type (whose JSON Schema was sent with the request), and
//! repairs once; grounding of quotes happens later, against the stored sources.
//!
//! * [`openai`]: any OpenAI-compatible `/chat/completions` server, with timeouts, retries with
//!   backoff on 429/5xx, `response_format` JSON Schema, and a tolerant fallback for servers that
//!   ignore it.
//! * [`cache`]: a content-addressed cache of calls, so the same prompt to the same model with the
//!   same parameters is answered once.

pub mod cache;
pub mod openai;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A JSON Schema the answer must follow, with the name servers require for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputSchema {
    pub name: String,
    pub schema: serde_json::Value,
}

impl OutputSchema {
    /// The schema of a Rust type, as schemars generates it.
    pub fn of<T: JsonSchema>(name: &str) -> Self {
        Self {
            name: name.to_string(),
            schema: serde_json::to_value(schemars::schema_for!(T)).expect("a schema serialises"),
        }
    }
}

/// One call to a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    /// When set, the answer must be JSON following this schema.
    pub schema: Option<OutputSchema>,
    pub max_tokens: u32,
    pub temperature: f32,
    pub seed: Option<u64>,
}

impl ChatRequest {
    pub fn new(messages: Vec<Message>) -> Self {
        Self {
            messages,
            schema: None,
            max_tokens: 512,
            temperature: 0.0,
            seed: Some(0),
        }
    }
}

/// Tokens a call cost, as the server counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
    }
}

/// What a model answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub text: String,
    pub usage: Usage,
    /// The model that answered, as the server names it.
    pub model: String,
    /// True when the answer came from the call cache.
    #[serde(default)]
    pub cached: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("could not reach the model server at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("the model server refused the API key (HTTP {0}); check FACTUALLY_LLM_API_KEY")]
    Unauthorized(u16),
    #[error("the model server does not know the model {0:?}")]
    UnknownModel(String),
    #[error("the model server answered HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("the model server's answer is not a chat completion: {0}")]
    BadResponse(String),
    #[error("the prompt needs {tokens} tokens with its answer, more than the model's {window}-token window")]
    PromptTooLong { tokens: usize, window: usize },
    #[error("the local model failed: {0}")]
    Inference(String),
    #[error("the model did not answer with valid JSON for {schema}: {message}")]
    InvalidJson {
        schema: String,
        message: String,
        /// What the failed attempts cost.
        usage: Usage,
    },
}

/// A chat model: messages in, text out.
pub trait ChatModel: Send + Sync {
    /// `provider:model`, recorded in reports and part of every cache key.
    fn id(&self) -> String;
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>>;
}

/// The JSON value inside a model's text: the whole text, or a fenced code block, or the
/// outermost `{...}` span, whichever parses first.
pub fn extract_json(text: &str) -> Option<serde_json::Value> {
    let trimmed = text.trim();
    if let Ok(v) = serde_json::from_str(trimmed) {
        return Some(v);
    }
    if let Some(start) = trimmed.find("```") {
        let body = &trimmed[start + 3..];
        let body = body.strip_prefix("json").unwrap_or(body);
        if let Some(end) = body.find("```") {
            if let Ok(v) = serde_json::from_str(body[..end].trim()) {
                return Some(v);
            }
        }
    }
    let (start, end) = (trimmed.find('{')?, trimmed.rfind('}')?);
    (start < end)
        .then(|| serde_json::from_str(&trimmed[start..=end]).ok())
        .flatten()
}

/// A structured answer and what it cost.
#[derive(Debug, Clone)]
pub struct JsonAnswer<T> {
    pub value: T,
    pub usage: Usage,
    /// Calls made (2 when a repair was needed).
    pub calls: u32,
    /// Of those, calls answered from the call cache.
    pub cached: u32,
}

/// Asks for JSON of type `T`: the schema goes with the request; the answer is extracted
/// tolerantly and validated by deserialising it into `T`; an invalid answer gets one repair
/// round (the model is shown its answer and the error), then [`LlmError::InvalidJson`].
pub async fn json_chat<T: DeserializeOwned + JsonSchema>(
    model: &dyn ChatModel,
    request: ChatRequest,
    schema_name: &str,
) -> Result<JsonAnswer<T>, LlmError> {
    json_chat_with(model, request, OutputSchema::of::<T>(schema_name)).await
}

/// [`json_chat`] with a schema narrower than `T`'s own (for example a field limited to an
/// `enum` of allowed values). Answers are still validated by deserialising into `T`.
pub async fn json_chat_with<T: DeserializeOwned>(
    model: &dyn ChatModel,
    mut request: ChatRequest,
    schema: OutputSchema,
) -> Result<JsonAnswer<T>, LlmError> {
    let schema_name = schema.name.clone();
    request.schema = Some(schema);
    let mut usage = Usage::default();
    let mut cached = 0;
    let mut last_error = String::new();
    for attempt in 1..=2 {
        let response = model.chat(&request).await?;
        usage.add(response.usage);
        cached += u32::from(response.cached);
        let parsed = extract_json(&response.text)
            .ok_or_else(|| "no JSON object in the answer".to_string())
            .and_then(|v| serde_json::from_value::<T>(v).map_err(|e| e.to_string()));
        match parsed {
            Ok(value) => {
                return Ok(JsonAnswer {
                    value,
                    usage,
                    calls: attempt,
                    cached,
                })
            }
            Err(e) => {
                last_error = e.clone();
                request.messages.push(Message::assistant(response.text));
                request.messages.push(Message::user(format!(
                    "That answer is not valid: {e}. Answer again with only a JSON object that follows the schema."
                )));
            }
        }
    }
    Err(LlmError::InvalidJson {
        schema: schema_name,
        message: last_error,
        usage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_in_chatty_answers() {
        let cases = [
            (r#"{"a": 1}"#, Some(1)),
            (
                "Sure! Here it is:\n```json\n{\"a\": 2}\n```\nAnything else?",
                Some(2),
            ),
            ("The answer is {\"a\": 3} as requested.", Some(3)),
            ("I cannot help with that.", None),
            ("{ broken", None),
        ];
        for (text, want) in cases {
            let got = extract_json(text).and_then(|v| v["a"].as_i64());
            assert_eq!(got, want, "{text}");
        }
    }
}
