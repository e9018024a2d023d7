//! Server-rendered pages: home, the fact-check page (or its live progress), the archive and
//! topic pages, the method page, stored source copies, the Atom feed, the archive as a
//! ClaimReview feed and static files.
//!
//! Every template auto-escapes, so questions, source text and model output reach the page as
//! text. The only markup not from a template is the citation links of the report body, made
//! by `factually_report::render` after escaping.

use std::sync::{Arc, OnceLock};

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use factually_core::VerdictLabel;
use factually_report::render::{
    claim_review_of, html_context, verdict_title, REPORT_BODY_TEMPLATE,
};
use factually_report::{DocumentReport, Report};
use factually_store::{CheckRecord, CheckSummary, EventKind, Status};
use minijinja::{context, Environment, Value};
use serde::Deserialize;

use crate::api::{submit_input, valid_id};
use crate::guard::{check_csrf, client_ip, csrf_token, html, ApiError, Peer};
use crate::{donate, names, Site};

/// Stands for the visitor's CSRF token in cached pages; replaced on every response.
const CSRF_SLOT: &str = "__FACTUALLY_CSRF__";

pub fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/", get(home))
        .route("/checks", post(ask))
        .route("/fact-checks", get(archive))
        .route("/fact-checks/{topic}", get(topic_page))
        .route("/fact-checks/{topic}/{slug_id}", get(check_page))
        .route("/fact-checks/{id}/recheck", post(recheck))
        .route("/fact-checks/{id}/report-error", post(report_error))
        .route("/about", get(about))
        .route("/sources/{kb}/{doc_id}", get(stored_source))
        .route("/feed.atom", get(feed))
        .route("/fact-checks.json", get(claim_review_feed))
        .route("/static/site.css", get(css))
        .route("/static/app.js", get(js))
        .layer(axum::extract::DefaultBodyLimit::max(crate::guard::MAX_BODY))
        .merge(Router::new().route("/documents", post(ask_document)).layer(
            axum::extract::DefaultBodyLimit::max(crate::api::MAX_DOCUMENT_BODY),
        ))
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../templates/base.html")),
            ("ask_form.html", include_str!("../templates/ask_form.html")),
            (
                "check_list.html",
                include_str!("../templates/check_list.html"),
            ),
            ("home.html", include_str!("../templates/home.html")),
            ("check.html", include_str!("../templates/check.html")),
            ("document.html", include_str!("../templates/document.html")),
            ("pending.html", include_str!("../templates/pending.html")),
            ("failed.html", include_str!("../templates/failed.html")),
            ("archive.html", include_str!("../templates/archive.html")),
            ("about.html", include_str!("../templates/about.html")),
            ("error.html", include_str!("../templates/error.html")),
            ("source.html", include_str!("../templates/source.html")),
            (
                "admin_reports.html",
                include_str!("../templates/admin_reports.html"),
            ),
            ("feed.xml", include_str!("../templates/feed.xml")),
            ("report_body.html", REPORT_BODY_TEMPLATE),
        ] {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env
    })
}

pub(crate) fn render(name: &str, ctx: Value) -> String {
    environment()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .unwrap_or_else(|e| {
            tracing::error!("template {name}: {e:#}");
            "<!doctype html><title>Error</title><p>This page could not be rendered.</p>".into()
        })
}

/// A page with the visitor's CSRF token filled in (and its cookie set when new).
fn page(site: &Site, headers: &HeaderMap, status: StatusCode, body: &str) -> Response {
    let (token, cookie) = csrf_token(site, headers);
    let mut response = html(status, body.replace(CSRF_SLOT, &token));
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// An error page (no form on it needs a token).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let body = render(
        "error.html",
        context! { status => status.to_string(), message => message },
    );
    html(status, body)
}

fn label_title(label: &str) -> &'static str {
    if label == crate::worker::DOCUMENT_LABEL {
        return "Document check";
    }
    serde_json::from_value::<VerdictLabel>(serde_json::json!(label))
        .map(verdict_title)
        .unwrap_or("")
}

/// How much of an input a list shows: a document's text can be long.
const LISTED_INPUT_CHARS: usize = 200;

