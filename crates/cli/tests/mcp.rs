//! `factually mcp` and `factually serve --mcp` end to end: rmcp's own client spawns the binary
//! over stdio, or speaks streamable HTTP to a running site, against a knowledge base of the
//! report fixtures, and uses every tool (and, under `serve`, the reports as resources) the way
//! an assistant would.

mod common;

use std::path::Path;
use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use rmcp::ServiceExt;
use serde_json::{json, Value};

/// `factually mcp` over a knowledge base of the report fixtures in `data`, ready to spawn.
fn fixture_server(data: &Path) -> TokioChildProcess {
    fixture_server_with(data, &[])
}

/// The knowledge base `fixture` of the report fixtures, in `data`.
fn fixture_kb(data: &Path) {
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
}

/// `factually mcp` over the fixture knowledge base (made first) in `data`, with `extra`
/// arguments, without the settings of the environment it runs in.
fn mcp_command(data: &Path, extra: &[&str]) -> std::process::Command {
    fixture_kb(data);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_factually"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(["mcp", "--kb", "fixture"])
        .args(extra)
        .env_remove("FACTUALLY_CONFIG")
        .env_remove("FACTUALLY_LLM_URL")
        .env_remove("FACTUALLY_LLM_MODEL");
    command
}

/// [`fixture_server`] with more arguments for `factually mcp`.
fn fixture_server_with(data: &Path, extra: &[&str]) -> TokioChildProcess {
    TokioChildProcess::new(tokio::process::Command::from(mcp_command(data, extra))).unwrap()
}

fn call(name: &'static str, arguments: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(name).with_arguments(arguments.as_object().unwrap().clone())
}

/// Starts a `check` of `input` whose request can be cancelled, or awaited.
async fn start_check(
    peer: &rmcp::Peer<rmcp::RoleClient>,
    input: &str,
) -> rmcp::service::RequestHandle<rmcp::RoleClient> {
    peer.send_cancellable_request(
        rmcp::model::ClientRequest::CallToolRequest(rmcp::model::Request::new(call(
            "check",
            json!({ "input": input }),
        ))),
        rmcp::service::PeerRequestOptions::no_options(),
    )
    .await
    .unwrap()
}

/// The server lists exactly factually's five tools.
async fn assert_every_tool_listed(peer: &rmcp::Peer<rmcp::RoleClient>) {
    let mut names: Vec<String> = peer
        .list_all_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "check",
            "check_document",
            "match_fact_checks",
            "search_knowledge_base",
            "show_source",
            "verify"
        ]
    );
}

/// The verdict label `verify` gives `claim`.
async fn verify_label(peer: &rmcp::Peer<rmcp::RoleClient>, claim: &str) -> Value {
    let verified = peer
        .call_tool(call("verify", json!({ "claim": claim })))
        .await
        .unwrap();
    verified.structured_content.unwrap()["verdict"]["label"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assistant_lists_and_calls_every_tool_over_stdio() {
    let data = tempfile::tempdir().unwrap();
    let client = ().serve(fixture_server(data.path())).await.unwrap();
    let info = client.peer_info().expect("the server introduced itself");
    assert_eq!(info.server_info.as_ref().unwrap().name, "factually");

    assert_every_tool_listed(&client).await;

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

    // A whole text: its claims found, each checked, with spans into the text.
    let text = "Our readers keep asking about landmarks. The Eiffel Tower is a wrought-iron lattice tower in Berlin, Germany. Thank you for reading!";
    let document = client
        .call_tool(call(
            "check_document",
            json!({ "text": text, "title": "Letters", "max_claims": 2 }),
        ))
        .await
        .unwrap();
    assert_ne!(document.is_error, Some(true), "{document:?}");
    let document = document.structured_content.unwrap();
    assert_eq!(document["kind"], "document", "{document:#}");
    assert_eq!(document["document"]["title"], "Letters");
    let eiffel = document["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["sentence"] == "The Eiffel Tower is a wrought-iron lattice tower in Berlin, Germany."
        })
        .expect("the claim is found");
    let (start, end) = (
        eiffel["start"].as_u64().unwrap() as usize,
        eiffel["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(
        &text[start..end],
        "The Eiffel Tower is a wrought-iron lattice tower in Berlin, Germany."
    );
    assert_eq!(eiffel["report"]["input"], eiffel["claim"], "{eiffel:#}");
    assert!(
        eiffel["report"]["sources"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "the stored Eiffel page is cited: {eiffel:#}"
    );

    assert_eq!(
        verify_label(&client, "The Eiffel Tower is in Paris.").await,
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

    // Published fact-checks: none before an import, then the imported ones.
    let match_5g = || {
        client.call_tool(call(
            "match_fact_checks",
            json!({ "claim": "Do 5G towers spread the coronavirus?", "k": 2 }),
        ))
    };
    let none = match_5g().await.unwrap().structured_content.unwrap();
    assert_eq!(none["imported"], false, "{none}");
    let feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/factchecks/feed.json");
    let imported = std::process::Command::new(env!("CARGO_BIN_EXE_factually"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["factchecks", "import"])
        .arg(&feed)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");
    let found = match_5g().await.unwrap().structured_content.unwrap();
    assert_eq!(found["imported"], true, "{found}");
    assert_eq!(found["matches"][0]["publisher"], "Full Fact", "{found}");
    assert_eq!(found["matches"].as_array().unwrap().len(), 2);

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
        ("check_document", json!({ "text": "  " }), "bad_input"),
        (
            "check_document",
            json!({ "text": "Taxes rose by 4% in 2020.", "max_claims": 0 }),
            "bad_input",
        ),
        ("match_fact_checks", json!({ "claim": " " }), "bad_input"),
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
    assert_eq!(
        verify_label(&client, "The Eiffel Tower is in Berlin.").await,
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
    let handle = start_check(&client, "Is the Eiffel Tower in Berlin?").await;
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

/// A language-model server that never answers: it accepts each request and holds it until
/// the caller gives up, then reports that the connection was dropped. Returns its `/v1` URL
/// and the channels that hear of each request and each abandoned one.
async fn model_that_never_answers() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<()>,
    tokio::sync::mpsc::UnboundedReceiver<()>,
) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let (asked, asked_rx) = tokio::sync::mpsc::unbounded_channel();
    let (dropped, dropped_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (asked, dropped) = (asked.clone(), dropped.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut heard = false;
                loop {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) if !heard => {
                            heard = true;
                            let _ = asked.send(());
                        }
                        Ok(_) => {}
                    }
                }
                if heard {
                    let _ = dropped.send(());
                }
            });
        }
    });
    (url, asked_rx, dropped_rx)
}

