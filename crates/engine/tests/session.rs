//! A check session over a small knowledge base: the time budget stops verification with an
//! honest partial report, a cancelled check stops, and errors classify themselves.

use std::time::Duration;

use factually_assets::AssetCache;
use factually_core::{Document, NewDocument};
use factually_engine::{
    CancellationToken, CheckError, CheckRequest, CheckSession, Settings, StanceChoice, WebConfig,
};
use factually_kb::{DataDir, DenseScope, KbConfig, KbName, KnowledgeBase};
use factually_report::Progress;

const NOW: &str = "2026-12-06T00:00:00Z";

fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let kb = KnowledgeBase::create(
        &data.kb_dir(&KbName::parse("facts").unwrap()),
        KbConfig::new(DenseScope::None, None, NOW.into()),
    )
    .unwrap();
    let docs = [
        ("Albert Einstein", "Albert Einstein was a theoretical physicist. He excelled at mathematics from a young age and never failed it."),
        ("Immigration enforcement", "Immigration and Customs Enforcement officers are federal employees. Their performance reviews follow federal personnel rules."),
    ]
    .into_iter()
    .map(|(title, text)| {
        Document::new(
            NewDocument {
                title: title.into(),
                text: text.into(),
                origin: format!("test:{title}"),
                ..NewDocument::default()
            },
            NOW.into(),
        )
    })
    .collect();
    let mut writer = kb.writer().unwrap();
    writer.add(docs, None, |_| {}).unwrap();
    writer.commit().unwrap();
    dir
}

fn session(dir: &tempfile::TempDir, budget: Option<Duration>) -> CheckSession {
    CheckSession::new(Settings {
        data: DataDir::new(dir.path()),
        cache: AssetCache::from_env(),
        kb: KbName::parse("facts").unwrap(),
        search_kb: true,
        search_web: false,
        documents: 5,
        stance: StanceChoice::Bundled,
        embedder: Default::default(),
        judge_model: None,
        llm: None,
        web: WebConfig::default(),
        allow_private_hosts: false,
        max_pages: 1,
        check_budget: budget,
        build_progress: None,
    })
    .unwrap()
}

const QUESTION: &str =
    "What are the consequences for ICE agents who fail to meet deportation quotas?";

fn budget_warning(report: &factually_report::Report) -> Option<&String> {
    report
        .warnings
        .iter()
        .find(|w| w.contains("time budget ran out"))
}

#[test]
fn a_spent_time_budget_gives_a_partial_report_that_says_so() {
    let dir = data_dir();
    let request = CheckRequest {
        input: QUESTION,
        checked_on: "2026-12-06",
        urls: &[],
        cancel: None,
    };
    let whole = session(&dir, None).check(&request, &|_| {}).unwrap();
    assert_eq!(budget_warning(&whole), None);
    let checked = whole.presuppositions.len();
    assert!(checked >= 2, "the question carries several assumptions");

    let partial = session(&dir, Some(Duration::ZERO))
        .check(&request, &|_| {})
        .unwrap();
    let warning = budget_warning(&partial).expect("the report says the budget ran out");
    assert!(warning.contains("were not checked"), "{warning}");
    assert_eq!(
        partial.presuppositions.len(),
        checked,
        "every assumption is still listed"
    );
}

#[test]
fn a_missing_knowledge_base_is_not_worth_a_retry_and_bad_input_is_input() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(&dir, None);
    let request = |input| CheckRequest {
        input,
        checked_on: "2026-12-06",
        urls: &[],
        cancel: None,
    };
    let missing = s.check(&request("Is the sky blue?"), &|_| {}).unwrap_err();
    assert!(!missing.is_input() && !missing.is_retryable(), "{missing}");
    let empty = s.check(&request("   "), &|_| {}).unwrap_err();
    assert!(empty.is_input() && !empty.is_retryable(), "{empty}");
}

#[test]
fn a_cancelled_check_stops_between_steps() {
    let dir = data_dir();
    let s = session(&dir, None);
    let cancel = CancellationToken::new();
    let request = CheckRequest {
        input: QUESTION,
        checked_on: "2026-12-06",
        urls: &[],
        cancel: Some(&cancel),
    };
    // Cancelled while the first of several statements and assumptions is being checked: the
    // next one is not started.
    let checking = std::sync::atomic::AtomicUsize::new(0);
    let stopped = s
        .check(&request, &|p| {
            if matches!(p, Progress::Checking { .. }) {
                checking.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                cancel.cancel();
            }
        })
        .unwrap_err();
    assert!(matches!(stopped, CheckError::Cancelled), "{stopped}");
    assert!(!stopped.is_input() && !stopped.is_retryable());
    assert_eq!(checking.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Cancelled before it starts: nothing runs.
    let again = s.check(&request, &|_| panic!("no step runs")).unwrap_err();
    assert!(matches!(again, CheckError::Cancelled), "{again}");
}
