//! The store, on both backends: every test runs once on SQLite and once on PostgreSQL (a
//! throw-away cluster; skipped with a note when PostgreSQL is not installed, a failure with
//! `FACTUALLY_REQUIRE_POSTGRES=1`). The queue's guarantees (a crashed worker's job is taken
//! again, a stale worker cannot write, retries end, concurrent claims never share a check),
//! repeated questions, re-checks, search, donations and schema versions.

use std::time::Duration;

use factually_store::test_cluster::TempPostgres;
use factually_store::{
    Donation, EventKind, FinishedReport, Job, NewCheck, PgStore, SourceRow, SourceText,
    SqliteStore, Status, Store, StoreError, MAX_ATTEMPTS,
};

/// A store to test, and how to open its database again.
struct Backend {
    store: Box<dyn Store>,
    /// The SQLite file's directory, kept alive with the store.
    _dir: Option<tempfile::TempDir>,
    url: String,
}

impl Backend {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("factually.db").display().to_string();
        Self {
            store: Box::new(SqliteStore::open(std::path::Path::new(&url)).await.unwrap()),
            _dir: Some(dir),
            url,
        }
    }

    async fn postgres() -> Option<Self> {
        let url = TempPostgres::shared()?.new_database().await;
        Some(Self {
            store: Box::new(PgStore::connect(&url).await.unwrap()),
            _dir: None,
            url,
        })
    }

    async fn try_reopen(&self) -> Result<Box<dyn Store>, StoreError> {
        factually_store::open(&self.url).await
    }

    async fn reopen(&self) -> Box<dyn Store> {
        self.try_reopen().await.unwrap()
    }

    /// Records a migration this build does not know, as a newer factually would.
    async fn pretend_newer_schema(&self) {
        let sql = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                   VALUES (9999, 'from the future', TRUE, 'x', 0)";
        if self.url.starts_with("postgres://") {
            use sqlx::Connection as _;
            let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
            sqlx::query(&sql.replace("'x'", "'\\x00'::bytea"))
                .execute(&mut c)
                .await
                .unwrap();
        } else {
            use sqlx::Connection as _;
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", self.url))
                .await
                .unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

fn new(input: &str, reuse_since: Option<&str>) -> NewCheck {
    NewCheck {
        input: input.into(),
        input_key: input.to_lowercase(),
        topic: "science".into(),
        slug: input.to_lowercase().replace(' ', "-"),
        reuse_since: reuse_since.map(str::to_string),
        kb: None,
        document: None,
    }
}

fn finished(summary: &str) -> FinishedReport {
    FinishedReport {
        json: format!("{{\"summary\":{summary:?}}}"),
        label: "refuted".into(),
        rating: 1,
        summary: summary.into(),
        sources: vec![SourceRow {
            n: 1,
            doc_id: "0123456789abcdef".into(),
            kb: "default".into(),
            title: "Albert Einstein".into(),
            url: None,
        }],
        texts: vec![SourceText {
            kb: "default".into(),
            doc_id: "0123456789abcdef".into(),
            title: "Albert Einstein".into(),
            text: format!("Albert Einstein was a physicist. {summary}"),
        }],
    }
}

const LEASE: Duration = Duration::from_secs(30);

async fn a_check_runs_through_the_queue_once(b: Backend) {
    let s = &*b.store;
    let submitted = s
        .submit(new("Why did Einstein fail math", None))
        .await
        .unwrap();
    assert!(!submitted.existing);
    let id = submitted.check.id.clone();
    assert_eq!(id.len(), 6);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(submitted.check.status, Status::Queued);

    let job = s.claim("w1", LEASE).await.unwrap().expect("a job");
    assert_eq!(
        (job.check_id.as_str(), job.run, job.attempt),
        (id.as_str(), 1, 1)
    );
    assert_eq!(
        s.claim("w2", LEASE).await.unwrap(),
        None,
        "a leased job is not taken twice"
    );
    assert_eq!(s.check(&id).await.unwrap().unwrap().status, Status::Running);

    let e1 = s
        .event(&job, EventKind::Progress, "{\"step\":1}")
        .await
        .unwrap();
    let e2 = s
        .event(&job, EventKind::Progress, "{\"step\":2}")
        .await
        .unwrap();
    assert!(e2 > e1);
    s.complete(&job, finished("He did not fail."))
        .await
        .unwrap();

    let check = s.check(&id).await.unwrap().unwrap();
    assert_eq!(check.status, Status::Done);
    let report = s.report(&id, None).await.unwrap().unwrap();
    assert_eq!(
        (report.version, report.json.as_str()),
        (1, "{\"summary\":\"He did not fail.\"}")
    );
    assert_eq!(
        s.source_text("default", "0123456789abcdef").await.unwrap(),
        Some((
            "Albert Einstein".to_string(),
            "Albert Einstein was a physicist. He did not fail.".to_string()
        )),
        "the cited source's text is stored with the report"
    );
    assert_eq!(
        s.source_text("web", "0123456789abcdef").await.unwrap(),
        None
    );
    let events = s.events_after(&id, e1).await.unwrap();
    let after: Vec<_> = events.iter().map(|e| (e.kind, e.data.as_str())).collect();
    assert_eq!(
        after,
        [
            (EventKind::Progress, "{\"step\":2}"),
            (EventKind::Done, "{\"status\":\"done\"}")
        ],
        "completing stores the done event with the report"
    );
    assert_eq!(events[0].id, e2);
    assert_eq!(s.claim("w1", LEASE).await.unwrap(), None);
}

async fn a_dead_workers_job_is_taken_again_and_the_stale_worker_cannot_write(b: Backend) {
    let s = &*b.store;
    let id = s.submit(new("q", None)).await.unwrap().check.id;
    let dead = s.claim("dead", Duration::ZERO).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let alive = s
        .claim("alive", LEASE)
        .await
        .unwrap()
        .expect("the expired lease is free");
    assert_eq!((alive.check_id.as_str(), alive.attempt), (id.as_str(), 2));

    for result in [
        s.complete(&dead, finished("stale")).await,
        s.renew(&dead, LEASE).await,
    ] {
        assert!(
            matches!(result, Err(StoreError::LeaseLost(_))),
            "{result:?}"
        );
    }
    s.renew(&alive, LEASE).await.unwrap();
    s.complete(&alive, finished("fresh")).await.unwrap();
    let report = s.report(&id, None).await.unwrap().unwrap();
    assert!(report.json.contains("fresh"));
    assert_eq!(
        s.report(&id, Some(2)).await.unwrap(),
        None,
        "one version, written once"
    );
}

async fn the_leases_of_a_dead_owner_can_be_ended_at_once(b: Backend) {
    let s = &*b.store;
    for q in ["a", "b", "c"] {
        s.submit(new(q, None)).await.unwrap();
    }
    let dead = [
        s.claim("dead", LEASE).await.unwrap().unwrap(),
        s.claim("dead", LEASE).await.unwrap().unwrap(),
    ];
    let alive = s.claim("alive", LEASE).await.unwrap().unwrap();
    assert_eq!(s.lease_owners().await.unwrap(), ["alive", "dead"]);
    assert_eq!(s.claim("new", LEASE).await.unwrap(), None, "all leased");

    assert_eq!(s.expire_leases("dead").await.unwrap(), 2);
    let mut taken = Vec::new();
    while let Some(job) = s.claim("new", LEASE).await.unwrap() {
        assert_eq!(job.attempt, 2);
        taken.push(job.check_id);
    }
    taken.sort();
    let mut expected: Vec<String> = dead.iter().map(|j| j.check_id.clone()).collect();
    expected.sort();
    assert_eq!(taken, expected, "only the dead owner's checks move");
    s.renew(&alive, LEASE).await.unwrap();
    assert!(matches!(
        s.renew(&dead[0], LEASE).await,
        Err(StoreError::LeaseLost(_))
    ));
    assert_eq!(s.lease_owners().await.unwrap(), ["alive", "new"]);
}

async fn interrupted_and_failing_runs_end_after_the_last_attempt(b: Backend) {
    let s = &*b.store;
    let crashing = s
        .submit(new("crashes the worker", None))
        .await
        .unwrap()
        .check
        .id;
    for attempt in 1..=MAX_ATTEMPTS {
        let job = s.claim("w", Duration::ZERO).await.unwrap().unwrap();
        assert_eq!(job.attempt, attempt);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(s.claim("w", LEASE).await.unwrap(), None);
    let check = s.check(&crashing).await.unwrap().unwrap();
    assert_eq!(check.status, Status::Failed);
    assert!(check.error.unwrap().contains("interrupted"));

    let failing = s.submit(new("fails", None)).await.unwrap().check.id;
    let mut statuses = Vec::new();
    while let Some(job) = s.claim("w", LEASE).await.unwrap() {
        statuses.push(s.fail(&job, "the model crashed", true).await.unwrap());
    }
    assert_eq!(statuses, [Status::Queued, Status::Queued, Status::Failed]);
    let check = s.check(&failing).await.unwrap().unwrap();
    assert_eq!(check.error.as_deref(), Some("the model crashed"));
    let kinds: Vec<EventKind> = s
        .events_after(&failing, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [EventKind::Retrying, EventKind::Retrying, EventKind::Failed],
        "each failed attempt's end is stored with it"
    );
}

async fn a_repeated_question_returns_the_recent_check_and_a_recheck_makes_a_new_version(
    b: Backend,
) {
    let s = &*b.store;
    let first = s
        .submit(new("Is the sky blue", Some("2000-01-01T00:00:00Z")))
        .await
        .unwrap();
    let again = s
        .submit(new("Is the sky blue", Some("2000-01-01T00:00:00Z")))
        .await
        .unwrap();
    assert!(again.existing);
    assert_eq!(again.check.id, first.check.id);
    let stale = s
        .submit(new("Is the sky blue", Some("2999-01-01T00:00:00Z")))
        .await
        .unwrap();
    assert!(!stale.existing, "an old check is not reused");
    let forced = s.submit(new("Is the sky blue", None)).await.unwrap();
    assert!(!forced.existing);

    let id = first.check.id;
    assert_eq!(
        s.recheck(&id).await.unwrap().run,
        1,
        "a queued check is not queued twice"
    );
    let job = s.claim("w", LEASE).await.unwrap().unwrap();
    s.complete(&job, finished("v1")).await.unwrap();
    let rechecked = s.recheck(&id).await.unwrap();
    assert_eq!((rechecked.status, rechecked.run), (Status::Queued, 2));
    // The two other checks were queued before the re-check (or in the same second): they may
    // come first.
    let job = loop {
        let job = s.claim("w", LEASE).await.unwrap().unwrap();
        if job.check_id == id {
            break job;
        }
        s.complete(&job, finished("other")).await.unwrap();
    };
    assert_eq!(
        (job.check_id.as_str(), job.run, job.attempt),
        (id.as_str(), 2, 1)
    );
    s.complete(&job, finished("v2")).await.unwrap();
    assert!(s
        .report(&id, Some(1))
        .await
        .unwrap()
        .unwrap()
        .json
        .contains("v1"));
    assert!(s
        .report(&id, None)
        .await
        .unwrap()
        .unwrap()
        .json
        .contains("v2"));
    assert!(matches!(
        s.recheck("ffffff").await,
        Err(StoreError::UnknownCheck(_))
    ));
}

async fn done(s: &dyn Store, input: &str, summary: &str) -> String {
    let id = s.submit(new(input, None)).await.unwrap().check.id;
    let job: Job = s.claim("w", LEASE).await.unwrap().unwrap();
    s.complete(&job, finished(summary)).await.unwrap();
    id
}

async fn the_archive_searches_questions_and_summaries(b: Backend) {
    let s = &*b.store;
    let einstein = done(
        s,
        "Why did Einstein fail math?",
        "He excelled at mathematics.",
    )
    .await;
    let wall = done(
        s,
        "Is the Great Wall visible from the Moon?",
        "It is not visible.",
    )
    .await;
    for (query, want) in [
        ("einstein", vec![&einstein]),
        ("mathematics", vec![&einstein]),
        ("visible moon", vec![&wall]),
        ("\"; DROP TABLE checks; --", vec![]),
        ("NEAR(", vec![]),
        ("", vec![]),
    ] {
        let found: Vec<String> = s
            .search(query, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(found, want, "search {query:?}");
    }
    let recent = s.recent(10).await.unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(s.status_counts().await.unwrap(), [(Status::Done, 2)]);
    assert_eq!(recent[0].label.as_deref(), Some("refuted"));
    assert_eq!(
        s.topics(10).await.unwrap(),
        vec![("science".to_string(), 2)]
    );
    assert_eq!(s.topic("science", 1).await.unwrap().len(), 1);
}

async fn a_replayed_donation_is_counted_once(b: Backend) {
    let s = &*b.store;
    let d = |id: &str, cents| Donation {
        event_id: id.into(),
        amount_cents: cents,
        currency: "usd".into(),
        at: "2026-11-01T00:00:00Z".into(),
    };
    assert!(s.record_donation(d("evt_1", 500)).await.unwrap());
    assert!(!s.record_donation(d("evt_1", 500)).await.unwrap());
    assert!(s.record_donation(d("evt_2", 250)).await.unwrap());
    assert_eq!(
        s.donations_since("2026-01-01T00:00:00Z").await.unwrap(),
        750
    );
    assert_eq!(s.donations_since("2027-01-01T00:00:00Z").await.unwrap(), 0);
}

async fn error_reports_need_a_check_and_name_the_version(b: Backend) {
    let s = &*b.store;
    let id = done(s, "q", "first").await;
    s.recheck(&id).await.unwrap();
    let job = s.claim("w", LEASE).await.unwrap().unwrap();
    s.complete(&job, finished("second")).await.unwrap();
    s.report_error(&id, Some(1), "source 2 is misquoted")
        .await
        .unwrap();
    s.report_error(&id, None, "the summary is wrong")
        .await
        .unwrap();
    assert!(matches!(
        s.report_error("000000", None, "x").await,
        Err(StoreError::UnknownCheck(_))
    ));
    let reports = s.error_reports(10).await.unwrap();
    let seen: Vec<(Option<u32>, &str)> = reports
        .iter()
        .map(|r| (r.version, r.message.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(2), "the summary is wrong"),
            (Some(1), "source 2 is misquoted")
        ],
        "newest first; without a version, the latest"
    );
    assert_eq!(
        (reports[0].check_id.as_str(), reports[0].input.as_str()),
        (id.as_str(), "q")
    );
}

async fn reopening_keeps_everything(b: Backend) {
    let id = done(&*b.store, "Is water wet?", "Yes.").await;
    let s = b.reopen().await;
    assert_eq!(s.check(&id).await.unwrap().unwrap().status, Status::Done);
    assert!(s.report(&id, None).await.unwrap().is_some());
}

async fn a_released_job_goes_back_to_the_queue_without_using_an_attempt(b: Backend) {
    let s = &*b.store;
    let id = s.submit(new("q", None)).await.unwrap().check.id;
    let job = s.claim("draining", LEASE).await.unwrap().unwrap();
    s.release(&job).await.unwrap();
    assert_eq!(s.check(&id).await.unwrap().unwrap().status, Status::Queued);
    assert!(matches!(
        s.complete(&job, finished("late")).await,
        Err(StoreError::LeaseLost(_))
    ));
    let again = s.claim("other", LEASE).await.unwrap().unwrap();
    assert_eq!((again.check_id.as_str(), again.attempt), (id.as_str(), 1));
    assert!(matches!(
        s.release(&job).await,
        Err(StoreError::LeaseLost(_))
    ));
}

async fn a_database_of_a_newer_schema_is_refused(b: Backend) {
    b.pretend_newer_schema().await;
    match b.try_reopen().await {
        Err(StoreError::NewerSchema { found: 9999, known }) => assert!(known >= 1),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

/// Many workers claiming at once each get a different check, and every check is taken once.
async fn concurrent_claims_take_each_check_once(b: Backend) {
    let s: std::sync::Arc<dyn Store> = b.store.into();
    for i in 0..40 {
        s.submit(new(&format!("question {i}"), None)).await.unwrap();
    }
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut taken = Vec::new();
                while let Some(job) = s.claim(&format!("w{w}"), LEASE).await.unwrap() {
                    s.complete(&job, finished("done")).await.unwrap();
                    taken.push(job.check_id);
                }
                taken
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!((n, all.len()), (40, 40));
}

/// A worker takes only checks that asked for its knowledge base (or for none); a check no
/// worker can run waits in the queue instead of being run on the wrong one.
async fn a_worker_takes_only_checks_for_its_knowledge_base(b: Backend) {
    let s = &*b.store;
    let for_kb = |input: &str, kb: Option<&str>| NewCheck {
        kb: kb.map(str::to_string),
        ..new(input, None)
    };
    let news = s.submit(for_kb("a", Some("news"))).await.unwrap().check.id;
    let default = s
        .submit(for_kb("b", Some("default")))
        .await
        .unwrap()
        .check
        .id;
    let any = s.submit(for_kb("c", None)).await.unwrap().check.id;
    let mut taken = Vec::new();
    while let Some(job) = s.claim_for("w", LEASE, Some("default")).await.unwrap() {
        taken.push(job.check_id);
    }
    assert_eq!(taken, [default, any]);
    assert_eq!(
        s.check(&news).await.unwrap().unwrap().status,
        Status::Queued
    );
    let job = s
        .claim_for("w", LEASE, Some("news"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.check_id, news);
}

/// A document check keeps what it was submitted with: the check record and the job a worker
/// claims carry it; a question's carries nothing.
async fn a_document_check_keeps_its_document_settings(b: Backend) {
    let s = &*b.store;
    let settings = r#"{"origin":"text","title":"Letters","max_claims":3}"#;
    let doc = s
        .submit(NewCheck {
            document: Some(settings.into()),
            ..new("A long article. It says things.", None)
        })
        .await
        .unwrap()
        .check;
    assert_eq!(doc.document.as_deref(), Some(settings));
    let question = s.submit(new("Is it true?", None)).await.unwrap().check;
    assert_eq!(question.document, None);
    let first = s.claim("w", LEASE).await.unwrap().unwrap();
    assert_eq!(first.check_id, doc.id);
    assert_eq!(first.document.as_deref(), Some(settings));
    assert_eq!(first.input, "A long article. It says things.");
    let second = s.claim("w", LEASE).await.unwrap().unwrap();
    assert_eq!(second.document, None);
    assert_eq!(
        s.check(&doc.id).await.unwrap().unwrap().document.as_deref(),
        Some(settings)
    );
}

/// Both backends, one test each: the same body runs on SQLite and on PostgreSQL.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name(super::Backend::sqlite().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(b) = super::Backend::postgres().await {
                    super::$name(b).await
                }
            }
        }
    )*};
}

on_both!(
    a_check_runs_through_the_queue_once,
    a_dead_workers_job_is_taken_again_and_the_stale_worker_cannot_write,
    the_leases_of_a_dead_owner_can_be_ended_at_once,
    interrupted_and_failing_runs_end_after_the_last_attempt,
    a_repeated_question_returns_the_recent_check_and_a_recheck_makes_a_new_version,
    the_archive_searches_questions_and_summaries,
    a_replayed_donation_is_counted_once,
    error_reports_need_a_check_and_name_the_version,
    reopening_keeps_everything,
    a_released_job_goes_back_to_the_queue_without_using_an_attempt,
    a_database_of_a_newer_schema_is_refused,
    concurrent_claims_take_each_check_once,
    a_worker_takes_only_checks_for_its_knowledge_base,
    a_document_check_keeps_its_document_settings,
);
