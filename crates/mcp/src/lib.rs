//! The check engine as a Model Context Protocol server, for assistants that call tools. The
//! transport is the caller's: `factually mcp` serves it on standard input and output, and
//! `factually serve --mcp` over streamable HTTP at `/mcp` (the web crate mounts it, as the
//! only crate that speaks HTTP). Protocol revision 2026-07-28 through rmcp 3.11, which also
//! speaks the earlier revisions a client asks for.
//!
//! Tools: `check` (the full report; each step of it is a progress notification when the
//! client sends a progress token, and a cancelled request stops the check), `check_document`
//! (the same for a whole text: its check-worthy claims, each checked; a document report), `verify` (one
//! claim: verdict and evidence), `search_knowledge_base` (ranked passages), `show_source`
//! (the stored text of a document, or the bytes a quote cites) and `match_fact_checks`
//! (published fact-checks of a claim, from `factually factchecks import`). Each result carries its JSON as
//! structured content, in the shape of `factually check --format json`
//! (docs/report.schema.json) and `verify --format json`, so a client can check every quote
//! against `show_source`; the text content is a short rendering for people. Bad input is a
//! tool error of kind `bad_input`; anything else that fails is a tool error of kind
//! `failure`, the classification the CLI's exit statuses make (2 and 1).
//!
//! Resources: with an [`Archive`] (the site's database under `serve`), each finished check's
//! report is the resource `factually://checks/<id>`, as JSON (the report schema) and Markdown.
//!
//! Why a crate of its own: the CLI (stdio) and the web site (HTTP) serve the same tools over
//! one [`CheckSession`], so what an assistant sees does not depend on how it connects.

use std::sync::Arc;

use factually_engine::{
    CancellationToken, CheckError, CheckRequest, CheckSession, DocumentRequest,
};
use factually_report::DocumentOrigin;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ListResourceTemplatesResult, ListResourcesResult,
    PaginatedRequestParams, ProgressNotificationParam, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, RequestMetaObject, Resource, ResourceContents,
    ResourceTemplate, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{schemars, tool, tool_handler, tool_router, ErrorData, Peer, RoleServer, ServerHandler};
use serde::Deserialize;
use tokio::sync::Semaphore;

/// The scheme and path of a stored report: `factually://checks/<id>`.
pub const CHECK_URI_PREFIX: &str = "factually://checks/";

/// How many finished checks `resources/list` names (the newest first).
const LISTED_CHECKS: u32 = 100;

/// A finished check in the archive.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedCheck {
    pub id: String,
    /// The question or claim as asked.
    pub input: String,
    /// The verdict label of its latest report.
    pub label: Option<String>,
    /// When its latest report was written (RFC 3339).
    pub checked_at: Option<String>,
}

/// Where stored reports come from (the site's database): what makes checks resources.
#[async_trait::async_trait]
pub trait Archive: Send + Sync {
    /// The newest finished checks, at most `limit`.
    async fn recent(&self, limit: u32) -> Result<Vec<ArchivedCheck>, String>;
    /// The latest report of a check, as stored (report JSON); `None` when there is none.
    async fn report(&self, id: &str) -> Result<Option<String>, String>;
}

/// The server: one check session shared by every request (the tools are routed by
/// `Self::tool_router()`, which `#[tool_router]` writes). Cheap to clone: the HTTP transport
/// makes one per connection.
#[derive(Clone)]
pub struct Factually {
    session: Arc<CheckSession>,
    archive: Option<Arc<dyn Archive>>,
    /// Bounds the checks and verifications running at once (each holds a core for seconds);
    /// more wait their turn.
    running: Arc<Semaphore>,
}

impl Factually {
    /// A server over `session` running at most `concurrent` checks at once (at least one).
    pub fn new(session: Arc<CheckSession>, concurrent: usize) -> Self {
        Self {
            session,
            archive: None,
            running: Arc::new(Semaphore::new(concurrent.max(1))),
        }
    }

