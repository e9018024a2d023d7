//! The JSON API (`/api/...`), its OpenAPI document, and server-sent progress events.
//!
//! Contract (kept stable, see `shared/notes/interface.md`): `POST /api/checks {"input"}` answers
//! 202 with `{id, url}`; `GET /api/checks/{id}` gives `{id, status, url, report}`;
//! `GET /api/checks/{id}/events` streams progress; `GET /api/checks?q=` searches;
//! `GET /api/health`. Every error is a JSON body `{"error": {"code", "message"}}`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use factually_store::{CheckRecord, CheckSummary, EventKind, NewCheck, Status};
use futures::Stream;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::guard::{client_ip, rejection, ApiError, Peer};
use crate::{names, DocumentJob, Site};
use factually_report::DocumentOrigin;

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/api/checks", post(submit).get(list))
        .route("/api/checks/{id}", get(show))
        .route("/api/checks/{id}/events", get(events))
        .route("/api/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .layer(axum::extract::DefaultBodyLimit::max(crate::guard::MAX_BODY))
        // A document is longer than a question: its own, larger limit.
        .merge(
            Router::new()
                .route("/api/documents", post(submit_document))
                .layer(axum::extract::DefaultBodyLimit::max(MAX_DOCUMENT_BODY)),
        )
}

/// The largest `POST /api/documents` body: 1 MiB (a long article is 50 KB).
pub const MAX_DOCUMENT_BODY: usize = 1 << 20;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "factually",
        description = "Automated, grounded fact-checking. Reports are described by docs/report.schema.json."
    ),
    paths(submit, submit_document, show, list, events, health),
    components(schemas(
        SubmitBody,
        DocumentBody,
        SubmitAnswer,
        CheckAnswer,
        ListAnswer,
        ListedCheck,
        ErrorBody,
        ErrorDetail,
        StatusName
    ))
)]
pub struct ApiDoc;

/// `POST /api/documents`: exactly one of `text` and `url`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentBody {
    /// The document's text (an article, a speech, a transcript).
    pub text: Option<String>,
    /// A page to fetch and check instead.
    pub url: Option<String>,
    /// A title for a text ("Pasted text" when none); a page's is its own.
    pub title: Option<String>,
    /// How many of its most check-worthy claims to check (1 to 50, default 5).
    pub max_claims: Option<usize>,
    /// Check again even when the same document was checked recently.
    #[serde(default)]
    pub recheck: bool,
}

/// `POST /api/checks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// The question or claim (1-2,000 characters of English).
    pub input: String,
    /// Check again even when the same question was checked recently.
    #[serde(default)]
    pub recheck: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitAnswer {
    pub id: String,
    /// The permanent page of the check.
    pub url: String,
    pub status: StatusName,
    /// True when a recent check of the same question was returned instead of a new one.
    pub existing: bool,
}

/// Where a check is: `queued`, `running`, `done` or `failed`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusName {
    Queued,
    Running,
    Done,
    Failed,
}

