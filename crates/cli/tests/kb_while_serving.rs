//! `kb add` on the knowledge base a running `serve` reads: checks that run meanwhile finish
//! with grounded reports (they read the last whole commit, never a half-written one), a
//! writer killed mid-add leaves the served knowledge base as it was, and a finished add is
//! seen by the next check without a restart.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{
    assert_grounded, data_dir_with_facts, factually, synthetic_corpus, Server, QUESTIONS,
};
use serde_json::{json, Value};

fn run_checks(server: &Server, inputs: &[String]) -> Vec<Value> {
    let ids: Vec<String> = inputs
        .iter()
        .map(|input| {
            let (status, answer) =
                server.json("POST", "/api/checks", Some(json!({ "input": input })));
            assert_eq!(status, 202, "{answer}");
            answer["id"].as_str().unwrap().to_string()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(180);
    ids.iter()
        .map(|id| loop {
            let (_, check) = server.json("GET", &format!("/api/checks/{id}"), None);
            match check["status"].as_str() {
                Some("done") => break check,
                Some("failed") => panic!("check failed: {check}\n{}", server.log()),
                _ => {}
            }
            assert!(Instant::now() < deadline, "{check}");
            std::thread::sleep(Duration::from_millis(100));
        })
        .collect()
}

#[test]
fn checks_read_whole_commits_while_kb_add_writes() {
    let data = data_dir_with_facts();
    let d = data.path();
    let server = Server::start(d, 2);
    let corpus = d.join("large-corpus.jsonl");
    std::fs::write(&corpus, synthetic_corpus(1_500)).unwrap();
    let mut writer = factually(d)
        .args(["kb", "add", "--kb", "facts"])
        .arg(&corpus)
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let inputs: Vec<String> = QUESTIONS.iter().map(|q| q.to_string()).collect();
    for check in run_checks(&server, &inputs) {
        assert_grounded(d, &check["report"]);
    }
    writer.kill().unwrap(); // mid-add: nothing of it may show
    writer.wait().unwrap();
    let (status, stats) = {
        let out = factually(d)
            .args(["--format", "json", "kb", "stats", "--kb", "facts"])
            .output()
            .unwrap();
        (
            out.status,
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        )
    };
    assert!(status.success());
    assert_eq!(
        stats["documents"], 4,
        "the killed add left nothing: {stats}"
    );

    // A finished add is read by the next check, without restarting the server.
    let article = d.join("zorblax.md");
    std::fs::write(
        &article,
        "# The Zorblax Beacon\n\nThe Zorblax Beacon is a lighthouse in the port of Lyon. It was lit for the first time in 1911.\n",
    )
    .unwrap();
    let out = factually(d)
        .args(["kb", "add", "--kb", "facts"])
        .arg(&article)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checks = run_checks(&server, &["Is the Zorblax Beacon in Lyon?".to_string()]);
    let report = &checks[0]["report"];
    assert!(
        report["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["title"] == "The Zorblax Beacon"),
        "the new document is searched: {report}"
    );
    assert_grounded(d, report);
}
