//! `factually mcp`: the check engine as a Model Context Protocol server on standard input and
//! output, for assistants that call tools (protocol revision 2026-07-28 through rmcp 3.11,
//! which also speaks the earlier revisions a client asks for).
//!
//! Tools: `check` (the full report; each step of it is a progress notification when the
//! client sends a progress token), `verify` (one claim: verdict and evidence),
//! `search_knowledge_base` (ranked passages) and `show_source` (the stored text of a document,
//! or the bytes a quote cites). Each result carries its JSON as structured content, in the
//! shape of `factually check --format json` (docs/report.schema.json) and `verify --format
//! json`, so a client can check every quote against `show_source`; the text content is a short
//! rendering for people. Bad input is a tool error of kind `bad_input`; anything else that
//! fails is a tool error of kind `failure`, the classification the CLI's exit statuses make
//! (2 and 1). Standard output belongs to the protocol: progress and logs go to standard error.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use factually_engine::{CheckError, CheckRequest, CheckSession};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ProgressNotificationParam, RequestMetaObject,
    ServerCapabilities, ServerConfig,
};
use rmcp::{
    schemars, tool, tool_handler, tool_router, ErrorData, Peer, RoleServer, ServerHandler,
    ServiceExt,
};
use serde::Deserialize;

use crate::check_cmd::PipelineArgs;
use crate::runtime::Context;
use crate::CmdResult;

#[derive(Args, Debug)]
pub struct McpArgs {
    #[command(flatten)]
    pipeline: PipelineArgs,
}

pub fn run(ctx: &Context, args: McpArgs) -> CmdResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let session = args
        .pipeline
        .session(ctx, false, Some(runtime.handle().clone()))?;
    // The default knowledge base is built (once) before the first request, not during it.
    session.prepare()?;
    let server = Factually {
        session: Arc::new(session),
    };
    runtime.block_on(async {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| anyhow::anyhow!("starting the MCP server: {e}"))?;
        running
            .waiting()
            .await
            .map_err(|e| anyhow::anyhow!("the MCP server: {e}"))
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The server: one check session shared by every request (the tools are routed by
/// `Self::tool_router()`, which `#[tool_router]` writes).
#[derive(Clone)]
struct Factually {
    session: Arc<CheckSession>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct CheckParams {
    /// The question or claim to fact-check (at most 2,000 characters).
    input: String,
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
/// way) or `failure`.
fn tool_error(kind: &str, message: String) -> CallToolResult {
    CallToolResult::structured_error(serde_json::json!({ "kind": kind, "message": message }))
}

fn check_error(e: CheckError) -> CallToolResult {
    let kind = if e.is_input() { "bad_input" } else { "failure" };
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

impl Factually {
    /// Runs blocking engine work off the protocol's threads.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&CheckSession) -> T + Send + 'static,
    ) -> Result<T, ErrorData> {
        let session = self.session.clone();
        tokio::task::spawn_blocking(move || work(&session))
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
    ) -> Result<CallToolResult, ErrorData> {
        let today = factually_engine::now_rfc3339()[..10].to_string();
        let checked_on = p.checked_on.unwrap_or(today);
        if !valid_date(&checked_on) {
            return Ok(tool_error(
                "bad_input",
                format!("checked_on {checked_on:?}: not a YYYY-MM-DD date"),
            ));
        }
        // Each step of the check (analysed, searching, checking n of m, writing) becomes a
        // progress notification when the client asked for them with a progress token.
        let (steps, mut step_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let forward = meta.get_progress_token().map(|token| {
            tokio::spawn(async move {
                let mut n = 0.0;
                while let Some(message) = step_rx.recv().await {
                    n += 1.0;
                    let note =
                        ProgressNotificationParam::new(token.clone(), n).with_message(message);
                    if client.notify_progress(note).await.is_err() {
                        break;
                    }
                }
            })
        });
        let outcome = self
            .blocking(move |s| {
                s.check(
                    &CheckRequest {
                        input: &p.input,
                        checked_on: &checked_on,
                        urls: &[],
                    },
                    &|step| {
                        let _ = steps.send(step.message());
                    },
                )
            })
            .await?;
        if let Some(forward) = forward {
            // The sender is gone with the closure: the forwarder ends after the last step.
            let _ = forward.await;
        }
        Ok(respond(outcome, |report| {
            factually_report::render::to_text(report, false)
        }))
    }

    #[tool(
        description = "Check one factual claim against the knowledge base: verdict (supported, refuted, mixed, not_enough_evidence), confidence and the evidence sentences with their stance and byte offsets."
    )]
    async fn verify(
        &self,
        Parameters(p): Parameters<VerifyParams>,
    ) -> Result<CallToolResult, ErrorData> {
        let outcome = self.blocking(move |s| s.verify(&p.claim)).await?;
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
    ) -> Result<CallToolResult, ErrorData> {
        if p.query.trim().is_empty() {
            return Ok(tool_error("bad_input", "empty query".into()));
        }
        let k = p.k.unwrap_or(5);
        let outcome = self.blocking(move |s| s.search(&p.query, k)).await?;
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
        description = "The stored text of a document as it was when cited (byte for byte), or the bytes start..end of it: how a quote in a report is checked."
    )]
    async fn show_source(
        &self,
        Parameters(p): Parameters<ShowSourceParams>,
    ) -> Result<CallToolResult, ErrorData> {
        let kb =
            p.kb.clone()
                .unwrap_or_else(|| self.session.kb_name().to_string());
        let (doc_id, kb_name) = (p.doc_id.clone(), kb.clone());
        let stored = self
            .blocking(move |s| s.stored_text(&kb_name, &doc_id))
            .await?;
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

#[tool_handler]
impl ServerHandler for Factually {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("factually", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Fact-checking with grounded quotes. Use `check` for a question or claim (a full \
                 report), `verify` for one claim; every quote cites a document id and byte \
                 offsets that `show_source` returns verbatim.",
            )
    }
}