/// An input as a page shows it: a document's text cut to its first 200 characters.
fn shown_input(input: &str) -> String {
    match input.char_indices().nth(LISTED_INPUT_CHARS) {
        Some((cut, _)) => format!("{}…", &input[..cut]),
        None => input.to_string(),
    }
}

fn listed(c: &CheckSummary) -> Value {
    let input = shown_input(&c.input);
    context! {
        ..context! {
            path => names::check_path(&c.topic, &c.slug, &c.id),
            verdict_title => c.label.as_deref().map(label_title),
            input => input,
        },
        ..Value::from_serialize(c),
    }
}

async fn home(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    home_with(&site, &headers, StatusCode::OK, None, "").await
}

/// What the home page's forms show again after a refusal.
#[derive(Default)]
struct Refused<'a> {
    error: Option<String>,
    ask_value: &'a str,
    document_error: Option<String>,
    document_text: &'a str,
    document_url: &'a str,
}

async fn home_with(
    site: &Site,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<String>,
    ask_value: &str,
) -> Response {
    home_refused(
        site,
        headers,
        status,
        Refused {
            error,
            ask_value,
            ..Refused::default()
        },
    )
    .await
}

async fn home_refused(
    site: &Site,
    headers: &HeaderMap,
    status: StatusCode,
    refused: Refused<'_>,
) -> Response {
    let recent = site.store.recent(10).await.unwrap_or_default();
    let checks: Vec<Value> = recent.iter().map(listed).collect();
    let body = render(
        "home.html",
        context! {
            recent => !checks.is_empty(),
            checks => checks,
            banner => donate::banner(site).await,
            csrf => CSRF_SLOT,
            error => refused.error,
            ask_value => refused.ask_value,
            document_error => refused.document_error,
            document_text => refused.document_text,
            document_url => refused.document_url,
        },
    );
    page(site, headers, status, &body)
}

#[derive(Debug, Deserialize)]
struct AskForm {
    #[serde(default)]
    input: String,
    #[serde(default)]
    csrf: String,
}

/// The answer to a form post whose body is not a form of the expected fields.
fn unreadable_form() -> Response {
    error_page(StatusCode::BAD_REQUEST, "The form could not be read.")
}

/// An API error as a page.
fn error_response(e: ApiError) -> Response {
    error_page(e.status, &e.message)
}

/// Why a form post may not go on, as the error page that says so: a wrong CSRF token, or an
/// address over its submission rate; `None` when it may.
fn refuse_form(site: &Site, headers: &HeaderMap, peer: Peer, csrf: &str) -> Option<Response> {
    check_csrf(site, headers, csrf)
        .and_then(|()| site.limiter.admit(client_ip(site, headers, peer.0)))
        .err()
        .map(error_response)
}

async fn ask(
    State(site): State<Arc<Site>>,
    peer: Peer,
    headers: HeaderMap,
    form: Result<Form<AskForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return unreadable_form();
    };
    if let Some(refused) = refuse_form(&site, &headers, peer, &form.csrf) {
        return refused;
    }
    match submit_input(&site, &form.input, false).await {
        Ok((check, _)) => {
            Redirect::to(&names::check_path(&check.topic, &check.slug, &check.id)).into_response()
        }
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            let value: String = form.input.chars().take(2000).collect();
            home_with(
                &site,
                &headers,
                StatusCode::BAD_REQUEST,
                Some(e.message),
                &value,
            )
            .await
        }
        Err(e) => error_response(e),
    }
}

#[derive(Debug, Deserialize)]
struct DocumentForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    csrf: String,
}

/// The home page's article form: a pasted text or a page's address, checked as a document
/// (the same validation and queue as `POST /api/documents`).
async fn ask_document(
    State(site): State<Arc<Site>>,
    peer: Peer,
    headers: HeaderMap,
    form: Result<Form<DocumentForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return unreadable_form();
    };
    if let Some(refused) = refuse_form(&site, &headers, peer, &form.csrf) {
        return refused;
    }
    let given = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    let body = crate::api::DocumentBody {
        text: given(&form.text),
        url: given(&form.url),
        title: None,
        max_claims: None,
        recheck: false,
    };
    match crate::api::submit_document_body(&site, body).await {
        Ok((check, _)) => {
            Redirect::to(&names::check_path(&check.topic, &check.slug, &check.id)).into_response()
        }
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            home_refused(
                &site,
                &headers,
                StatusCode::BAD_REQUEST,
                Refused {
                    document_error: Some(e.message),
                    document_text: &form.text,
                    document_url: &form.url,
                    ..Refused::default()
                },
            )
            .await
        }
        Err(e) => error_response(e),
    }
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    reported: Option<u8>,
}