/// A cancelled `check` stops: the language-model request it was waiting on is abandoned at
/// once, and the server goes on answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_check_stops_and_the_server_goes_on() {
    let data = tempfile::tempdir().unwrap();
    let (llm_url, mut asked, mut dropped) = model_that_never_answers().await;
    let server = fixture_server_with(
        data.path(),
        &[
            "--llm",
            "openai-compat",
            "--llm-url",
            &llm_url,
            "--llm-model",
            "silent",
        ],
    );
    let client = ().serve(server).await.unwrap();
    let handle = start_check(&client, "Is the Eiffel Tower in Berlin?").await;
    // The check reached the model (after the knowledge base was searched and every statement
    // verified) and waits on it.
    tokio::time::timeout(Duration::from_secs(120), asked.recv())
        .await
        .expect("the check asks the language model")
        .unwrap();
    handle
        .cancel(Some("the user changed their mind".into()))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), dropped.recv())
        .await
        .expect("cancelling the check abandons its language-model request within seconds")
        .unwrap();
    // Still serving, with a free place for the next call.
    let verified = tokio::time::timeout(
        Duration::from_secs(60),
        verify_label(&client, "The Eiffel Tower is in Paris."),
    )
    .await
    .expect("the server answers after a cancelled check");
    assert_eq!(verified, "supported");
    client.cancel().await.unwrap();
}

