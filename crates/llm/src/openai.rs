//! Any server that speaks OpenAI's `/chat/completions`: OpenAI, OpenRouter, vLLM, Ollama,
//! llama.cpp's server, LM Studio...
//!
//! Spoken with reqwest and serde rather than an SDK: it is one endpoint, and factually needs
//! control an SDK hides: its own retry schedule (429 and 5xx, honouring `Retry-After`), a
//! timeout per call, and a fallback when a server rejects `response_format` (the schema then
//! travels in the system message, and the answer is validated by [`crate::json_chat`] as usual).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use serde::Deserialize;
use serde_json::json;

use crate::{ChatModel, ChatRequest, ChatResponse, LlmError, Role, Usage};

/// Settings of an OpenAI-compatible model.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Base URL up to and including `/v1`, e.g. `http://localhost:11434/v1`.
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    /// Limit for one call (connect, generate, read).
    pub timeout: Duration,
    /// Extra attempts after a 429, a 5xx or a timeout.
    pub max_retries: u32,
    /// First backoff; doubled for each further retry.
    pub backoff: Duration,
}

impl OpenAiConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            timeout: Duration::from_secs(60),
            max_retries: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

pub struct OpenAiCompat {
    client: reqwest::Client,
    config: OpenAiConfig,
    /// Cleared when the server rejects `response_format`; later calls do not send it.
    json_schema_supported: AtomicBool,
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    model: String,
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
}

/// What one attempt came to.
enum Attempt {
    Done(ChatResponse),
    /// Worth trying again after the delay (429, 5xx, timeout).
    Retry(LlmError, Option<Duration>),
    /// The server does not accept `response_format`.
    SchemaRejected,
}

impl OpenAiCompat {
    pub fn new(config: OpenAiConfig) -> Result<Self, LlmError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10).min(config.timeout))
            .build()
            .map_err(|e| LlmError::Unreachable {
                url: config.base_url.clone(),
                message: e.to_string(),
            })?;
        Ok(Self {
            client,
            config,
            json_schema_supported: AtomicBool::new(true),
        })
    }

    fn url(&self) -> String {
        format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        )
    }

    /// The request body: the schema as `response_format` when the server takes it, else as an
    /// instruction at the end of the system message.
    fn body(&self, request: &ChatRequest, with_response_format: bool) -> serde_json::Value {
        let mut messages: Vec<serde_json::Value> = request
            .messages
            .iter()
            .map(|m| json!({"role": m.role, "content": m.content}))
            .collect();
        let mut body = json!({
            "model": self.config.model,
            "messages": [],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        });
        if let Some(seed) = request.seed {
            body["seed"] = json!(seed);
        }
        if let Some(schema) = &request.schema {
            if with_response_format {
                body["response_format"] = json!({
                    "type": "json_schema",
                    "json_schema": {"name": schema.name, "schema": schema.schema},
                });
            } else {
                let instruction = format!(
                    "Answer with only one JSON object that follows this JSON Schema:\n{}",
                    schema.schema
                );
                match request.messages.iter().position(|m| m.role == Role::System) {
                    Some(i) => {
                        let content = format!("{}\n\n{instruction}", request.messages[i].content);
                        messages[i] = json!({"role": "system", "content": content});
                    }
                    None => messages.insert(0, json!({"role": "system", "content": instruction})),
                }
            }
        }
        body["messages"] = json!(messages);
        body
    }

    async fn attempt(
        &self,
        request: &ChatRequest,
        with_response_format: bool,
    ) -> Result<Attempt, LlmError> {
        let mut call = self
            .client
            .post(self.url())
            .json(&self.body(request, with_response_format));
        if let Some(key) = &self.config.api_key {
            call = call.header(AUTHORIZATION, format!("Bearer {key}"));
        }
        let response = match call.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Ok(Attempt::Retry(
                    LlmError::Timeout(self.config.timeout.as_secs()),
                    None,
                ))
            }
            Err(e) => {
                return Err(LlmError::Unreachable {
                    url: self.config.base_url.clone(),
                    message: root_cause(&e),
                })
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after);
        let text = match response.text().await {
            Ok(t) => t,
            Err(e) if e.is_timeout() => {
                return Ok(Attempt::Retry(
                    LlmError::Timeout(self.config.timeout.as_secs()),
                    None,
                ))
            }
            Err(e) => return Err(LlmError::BadResponse(root_cause(&e))),
        };
        let message = || text.chars().take(300).collect::<String>();
        match status {
            200..=299 => {}
            401 | 403 => return Err(LlmError::Unauthorized(status)),
            404 if text.to_lowercase().contains("model") => {
                return Err(LlmError::UnknownModel(self.config.model.clone()))
            }
            400 | 422 if with_response_format && mentions_response_format(&text) => {
                return Ok(Attempt::SchemaRejected)
            }
            429 | 500..=599 => {
                return Ok(Attempt::Retry(
                    LlmError::Status {
                        status,
                        message: message(),
                    },
                    retry_after,
                ))
            }
            _ => {
                return Err(LlmError::Status {
                    status,
                    message: message(),
                })
            }
        }
        parse_completion(&text, &self.config.model).map(Attempt::Done)
    }
}

