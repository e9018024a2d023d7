//! `check --sources web`, `check --url` and `fetch` end to end against a local web: a fake
//! SearxNG and MediaWiki speaking their real JSON formats and fixture articles, served on
//! loopback (so `--allow-private-hosts` is needed, and its absence is tested too).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

/// The fetch crate's fixture articles (the web this test serves).
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fetch/tests/fixtures")
}

/// Serves the fixture web on a loopback port from a background thread for the whole test.
fn serve() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let router = Router::new()
                .route("/robots.txt", get(|| async { "User-agent: *\nAllow: /\n" }))
                .route("/pages/{name}", get(page))
                .route("/search", get(searxng))
                .route("/w/api.php", get(mediawiki))
                .route("/v1/chat/completions", axum::routing::post(chat))
                .with_state(format!("http://{addr}"));
            tx.send(addr).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

async fn page(UrlPath(name): UrlPath<String>) -> Response {
    let file = match name.as_str() {
        "wire" => "wire-story.html".to_string(),
        other => format!("{other}.html"),
    };
    match std::fs::read_to_string(fixtures().join(file)) {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn searxng(
    State(base): State<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let result = |name: &str| json!({"url": format!("{base}/pages/{name}"), "title": name, "content": "", "engine": "test"});
    axum::Json(json!({
        "query": q.get("q"),
        "number_of_results": 5,
        "results": [result("wire"), result("council"), result("copy"), result("paywall"), result("gone")],
        "answers": [], "corrections": [], "infoboxes": [], "suggestions": [], "unresponsive_engines": []
    }))
    .into_response()
}

async fn mediawiki() -> Response {
    axum::Json(
        json!({"batchcomplete": "", "query": {"searchinfo": {"totalhits": 0}, "search": []}}),
    )
    .into_response()
}

const COUNCIL: &str = "The Harbour Bridge will not reopen next month, the city council said on Friday, because a final safety inspection found new cracks in two support beams.";

/// An OpenAI-compatible model: it quotes the council page, and in its synthesis also claims
/// something no source says, which the grounding gate must remove.
async fn chat(axum::Json(body): axum::Json<Value>) -> axum::Json<Value> {
    let prompt = body["messages"][1]["content"].as_str().unwrap_or_default();
    let content = if body["response_format"]["json_schema"]["name"] == "stance_judgements" {
        judge_pairs(prompt)
    } else if prompt.contains("Analyse source") {
        json!({"relevant": true, "stance": "refutes", "key_facts": [
            {"fact": "The council says the bridge stays closed.", "quote": COUNCIL},
            {"fact": "Invented.", "quote": "The mayor resigned over the bridge scandal on Monday."}
        ]})
    } else {
        json!({
            "summary": [
                {"text": COUNCIL, "sources": [1]},
                {"text": "The mayor resigned over the bridge scandal.", "sources": [1]}
            ],
            "missing_context": [],
            "viewpoints": [],
            "verdict": "refuted"
        })
    };
    axum::Json(json!({
        "id": "c1", "object": "chat.completion", "model": "fixture-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}
    }))
}

/// A stance judge that reads the place a claim puts the Eiffel Tower: the evidence's "Paris"
/// supports "Paris" and refutes any other city; evidence without "Paris" settles nothing.
fn judge_pairs(prompt: &str) -> Value {
    let mut judgements = Vec::new();
    for (i, block) in prompt.split("Pair ").skip(1).enumerate() {
        let claim = block
            .split("Claim: ")
            .nth(1)
            .and_then(|r| r.lines().next())
            .unwrap_or("");
        let evidence = block
            .split("Evidence: ")
            .nth(1)
            .and_then(|r| r.lines().next())
            .unwrap_or("");
        let label = match (evidence.contains("Paris"), claim.contains("Paris")) {
            (true, true) => "supports",
            (true, false) => "refutes",
            _ => "not_enough_info",
        };
        judgements.push(json!({"pair": i + 1, "label": label}));
    }
    json!({ "judgements": judgements })
}

fn factually(data: &Path, addr: SocketAddr, args: &[&str]) -> Output {
    factually_with(data, addr, args, &[])
}

/// [`factually`] with more environment variables.
fn factually_with(data: &Path, addr: SocketAddr, args: &[&str], env: &[(&str, &str)]) -> Output {
    let base = format!("http://{addr}");
    Command::new(env!("CARGO_BIN_EXE_factually"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .envs(env.iter().copied())
        .env("FACTUALLY_SEARXNG_URL", &base)
        .env("FACTUALLY_WIKIPEDIA_URL", &base)
        .env_remove("FACTUALLY_ALLOW_PRIVATE_HOSTS")
        .env_remove("FACTUALLY_LLM_URL")
        .env_remove("FACTUALLY_LLM_MODEL")
        .env_remove("FACTUALLY_CONFIG")
        .output()
        .expect("the binary runs")
}

fn ok_json(data: &Path, addr: SocketAddr, args: &[&str]) -> Value {
    let out = factually(data, addr, &[args, &["--format", "json"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

/// Grounding: every quote of every source is the stored snapshot's bytes at its offsets, as
/// `kb show` (without `--kb`) prints them.
fn assert_quotes_stored(data: &Path, addr: SocketAddr, report: &Value) {
    for s in report["sources"].as_array().unwrap() {
        let doc_id = s["doc_id"].as_str().unwrap();
        let out = factually(data, addr, &["kb", "show", doc_id]);
        assert_eq!(out.status.code(), Some(0));
        let stored = String::from_utf8(out.stdout).unwrap();
        for e in s["evidence"].as_array().unwrap() {
            let (start, end) = (
                e["start"].as_u64().unwrap() as usize,
                e["end"].as_u64().unwrap() as usize,
            );
            assert_eq!(stored.get(start..end), e["quote"].as_str(), "{doc_id}");
        }
    }
}

#[test]
fn a_web_check_cites_stored_snapshots_and_says_what_it_skipped() {
    let addr = serve();
    let data = tempfile::tempdir().unwrap();
    let claim = "The Harbour Bridge will reopen next month after repairs.";
    let report = ok_json(
        data.path(),
        addr,
        &["check", claim, "--sources", "web", "--allow-private-hosts"],
    );
    assert_eq!(
        report["search_queries"][0],
        "The Harbour Bridge will reopen next month after repairs"
    );

    let sources = report["sources"].as_array().unwrap();
    assert!(!sources.is_empty(), "{report:#}");
    for s in sources {
        assert_eq!(s["kb"], "web");
        assert!(s["credibility"].as_f64().is_some());
        assert!(s["retrieved_at"].as_str().is_some());
    }
    assert_quotes_stored(data.path(), addr, &report);
    let wire = sources
        .iter()
        .find(|s| s["url"].as_str().unwrap().ends_with("/pages/wire"))
        .expect("the wire story is cited");
    assert_eq!(
        wire["copies"],
        json!([format!("http://{addr}/pages/copy")]),
        "copies collapse"
    );
    assert_eq!(wire["publisher"], "Example Wire");

    // Both sides are found and shown, each counted once.
    let statement = &report["statements"][0];
    assert!(
        statement["supporting_origins"].as_u64().unwrap() <= 1,
        "{statement}"
    );
    assert!(
        statement["supporting_origins"].as_u64().unwrap()
            + statement["refuting_origins"].as_u64().unwrap()
            >= 1,
        "{statement}"
    );

    let skipped: Vec<(String, String)> = report["skipped_sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["url"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reason = |page: &str| {
        skipped
            .iter()
            .find(|(u, _)| u.ends_with(page))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{page} not among skipped: {skipped:?}"))
    };
    assert!(reason("/pages/paywall").contains("words"));
    assert!(reason("/pages/gone").contains("404"));

    // The text report shows the same.
    let out = factually(
        data.path(),
        addr,
        &["check", claim, "--sources", "web", "--allow-private-hosts"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("domain reliability"), "{text}");
    assert!(text.contains("Not used"), "{text}");
}

/// A check that dies while committing the pages it fetched (the `snapshot-commit` crash
/// point) leaves the web knowledge base readable, holding none of them; the same check run
/// again fetches, stores and cites them.
#[cfg(feature = "failpoints")]
#[test]
fn a_check_killed_while_storing_snapshots_leaves_the_web_kb_whole() {
    use std::os::unix::process::ExitStatusExt;
    let addr = serve();
    let data = tempfile::tempdir().unwrap();
    let args = [
        "check",
        "The Harbour Bridge will reopen next month after repairs.",
        "--sources",
        "web",
        "--allow-private-hosts",
    ];
    let crashed = factually_with(
        data.path(),
        addr,
        &args,
        &[("FAILPOINTS", "snapshot-commit=return")],
    );
    assert_eq!(
        crashed.status.signal(),
        Some(libc::SIGABRT),
        "{}",
        String::from_utf8_lossy(&crashed.stderr)
    );
    let stats = factually(
        data.path(),
        addr,
        &["kb", "stats", "--kb", "web", "--format", "json"],
    );
    if stats.status.success() {
        let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
        assert_eq!(stats["documents"], 0, "{stats}");
        assert_eq!(stats["vectors"], stats["passages"], "{stats}");
    }
    let report = ok_json(data.path(), addr, &args[..]);
    assert!(
        !report["sources"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
    assert_quotes_stored(data.path(), addr, &report);
}

#[test]
fn given_urls_and_refusals() {
    let addr = serve();
    let data = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/pages/council");
    let report = ok_json(
        data.path(),
        addr,
        &[
            "check",
            "The Harbour Bridge will reopen next month.",
            "--url",
            &url,
            "--allow-private-hosts",
        ],
    );
    assert!(
        report.get("search_queries").is_none(),
        "given URLs alone search nothing"
    );
    assert_eq!(report["sources"][0]["url"], url.as_str());

    // Without the allowance, loopback is refused: by `check` as a skipped source with the
    // reason, by `fetch` as an error.
    let report = ok_json(
        data.path(),
        addr,
        &[
            "check",
            "The Harbour Bridge will reopen next month.",
            "--url",
            &url,
        ],
    );
    assert!(report["sources"].as_array().unwrap().is_empty());
    let reason = report["skipped_sources"][0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("refused"), "{reason}");
    let out = factually(data.path(), addr, &["fetch", &url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused"));

    let page = ok_json(data.path(), addr, &["fetch", &url, "--allow-private-hosts"]);
    assert_eq!(page["title"], "Council says bridge reopening is delayed");
    assert_eq!(page["published"], "2026-11-22");
    assert_eq!(page["publisher"], "Riverside Gazette");
    assert!(page["text"]
        .as_str()
        .unwrap()
        .contains("new cracks in two support beams"));
}

/// `check --url URL` alone checks the page as a document; searched web sources serve its
/// claims, but never the page itself.
#[test]
fn a_page_checked_as_a_document_is_not_its_own_source() {
    let addr = serve();
    let data = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/pages/council");
    let report = ok_json(
        data.path(),
        addr,
        &[
            "check",
            "--url",
            &url,
            "--allow-private-hosts",
            "--sources",
            "web",
            "--max-claims",
            "2",
        ],
    );
    assert_eq!(report["kind"], "document");
    assert_eq!(report["document"]["origin"], "url");
    assert_eq!(report["document"]["url"], url.as_str());
    assert_eq!(
        report["document"]["title"],
        "Council says bridge reopening is delayed"
    );
    let text = report["document"]["text"].as_str().unwrap();
    let claims = report["claims"].as_array().unwrap();
    assert!(!claims.is_empty() && claims.len() <= 2, "{report}");
    for c in claims {
        let (start, end) = (
            c["start"].as_u64().unwrap() as usize,
            c["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[start..end], c["sentence"].as_str().unwrap());
        let claim_report = &c["report"];
        assert!(!claim_report["search_queries"]
            .as_array()
            .unwrap()
            .is_empty());
        for s in claim_report["sources"].as_array().unwrap() {
            assert_ne!(s["url"], url.as_str(), "the page cites itself: {s}");
        }
        assert_quotes_stored(data.path(), addr, claim_report);
    }
    // The same claim checked on its own finds the page through search and cites it.
    let alone = ok_json(
        data.path(),
        addr,
        &[
            "check",
            claims[0]["claim"].as_str().unwrap(),
            "--allow-private-hosts",
            "--sources",
            "web",
        ],
    );
    assert!(
        alone["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["url"] == url.as_str()),
        "{alone}"
    );
}

#[test]
fn llm_mode_keeps_only_grounded_statements() {
    let addr = serve();
    let data = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/pages/council");
    let llm_url = format!("http://{addr}/v1");
    let args = [
        "check",
        "The Harbour Bridge will reopen next month.",
        "--url",
        &url,
        "--allow-private-hosts",
        "--llm",
        "openai-compat",
        "--llm-url",
        &llm_url,
        "--llm-model",
        "fixture-model",
    ];
    let report = ok_json(data.path(), addr, &args);
    let llm = &report["llm"];
    assert_eq!(llm["fallback"], Value::Null, "{report:#}");
    assert_eq!(llm["prompt_version"], "factually-llm-v2");
    assert_eq!(llm["verdict"], "refuted");
    assert_eq!(llm["quotes_removed"], 1);
    assert_eq!(llm["statements_kept"], 1, "{report:#}");
    assert_eq!(llm["statements_removed"], 1);
    let summary: Vec<&str> = report["sections"]["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    assert!(
        summary
            .iter()
            .any(|s| s.starts_with(COUNCIL) && s.ends_with("[1]")),
        "{summary:?}"
    );
    assert!(!summary.iter().any(|s| s.contains("mayor")));
    // Every quote, the model's included, is the stored snapshot's bytes.
    assert_quotes_stored(data.path(), addr, &report);
    // A second run is answered from the call cache.
    let again = ok_json(data.path(), addr, &args);
    assert_eq!(again["llm"]["cached_calls"], again["llm"]["calls"]);

    // The same from the config file's [llm] table, without any LLM flag.
    std::fs::write(
        data.path().join("config.toml"),
        format!("[llm]\nurl = \"{llm_url}\"\nmodel = \"fixture-model\"\nconcurrency = 2\n"),
    )
    .unwrap();
    let from_file = ok_json(data.path(), addr, &args[..5]);
    assert_eq!(from_file["llm"]["statements_kept"], 1, "{from_file:#}");
    std::fs::write(data.path().join("config.toml"), "[llm]\nbogus = 1\n").unwrap();
    let out = factually(data.path(), addr, &args[..5]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a malformed config file is a usage error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.toml"));
    std::fs::remove_file(data.path().join("config.toml")).unwrap();

    // LLM mode without a server or a model is refused before anything is checked.
    let out = factually(
        data.path(),
        addr,
        &[args[0], args[1], "--llm", "openai-compat"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--llm-url"));
    let out = factually(
        data.path(),
        addr,
        &[args[0], args[1], "--llm-url", &llm_url],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--llm-model"));

    // A jury of two models on the same server: every vote is shown, and the verdict changes
    // only by the overrule rule (both say refuted).
    let jury_args = [
        args[0],
        args[1],
        args[2],
        args[3],
        args[4],
        "--llm-url",
        &llm_url,
        "--jury",
        "openai-compat:fixture-model,openai-compat:fixture-model-2",
    ];
    let jury = ok_json(data.path(), addr, &jury_args);
    let votes = jury["llm"]["jury"].as_array().unwrap();
    assert_eq!(votes.len(), 2, "{jury:#}");
    assert!(votes.iter().all(|v| v["verdict"] == "refuted"), "{votes:?}");
    assert_eq!(jury["llm"]["statements_kept"], 1);
    match jury["llm"]["overruled"].as_object() {
        Some(o) => {
            assert_eq!(o["pipeline"]["label"], report["verdict"]["label"]);
            assert_eq!(jury["verdict"]["label"], "refuted");
        }
        None => assert_eq!(jury["verdict"], report["verdict"]),
    }
    assert_quotes_stored(data.path(), addr, &jury);
    let out = factually(
        data.path(),
        addr,
        &[args[0], args[1], "--jury", "telepathy:x"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown LLM provider"));

    // A model server that is not there: the deterministic report, with the reason.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}/v1");
    let mut args = args.to_vec();
    args[8] = &dead;
    let fallback = ok_json(data.path(), addr, &args);
    assert!(fallback["llm"]["fallback"]
        .as_str()
        .unwrap()
        .contains("could not reach"));
}

/// `--stance-model llm`: the language model's labels decide the verdict and the quotes.
#[test]
fn a_language_model_judges_stance_when_asked() {
    let addr = serve();
    let data = tempfile::tempdir().unwrap();
    let kb = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-kb");
    let out = factually(
        data.path(),
        addr,
        &["kb", "add", "--kb", "facts", kb.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let llm_url = format!("http://{addr}/v1");
    let verify = |claim: &str| {
        ok_json(
            data.path(),
            addr,
            &[
                "verify",
                claim,
                "--kb",
                "facts",
                "--stance-model",
                "llm",
                "--llm-url",
                &llm_url,
                "--llm-model",
                "fixture-model",
            ],
        )
    };
    for (claim, label, stance) in [
        (
            "The Eiffel Tower stands on the Champ de Mars in Berlin.",
            "refuted",
            "refute",
        ),
        (
            "The Eiffel Tower stands on the Champ de Mars in Paris.",
            "supported",
            "support",
        ),
    ] {
        let v = verify(claim);
        assert_eq!(v["verdict"]["label"], label, "{claim}: {v:#}");
        let decisive: Vec<&Value> = v["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["stance"] == stance)
            .collect();
        assert!(!decisive.is_empty(), "{v:#}");
        assert!(
            decisive
                .iter()
                .all(|e| e["quote"].as_str().unwrap().contains("Paris")),
            "{v:#}"
        );
    }

    // Without a language model configured, the choice is refused up front.
    let out = factually(
        data.path(),
        addr,
        &[
            "verify",
            "The Eiffel Tower is in Paris.",
            "--kb",
            "facts",
            "--stance-model",
            "llm",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--stance-model llm needs a language model"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `doctor` asks each search provider a test query: both fake providers answer.
#[test]
fn doctor_asks_the_search_providers() {
    let addr = serve();
    let data = tempfile::tempdir().unwrap();
    let out = factually(data.path(), addr, &["doctor", "--format", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let search: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["area"] == "web search")
        .map(|c| format!("{} {}", c["status"].as_str().unwrap(), c["detail"]))
        .collect();
    assert_eq!(search.len(), 2, "{report:#}");
    assert!(
        search[0].starts_with("ok ") && search[0].contains("searxng: answered"),
        "{search:?}"
    );
    assert!(
        search[1].starts_with("ok ") && search[1].contains("wikipedia: answered"),
        "{search:?}"
    );
}