async fn check_page(
    State(site): State<Arc<Site>>,
    Path((topic, slug_id)): Path<(String, String)>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Some((slug, id)) = names::split_slug_id(&slug_id) else {
        return error_page(
            StatusCode::NOT_FOUND,
            "There is no fact-check at this address.",
        );
    };
    let reported = query.ok().and_then(|q| q.0.reported).is_some();
    // A finished page is served from memory without touching the database; the workers and
    // re-checks drop it whenever the check changes.
    if !reported {
        if let Some(html) = site.cached_page(&page_key(id, &topic, slug)) {
            return page(&site, &headers, StatusCode::OK, &html);
        }
    }
    let check = match site.store.check(id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return error_page(
                StatusCode::NOT_FOUND,
                "There is no fact-check at this address.",
            )
        }
        Err(e) => return error_response(e.into()),
    };
    if check.topic != topic || check.slug != slug {
        return Redirect::permanent(&names::check_path(&check.topic, &check.slug, &check.id))
            .into_response();
    }
    match check.status {
        Status::Done => done_page(&site, &headers, &check, reported).await,
        Status::Failed => {
            let body = render(
                "failed.html",
                context! { id => check.id, input => shown_input(&check.input), error => check.error, csrf => CSRF_SLOT, banner => donate::banner(&site).await },
            );
            page(&site, &headers, StatusCode::OK, &body)
        }
        // A re-check in progress still shows the last report.
        Status::Queued | Status::Running if check.run > 1 => {
            done_page(&site, &headers, &check, reported).await
        }
        Status::Queued | Status::Running => pending_page(&site, &headers, &check).await,
    }
}

async fn pending_page(site: &Site, headers: &HeaderMap, check: &CheckRecord) -> Response {
    let events = site
        .store
        .events_after(&check.id, 0)
        .await
        .unwrap_or_default();
    let messages: Vec<Value> = events
        .iter()
        .filter(|e| e.run == check.run && e.kind == EventKind::Progress)
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.data).ok())
        .map(|d| context! { message => d["message"].as_str().unwrap_or_default().to_string() })
        .collect();
    let body = render(
        "pending.html",
        context! {
            id => check.id,
            input => shown_input(&check.input),
            status => check.status.as_str(),
            events => messages,
            last_event_id => events.last().map(|e| e.id).unwrap_or(0),
            banner => donate::banner(site).await,
        },
    );
    page(site, headers, StatusCode::OK, &body)
}

/// The page cache's key for a check's page at its permanent path (it starts with the id, which
/// is what [`Site::forget_pages`] drops by).
fn page_key(id: &str, topic: &str, slug: &str) -> String {
    format!("{id}:{topic}/{slug}")
}