impl From<Status> for StatusName {
    fn from(s: Status) -> Self {
        match s {
            Status::Queued => Self::Queued,
            Status::Running => Self::Running,
            Status::Done => Self::Done,
            Status::Failed => Self::Failed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckAnswer {
    pub id: String,
    pub status: StatusName,
    pub url: String,
    pub input: String,
    pub created_at: String,
    pub updated_at: String,
    /// The version of `report` (a re-check adds one); absent before the first report.
    pub version: Option<u32>,
    /// Why the check failed.
    pub error: Option<String>,
    /// The latest report, as `factually check --format json` prints it; null until done.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListAnswer {
    pub checks: Vec<ListedCheck>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListedCheck {
    pub id: String,
    pub url: String,
    pub input: String,
    pub topic: String,
    pub status: StatusName,
    pub created_at: String,
    /// The latest verdict (`supported`, `refuted`, `mixed`, `not_enough_evidence`).
    pub label: Option<String>,
    /// 1 (false) to 5 (true).
    pub rating: Option<u8>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    limit: Option<u32>,
}

/// Validates a question and queues its check (or finds the recent one); shared by the API
/// and the ask form. `recheck` queues a new run of a recent check instead of returning it.
pub async fn submit_input(
    site: &Site,
    input: &str,
    recheck: bool,
) -> Result<(CheckRecord, bool), ApiError> {
    let input = factually_analyze::validate_input(input)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_input", e.to_string()))?
        .trim()
        .to_string();
    let submitted = site
        .store
        .submit(NewCheck {
            input_key: names::input_key(&input),
            topic: names::topic(&input),
            slug: names::slug(&input),
            input,
            reuse_since: reuse_since_for(site),
            kb: site.engine.kb(),
            document: None,
        })
        .await?;
    finish_submission(site, submitted, recheck).await
}

/// Checks made since this time (RFC 3339) are reused for the same input.
fn reuse_since_for(site: &Site) -> Option<String> {
    let since =
        time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(site.config.reuse_days));
    since.replace_nanosecond(0).ok().and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
}

/// A submission's check, re-run when asked and recent, with the workers woken.
async fn finish_submission(
    site: &Site,
    submitted: factually_store::Submitted,
    recheck: bool,
) -> Result<(CheckRecord, bool), ApiError> {
    let mut check = submitted.check;
    if submitted.existing && recheck {
        check = site.store.recheck(&check.id).await?;
        site.forget_pages(Some(&check.id));
    }
    site.wake.ring();
    Ok((check, submitted.existing))
}

/// Queue a check.
#[utoipa::path(post, path = "/api/checks", request_body = SubmitBody,
    responses(
        (status = 202, description = "Queued (or a recent check of the same question)", body = SubmitAnswer),
        (status = 400, description = "Malformed JSON or an input that cannot be checked", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 429, description = "Too many submissions from this address", body = ErrorBody),
    ))]
async fn submit(
    State(site): State<Arc<Site>>,
    peer: Peer,
    headers: HeaderMap,
    body: Result<Json<SubmitBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| rejection(e.status(), e.body_text()))?;
    site.limiter.admit(client_ip(&site, &headers, peer.0))?;
    let (check, existing) = submit_input(&site, &body.input, body.recheck).await?;
    Ok(accepted(&site, check, existing))
}

/// The 202 answer to a submission: the check's id, page and status.
fn accepted(site: &Site, check: CheckRecord, existing: bool) -> Response {
    let answer = SubmitAnswer {
        url: site.check_url(&check.topic, &check.slug, &check.id),
        id: check.id,
        status: check.status.into(),
        existing,
    };
    (StatusCode::ACCEPTED, Json(answer)).into_response()
}

/// Validates a document and queues its check (or finds the recent one of the same text or
/// page); its report is a document report (`kind: "document"`), read like a check's.
pub async fn submit_document_body(
    site: &Site,
    body: DocumentBody,
) -> Result<(CheckRecord, bool), ApiError> {
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_input", message);
    let max_claims = body.max_claims.unwrap_or(5);
    if !(1..=factually_engine::MAX_CLAIMS).contains(&max_claims) {
        return Err(bad(format!(
            "max_claims must be between 1 and {}",
            factually_engine::MAX_CLAIMS
        )));
    }
    let (input, origin, label) = match (body.text, body.url) {
        (Some(text), None) => {
            if text.trim().is_empty() {
                return Err(bad("the document has no text".into()));
            }
            let title = body
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| "Pasted text".into());
            (text, DocumentOrigin::Text, title)
        }
        (None, Some(url)) => {
            let parsed = url::Url::parse(url.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| bad(format!("{url:?} is not an http(s) address")))?;
            let label = format!("{}{}", parsed.host_str().unwrap_or_default(), parsed.path());
            (parsed.to_string(), DocumentOrigin::Url, label)
        }
        _ => return Err(bad("give exactly one of `text` and `url`".into())),
    };
    let job = DocumentJob {
        origin,
        title: body.title.filter(|_| origin == DocumentOrigin::Text),
        max_claims,
    };
    let submitted = site
        .store
        .submit(NewCheck {
            input_key: format!(
                "document {max_claims} {}",
                factually_core::sha256_hex(input.as_bytes())
            ),
            topic: names::topic(&label),
            slug: names::slug(&label),
            input,
            reuse_since: reuse_since_for(site),
            kb: site.engine.kb(),
            document: Some(serde_json::to_string(&job).map_err(|e| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "failure", e.to_string())
            })?),
        })
        .await?;
    finish_submission(site, submitted, body.recheck).await
}

