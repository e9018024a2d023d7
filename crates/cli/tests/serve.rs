//! `factually serve` end to end, with the real pipeline over a fixture knowledge base: checks
//! submitted through the API finish with grounded reports, and a server killed with SIGKILL
//! while checks run loses none of them and duplicates none after a restart, which takes them
//! over at once.

mod common;

use std::time::{Duration, Instant};

use common::{assert_grounded, data_dir_with_facts, run_expecting, Server, QUESTIONS};
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

/// `POST /api/documents`: a text goes through the same queue, its document report comes back
/// from `GET /api/checks/{id}` (every claim's report grounded) and its page marks the claims
/// in the text; malformed documents are refused with 400.
#[test]
fn a_document_submitted_through_the_api_is_checked_and_shown_in_place() {
    let data = data_dir_with_facts();
    let server = Server::start(data.path(), 1);
    let text = "Our readers wrote to us again this week. The measles vaccine causes autism in young children, one letter said. Thank you all for writing!";
    let (status, answer) = server.json(
        "POST",
        "/api/documents",
        Some(json!({"text": text, "title": "Letters to the editor", "max_claims": 2})),
    );
    assert_eq!(status, 202, "{answer}");
    let id = answer["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    let check = loop {
        let (_, check) = server.json("GET", &format!("/api/checks/{id}"), None);
        if check["status"] == "done" {
            break check;
        }
        assert!(
            Instant::now() < deadline && check["status"] != "failed",
            "{check}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let report = &check["report"];
    assert_eq!(report["kind"], "document", "{report}");
    assert_eq!(report["document"]["title"], "Letters to the editor");
    assert_eq!(report["document"]["text"], text);
    let claims = report["claims"].as_array().unwrap();
    assert!(!claims.is_empty() && claims.len() <= 2, "{report}");
    for c in claims {
        assert_grounded(data.path(), &c["report"]);
    }
    let measles = claims
        .iter()
        .find(|c| c["claim"].as_str().unwrap().contains("measles"))
        .expect("the measles claim is checked");
    assert_eq!(
        measles["report"]["verdict"]["label"], "refuted",
        "{measles}"
    );

    // The page: the text with the claim marked by its verdict.
    let path = answer["url"]
        .as_str()
        .unwrap()
        .trim_start_matches(&server.base_url())
        .to_string();
    let (status, page) = server.request("GET", &path, None).unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Document check: Letters to the editor"),
        "{page}"
    );
    assert!(page.contains("<mark class=\"refuted\""), "{page}");

    // The site's archive imported as published fact-checks elsewhere: the document's checked
    // claims come through its ClaimReview feed, and `match` finds the measles claim there.
    let elsewhere = tempfile::tempdir().unwrap();
    let feed = format!("{}/fact-checks.json", server.base_url());
    let (out, _) = run_expecting(
        elsewhere.path(),
        &[
            "factchecks",
            "import",
            "--allow-private-hosts",
            "--url",
            &feed,
        ],
        None,
        0,
    );
    assert!(out.contains("added"), "{out}");
    let (out, _) = run_expecting(
        elsewhere.path(),
        &[
            "match",
            "Does the measles vaccine cause autism?",
            "--format",
            "json",
        ],
        None,
        0,
    );
    let matches: serde_json::Value = serde_json::from_str(&out).unwrap();
    let first = &matches["matches"][0];
    assert!(
        first["claim"].as_str().unwrap().contains("measles"),
        "{matches}"
    );
    assert_eq!(first["rating"], "Refuted", "{matches}");
    assert_eq!(first["publisher"], "factually", "{matches}");
    assert_eq!(first["url"], answer["url"], "{matches}");

    // Unknown fields are refused by the JSON reader (422, as for /api/checks), the rest by
    // the validation (400).
    for (bad, want) in [
        (json!({}), 400),
        (
            json!({"text": "Taxes rose.", "url": "https://example.org/"}),
            400,
        ),
        (json!({"text": "   "}), 400),
        (json!({"url": "ftp://example.org/file"}), 400),
        (
            json!({"text": "Taxes rose by 4% in 2020.", "max_claims": 0}),
            400,
        ),
        (
            json!({"text": "Taxes rose by 4% in 2020.", "colour": "red"}),
            422,
        ),
    ] {
        let (status, answer) = server.json("POST", "/api/documents", Some(bad.clone()));
        assert_eq!(status, want, "{bad}: {answer}");
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
}
