//! The `factually` binary end to end: exit codes, formats, ingest, search, byte-exact `kb show`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn factually(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_factually"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Runs a command and checks its exit status; returns stdout.
fn check(data: &Path, args: &[&str], status: i32) -> String {
    let out = factually(data, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(status),
        "factually {args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stdout
}

fn json(data: &Path, args: &[&str], status: i32) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    serde_json::from_str(&check(data, &a, status)).expect("one JSON document on stdout")
}

#[test]
fn ingest_search_and_show_round_trip() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let dir = fixtures().join("articles");
    let dir = dir.to_str().unwrap();

    // Two bad files (binary, empty) and one bad JSONL line: reported, the rest added, exit 3.
    let added = json(d, &["kb", "add", "--kb", "t", dir], 3);
    assert_eq!(added["added"], 4, "{added}");
    assert_eq!(added["failed"].as_array().unwrap().len(), 2, "{added}");
    assert!(added["warnings"].to_string().contains("line 3"), "{added}");

    // Idempotent.
    let again = json(d, &["kb", "add", "--kb", "t", dir], 3);
    assert_eq!(
        (again["added"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(4)),
        "{again}"
    );

    let stats = json(d, &["kb", "stats", "--kb", "t"], 0);
    assert_eq!(stats["documents"], 4);
    assert_eq!(stats["vectors"], stats["passages"]);

    for (query, title) in [
        ("who designed the Eiffel Tower", "The Eiffel Tower"),
        (
            "is the great wall visible from the moon",
            "The Great Wall and the Moon",
        ),
        (
            "how effective is the measles vaccine",
            "Measles vaccination",
        ),
    ] {
        let res = json(d, &["search", query, "--kb", "t", "-k", "3"], 0);
        let hits = res["hits"].as_array().unwrap();
        assert_eq!(hits[0]["title"], title, "{query}: {res}");
        for h in hits {
            let id = h["doc_id"].as_str().unwrap();
            let shown = factually(d, &["kb", "show", id]).stdout;
            let (s, e) = (
                h["start"].as_u64().unwrap() as usize,
                h["end"].as_u64().unwrap() as usize,
            );
            assert_eq!(
                &shown[s..e],
                h["text"].as_str().unwrap().as_bytes(),
                "offsets into `kb show` output"
            );
        }
    }

    // `kb show` is byte for byte what the file held (after CRLF normalisation, none here).
    let res = json(
        d,
        &[
            "search",
            "naked eye Moon",
            "--kb",
            "t",
            "-k",
            "1",
            "--mode",
            "bm25",
        ],
        0,
    );
    let id = res["hits"][0]["doc_id"].as_str().unwrap().to_string();
    let shown = factually(d, &["kb", "show", &id]).stdout;
    let original = std::fs::read(fixtures().join("articles/great-wall.txt")).unwrap();
    assert_eq!(shown, original);
    let meta = json(d, &["kb", "show", &id], 0);
    assert_eq!(meta["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(meta["kb"], "t");
}

#[test]
fn bad_input_gets_a_clear_message_and_exit_status() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    check(
        d,
        &[
            "kb",
            "add",
            "--kb",
            "t",
            "--no-dense",
            fixtures().join("articles/eiffel.md").to_str().unwrap(),
        ],
        0,
    );
    for (args, status, message) in [
        (vec!["search", "   ", "--kb", "t"], 2, "empty query"),
        (
            vec!["search", "x", "--kb", "Bad Name"],
            2,
            "invalid knowledge base name",
        ),
        (
            vec!["search", "x", "--kb", "missing"],
            1,
            "no knowledge base named",
        ),
        (vec!["kb", "show", "not-an-id"], 2, "not a document id"),
        (
            vec!["kb", "show", "0123456789abcdef", "--kb", "t"],
            1,
            "no document",
        ),
        (
            vec!["kb", "add", "--kb", "t", "/nonexistent/file.txt"],
            1,
            "/nonexistent/file.txt",
        ),
        (vec!["search", "x", "--kb", "t", "-k", "0"], 2, "-k must be"),
    ] {
        let out = factually(d, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
    // The longest argument Linux allows (128 KiB) is a valid, if silly, query.
    let long = "Eiffel ".repeat(18_000);
    check(d, &["search", &long, "--kb", "t", "-k", "1"], 0);
    // Over 1 MiB (only possible on standard input) is refused, as is non-UTF-8 input.
    for (input, message) in [
        (vec![b'a'; (1 << 20) + 1], "limited to"),
        (vec![0xff, 0xfe, b'x'], "not valid UTF-8"),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_factually"))
            .arg("--data-dir")
            .arg(d)
            .args(["search", "-", "--kb", "t"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), &input).ok();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(message));
    }
}

#[test]
fn a_killed_ingest_leaves_the_previous_index_readable() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    check(
        d,
        &[
            "kb",
            "add",
            "--kb",
            "t",
            fixtures().join("articles/eiffel.md").to_str().unwrap(),
        ],
        0,
    );
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/check-covid/corpus.jsonl");
    assert!(corpus.exists(), "shared data at {}", corpus.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_factually"))
        .arg("--data-dir")
        .arg(d)
        .args(["kb", "add", "--kb", "t"])
        .arg(&corpus)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let stats = json(d, &["kb", "stats", "--kb", "t"], 0);
    assert_eq!(stats["documents"], 1, "{stats}");
    assert_eq!(stats["vectors"], stats["passages"], "{stats}");
    let res = json(d, &["search", "Gustave Eiffel", "--kb", "t"], 0);
    assert_eq!(res["hits"][0]["title"], "The Eiffel Tower");
}

/// The README's first command: on a fresh data dir the default KB (10,033 Wikipedia
/// summaries) is built on first use and answers an encyclopedia question.
#[test]
fn the_default_knowledge_base_is_built_on_first_use() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let res = json(
        d,
        &["search", "who designed the Eiffel Tower", "-k", "5"],
        0,
    );
    let hits = res["hits"].as_array().unwrap();
    assert_eq!(hits[0]["title"], "Eiffel Tower", "{res}");
    assert!(hits[0]["text"].as_str().unwrap().contains("Gustave Eiffel"));
    let stats = json(d, &["kb", "stats"], 0);
    assert_eq!(stats["documents"], 10_033, "{stats}");
    assert_eq!(
        stats["vectors"], 10_033,
        "one heading vector per article: {stats}"
    );
    // Wikipedia provenance is kept for attribution.
    let shown = json(d, &["kb", "show", hits[0]["doc_id"].as_str().unwrap()], 0);
    assert_eq!(shown["url"], "https://en.wikipedia.org/wiki/Eiffel_Tower");
    assert_eq!(shown["publisher"], "Wikipedia");
}
