//! `factually claims`, `train checkworthy` and `eval checkworthy` end to end.

mod common;

use std::path::{Path, PathBuf};

use common::fixtures;
use serde_json::{json, Value};

/// Runs a command, checks its exit status, returns (stdout, stderr).
fn check(data: &Path, args: &[&str], stdin: Option<&[u8]>, status: i32) -> (String, String) {
    common::run_expecting(data, args, stdin, status)
}

fn claims_json(data: &Path, args: &[&str], stdin: Option<&[u8]>) -> Value {
    let mut all = vec!["--format", "json", "claims"];
    all.extend(args);
    serde_json::from_str(&check(data, &all, stdin, 0).0).expect("one JSON document")
}

#[test]
fn claims_ranks_the_checkable_sentences_of_a_speech_with_their_spans() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let path = fixtures().join("claims/speech.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let out = claims_json(d, &[path.to_str().unwrap()], None);
    let claims = out["claims"].as_array().unwrap();
    let sentence_of = |c: &Value| c["sentence"].as_str().unwrap().to_string();
    let found: Vec<String> = claims.iter().map(sentence_of).collect();
    // Every claim is its sentence, byte for byte, at its span; ranks follow scores.
    for (i, c) in claims.iter().enumerate() {
        let (s, e) = (
            c["start"].as_u64().unwrap() as usize,
            c["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(text[s..e], sentence_of(c));
        assert_eq!(c["rank"], i + 1);
        if i > 0 {
            assert!(c["score"].as_f64() <= claims[i - 1]["score"].as_f64());
        }
    }
    // The figures are claims; thanks, opinions, promises and questions are not.
    for want in ["Unemployment", "She cut the state income tax"] {
        assert!(
            found.iter().any(|f| f.starts_with(want)),
            "{want}: {found:#?}"
        );
    }
    for not in [
        "Thank you all",
        "I think that was",
        "What do you want",
        "I believe we can",
    ] {
        assert!(
            !found.iter().any(|f| f.starts_with(not)),
            "{not}: {found:#?}"
        );
    }
    // "She" stands alone as the governor; the sentence keeps its own words.
    let tax = claims
        .iter()
        .find(|c| sentence_of(c).starts_with("She cut"))
        .unwrap();
    assert!(
        tax["claim"]
            .as_str()
            .unwrap()
            .starts_with("Governor Jane Miller cut the state income tax"),
        "{tax}"
    );
    // The repeated unemployment figure is one claim, found twice.
    let unemployment: Vec<&Value> = claims
        .iter()
        .filter(|c| c["claim"].as_str().unwrap().contains("3.8%"))
        .collect();
    assert_eq!(unemployment.len(), 1, "{unemployment:#?}");
    // Either saying can stand for the pair (the higher-scoring one does); the other is
    // `also_at`.
    let span = |v: &Value| [0, 1].map(|i| v[i].as_u64().unwrap() as usize);
    let u = unemployment[0];
    let mut sayings: Vec<&str> = [span(&json!([u["start"], u["end"]])), span(&u["also_at"][0])]
        .iter()
        .map(|[s, e]| &text[*s..*e])
        .collect();
    sayings.sort();
    assert_eq!(
        sayings,
        [
            "Unemployment fell from 7.2% in 2019 to 3.8% in 2023, the lowest rate since 1976.",
            "Unemployment in the state fell from 7.2% in 2019 to 3.8% in 2023, the lowest rate since 1976.",
        ]
    );

    // --top; standard input gives the same claims as the file.
    let top = claims_json(d, &["--top", "1", path.to_str().unwrap()], None);
    assert_eq!(top["claims"].as_array().unwrap().len(), 1);
    assert_eq!(top["claims_found"], out["claims_found"]);
    let piped = claims_json(d, &["-"], Some(text.as_bytes()));
    assert_eq!(piped["claims"], out["claims"]);
    let (plain, _) = check(d, &["claims", path.to_str().unwrap()], None, 0);
    assert!(plain.contains("check-worthy claims in"), "{plain}");
    assert!(plain.contains("as written: She cut"), "{plain}");
}

#[test]
fn claims_refuses_empty_binary_and_many_record_inputs_clearly() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let articles = fixtures().join("articles");
    for (args, stdin, message) in [
        (vec![articles.join("empty.txt")], None, "no text"),
        (vec![articles.join("blob.txt")], None, "blob.txt"),
        (vec![articles.join("vaccines.jsonl")], None, "many records"),
        (
            vec![PathBuf::from("/nonexistent/speech.txt")],
            None,
            "/nonexistent/speech.txt",
        ),
        (vec![PathBuf::from("-")], Some(&b"   \n"[..]), "no text"),
        (
            vec![PathBuf::from("-")],
            Some(&b"\xff\xfe\x00binary"[..]),
            "not UTF-8",
        ),
    ] {
        let args: Vec<&str> = std::iter::once("claims")
            .chain(args.iter().map(|p| p.to_str().unwrap()))
            .collect();
        let (_, stderr) = check(d, &args, stdin, 2);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let speech = fixtures().join("claims/speech.txt");
    let (_, stderr) = check(
        d,
        &["claims", "--threshold", "1.5", speech.to_str().unwrap()],
        None,
        2,
    );
    assert!(stderr.contains("--threshold"), "{stderr}");
    let broken = d.join("broken.json");
    std::fs::write(&broken, "{\"embedder\": 1}").unwrap();
    let (_, stderr) = check(
        d,
        &[
            "claims",
            "--model",
            broken.to_str().unwrap(),
            speech.to_str().unwrap(),
        ],
        None,
        2,
    );
    assert!(stderr.contains("broken.json"), "{stderr}");
}

#[test]
fn a_checkworthiness_model_is_trained_evaluated_and_used() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let labelled = fixtures().join("claims/claimbuster.json");
    let labelled = labelled.to_str().unwrap();
    let model = d.join("checkworthy.safetensors");
    let model_path = model.to_str().unwrap();
    let train_args = |settings: &[&'static str]| -> Vec<&str> {
        let mut args = vec![
            "--format",
            "json",
            "train",
            "checkworthy",
            "--claimbuster",
            labelled,
            "--out",
            model_path,
        ];
        args.extend(settings);
        args
    };
    // A short run: three of the four layers frozen, two epochs of 16 sentences.
    let train = || {
        let args = train_args(&[
            "--frozen-layers",
            "3",
            "--epochs",
            "2",
            "--batch-size",
            "4",
            "--max-tokens",
            "48",
        ]);
        let training: Value = serde_json::from_str(&check(d, &args, None, 0).0).unwrap();
        training
    };
    // A depth the base model does not have, or no layer left to train, is refused.
    for (settings, message) in [
        (["--layers", "7"], "the base model has 6 layers, not 7"),
        (
            ["--frozen-layers", "4"],
            "at least one layer must be trainable: 4 frozen of 4",
        ),
    ] {
        let (_, stderr) = check(d, &train_args(&settings), None, 1);
        assert!(stderr.contains(message), "{stderr}");
    }
    let first = train();
    assert_eq!(first["train_sentences"], 16);
    assert_eq!(first["held_out"]["n"], 4);
    let description = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(d.join(name)).unwrap()).unwrap()
    };
    let meta = description("checkworthy.json");
    assert_eq!(meta["classifier"]["frozen_layers"], 3);
    // The bundled classifier's depth: the base model's lower four layers.
    assert_eq!(meta["classifier"]["layers"], 4);
    assert_eq!(meta["training"]["held_out"], first["held_out"]);
    let threshold = meta["threshold"].as_f64().unwrap();
    assert!((0.05..=0.95).contains(&threshold), "{threshold}");
    assert!(
        !d.join("checkworthy.checkpoint").exists(),
        "a finished run leaves no checkpoint"
    );
    // Training is deterministic: the same data and settings give the same weights.
    train();
    assert_eq!(
        description("checkworthy.json")["classifier"]["weights_sha256"],
        meta["classifier"]["weights_sha256"]
    );

    let eval: Value = serde_json::from_str(
        &check(
            d,
            &[
                "--format",
                "json",
                "eval",
                "checkworthy",
                "--claims",
                labelled,
                "--checkworthy-model",
                model.to_str().unwrap(),
            ],
            None,
            0,
        )
        .0,
    )
    .unwrap();
    assert_eq!(eval["held_out_balanced"]["n"], 4);
    assert_eq!(eval["held_out_balanced"], first["held_out"]);
    assert_eq!(eval["all_sentences"]["n"], 20);

    let speech = fixtures().join("claims/speech.txt");
    let out = claims_json(
        d,
        &["--model", model.to_str().unwrap(), speech.to_str().unwrap()],
        None,
    );
    assert!(out["claims"].as_array().is_some());

    // A malformed data file names the record.
    let bad = d.join("bad.json");
    std::fs::write(&bad, r#"[{"sentence_id": 1, "label": 7, "text": "x"}]"#).unwrap();
    let (_, stderr) = check(
        d,
        &[
            "train",
            "checkworthy",
            "--claimbuster",
            bad.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
        ],
        None,
        2,
    );
    assert!(stderr.contains("record 1"), "{stderr}");
}