async fn done_page(
    site: &Site,
    headers: &HeaderMap,
    check: &CheckRecord,
    reported: bool,
) -> Response {
    let key = page_key(&check.id, &check.topic, &check.slug);
    let stored = match site.store.report(&check.id, None).await {
        Ok(Some(r)) => r,
        Ok(None) => return pending_page(site, headers, check).await,
        Err(e) => return error_response(e.into()),
    };
    if check.document.is_some() {
        return document_page(site, headers, check, &stored, reported, key).await;
    }
    let report: Report = match serde_json::from_str(&stored.json) {
        Ok(r) => r,
        Err(e) => return error_response(ApiError::internal(e)),
    };
    let changes = if stored.version > 1 {
        match site.store.report(&check.id, Some(stored.version - 1)).await {
            Ok(Some(prev)) => serde_json::from_str::<Report>(&prev.json)
                .map(|prev| what_changed(&prev, &report))
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let url = site.check_url(&check.topic, &check.slug, &check.id);
    let body = render(
        "check.html",
        context! {
            ..html_context(&report, Some(&url)),
            ..context! {
                id => check.id,
                url => url,
                version => stored.version,
                changes => changes,
                stale => is_stale(&report.checked_on, site.config.stale_days),
                stale_days => site.config.stale_days,
                reported => reported,
                csrf => CSRF_SLOT,
                ask_url => "/checks",
                stored_base => "/sources",
                banner => donate::banner(site).await,
            }
        },
    );
    let body: Arc<str> = body.into();
    if !reported {
        site.cache_page(key, body.clone());
    }
    page(site, headers, StatusCode::OK, &body)
}

/// The page of a finished document check: the document report's body (the text with its
/// claims marked, a short report per claim) in the site's layout.
async fn document_page(
    site: &Site,
    headers: &HeaderMap,
    check: &CheckRecord,
    stored: &factually_store::StoredReport,
    reported: bool,
    key: String,
) -> Response {
    let report: DocumentReport = match serde_json::from_str(&stored.json) {
        Ok(r) => r,
        Err(e) => return error_response(ApiError::internal(e)),
    };
    let url = site.check_url(&check.topic, &check.slug, &check.id);
    let claim_reviews: Vec<serde_json::Value> = report
        .claims
        .iter()
        .filter_map(|c| c.report.as_ref())
        .map(|r| factually_report::render::claim_review(r, Some(&url)))
        .collect();
    let body = render(
        "document.html",
        context! {
            title => report.document.title,
            body => Value::from_safe_string(factually_report::render::document::body_html(
                &report,
                Some("/sources"),
            )),
            claim_reviews => claim_reviews,
            id => check.id,
            url => url,
            version => stored.version,
            changes => stored.version > 1,
            reported => reported,
            csrf => CSRF_SLOT,
            banner => donate::banner(site).await,
        },
    );
    let body: Arc<str> = body.into();
    if !reported {
        site.cache_page(key, body.clone());
    }
    page(site, headers, StatusCode::OK, &body)
}

fn is_stale(checked_on: &str, days: u32) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(checked_on, &format)
        .is_ok_and(|d| (time::OffsetDateTime::now_utc().date() - d).whole_days() > i64::from(days))
}

/// What a re-check changed: the verdict, and sources that came or went.
pub fn what_changed(before: &Report, after: &Report) -> Vec<String> {
    let mut changes = Vec::new();
    if before.verdict.label != after.verdict.label {
        changes.push(format!(
            "The verdict changed from “{}” to “{}”.",
            verdict_title(before.verdict.label),
            verdict_title(after.verdict.label)
        ));
    } else if (before.verdict.confidence - after.verdict.confidence).abs() >= 0.05 {
        changes.push(format!(
            "The verdict is unchanged; its confidence went from {:.2} to {:.2}.",
            before.verdict.confidence, after.verdict.confidence
        ));
    }
    let titles = |r: &Report| {
        r.sources
            .iter()
            .map(|s| s.title.clone())
            .collect::<Vec<_>>()
    };
    let (old, new) = (titles(before), titles(after));
    for t in new.iter().filter(|t| !old.contains(t)) {
        changes.push(format!("New source: {t}."));
    }
    for t in old.iter().filter(|t| !new.contains(t)) {
        changes.push(format!("No longer cited: {t}."));
    }
    if changes.is_empty() {
        changes.push("Nothing: the same verdict from the same sources.".into());
    }
    changes
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn recheck(
    State(site): State<Arc<Site>>,
    Path(id): Path<String>,
    peer: Peer,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return unreadable_form();
    };
    let result = async {
        check_csrf(&site, &headers, &form.csrf)?;
        let id = valid_id(&id)?;
        site.limiter.admit(client_ip(&site, &headers, peer.0))?;
        let check = site.store.recheck(id).await?;
        site.forget_pages(Some(id));
        site.wake.ring();
        Ok::<_, ApiError>(check)
    }
    .await;
    match result {
        Ok(c) => Redirect::to(&names::check_path(&c.topic, &c.slug, &c.id)).into_response(),
        Err(e) => error_response(e),
    }
}

#[derive(Debug, Deserialize)]
struct ErrorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    message: String,
    /// The report version the page showed.
    #[serde(default)]
    version: Option<u32>,
}