    /// Also serves the archive's reports as resources.
    pub fn with_archive(mut self, archive: Arc<dyn Archive>) -> Self {
        self.archive = Some(archive);
        self
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct CheckParams {
    /// The question or claim to fact-check (at most 2,000 characters).
    input: String,
    /// The report's "Checked on" date, YYYY-MM-DD; today by default.
    checked_on: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct CheckDocumentParams {
    /// The text of an article, speech or transcript (plain text, at most 5 MB).
    text: String,
    /// Its title, shown at the top of the report ("Pasted text" by default).
    title: Option<String>,
    /// How many of its most check-worthy claims to check (1 to 50, default 5).
    max_claims: Option<usize>,
    /// The report's "Checked on" date, YYYY-MM-DD; today by default.
    checked_on: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct VerifyParams {
    /// One factual claim.
    claim: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SearchParams {
    /// What to search for.
    query: String,
    /// How many passages (1 to 100, default 5).
    k: Option<usize>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct MatchParams {
    /// The claim to look for.
    claim: String,
    /// How many fact-checks (1 to 100, default 5).
    k: Option<usize>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ShowSourceParams {
    /// The document id a report or search cites (16 hex digits).
    doc_id: String,
    /// The knowledge base it is in (a report's `sources[].kb`); the server's by default.
    kb: Option<String>,
    /// Byte offsets of a quote in the stored text (`evidence[].start` / `end`); the whole text
    /// without them.
    start: Option<usize>,
    end: Option<usize>,
}

/// A tool error a client can act on: `bad_input` (asking again the same way fails the same
/// way), `cancelled` or `failure`.
fn tool_error(kind: &str, message: String) -> CallToolResult {
    CallToolResult::structured_error(serde_json::json!({ "kind": kind, "message": message }))
}

fn check_error(e: CheckError) -> CallToolResult {
    let kind = if e.is_input() {
        "bad_input"
    } else if matches!(e, CheckError::Cancelled) {
        "cancelled"
    } else {
        "failure"
    };
    tool_error(kind, e.to_string())
}

fn structured(value: serde_json::Value, text: String) -> CallToolResult {
    let mut result = CallToolResult::structured(value);
    result.content = vec![ContentBlock::text(text)];
    result
}

/// The result of an engine call: its JSON as structured content and `text` of it for people,
/// or the tool error its failure is.
fn respond<T: serde::Serialize>(
    outcome: Result<T, CheckError>,
    text: impl FnOnce(&T) -> String,
) -> CallToolResult {
    match outcome {
        Ok(value) => match serde_json::to_value(&value) {
            Ok(json) => structured(json, text(&value)),
            Err(e) => tool_error("failure", e.to_string()),
        },
        Err(e) => check_error(e),
    }
}

/// Each step of a check (analysed, searching, checking n of m, writing) becomes a progress
/// notification when the client asked for them with a progress token: the steps sent on the
/// returned channel are forwarded by the returned task, which ends after the sender is dropped.
fn progress_notifications(
    meta: &RequestMetaObject,
    client: Peer<RoleServer>,
) -> (
    tokio::sync::mpsc::UnboundedSender<String>,
    Option<tokio::task::JoinHandle<()>>,
) {
    let (steps, mut step_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let forward = meta.get_progress_token().map(|token| {
        tokio::spawn(async move {
            let mut n = 0.0;
            while let Some(message) = step_rx.recv().await {
                n += 1.0;
                let note = ProgressNotificationParam::new(token.clone(), n).with_message(message);
                if client.notify_progress(note).await.is_err() {
                    break;
                }
            }
        })
    });
    (steps, forward)
}

/// The report date a request gives (today when it gives none), or the tool error a date that
/// is not `YYYY-MM-DD` is.
fn checked_on(given: Option<String>) -> Result<String, CallToolResult> {
    let date = given.unwrap_or_else(|| factually_engine::now_rfc3339()[..10].to_string());
    if valid_date(&date) {
        Ok(date)
    } else {
        Err(tool_error(
            "bad_input",
            format!("checked_on {date:?}: not a YYYY-MM-DD date"),
        ))
    }
}

impl Factually {
    /// Runs a check (or a document check) off the protocol's threads like [`Self::blocking`],
    /// each of its steps a progress notification when the client asked for them; `work` gets
    /// the session, the request's cancellation token and the progress callback.
    async fn with_progress<T: Send + 'static>(
        &self,
        meta: &RequestMetaObject,
        client: Peer<RoleServer>,
        cancel: &CancellationToken,
        work: impl FnOnce(
                &CheckSession,
                &CancellationToken,
                &dyn Fn(factually_report::Progress),
            ) -> Result<T, CheckError>
            + Send
            + 'static,
    ) -> Result<Result<T, CheckError>, ErrorData> {
        let (steps, forward) = progress_notifications(meta, client);
        let stop = cancel.clone();
        let outcome = self
            .blocking(cancel, move |s| {
                work(s, &stop, &|step| {
                    let _ = steps.send(step.message());
                })
            })
            .await?;
        if let Some(forward) = forward {
            // The sender is gone with the closure: the forwarder ends after the last step.
            let _ = forward.await;
        }
        Ok(outcome)
    }

    /// Runs blocking engine work off the protocol's threads, once a place among the running
    /// checks is free; a request cancelled while it waits never starts.
    async fn blocking<T: Send + 'static>(
        &self,
        cancel: &CancellationToken,
        work: impl FnOnce(&CheckSession) -> Result<T, CheckError> + Send + 'static,
    ) -> Result<Result<T, CheckError>, ErrorData> {
        let permit = tokio::select! {
            permit = self.running.clone().acquire_owned() => permit
                .map_err(|e| ErrorData::internal_error(format!("the server is stopping: {e}"), None))?,
            () = cancel.cancelled() => return Ok(Err(CheckError::Cancelled)),
        };
        let session = self.session.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(&session)
        })
        .await
        .map_err(|e| ErrorData::internal_error(format!("the check stopped: {e}"), None))
    }
}

#[tool_router]
impl Factually {
    #[tool(
        description = "Fact-check a question or claim: a dated report with a verdict, the claim's statements and hidden assumptions each checked, missing context, follow-up questions and numbered sources whose quotes are byte ranges of stored documents (see show_source)."
    )]
    async fn check(
        &self,
        Parameters(p): Parameters<CheckParams>,
        meta: RequestMetaObject,
        client: Peer<RoleServer>,
        cancel: CancellationToken,
    ) -> Result<CallToolResult, ErrorData> {
        let checked_on = match checked_on(p.checked_on) {
            Ok(date) => date,
            Err(refused) => return Ok(refused),
        };
        let outcome = self
            .with_progress(&meta, client, &cancel, move |s, stop, progress| {
                s.check(
                    &CheckRequest {
                        input: &p.input,
                        checked_on: &checked_on,
                        urls: &[],
                        cancel: Some(stop),
                    },
                    progress,
                )
            })
            .await?;
        Ok(respond(outcome, |report| {
            factually_report::render::to_text(report, false)
        }))
    }

    #[tool(
        description = "Fact-check a whole text (an article, a speech): its most check-worthy claims are found, each checked like `check` does, and one document report gives the text's claims with their byte spans in the text, a full report per claim, and an overall summary."
    )]
    async fn check_document(
        &self,
        Parameters(p): Parameters<CheckDocumentParams>,
        meta: RequestMetaObject,
        client: Peer<RoleServer>,
        cancel: CancellationToken,
    ) -> Result<CallToolResult, ErrorData> {
        let checked_on = match checked_on(p.checked_on) {
            Ok(date) => date,
            Err(refused) => return Ok(refused),
        };
        let outcome = self
            .with_progress(&meta, client, &cancel, move |s, stop, progress| {
                s.check_document(
                    &DocumentRequest {
                        text: &p.text,
                        title: p.title.as_deref().unwrap_or("Pasted text"),
                        origin: DocumentOrigin::Text,
                        url: None,
                        max_claims: p.max_claims.unwrap_or(5),
                        checked_on: &checked_on,
                        urls: &[],
                        cancel: Some(stop),
                    },
                    progress,
                )
            })
            .await?;
        Ok(respond(outcome, |report| {
            factually_report::render::document::to_text(report, false)
        }))
    }