/// `serve --mcp`: the same tools over streamable HTTP at /mcp, and each finished check of the
/// site a resource.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_serves_mcp_over_http_with_its_checks_as_resources() {
    use rmcp::model::{ReadResourceRequestParams, ResourceContents};
    use rmcp::transport::StreamableHttpClientTransport;

    let data = common::data_dir_with_facts();
    let server = tokio::task::spawn_blocking({
        let data = data.path().to_path_buf();
        move || common::Server::start_with(&data, 1, &["--mcp"])
    })
    .await
    .unwrap();
    let base = server.base_url();
    let submitted = reqwest::Client::new()
        .post(format!("{base}/api/checks"))
        .json(&json!({ "input": common::QUESTIONS[3] }))
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 202);
    let id = submitted.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let document = reqwest::Client::new()
        .post(format!("{base}/api/documents"))
        .json(&json!({ "text": "The measles vaccine causes autism in young children. Thank you for reading!", "title": "Letters" }))
        .send()
        .await
        .unwrap();
    assert_eq!(document.status(), 202);
    let document_id = document.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    for id in [&id, &document_id] {
        loop {
            let check: Value = reqwest::get(format!("{base}/api/checks/{id}"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if check["status"] == "done" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline && check["status"] != "failed",
                "{check}\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    let client = ()
        .serve(StreamableHttpClientTransport::from_uri(format!(
            "{base}/mcp"
        )))
        .await
        .unwrap();
    assert_every_tool_listed(&client).await;
    assert_eq!(
        verify_label(&client, "The Eiffel Tower is in Berlin.").await,
        "refuted"
    );

    let uri = format!("factually://checks/{id}");
    let resources = client.list_all_resources().await.unwrap();
    let listed = resources
        .iter()
        .find(|r| r.uri == uri)
        .unwrap_or_else(|| panic!("{uri} among {resources:?}"));
    assert_eq!(listed.name, common::QUESTIONS[3]);
    let read = client
        .read_resource(ReadResourceRequestParams::new(uri.clone()))
        .await
        .unwrap();
    let texts: Vec<(Option<String>, String)> = read
        .contents
        .iter()
        .map(|c| match c {
            ResourceContents::TextResourceContents {
                mime_type, text, ..
            } => (mime_type.clone(), text.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts[0].0.as_deref(), Some("application/json"));
    let report: Value = serde_json::from_str(&texts[0].1).unwrap();
    assert_eq!(report["input"], common::QUESTIONS[3]);
    assert_eq!(texts[1].0.as_deref(), Some("text/markdown"));
    assert!(texts[1].1.contains("Eiffel"), "{}", texts[1].1);
    // A document check is a resource too: its document report, and the same as Markdown.
    let read = client
        .read_resource(ReadResourceRequestParams::new(format!(
            "factually://checks/{document_id}"
        )))
        .await
        .unwrap();
    let texts: Vec<String> = read
        .contents
        .iter()
        .map(|c| match c {
            ResourceContents::TextResourceContents { text, .. } => text.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let report: Value = serde_json::from_str(&texts[0]).unwrap();
    assert_eq!(report["kind"], "document", "{report}");
    assert!(
        texts[1].starts_with("# Document check: Letters"),
        "{}",
        texts[1]
    );
    // An unknown check is an error, not an empty resource.
    assert!(client
        .read_resource(ReadResourceRequestParams::new(
            "factually://checks/0000000000000000"
        ))
        .await
        .is_err());
    client.cancel().await.unwrap();
    drop(server);
}

/// `factually mcp` spoken to over raw standard input and output, as a misbehaving client.
struct RawStdio {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    lines: std::sync::mpsc::Receiver<String>,
}

impl RawStdio {
    fn start(data: &Path, extra: &[&str]) -> Self {
        let mut child = mcp_command(data, extra)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            lines,
        }
    }

    fn send(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// The next message with this id.
    fn answer(&self, id: u64) -> Value {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .expect("an answer within a minute");
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == id {
                return message;
            }
        }
    }

    fn initialize(&mut self) {
        self.send(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"}}})
            .to_string(),
        );
        let answer = self.answer(1);
        assert_eq!(
            answer["result"]["serverInfo"]["name"], "factually",
            "{answer}"
        );
        self.send(r#"{"jsonrpc": "2.0", "method": "notifications/initialized"}"#);
    }

    /// Closes standard input and waits for the process to end, at most `limit`.
    fn hang_up(mut self, limit: Duration) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("factually mcp still running {limit:?} after its client hung up");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A line that is not JSON, and a request of a method that does not exist, get JSON-RPC
/// errors or are passed over; the server goes on answering, and ends cleanly when its client
/// hangs up.
#[test]
fn malformed_messages_do_not_stop_the_server() {
    let data = tempfile::tempdir().unwrap();
    let mut raw = RawStdio::start(data.path(), &[]);
    raw.initialize();
    raw.send("this is not JSON-RPC");
    raw.send(r#"{"jsonrpc": "2.0", "id": 2, "method": "no/such/method"}"#);
    let unknown = raw.answer(2);
    assert!(unknown["error"]["code"].is_i64(), "{unknown}");
    raw.send(r#"{"jsonrpc": "2.0", "id": 3, "method": "tools/list"}"#);
    let tools = raw.answer(3);
    assert_eq!(
        tools["result"]["tools"].as_array().unwrap().len(),
        6,
        "{tools}"
    );
    let status = raw.hang_up(Duration::from_secs(10));
    assert!(status.success(), "{status}");
}

/// A client that hangs up in the middle of a check: the check stops (its language-model
/// request is abandoned) and the process ends cleanly instead of waiting on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_mid_check_stops_it() {
    let data = tempfile::tempdir().unwrap();
    let (llm_url, mut asked, mut dropped) = model_that_never_answers().await;
    let args = [
        "--llm",
        "openai-compat",
        "--llm-url",
        &llm_url,
        "--llm-model",
        "silent",
    ];
    let mut raw = {
        let data = data.path().to_path_buf();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut raw = RawStdio::start(&data, &args);
            raw.initialize();
            raw
        })
        .await
        .unwrap()
    };
    raw.send(
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "check", "arguments": {"input": "Is the Eiffel Tower in Berlin?"}}})
        .to_string(),
    );
    tokio::time::timeout(Duration::from_secs(120), asked.recv())
        .await
        .expect("the check asks the language model")
        .unwrap();
    let status = tokio::task::spawn_blocking(move || raw.hang_up(Duration::from_secs(20)))
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    tokio::time::timeout(Duration::from_secs(5), dropped.recv())
        .await
        .expect("the abandoned check's language-model request is dropped")
        .unwrap();
}
