//! Checks run by separate `factually worker` processes: one `serve --workers 0` and three
//! workers on one database (PostgreSQL in a throw-away cluster, and a shared SQLite file). 30
//! checks go in through the API; while they run, one worker is killed with SIGKILL mid-check
//! (a replacement starts) and one is stopped with SIGTERM: it drains, finishing its check
//! within `--drain-seconds` (SQLite run) or, given no time (PostgreSQL run), handing it back to
//! the queue. Every check finishes exactly once: none lost, none written twice.

mod common;

use std::time::{Duration, Instant};

use common::{data_dir_with_facts, Server, Worker, QUESTIONS};
use factually_store::test_cluster::TempPostgres;
use serde_json::json;

/// The `i`th of 30 distinct inputs (a repeated question would get the recent check back).
fn input(i: usize) -> String {
    let question = QUESTIONS[i % QUESTIONS.len()];
    match i / QUESTIONS.len() {
        0 => question.to_string(),
        1 => format!("Really: {question}"),
        _ => format!("Honestly: {question}"),
    }
}

fn statuses(server: &Server, ids: &[String]) -> Vec<String> {
    ids.iter()
        .map(|id| {
            let (_, check) = server.json("GET", &format!("/api/checks/{id}"), None);
            check["status"].as_str().unwrap().to_string()
        })
        .collect()
}

fn thirty_checks_with_a_crash_and_a_drain(database: &str, drain_seconds: u32) {
    let data = data_dir_with_facts();
    let server = Server::start_with(data.path(), 0, &["--database-url", database]);
    let crashing = Worker::start(data.path(), database, "crashing");
    let draining = Worker::start_draining(data.path(), database, "draining", drain_seconds);
    let steady = Worker::start(data.path(), database, "steady");

    let inputs: Vec<String> = (0..30).map(input).collect();
    let ids: Vec<String> = inputs
        .iter()
        .map(|input| {
            let body = json!({ "input": input });
            let (status, answer) = server.json("POST", "/api/checks", Some(body));
            assert_eq!(status, 202, "{answer}");
            answer["id"].as_str().unwrap().to_string()
        })
        .collect();
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 30);

    // Once the workers are busy, one crashes and another is told to stop.
    let deadline = Instant::now() + Duration::from_secs(120);
    while statuses(&server, &ids)
        .iter()
        .filter(|s| *s == "running")
        .count()
        < 3
    {
        assert!(Instant::now() < deadline, "the workers never got busy");
        std::thread::sleep(Duration::from_millis(10));
    }
    crashing.kill();
    let replacement = Worker::start(data.path(), database, "replacement");
    let (status, log) = draining.terminate();
    assert!(
        status.success(),
        "a drained worker exits 0: {status}\n{log}"
    );
    eprintln!("the drained worker said:\n{log}");
    let handed_back = usize::from(log.contains("0 running check(s) finished, 1 handed back"));
    if drain_seconds == 0 {
        assert!(
            handed_back == 1 || log.contains("0 running check(s) finished, 0 handed back"),
            "with no time to finish, a running check is handed back: {log}"
        );
    } else {
        assert!(log.contains("0 handed back"), "{log}");
    }
    assert!(
        log.contains("stopped: ") && log.contains("handed back to the queue"),
        "{log}"
    );

    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let now = statuses(&server, &ids);
        if now.iter().all(|s| s == "done") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not all checks finished: {now:?}\nsteady: {}\nreplacement: {}",
            steady.log(),
            replacement.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for (n, id) in ids.iter().enumerate() {
        let (_, check) = server.json("GET", &format!("/api/checks/{id}"), None);
        assert_eq!(check["version"], 1, "one report per check: {check}");
        assert_eq!(check["report"]["input"], inputs[n]);
        let (_, events) = server
            .request("GET", &format!("/api/checks/{id}/events"), None)
            .unwrap();
        assert_eq!(
            events.matches("event: done").count(),
            1,
            "finished once: {events}"
        );
    }
    let (_, listed) = server.json("GET", "/api/checks?limit=100", None);
    assert_eq!(listed["checks"].as_array().unwrap().len(), 30);
    let resumed = ids
        .iter()
        .filter(|id| {
            let (_, events) = server
                .request("GET", &format!("/api/checks/{id}/events"), None)
                .unwrap();
            events.contains("Resumed (attempt 2")
        })
        .count();
    eprintln!("{resumed} check(s) resumed after the crash");
    let said_handed_back = ids
        .iter()
        .filter(|id| {
            let (_, events) = server
                .request("GET", &format!("/api/checks/{id}/events"), None)
                .unwrap();
            events.contains("handed_back")
        })
        .count();
    assert_eq!(said_handed_back, handed_back);
    assert!(resumed <= 1, "one worker crashed, running one check");
    let (_, metrics) = server.request("GET", "/metrics", None).unwrap();
    assert!(
        metrics.contains("factually_checks{status=\"done\"} 30"),
        "{metrics}"
    );
}

#[test]
fn three_workers_on_postgres_lose_no_check_and_run_none_twice() {
    let Some(cluster) = TempPostgres::shared() else {
        return;
    };
    thirty_checks_with_a_crash_and_a_drain(&cluster.new_database_blocking(), 0);
}

#[test]
fn three_workers_on_one_sqlite_file_lose_no_check_and_run_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("shared.db");
    thirty_checks_with_a_crash_and_a_drain(database.to_str().unwrap(), 60);
}

/// A database that cannot be used stops a worker at start, with the reason, before it loads a
/// model; a password in the URL is not printed.
#[test]
fn a_worker_refuses_a_database_it_cannot_use() {
    let data = tempfile::tempdir().unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("postgres://factually:s3cret@127.0.0.1:{closed_port}/factually");
    let not_a_database = data.path().join("notes.txt");
    std::fs::write(&not_a_database, "these are notes, not a database").unwrap();
    for (url, status, message) in [
        (
            "mysql://localhost/factually",
            2,
            "unknown database kind \"mysql\"",
        ),
        (
            unreachable.as_str(),
            1,
            "opening the database postgres://factually:***@127.0.0.1",
        ),
        (not_a_database.to_str().unwrap(), 1, "opening the database"),
    ] {
        let out = common::factually(data.path())
            .args(["worker", "--database-url", url])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{url}: {stderr}");
        assert!(stderr.contains(message), "{url}: {stderr}");
        assert!(
            !stderr.contains("s3cret") && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&not_a_database).unwrap(),
        "these are notes, not a database",
        "a file that is not a database is left alone"
    );
}
