//! The OpenAI-compatible provider against a local server that speaks the real protocol:
//! scripted answers are replayed in order and every request body is recorded and asserted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use factually_llm::cache::CachedModel;
use factually_llm::openai::{OpenAiCompat, OpenAiConfig};
use factually_llm::{json_chat, ChatModel, ChatRequest, LlmError, Message};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

/// One scripted answer: status, optional Retry-After, body, delay before answering.
#[derive(Clone)]
struct Reply {
    status: u16,
    retry_after: Option<&'static str>,
    body: String,
    delay: Duration,
}

fn completion(content: &str) -> Reply {
    Reply {
        status: 200,
        retry_after: None,
        body: json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1764400000,
            "model": "test-model-2026",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27}
        })
        .to_string(),
        delay: Duration::ZERO,
    }
}

fn status(status: u16, body: &str) -> Reply {
    Reply {
        status,
        retry_after: None,
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

#[derive(Clone, Default)]
struct Script {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<Value>>>,
}

async fn answer(
    State(script): State<Script>,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut body = body;
    body["_authorization"] = json!(headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok()));
    script.requests.lock().unwrap().push(body);
    let reply = script
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| status(500, "script exhausted"));
    tokio::time::sleep(reply.delay).await;
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
    if let Some(after) = reply.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, after.parse().unwrap());
    }
    response
}

async fn server(replies: Vec<Reply>) -> (String, Script) {
    let script = Script::default();
    script.replies.lock().unwrap().extend(replies);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/v1/chat/completions", post(answer))
        .with_state(script.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}/v1"), script)
}