/// Queue a document check: the most check-worthy claims of a text or a page, each checked.
#[utoipa::path(post, path = "/api/documents", request_body = DocumentBody,
    responses(
        (status = 202, description = "Queued (or a recent check of the same document)", body = SubmitAnswer),
        (status = 400, description = "Malformed JSON, neither or both of text and url, an empty text", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 429, description = "Too many submissions from this address", body = ErrorBody),
    ))]
async fn submit_document(
    State(site): State<Arc<Site>>,
    peer: Peer,
    headers: HeaderMap,
    body: Result<Json<DocumentBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| rejection(e.status(), e.body_text()))?;
    site.limiter.admit(client_ip(&site, &headers, peer.0))?;
    let (check, existing) = submit_document_body(&site, body).await?;
    Ok(accepted(&site, check, existing))
}

/// A valid check id: six lower-case hex digits.
pub fn valid_id(id: &str) -> Result<&str, ApiError> {
    let ok = id.len() == 6 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    ok.then_some(id).ok_or_else(|| ApiError::not_found("check"))
}

/// A check, with its latest report once done.
#[utoipa::path(get, path = "/api/checks/{id}", params(("id" = String, Path, description = "Six hex digits")),
    responses((status = 200, body = CheckAnswer), (status = 404, body = ErrorBody)))]
async fn show(
    State(site): State<Arc<Site>>,
    Path(id): Path<String>,
) -> Result<Json<CheckAnswer>, ApiError> {
    let id = valid_id(&id)?;
    let check = site
        .store
        .check(id)
        .await?
        .ok_or_else(|| ApiError::not_found("check"))?;
    let stored = site.store.report(id, None).await?;
    let report = stored
        .as_ref()
        .map(|r| serde_json::from_str(&r.json))
        .transpose()
        .map_err(ApiError::internal)?;
    Ok(Json(CheckAnswer {
        url: site.check_url(&check.topic, &check.slug, &check.id),
        id: check.id,
        status: check.status.into(),
        input: check.input,
        created_at: check.created_at,
        updated_at: check.updated_at,
        version: stored.map(|r| r.version),
        error: check.error,
        report,
    }))
}

fn listed(site: &Site, c: CheckSummary) -> ListedCheck {
    ListedCheck {
        url: site.check_url(&c.topic, &c.slug, &c.id),
        id: c.id,
        input: c.input,
        topic: c.topic,
        status: c.status.into(),
        created_at: c.created_at,
        label: c.label,
        rating: c.rating,
    }
}

/// Search past checks (`q`), or the newest without it.
#[utoipa::path(get, path = "/api/checks",
    params(("q" = Option<String>, Query, description = "Words to find in questions and summaries"),
           ("limit" = Option<u32>, Query, description = "At most this many (default 20, at most 100)")),
    responses((status = 200, body = ListAnswer)))]
async fn list(
    State(site): State<Arc<Site>>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ListAnswer>, ApiError> {
    let Query(query) = query.map_err(|e| rejection(StatusCode::BAD_REQUEST, e.body_text()))?;
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let found = match query.q.as_deref().map(str::trim) {
        Some(q) if !q.is_empty() => site.store.search(q, limit).await?,
        _ => site.store.recent(limit).await?,
    };
    Ok(Json(ListAnswer {
        checks: found.into_iter().map(|c| listed(&site, c)).collect(),
    }))
}

/// Health: the database answers, and the engine can run checks (its knowledge base opens,
/// its models are loaded). 503 with the failing part named otherwise.
#[utoipa::path(get, path = "/api/health", responses(
    (status = 200, description = "`{\"status\": \"ok\", \"store\": \"ok\", \"engine\": \"ok\"}`"),
    (status = 503, description = "`status` is `unavailable`; `store` or `engine` holds the error")))]
