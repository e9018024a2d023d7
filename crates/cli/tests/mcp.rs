//! `factually mcp` end to end: rmcp's own client spawns the binary over stdio, against a
//! knowledge base of the report fixtures, and uses every tool the way an assistant would.

use std::path::Path;

use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use rmcp::ServiceExt;
use serde_json::{json, Value};

/// `factually mcp` over a knowledge base of the report fixtures in `data`, ready to spawn.
fn fixture_server(data: &Path) -> TokioChildProcess {
    let articles = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-kb");
    let added = std::process::Command::new(env!("CARGO_BIN_EXE_factually"))
        .arg("--data-dir")
        .arg(data)
        .args(["kb", "add", "--kb", "fixture"])
        .arg(&articles)
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_factually"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(["mcp", "--kb", "fixture"])
        .env_remove("FACTUALLY_CONFIG");
    TokioChildProcess::new(command).unwrap()
}

fn call(name: &'static str, arguments: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(name).with_arguments(arguments.as_object().unwrap().clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assistant_lists_and_calls_every_tool_over_stdio() {
    let data = tempfile::tempdir().unwrap();
    let client = ().serve(fixture_server(data.path())).await.unwrap();
    let info = client.peer_info().expect("the server introduced itself");
    assert_eq!(info.server_info.as_ref().unwrap().name, "factually");

    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["check", "search_knowledge_base", "show_source", "verify"]
    );

    // The report as structured content (the shape of `check --format json`), and every quote
    // in it is the stored bytes `show_source` returns.
    let checked = client
        .call_tool(call(
            "check",
            json!({ "input": "The Eiffel Tower is located in Berlin.", "checked_on": "2026-12-06" }),
        ))
        .await
        .unwrap();
    assert_ne!(checked.is_error, Some(true), "{checked:?}");
    let report = checked.structured_content.unwrap();
    assert_eq!(report["verdict"]["label"], "refuted", "{report:#}");
    assert_eq!(report["checked_on"], "2026-12-06");
    let mut quotes = 0;
    for source in report["sources"].as_array().unwrap() {
        for evidence in source["evidence"].as_array().unwrap() {
            let shown = client
                .call_tool(call(
                    "show_source",
                    json!({
                        "doc_id": source["doc_id"], "kb": source["kb"],
                        "start": evidence["start"], "end": evidence["end"],
                    }),
                ))
                .await
                .unwrap();
            assert_eq!(shown.structured_content.unwrap()["text"], evidence["quote"]);
            quotes += 1;
        }
    }
    assert!(quotes > 0, "{report:#}");

    let verified = client
        .call_tool(call(
            "verify",
            json!({ "claim": "The Eiffel Tower is in Paris." }),
        ))
        .await
        .unwrap();
    assert_eq!(
        verified.structured_content.unwrap()["verdict"]["label"],
        "supported"
    );
    let found = client
        .call_tool(call(
            "search_knowledge_base",
            json!({ "query": "Eiffel Tower", "k": 2 }),
        ))
        .await
        .unwrap();
    let hits = found.structured_content.unwrap()["hits"].clone();
    assert!(
        hits[0]["title"].as_str().unwrap().contains("Eiffel"),
        "{hits:#}"
    );

    // Bad input is a tool error of kind bad_input, a failure of kind failure; neither stops
    // the server.
    for (name, arguments, kind) in [
        ("check", json!({ "input": "   " }), "bad_input"),
        (
            "check",
            json!({ "input": "x", "checked_on": "yesterday" }),
            "bad_input",
        ),
        ("verify", json!({ "claim": "" }), "bad_input"),
        (
            "show_source",
            json!({ "doc_id": "0000000000000000" }),
            "bad_input",
        ),
        (
            "show_source",
            json!({ "doc_id": hits[0]["doc_id"], "start": 5, "end": 2 }),
            "bad_input",
        ),
    ] {
        let result = client
            .call_tool(call(name, arguments.clone()))
            .await
            .unwrap();
        assert_eq!(result.is_error, Some(true), "{name} {arguments}");
        assert_eq!(
            result.structured_content.unwrap()["kind"],
            kind,
            "{name} {arguments}"
        );
    }
    // An unknown tool is a JSON-RPC error; arguments of the wrong type are refused (as a
    // tool error, which is how revision 2026-07-28 reports invalid input).
    assert!(client
        .call_tool(call("delete_everything", json!({})))
        .await
        .is_err());
    let refused = client
        .call_tool(call("verify", json!({ "claim": 5 })))
        .await;
    assert!(
        refused.as_ref().map_or(true, |r| r.is_error == Some(true)),
        "{refused:?}"
    );
    // Still serving.
    let again = client
        .call_tool(call(
            "verify",
            json!({ "claim": "The Eiffel Tower is in Berlin." }),
        ))
        .await
        .unwrap();
    assert_eq!(
        again.structured_content.unwrap()["verdict"]["label"],
        "refuted"
    );
    client.cancel().await.unwrap();
}

/// A client that keeps the progress notifications it receives.
#[derive(Clone, Default)]
struct Watching {
    steps: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl rmcp::ClientHandler for Watching {
    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<rmcp::RoleClient>,
    ) {
        self.steps
            .lock()
            .unwrap()
            .push(params.message.unwrap_or_default());
    }
}

/// Each step of a check reaches a client that sends a progress token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_reports_its_progress() {
    let data = tempfile::tempdir().unwrap();
    let watching = Watching::default();
    let client = watching
        .clone()
        .serve(fixture_server(data.path()))
        .await
        .unwrap();
    let handle = client
        .send_cancellable_request(
            rmcp::model::ClientRequest::CallToolRequest(rmcp::model::Request::new(call(
                "check",
                json!({ "input": "Is the Eiffel Tower in Berlin?" }),
            ))),
            rmcp::service::PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let response = handle.await_response().await.unwrap();
    assert!(matches!(
        response,
        rmcp::model::ServerResult::CallToolResult(_)
    ));
    // The notifications are sent before the result; give the client's handler a moment.
    let seen = |steps: &[String]| {
        steps.iter().any(|s| s.starts_with("Analysed"))
            && steps.iter().any(|s| s.starts_with("Checking 1 of"))
    };
    for _ in 0..50 {
        if seen(&watching.steps.lock().unwrap()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let steps = watching.steps.lock().unwrap().clone();
    assert!(seen(&steps), "{steps:?}");
    client.cancel().await.unwrap();
}