async fn report_error(
    State(site): State<Arc<Site>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<ErrorForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return unreadable_form();
    };
    let result = async {
        check_csrf(&site, &headers, &form.csrf)?;
        let id = valid_id(&id)?;
        let message = form.message.trim();
        if message.is_empty() || message.chars().count() > 2000 {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_input",
                "describe the error in 1 to 2,000 characters",
            ));
        }
        site.store.report_error(id, form.version, message).await?;
        Ok(site.store.check(id).await?)
    }
    .await;
    match result {
        Ok(Some(c)) => Redirect::to(&format!(
            "{}?reported=1",
            names::check_path(&c.topic, &c.slug, &c.id)
        ))
        .into_response(),
        Ok(None) => error_page(StatusCode::NOT_FOUND, "There is no such check."),
        Err(e) => error_response(e),
    }
}

#[derive(Debug, Deserialize)]
struct ArchiveQuery {
    q: Option<String>,
}

async fn archive(
    State(site): State<Arc<Site>>,
    query: Result<Query<ArchiveQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let q: String = query
        .ok()
        .and_then(|q| q.0.q)
        .unwrap_or_default()
        .trim()
        .chars()
        .take(200)
        .collect();
    let found = if q.is_empty() {
        site.store.recent(50).await
    } else {
        site.store.search(&q, 50).await
    };
    let checks: Vec<Value> = found.unwrap_or_default().iter().map(listed).collect();
    let topics = site.store.topics(50).await.unwrap_or_default();
    let body = render(
        "archive.html",
        context! { q => q, checks => checks, topics => topics, banner => donate::banner(&site).await },
    );
    page(&site, &headers, StatusCode::OK, &body)
}

async fn topic_page(
    State(site): State<Arc<Site>>,
    Path(topic): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !names::is_name(&topic) {
        return error_page(StatusCode::NOT_FOUND, "There is no such topic.");
    }
    let checks: Vec<Value> = site
        .store
        .topic(&topic, 100)
        .await
        .unwrap_or_default()
        .iter()
        .map(listed)
        .collect();
    if checks.is_empty() {
        return error_page(StatusCode::NOT_FOUND, "There is no such topic.");
    }
    let body = render(
        "archive.html",
        context! { topic => topic, checks => checks, banner => donate::banner(&site).await },
    );
    page(&site, &headers, StatusCode::OK, &body)
}

async fn about(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    let body = render(
        "about.html",
        context! { banner => donate::banner(&site).await },
    );
    page(&site, &headers, StatusCode::OK, &body)
}

#[derive(Debug, Deserialize)]
struct QuoteQuery {
    start: Option<usize>,
    end: Option<usize>,
}

async fn stored_source(
    State(site): State<Arc<Site>>,
    Path((kb, doc_id)): Path<(String, String)>,
    query: Result<Query<QuoteQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let valid_doc = doc_id.len() == 16 && doc_id.bytes().all(|b| b.is_ascii_hexdigit());
    if !names::is_name(&kb) || !valid_doc {
        return error_page(StatusCode::NOT_FOUND, "There is no such stored source.");
    }
    // The copy stored with the report that cited it, whichever process wrote it; else this
    // process's own knowledge bases (sources cited before copies were kept in the database).
    let stored = match site.store.source_text(&kb, &doc_id).await {
        Ok(Some(d)) => Some((kb, doc_id, d)),
        _ => {
            let engine = site.engine.clone();
            tokio::task::spawn_blocking(move || {
                engine.stored_text(&kb, &doc_id).map(|d| (kb, doc_id, d))
            })
            .await
            .ok()
            .flatten()
        }
    };
    let Some((kb, doc_id, (title, text))) = stored else {
        return error_page(StatusCode::NOT_FOUND, "There is no such stored source.");
    };
    let (start, end) = query
        .ok()
        .map(|q| (q.start.unwrap_or(0), q.end.unwrap_or(0)))
        .filter(|(s, e)| {
            s < e && *e <= text.len() && text.is_char_boundary(*s) && text.is_char_boundary(*e)
        })
        .unwrap_or((0, 0));
    let body = render(
        "source.html",
        context! {
            title => title,
            kb => kb,
            doc_id => doc_id,
            sha256 => factually_core::sha256_hex(text.as_bytes()),
            start => start,
            end => end,
            before => &text[..start],
            quote => &text[start..end],
            after => &text[end..],
        },
    );
    html(StatusCode::OK, body)
}