/// A `Retry-After` header in seconds, at most 30; `None` when it is not a number of seconds
/// (an HTTP date, "NaN", a negative or infinite value).
pub fn retry_after(value: &str) -> Option<Duration> {
    let seconds = value.trim().parse::<f64>().ok().filter(|s| s.is_finite())?;
    Some(Duration::from_secs_f64(seconds.clamp(0.0, 30.0)))
}

/// The first choice's text of a successful chat-completions answer; `model` names the model
/// when the answer does not.
pub fn parse_completion(body: &str, model: &str) -> Result<ChatResponse, LlmError> {
    let excerpt = || body.chars().take(300).collect::<String>();
    let completion: Completion = serde_json::from_str(body)
        .map_err(|e| LlmError::BadResponse(format!("{e}: {}", excerpt())))?;
    let content = completion
        .choices
        .into_iter()
        .next()
        .and_then(|c| c.message.content)
        .ok_or_else(|| LlmError::BadResponse("no choice with content".to_string()))?;
    Ok(ChatResponse {
        text: content,
        usage: completion.usage.unwrap_or_default(),
        model: if completion.model.is_empty() {
            model.to_string()
        } else {
            completion.model
        },
        cached: false,
    })
}

fn mentions_response_format(body: &str) -> bool {
    let b = body.to_lowercase();
    b.contains("response_format") || b.contains("json_schema") || b.contains("response format")
}

fn root_cause(e: &reqwest::Error) -> String {
    let mut last: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

impl ChatModel for OpenAiCompat {
    fn id(&self) -> String {
        format!(
            "openai-compat:{}@{}",
            self.config.model, self.config.base_url
        )
    }

    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>> {
        Box::pin(async move {
            let mut delay = self.config.backoff;
            let mut retries = 0;
            loop {
                let with_format =
                    request.schema.is_some() && self.json_schema_supported.load(Ordering::Relaxed);
                match self.attempt(request, with_format).await? {
                    Attempt::Done(response) => return Ok(response),
                    Attempt::SchemaRejected => {
                        self.json_schema_supported.store(false, Ordering::Relaxed);
                    }
                    Attempt::Retry(error, retry_after) => {
                        if retries == self.config.max_retries {
                            return Err(error);
                        }
                        retries += 1;
                        tokio::time::sleep(retry_after.unwrap_or(delay)).await;
                        delay *= 2;
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_bounded_seconds_or_nothing() {
        #[track_caller]
        fn check(header: &str, want: Option<f64>) {
            assert_eq!(
                retry_after(header),
                want.map(Duration::from_secs_f64),
                "{header:?}"
            );
        }
        check("2", Some(2.0));
        check(" 1.5 ", Some(1.5));
        check("120", Some(30.0));
        check("-4", Some(0.0));
        check("inf", None);
        // A server answering "NaN" once crashed the client (Duration::from_secs_f64 panics).
        check("NaN", None);
        check("Wed, 21 Oct 2015 07:28:00 GMT", None);
        check("", None);
    }

    #[test]
    fn completion_answers_are_read_or_refused_with_a_reason() {
        let ok = parse_completion(
            r#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#,
            "local",
        )
        .unwrap();
        assert_eq!((ok.text.as_str(), ok.model.as_str()), ("hi", "local"));
        for bad in [
            "",
            "not json",
            r#"{"choices":[]}"#,
            r#"{"choices":[{"message":{"content":null}}]}"#,
            r#"{"choices":[{"message":{}}],"model":7}"#,
        ] {
            assert!(
                matches!(parse_completion(bad, "m"), Err(LlmError::BadResponse(_))),
                "{bad:?}"
            );
        }
    }
}
