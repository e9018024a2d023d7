//! Training through the public API with the real base model: an interrupted run resumes from
//! its checkpoint, and a checkpoint of another run is refused.

use std::path::Path;
use std::sync::Mutex;

use factually_assets::AssetCache;
use factually_core::Stance;
use factually_stance::train::{train, Checkpoints, TrainConfig, TrainEvent, TrainPair};
use factually_stance::StanceModel;

fn pairs() -> Vec<TrainPair> {
    let facts = [
        ("Paris", "France"),
        ("Berlin", "Germany"),
        ("Madrid", "Spain"),
        ("Rome", "Italy"),
        ("Lisbon", "Portugal"),
        ("Vienna", "Austria"),
        ("Warsaw", "Poland"),
        ("Athens", "Greece"),
    ];
    let mut out = Vec::new();
    for (i, (city, country)) in facts.iter().enumerate() {
        let other = facts[(i + 1) % facts.len()].1;
        let evidence = format!("{city} is the capital and largest city of {country}.");
        for (claim, label) in [
            (
                format!("{city} is the capital of {country}."),
                Stance::Support,
            ),
            (format!("{city} is the capital of {other}."), Stance::Refute),
            (
                format!("{city} has a famous football club."),
                Stance::Neutral,
            ),
        ] {
            out.push(TrainPair {
                claim,
                evidence: evidence.clone(),
                label,
                source: "test".into(),
            });
        }
    }
    out
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 2,
        batch_size: 4,
        frozen_layers: 4,
        max_tokens: 48,
        held_out: 0.2,
        ..TrainConfig::default()
    }
}

/// Trains into `dir`, copying the checkpoint directory aside when `copy_at` (epoch, step) is
/// reached; returns the events seen.
fn run(
    cache: &AssetCache,
    out: &Path,
    checkpoints: &Checkpoints,
    copy_to: Option<(&Path, usize, usize)>,
) -> Result<Vec<String>, factually_stance::StanceError> {
    let events = Mutex::new(Vec::new());
    train(cache, pairs(), &config(), out, Some(checkpoints), &|e| {
        let line = match e {
            TrainEvent::Resumed { epoch, step } => format!("resumed {epoch} {step}"),
            TrainEvent::Step { epoch, step, .. } => {
                if let Some((to, e, s)) = copy_to {
                    if (epoch, step) == (e, s) {
                        copy_dir(&checkpoints.dir, to);
                    }
                }
                format!("step {epoch} {step}")
            }
            TrainEvent::EpochDone { epoch, .. } => format!("epoch {epoch}"),
            TrainEvent::Caching { .. } => return,
        };
        events.lock().unwrap().push(line);
    })?;
    Ok(events.into_inner().unwrap())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn an_interrupted_run_resumes_from_its_checkpoint() {
    let cache = AssetCache::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("stance.safetensors");
    let checkpoints = Checkpoints {
        dir: tmp.path().join("ckpt"),
        every: 2,
    };
    let saved = tmp.path().join("saved");
    // 19 training pairs in batches of 4: 5 steps per epoch. The checkpoint written at step 6
    // (epoch 1, after its first batch) is copied aside, as if the process were killed there.
    let first = run(&cache, &out, &checkpoints, Some((&saved, 1, 2))).unwrap();
    assert_eq!(first.iter().filter(|l| l.starts_with("step")).count(), 10);
    assert!(
        !checkpoints.dir.exists(),
        "a finished run removes its checkpoint directory"
    );
    StanceModel::from_file(&cache, &out).expect("the artifact loads");

    copy_dir(&saved, &checkpoints.dir);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(checkpoints.dir.join("checkpoint.json")).unwrap())
            .unwrap();
    assert_eq!(
        (state["epoch"].as_u64(), state["step_in_epoch"].as_u64()),
        (Some(1), Some(1))
    );
    let second = run(&cache, &out, &checkpoints, None).unwrap();
    assert_eq!(second[0], "resumed 1 1");
    let steps: Vec<&String> = second.iter().filter(|l| l.starts_with("step")).collect();
    assert_eq!(steps.first().map(|s| s.as_str()), Some("step 1 2"));
    assert_eq!(
        steps.len(),
        4,
        "only the rest of epoch 1 is trained: {second:?}"
    );
    let meta = StanceModel::from_file(&cache, &out).unwrap().meta().clone();
    assert_eq!(meta.training["resumed"], 1);
    assert_eq!(meta.training["epoch_losses"].as_array().unwrap().len(), 2);
}

#[test]
fn a_checkpoint_of_another_run_is_refused() {
    let cache = AssetCache::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("stance.safetensors");
    let checkpoints = Checkpoints {
        dir: tmp.path().join("ckpt"),
        every: 1,
    };
    let saved = tmp.path().join("saved");
    run(&cache, &out, &checkpoints, Some((&saved, 0, 2))).unwrap();
    copy_dir(&saved, &checkpoints.dir);
    let mut other = pairs();
    other.pop();
    let err = train(&cache, other, &config(), &out, Some(&checkpoints), &|_| {}).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("other data or settings") && message.contains("ckpt"),
        "{message}"
    );
    assert!(
        checkpoints.dir.join("checkpoint.json").exists(),
        "the other run's checkpoint is left alone"
    );
}

#[test]
fn examples_must_carry_one_of_the_tasks_labels() {
    use factually_stance::train::{fine_tune, Example};
    use factually_stance::Task;
    const TWO: Task = Task {
        head: "test_head",
        labels: &["no", "yes"],
    };
    let tmp = tempfile::tempdir().unwrap();
    let examples: Vec<Example> = (0..12)
        .map(|i| Example {
            first: format!("Sentence number {i}."),
            second: String::new(),
            label: if i == 5 { 2 } else { i % 2 },
            source: "test".into(),
        })
        .collect();
    let err = fine_tune(
        &AssetCache::from_env(),
        examples,
        TWO,
        &config(),
        &tmp.path().join("out.safetensors"),
        None,
        &|_| {},
    )
    .err()
    .expect("a third label in a two-label task is refused")
    .to_string();
    assert!(err.contains("label 2"), "{err}");
    assert!(!tmp.path().join("out.safetensors").exists());
}