    #[tool(
        description = "Check one factual claim against the knowledge base: verdict (supported, refuted, mixed, not_enough_evidence), confidence and the evidence sentences with their stance and byte offsets."
    )]
    async fn verify(
        &self,
        Parameters(p): Parameters<VerifyParams>,
        cancel: CancellationToken,
    ) -> Result<CallToolResult, ErrorData> {
        let outcome = self.blocking(&cancel, move |s| s.verify(&p.claim)).await?;
        Ok(respond(outcome, |v| {
            format!(
                "{:?} (confidence {:.2}); {} evidence sentences",
                v.verdict.label,
                v.verdict.confidence,
                v.evidence.len()
            )
        }))
    }

    #[tool(
        description = "Search the knowledge base: the best passages for a query, each with its document id, title, byte offsets and text."
    )]
    async fn search_knowledge_base(
        &self,
        Parameters(p): Parameters<SearchParams>,
        cancel: CancellationToken,
    ) -> Result<CallToolResult, ErrorData> {
        if p.query.trim().is_empty() {
            return Ok(tool_error("bad_input", "empty query".into()));
        }
        let k = p.k.unwrap_or(5);
        let outcome = self
            .blocking(&cancel, move |s| s.search(&p.query, k))
            .await?;
        Ok(match outcome {
            Ok(hits) => {
                let text = hits
                    .iter()
                    .map(|h| format!("{} [{}]: {}", h.title, h.doc_id, h.text))
                    .collect::<Vec<_>>()
                    .join("\n");
                structured(serde_json::json!({ "hits": hits }), text)
            }
            Err(e) => check_error(e),
        })
    }

    #[tool(
        description = "Published fact-checks of a claim (imported with `factually factchecks import`): the closest ones in retrieval order, each with the fact-checker, its rating, date, URL and similarity to the claim (0-1)."
    )]
    async fn match_fact_checks(
        &self,
        Parameters(p): Parameters<MatchParams>,
        cancel: CancellationToken,
    ) -> Result<CallToolResult, ErrorData> {
        let k = p.k.unwrap_or(5);
        let outcome = self
            .blocking(&cancel, move |s| s.match_fact_checks(&p.claim, k))
            .await?;
        Ok(match outcome {
            Ok(None) => structured(
                serde_json::json!({ "matches": [], "imported": false }),
                "No published fact-checks have been imported on this server (`factually factchecks import`).".into(),
            ),
            Ok(Some(matches)) => {
                let text = if matches.is_empty() {
                    "No published fact-check matches.".to_string()
                } else {
                    matches
                        .iter()
                        .map(|m| {
                            format!(
                                "{} ({}: {}{}){}",
                                m.claim,
                                m.publisher.as_deref().unwrap_or("unknown publisher"),
                                m.rating.as_deref().unwrap_or("no rating"),
                                m.published.as_deref().map(|d| format!(", {d}")).unwrap_or_default(),
                                m.url.as_deref().map(|u| format!(" {u}")).unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                structured(
                    serde_json::json!({ "matches": matches, "imported": true }),
                    text,
                )
            }
            Err(e) => check_error(e),
        })
    }

    #[tool(
        description = "The stored text of a document as it was when cited (byte for byte), or the bytes start..end of it: how a quote in a report is checked."
    )]
    async fn show_source(
        &self,
        Parameters(p): Parameters<ShowSourceParams>,
        cancel: CancellationToken,
    ) -> Result<CallToolResult, ErrorData> {
        let kb =
            p.kb.clone()
                .unwrap_or_else(|| self.session.kb_name().to_string());
        let (doc_id, kb_name) = (p.doc_id.clone(), kb.clone());
        let stored = match self
            .blocking(&cancel, move |s| Ok(s.stored_text(&kb_name, &doc_id)))
            .await?
        {
            Ok(stored) => stored,
            Err(e) => return Ok(check_error(e)),
        };
        let Some((title, text)) = stored else {
            return Ok(tool_error(
                "bad_input",
                format!("no document {} in knowledge base {kb}", p.doc_id),
            ));
        };
        let (start, end) = (p.start.unwrap_or(0), p.end.unwrap_or(text.len()));
        let Some(slice) = (start <= end).then(|| text.get(start..end)).flatten() else {
            return Ok(tool_error(
                "bad_input",
                format!(
                    "bytes {start}..{end} are not a range of the {}-byte text at character boundaries",
                    text.len()
                ),
            ));
        };
        Ok(structured(
            serde_json::json!({
                "doc_id": p.doc_id,
                "kb": kb,
                "title": title,
                "start": start,
                "end": end,
                "text": slice,
                "sha256": factually_core::sha256_hex(text.as_bytes()),
            }),
            slice.to_string(),
        ))
    }
}

fn valid_date(s: &str) -> bool {
    time::Date::parse(
        s,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .is_ok()
}

impl Factually {
    fn archive(&self) -> Result<&Arc<dyn Archive>, ErrorData> {
        self.archive
            .as_ref()
            .ok_or_else(ErrorData::method_not_found::<rmcp::model::ListResourcesRequestMethod>)
    }
}

/// The report resource's contents: the stored JSON as is, and the same report as Markdown.
fn report_contents(uri: &str, json: String) -> Result<Vec<ResourceContents>, ErrorData> {
    let report: factually_report::AnyReport = serde_json::from_str(&json).map_err(|e| {
        ErrorData::internal_error(format!("the stored report does not read: {e}"), None)
    })?;
    let markdown = match &report {
        factually_report::AnyReport::Check(r) => factually_report::render::to_markdown(r),
        factually_report::AnyReport::Document(d) => {
            factually_report::render::document::to_markdown(d)
        }
    };
    Ok(vec![
        ResourceContents::text(json, uri).with_mime_type("application/json"),
        ResourceContents::text(markdown, uri).with_mime_type("text/markdown"),
    ])
}

#[tool_handler]
impl ServerHandler for Factually {
    fn get_info(&self) -> ServerConfig {
        let capabilities = if self.archive.is_some() {
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build()
        } else {
            ServerCapabilities::builder().enable_tools().build()
        };
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("factually", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Fact-checking with grounded quotes. Use `check` for a question or claim (a full \
                 report), `verify` for one claim; every quote cites a document id and byte \
                 offsets that `show_source` returns verbatim.",
            )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let checks = self
            .archive()?
            .recent(LISTED_CHECKS)
            .await
            .map_err(|e| ErrorData::internal_error(e, None))?;
        Ok(ListResourcesResult::with_all_items(
            checks
                .into_iter()
                .map(|c| {
                    let about = match (&c.label, &c.checked_at) {
                        (Some(label), Some(at)) => format!("{label}, checked {at}"),
                        (Some(label), None) => label.clone(),
                        _ => "a fact-check report".to_string(),
                    };
                    Resource::new(format!("{CHECK_URI_PREFIX}{}", c.id), c.input)
                        .with_description(about)
                        .with_mime_type("application/json")
                })
                .collect(),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        self.archive()?;
        Ok(ListResourceTemplatesResult::with_all_items(
            vec![ResourceTemplate::new(
                format!("{CHECK_URI_PREFIX}{{id}}"),
                "check",
            )
            .with_description(
                "The latest report of a fact-check: JSON (docs/report.schema.json) and Markdown",
            )
            .with_mime_type("application/json")],
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let archive = self.archive()?;
        let uri = request.uri;
        let not_found = || {
            ErrorData::resource_not_found(
                format!("no report at {uri}"),
                Some(serde_json::json!({ "uri": uri })),
            )
        };
        let id = uri.strip_prefix(CHECK_URI_PREFIX).ok_or_else(not_found)?;
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(not_found());
        }
        let json = archive
            .report(id)
            .await
            .map_err(|e| ErrorData::internal_error(e, None))?
            .ok_or_else(not_found)?;
        Ok(ReadResourceResult::new(report_contents(&uri, json)?).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_report_reads_as_json_and_markdown() {
        let fixture = include_str!("../../web/tests/fixtures/great-wall.json");
        let contents = report_contents("factually://checks/abc", fixture.to_string()).unwrap();
        match &contents[1] {
            ResourceContents::TextResourceContents { text, .. } => {
                assert!(text.contains("Great Wall"), "{text}")
            }
            other => panic!("{other:?}"),
        }
        let mimes: Vec<_> = contents
            .iter()
            .map(|c| match c {
                ResourceContents::TextResourceContents { mime_type, .. } => mime_type.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(
            mimes,
            [
                Some("application/json".to_string()),
                Some("text/markdown".to_string())
            ]
        );
        assert!(report_contents("factually://checks/abc", "{".into()).is_err());
    }
}