async fn health(State(site): State<Arc<Site>>) -> Response {
    let store = match site.store.status_counts().await {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string(),
    };
    let engine = site.engine.clone();
    let engine = tokio::task::spawn_blocking(move || engine.health())
        .await
        .unwrap_or_else(|_| Err("the health check crashed".into()))
        .map_or_else(|e| e, |()| "ok".to_string());
    let ok = store == "ok" && engine == "ok";
    let body = Json(serde_json::json!({
        "status": if ok { "ok" } else { "unavailable" },
        "version": env!("CARGO_PKG_VERSION"),
        "store": store,
        "engine": engine,
    }));
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body).into_response()
}

/// `GET /metrics`: Prometheus' text format (see [`crate::metrics`]).
async fn metrics(State(site): State<Arc<Site>>) -> Result<Response, ApiError> {
    let queue = site.store.status_counts().await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        site.metrics.render(&queue),
    )
        .into_response())
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// `?last_event_id=N`: where to resume when the client cannot send the `Last-Event-ID` header
/// (a browser's first `EventSource` request).
#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    last_event_id: Option<i64>,
}

/// Where an SSE stream is.
struct Cursor {
    site: Arc<Site>,
    id: String,
    after: i64,
    pending: std::collections::VecDeque<factually_store::Event>,
    updates: tokio::sync::broadcast::Receiver<String>,
    finished: bool,
}

/// Progress of a check as server-sent events: every stored event after `Last-Event-ID`, then
/// new ones as they happen, until the current run is `done` or `failed`. Event names:
/// `progress` (data: `{step, message, ...}`), `retrying`, `done`, `failed`.
#[utoipa::path(get, path = "/api/checks/{id}/events", params(("id" = String, Path),
    ("last_event_id" = Option<i64>, Query, description = "Resume after this event (also the Last-Event-ID header)")),
    responses((status = 200, description = "text/event-stream"), (status = 404, body = ErrorBody)))]
async fn events(
    State(site): State<Arc<Site>>,
    Path(id): Path<String>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let id = valid_id(&id)?.to_string();
    site.store
        .check(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("check"))?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or(query.ok().and_then(|q| q.0.last_event_id))
        .unwrap_or(0);
    let cursor = Cursor {
        updates: site.events.subscribe(),
        site,
        id,
        after,
        pending: Default::default(),
        finished: false,
    };
    let stream = futures::stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(e) = c.pending.pop_front() {
                c.after = e.id;
                if matches!(e.kind, EventKind::Done | EventKind::Failed) {
                    let current = c.site.store.check(&c.id).await.ok().flatten();
                    c.finished = current.is_none_or(|check| check.run == e.run);
                }
                let event = SseEvent::default()
                    .id(e.id.to_string())
                    .event(e.kind.as_str())
                    .data(e.data);
                return Some((Ok(event), c));
            }
            if c.finished {
                return None;
            }
            match c.site.store.events_after(&c.id, c.after).await {
                Ok(events) if !events.is_empty() => {
                    c.pending.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(_) => return None,
            }
            // Nothing new: a check that ended without a terminal event of its run (it was
            // finished before events existed) ends the stream; otherwise wait for news.
            match c.site.store.check(&c.id).await {
                Ok(Some(check)) if matches!(check.status, Status::Queued | Status::Running) => {}
                _ => return None,
            }
            // Events stored by workers in other processes arrive by the next poll.
            let _ = tokio::time::timeout(Duration::from_secs(1), c.updates.recv()).await;
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
