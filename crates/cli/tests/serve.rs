//! `factually serve` end to end, with the real pipeline over a fixture knowledge base: checks
//! submitted through the API finish with grounded reports, and a server killed with SIGKILL
//! while checks run loses none of them and duplicates none after a restart, which takes them
//! over at once.

mod common;

use std::time::{Duration, Instant};

use common::{assert_grounded, data_dir_with_facts, Server, QUESTIONS};
use serde_json::json;

fn statuses(server: &Server, ids: &[String]) -> Vec<String> {
    ids.iter()
        .map(|id| {
            let (_, check) = server.json("GET", &format!("/api/checks/{id}"), None);
            check["status"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn a_server_killed_during_ten_checks_finishes_all_of_them_once_after_a_restart() {
    let data = data_dir_with_facts();
    // Ten workers, so that all ten checks are running when the server dies.
    let server = Server::start(data.path(), 10);
    let ids: Vec<String> = QUESTIONS
        .iter()
        .map(|q| {
            let (status, answer) = server.json("POST", "/api/checks", Some(json!({"input": q})));
            assert_eq!(status, 202, "{answer}");
            answer["id"].as_str().unwrap().to_string()
        })
        .collect();
    // Kill once every check has left the queue and some are still running. On two cores a
    // check with nothing relevant to read can finish before the last one has started, so
    // "all ten running at once" is not something the test can wait for.
    let deadline = Instant::now() + Duration::from_secs(120);
    let at_kill = loop {
        let now = statuses(&server, &ids);
        let queued = now.iter().filter(|s| *s == "queued").count();
        let running = now.iter().filter(|s| *s == "running").count();
        if queued == 0 && running > 0 {
            break now;
        }
        assert!(
            Instant::now() < deadline && (queued > 0 || running > 0),
            "the checks never ran together: {now:?}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    server.kill();
    eprintln!("killed with SIGKILL while the checks were {at_kill:?}");

    let server = Server::start(data.path(), 2);
    let restarted = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(300);
    while statuses(&server, &ids).iter().any(|s| s != "done") {
        assert!(
            Instant::now() < deadline,
            "checks did not finish after the restart: {:?}\n{}",
            statuses(&server, &ids),
            server.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    eprintln!("all 10 done {:?} after the restart", restarted.elapsed());
    // A check running at the last poll can finish in the moment between that poll and the
    // kill: the restarted server resumes every check that was still running.
    let running_at_kill = at_kill.iter().filter(|s| *s == "running").count();
    let log = server.log();
    let resumed: usize = log
        .split("resuming ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        (1..=running_at_kill).contains(&resumed)
            && log.contains("check(s) that a stopped server was running"),
        "the restarted server takes the dead one's checks at once, not when their leases \
         run out:\n{log}"
    );
    for (id, question) in ids.iter().zip(QUESTIONS) {
        let (_, check) = server.json("GET", &format!("/api/checks/{id}"), None);
        assert_eq!(check["version"], 1, "one report per check: {check}");
        assert_eq!(check["report"]["input"], question);
        assert_grounded(data.path(), &check["report"]);
    }
    let (_, listed) = server.json("GET", "/api/checks?limit=100", None);
    assert_eq!(
        listed["checks"].as_array().unwrap().len(),
        10,
        "no check lost or duplicated"
    );
    let says_resumed: usize = ids
        .iter()
        .zip(&at_kill)
        .map(|(id, status_at_kill)| {
            let (status, events) = server
                .request("GET", &format!("/api/checks/{id}/events"), None)
                .unwrap();
            assert_eq!(status, 200);
            let said = events.contains("Resumed (attempt 2");
            assert!(
                !said || status_at_kill == "running",
                "only a check that was running when the server died is resumed: {events}"
            );
            usize::from(said)
        })
        .sum();
    assert_eq!(
        says_resumed, resumed,
        "every check interrupted by the kill says it resumed"
    );
}