fn model(base: &str) -> OpenAiCompat {
    OpenAiCompat::new(OpenAiConfig {
        api_key: Some("sk-test".into()),
        timeout: Duration::from_secs(2),
        backoff: Duration::from_millis(10),
        ..OpenAiConfig::new(base, "test-model")
    })
    .unwrap()
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Verdict {
    label: String,
    quote: String,
}

fn ask() -> ChatRequest {
    ChatRequest::new(vec![
        Message::system("You check claims."),
        Message::user("Is the Eiffel Tower in Berlin?"),
    ])
}

#[tokio::test]
async fn structured_answers_send_the_schema_and_count_tokens() {
    let (base, script) = server(vec![completion(
        r#"{"label": "refuted", "quote": "in Paris"}"#,
    )])
    .await;
    let answer = json_chat::<Verdict>(&model(&base), ask(), "verdict")
        .await
        .unwrap();
    assert_eq!(
        answer.value,
        Verdict {
            label: "refuted".into(),
            quote: "in Paris".into()
        }
    );
    assert_eq!(
        (
            answer.usage.prompt_tokens,
            answer.usage.completion_tokens,
            answer.calls
        ),
        (20, 7, 1)
    );
    let sent = &script.requests.lock().unwrap()[0];
    assert_eq!(sent["model"], "test-model");
    assert_eq!(sent["_authorization"], "Bearer sk-test");
    assert_eq!(sent["temperature"], 0.0);
    assert_eq!(
        sent["messages"][1],
        json!({"role": "user", "content": "Is the Eiffel Tower in Berlin?"})
    );
    assert_eq!(sent["response_format"]["type"], "json_schema");
    assert_eq!(sent["response_format"]["json_schema"]["name"], "verdict");
    assert!(sent["response_format"]["json_schema"]["schema"]["properties"]["quote"].is_object());
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_with_backoff() {
    let mut limited = status(429, r#"{"error": {"message": "slow down"}}"#);
    limited.retry_after = Some("0");
    let (base, script) = server(vec![limited, status(503, "busy"), completion("fine")]).await;
    let answer = model(&base).chat(&ask()).await.unwrap();
    assert_eq!(answer.text, "fine");
    assert_eq!(script.requests.lock().unwrap().len(), 3);

    let (base, script) = server(vec![status(500, "down"); 6]).await;
    let err = model(&base).chat(&ask()).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Status { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(
        script.requests.lock().unwrap().len(),
        4,
        "one call and three retries"
    );
}

#[tokio::test]
async fn clear_errors_for_bad_keys_unknown_models_hangs_and_garbage() {
    let check = |reply: Reply| async move {
        let (base, _) = server(vec![reply]).await;
        let m = OpenAiCompat::new(OpenAiConfig {
            timeout: Duration::from_millis(500),
            max_retries: 0,
            ..OpenAiConfig::new(&base, "test-model")
        })
        .unwrap();
        m.chat(&ask()).await.unwrap_err()
    };
    assert_eq!(
        check(status(401, r#"{"error": "bad key"}"#)).await,
        LlmError::Unauthorized(401)
    );
    assert_eq!(
        check(status(
            404,
            r#"{"error": {"message": "model 'test-model' not found"}}"#
        ))
        .await,
        LlmError::UnknownModel("test-model".into())
    );
    let mut hang = completion("late");
    hang.delay = Duration::from_secs(5);
    assert!(matches!(check(hang).await, LlmError::Timeout(_)));
    assert!(matches!(
        check(status(200, "<html>not json</html>")).await,
        LlmError::BadResponse(_)
    ));
    assert!(matches!(
        check(status(200, r#"{"choices": []}"#)).await,
        LlmError::BadResponse(_)
    ));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = model(&format!("http://127.0.0.1:{port}/v1"));
    assert!(matches!(
        dead.chat(&ask()).await,
        Err(LlmError::Unreachable { .. })
    ));
}

#[tokio::test]
async fn prose_instead_of_json_gets_one_repair_round() {
    let (base, script) = server(vec![
        completion("The Eiffel Tower is in Paris, so the claim is false."),
        completion("```json\n{\"label\": \"refuted\", \"quote\": \"Paris\"}\n```"),
    ])
    .await;
    let answer = json_chat::<Verdict>(&model(&base), ask(), "verdict")
        .await
        .unwrap();
    assert_eq!(answer.calls, 2);
    assert_eq!(answer.usage.prompt_tokens, 40);
    let repair = script.requests.lock().unwrap()[1].clone();
    let messages = repair["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        4,
        "the bad answer and the correction are shown"
    );
    assert!(messages[3]["content"]
        .as_str()
        .unwrap()
        .contains("not valid"));

    let (base, _) = server(vec![completion("no"), completion(r#"{"label": 3}"#)]).await;
    let err = json_chat::<Verdict>(&model(&base), ask(), "verdict")
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::InvalidJson { usage, .. } if usage.prompt_tokens == 40),
        "the failed attempts' tokens are reported: {err:?}"
    );
}

#[tokio::test]
async fn servers_without_json_schema_get_the_schema_in_the_prompt() {
    let rejected = status(
        400,
        r#"{"error": {"message": "response_format json_schema is not supported"}}"#,
    );
    let (base, script) = server(vec![
        rejected,
        completion(r#"{"label": "refuted", "quote": "Paris"}"#),
        completion(r#"{"label": "supported", "quote": "Paris"}"#),
    ])
    .await;
    let m = model(&base);
    json_chat::<Verdict>(&m, ask(), "verdict").await.unwrap();
    json_chat::<Verdict>(&m, ask(), "verdict").await.unwrap();
    let requests = script.requests.lock().unwrap();
    assert_eq!(requests.len(), 3);
    assert!(requests[0].get("response_format").is_some());
    for later in &requests[1..] {
        assert!(
            later.get("response_format").is_none(),
            "not sent again once rejected"
        );
        let system = later["messages"][0]["content"].as_str().unwrap();
        assert!(system.starts_with("You check claims."));
        assert!(system.contains("JSON Schema") && system.contains("\"quote\""));
    }
}

#[tokio::test]
async fn identical_calls_are_answered_from_the_cache() {
    let (base, script) = server(vec![completion("first"), completion("second")]).await;
    let dir = tempfile::tempdir().unwrap();
    let cached = CachedModel::new(model(&base), dir.path());
    let a = cached.chat(&ask()).await.unwrap();
    let b = cached.chat(&ask()).await.unwrap();
    assert_eq!((a.text.as_str(), a.cached), ("first", false));
    assert_eq!((b.text.as_str(), b.cached), ("first", true));
    let mut other = ask();
    other.temperature = 0.7;
    assert_eq!(
        cached.chat(&other).await.unwrap().text,
        "second",
        "parameters are part of the key"
    );
    assert_eq!(script.requests.lock().unwrap().len(), 2);
}