async fn feed(State(site): State<Arc<Site>>) -> Response {
    let recent = site.store.recent(50).await.unwrap_or_default();
    let checks: Vec<Value> = recent
        .iter()
        .filter(|c| c.status == Status::Done)
        .map(|c| {
            context! {
                ..context! {
                    url => site.check_url(&c.topic, &c.slug, &c.id),
                    verdict_title => c.label.as_deref().map(label_title),
                    input => shown_input(&c.input),
                },
                ..Value::from_serialize(c),
            }
        })
        .collect();
    let updated = recent
        .iter()
        .filter_map(|c| c.checked_at.clone())
        .max()
        .unwrap_or_else(factually_store::now_rfc3339);
    let body = render(
        "feed.xml",
        context! { base_url => site.base_url, checks => checks, updated => updated },
    );
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// How many checks the ClaimReview feed lists, newest first.
const CLAIM_REVIEW_FEED_CHECKS: u32 = 5_000;
/// How many of them may be document checks whose stored reports are read for their claims.
const CLAIM_REVIEW_FEED_DOCUMENTS: usize = 500;

/// The archive as a schema.org DataFeed of ClaimReview (the shape Google Fact Check Tools
/// reads and `factually factchecks import --url` imports): every finished check of a claim,
/// newest first, dated the day the check finished (from the store's list), and the checked
/// claims of the newest document checks, each review as its page carries it.
async fn claim_review_feed(State(site): State<Arc<Site>>) -> Response {
    let recent = match site.store.recent(CLAIM_REVIEW_FEED_CHECKS).await {
        Ok(recent) => recent,
        Err(e) => {
            tracing::error!("claim review feed: {e}");
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The archive cannot be read now.",
            );
        }
    };
    let mut items = Vec::new();
    let mut documents = 0;
    for c in recent.iter().filter(|c| c.status == Status::Done) {
        let url = site.check_url(&c.topic, &c.slug, &c.id);
        let Some(checked_on) = c.checked_at.as_deref().and_then(|d| d.get(..10)) else {
            continue;
        };
        let reviews = if c.label.as_deref() == Some(crate::worker::DOCUMENT_LABEL) {
            if documents == CLAIM_REVIEW_FEED_DOCUMENTS {
                continue;
            }
            documents += 1;
            document_claim_reviews(&site, &c.id, &url).await
        } else {
            let label = c
                .label
                .as_deref()
                .and_then(|l| serde_json::from_value::<VerdictLabel>(serde_json::json!(l)).ok());
            match (label, c.rating) {
                (Some(label), Some(rating)) => {
                    vec![claim_review_of(
                        &c.input,
                        checked_on,
                        label,
                        rating,
                        Some(&url),
                    )]
                }
                _ => Vec::new(),
            }
        };
        items.extend(reviews.into_iter().map(|review| {
            serde_json::json!({
                "@type": "DataFeedItem",
                "dateCreated": checked_on,
                "item": review,
            })
        }));
    }
    let feed = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "url": format!("{}/fact-checks.json", site.base_url),
        "dateModified": recent.iter().filter_map(|c| c.checked_at.clone()).max(),
        "dataFeedElement": items,
    });
    (
        [(header::CONTENT_TYPE, "application/ld+json; charset=utf-8")],
        feed.to_string(),
    )
        .into_response()
}

/// The ClaimReview of each checked claim of a stored document report (none when the report
/// cannot be read: the feed goes on without it).
async fn document_claim_reviews(site: &Site, id: &str, url: &str) -> Vec<serde_json::Value> {
    let stored = match site.store.report(id, None).await {
        Ok(Some(stored)) => stored,
        Ok(None) => return Vec::new(),
        Err(e) => {
            tracing::warn!("claim review feed: document check {id}: {e}");
            return Vec::new();
        }
    };
    match serde_json::from_str::<DocumentReport>(&stored.json) {
        Ok(report) => report
            .claims
            .iter()
            .filter_map(|c| c.report.as_ref())
            .map(|r| factually_report::render::claim_review(r, Some(url)))
            .collect(),
        Err(e) => {
            tracing::warn!("claim review feed: document check {id}: {e}");
            Vec::new()
        }
    }
}

async fn css() -> Response {
    static_file(
        "text/css; charset=utf-8",
        include_str!("../static/site.css"),
    )
}

async fn js() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../static/app.js"),
    )
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
