//! Crash safety at the points where state is written: the process is aborted there (the
//! `failpoints` feature; `FAILPOINTS=NAME=return` makes the crash point abort), then the test
//! proves that nothing committed was lost, that what is on disk opens and agrees with itself,
//! and that running the same work again finishes it.
//!
//! The crash points: `kb-vectors-write` (a vector file half written), `kb-before-commit`
//! (vectors written, the index commit not made), `kb-after-commit` (committed, older vector
//! files not yet removed), `store-complete` (a check's report written, its transaction not
//! committed). `snapshot-commit` (fetched web pages added, not committed) is in `web.rs`,
//! beside the local web it needs.
#![cfg(feature = "failpoints")]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{assert_grounded, data_dir_with_facts, factually, fixtures, Server};
use serde_json::{json, Value};

fn kb_json(data: &Path, args: &[&str]) -> Value {
    let out = factually(data)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn kb_add(data: &Path, path: &Path, failpoint: Option<&str>) -> std::process::Output {
    let mut command = factually(data);
    command.args(["kb", "add", "--kb", "t"]).arg(path);
    if let Some(point) = failpoint {
        command.env("FAILPOINTS", format!("{point}=return"));
    }
    command.output().unwrap()
}

/// The vector files of knowledge base `t`: exactly one once a writer has finished cleanly.
fn vector_files(data: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(data.join("kb/t/vectors"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

#[test]
fn a_kb_add_killed_at_each_crash_point_loses_nothing_and_a_rerun_finishes_it() {
    let article = fixtures().join("articles/eiffel.md");
    let more = fixtures().join("report-kb");
    // What the knowledge base holds when nothing goes wrong.
    let reference = tempfile::tempdir().unwrap();
    assert!(kb_add(reference.path(), &article, None).status.success());
    assert!(kb_add(reference.path(), &more, None).status.success());
    let whole = kb_json(reference.path(), &["kb", "stats", "--kb", "t"]);

    for (point, committed) in [
        ("kb-vectors-write", false),
        ("kb-before-commit", false),
        ("kb-after-commit", true),
    ] {
        let data = tempfile::tempdir().unwrap();
        let d = data.path();
        assert!(kb_add(d, &article, None).status.success());
        let before = kb_json(d, &["kb", "stats", "--kb", "t"]);

        let crashed = kb_add(d, &more, Some(point));
        assert_eq!(
            crashed.status.signal(),
            Some(libc::SIGABRT),
            "{point}: {}",
            String::from_utf8_lossy(&crashed.stderr)
        );
        let after = kb_json(d, &["kb", "stats", "--kb", "t"]);
        let expected = if committed { &whole } else { &before };
        for field in ["documents", "passages", "vectors"] {
            assert_eq!(
                after[field], expected[field],
                "{point}: {after} vs {expected}"
            );
        }
        assert_eq!(after["vectors"], after["passages"], "{point}: {after}");
        let hits = kb_json(d, &["search", "Gustave Eiffel", "--kb", "t"]);
        assert_eq!(
            hits["hits"][0]["title"], "The Eiffel Tower",
            "{point}: {hits}"
        );

        let rerun = kb_add(d, &more, None);
        assert!(
            rerun.status.success(),
            "{point}: {}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        let finished = kb_json(d, &["kb", "stats", "--kb", "t"]);
        for field in ["documents", "passages", "vectors"] {
            assert_eq!(
                finished[field], whole[field],
                "{point}: {finished} vs {whole}"
            );
        }
        let hits = kb_json(d, &["search", "Einstein mathematics", "--kb", "t"]);
        assert!(
            hits["hits"][0]["title"]
                .as_str()
                .unwrap_or_default()
                .contains("Einstein"),
            "{point}: {hits}"
        );
        assert_eq!(
            vector_files(d).len(),
            1,
            "{point}: stale or half-written vector files are gone: {:?}",
            vector_files(d)
        );
    }
}

fn wait_for(server: &Server, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let (_, check) = server.json("GET", &format!("/api/checks/{id}"), None);
        if check["status"] == status {
            return check;
        }
        assert!(
            Instant::now() < deadline,
            "check {id} never became {status}: {check}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The site dies while committing a report (`store-complete`, the second time it is reached):
/// the report committed before is still there, the interrupted check is resumed by the next
/// server and finishes once, with one report. `database` is the `--database-url` arguments.
fn killed_while_committing_a_report(database: &[&str]) {
    let data = data_dir_with_facts();
    let d = data.path();
    let mut server = Server::start_env(
        d,
        1,
        database,
        &[("FAILPOINTS", "store-complete=1*off->return")],
    );
    let submit = |server: &Server, input: &str| {
        let (status, answer) = server.json("POST", "/api/checks", Some(json!({ "input": input })));
        assert_eq!(status, 202, "{answer}");
        answer["id"].as_str().unwrap().to_string()
    };
    let first = submit(&server, "Is the Eiffel Tower in Paris?");
    let committed = wait_for(&server, &first, "done");
    let second = submit(&server, "Did Einstein fail mathematics at school?");
    let status = server.wait_exit(Duration::from_secs(240));
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{}", server.log());

    let server = Server::start_with(d, 1, database);
    let resumed = wait_for(&server, &second, "done");
    assert_eq!(resumed["version"], 1, "one report: {resumed}");
    assert_grounded(d, &resumed["report"]);
    let (_, again) = server.json("GET", &format!("/api/checks/{first}"), None);
    assert_eq!(again["version"], 1, "{again}");
    assert_eq!(
        again["report"], committed["report"],
        "the committed report is unchanged"
    );
    let (_, listed) = server.json("GET", "/api/checks?limit=100", None);
    assert_eq!(listed["checks"].as_array().unwrap().len(), 2, "{listed}");
}

#[test]
fn a_server_killed_while_committing_a_report_loses_no_report_on_sqlite() {
    killed_while_committing_a_report(&[]);
}

#[test]
fn a_server_killed_while_committing_a_report_loses_no_report_on_postgres() {
    let Some(cluster) = factually_store::test_cluster::TempPostgres::shared() else {
        return;
    };
    let url = cluster.new_database_blocking();
    killed_while_committing_a_report(&["--database-url", &url]);
}
