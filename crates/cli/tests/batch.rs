//! `factually batch` end to end over the fixture knowledge base: results appended one JSON
//! line per claim, bad input lines named and skipped, a second run skipping what is done, a
//! line cut short by a crash dropped, CSV input, and Ctrl-C leaving a valid file that the next
//! run completes.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{data_dir_with_facts, factually};
use serde_json::Value;

fn batch(data: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = factually(data)
        .args(["batch", "--kb", "facts", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let summary = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), summary)
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line of the results is JSON"))
        .collect()
}

#[test]
fn a_batch_checks_each_claim_once_and_resumes() {
    let data = data_dir_with_facts();
    let d = data.path();
    let claims = d.join("claims.jsonl");
    std::fs::write(
        &claims,
        "{\"id\": \"berlin\", \"claim\": \"The Eiffel Tower is in Berlin.\"}\n\
         {\"id\": \"paris\", \"claim\": \"Is the Eiffel Tower in Paris?\"}\n\
         this line is not JSON\n\
         {\"id\": \"paris\", \"claim\": \"The same id again.\"}\n\
         {\"id\": \"empty\", \"claim\": \"\"}\n\
         {\"id\": \"einstein\", \"claim\": \"Why did Einstein fail math?\"}\n",
    )
    .unwrap();
    let out = d.join("results.jsonl");
    let out_arg = out.to_str().unwrap();
    let (status, summary) = batch(d, &[claims.to_str().unwrap(), "--out", out_arg]);
    assert_eq!(
        status,
        Some(3),
        "bad lines make a partial result: {summary:#}"
    );
    assert_eq!(summary["claims"], 3);
    assert_eq!(summary["checked"], 3);
    let bad: Vec<&str> = summary["bad_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad[0].starts_with("line 3: not JSON"), "{bad:?}");
    assert!(bad[1].starts_with("line 5: no claim"), "{bad:?}");
    assert!(
        bad[2].contains("line 4: id \"paris\" was used on line 2"),
        "{bad:?}"
    );
    let results = lines(&out);
    let label = |id: &str| {
        results.iter().find(|r| r["id"] == id).map(|r| {
            r["report"]["verdict"]["label"]
                .as_str()
                .unwrap()
                .to_string()
        })
    };
    assert_eq!(label("berlin").as_deref(), Some("refuted"));
    assert_eq!(label("paris").as_deref(), Some("supported"));
    assert!(label("einstein").is_some());
    assert_eq!(results.len(), 3);

    // Again: nothing new to do.
    let (_, summary) = batch(d, &[claims.to_str().unwrap(), "--out", out_arg]);
    assert_eq!(
        (
            summary["checked"].as_u64(),
            summary["already_done"].as_u64()
        ),
        (Some(0), Some(3))
    );
    assert_eq!(lines(&out).len(), 3);

    // A crash left half a line; a claim was added: the half line goes, the new claim is done.
    let mut text = std::fs::read_to_string(&out).unwrap();
    text.push_str("{\"id\": \"half");
    std::fs::write(&out, text).unwrap();
    let more = d.join("more.jsonl");
    std::fs::write(
        &more,
        std::fs::read_to_string(&claims).unwrap()
            + "{\"id\": \"built\", \"claim\": \"Was the Eiffel Tower built in 1889?\"}\n",
    )
    .unwrap();
    let (_, summary) = batch(d, &[more.to_str().unwrap(), "--out", out_arg]);
    assert_eq!(
        (
            summary["checked"].as_u64(),
            summary["already_done"].as_u64()
        ),
        (Some(1), Some(3))
    );
    let results = lines(&out);
    assert_eq!(results.len(), 4);
    assert_eq!(results[3]["id"], "built");
}

#[test]
fn csv_claims_with_verdicts_only() {
    let data = data_dir_with_facts();
    let d = data.path();
    let claims = d.join("claims.csv");
    std::fs::write(
        &claims,
        "speaker,claim\n\
         someone,\"The Eiffel Tower, in Berlin, is a tower.\"\n\
         someone else,Einstein developed the theory of relativity.\n",
    )
    .unwrap();
    let out = d.join("verdicts.jsonl");
    let (status, summary) = batch(
        d,
        &[
            claims.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--verify-only",
        ],
    );
    assert_eq!(status, Some(0), "{summary:#}");
    let results = lines(&out);
    assert_eq!(results.len(), 2);
    for r in &results {
        assert_eq!(
            r["id"].as_str().unwrap().len(),
            16,
            "an id derived from the text"
        );
        assert!(r["verification"]["verdict"]["label"].is_string(), "{r:#}");
        assert!(r.get("report").is_none());
    }
    // The quoted comma stays inside the claim. Lines are written as checks finish, so their
    // order is not the input's.
    let mut claims: Vec<&str> = results
        .iter()
        .map(|r| r["claim"].as_str().unwrap())
        .collect();
    claims.sort_unstable();
    assert_eq!(
        claims,
        [
            "Einstein developed the theory of relativity.",
            "The Eiffel Tower, in Berlin, is a tower."
        ]
    );
}

/// Ctrl-C in the middle: the file holds whole lines only, the command says it was
/// interrupted, and running it again completes the rest.
#[test]
fn ctrl_c_leaves_a_valid_file_that_the_next_run_completes() {
    let data = data_dir_with_facts();
    let d = data.path();
    let claims = d.join("many.jsonl");
    let text: String = (0..40)
        .map(|i| {
            format!(
                "{{\"id\": \"c{i}\", \"claim\": \"The Eiffel Tower was finished in {}.\"}}\n",
                1850 + i
            )
        })
        .collect();
    std::fs::write(&claims, text).unwrap();
    let out = d.join("results.jsonl");
    let mut child = factually(d)
        .args(["batch", "--kb", "facts", "--jobs", "1"])
        .arg(&claims)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::read_to_string(&out).map_or(0, |t| t.lines().count()) < 2 {
        assert!(Instant::now() < deadline, "no results after two minutes");
        assert!(
            child.try_wait().unwrap().is_none(),
            "it finished before Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let status = child.wait_with_output().unwrap();
    assert_eq!(status.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&status.stdout).contains("interrupted"));
    let done = lines(&out).len();
    assert!((2..40).contains(&done), "{done} of 40 done before Ctrl-C");
    assert!(std::fs::read_to_string(&out).unwrap().ends_with('\n'));

    let (status, summary) = batch(
        d,
        &[claims.to_str().unwrap(), "--out", out.to_str().unwrap()],
    );
    assert_eq!(status, Some(0), "{summary:#}");
    assert_eq!(summary["already_done"].as_u64(), Some(done as u64));
    let results = lines(&out);
    assert_eq!(results.len(), 40);
    let mut ids: Vec<&str> = results.iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40, "no claim twice");
}
