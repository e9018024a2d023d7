//! factually's database: fact-checks and their report versions, progress events, the durable
//! job queue, donations and readers' error reports.
//!
//! Why a trait: the embedded default keeps everything in one SQLite file next to the knowledge
//! bases ([`SqliteStore`]); a scale-out deployment wants PostgreSQL shared by many workers.
//! Callers (the web crate, the workers) only see [`Store`], so a second backend needs no change
//! to them.
//!
//! Why the queue lives in the `checks` table: a check *is* its job. Submitting one writes one
//! row; a worker claims it by taking a time-limited lease; the report is written in the same
//! transaction that ends the job, and only by the lease holder. A server killed mid-check leaves
//! a row whose lease runs out, and the next worker to look (in this process after a restart, or
//! any other process) takes it again: nothing is lost, and since a report version is keyed by
//! `(check, run)`, nothing is written twice. A run that keeps failing stops after
//! [`MAX_ATTEMPTS`] and the check is marked `failed` with the reason.

mod postgres;
mod sqlite;
#[cfg(feature = "test-cluster")]
pub mod test_cluster;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Attempts of one run before a check is marked failed.
pub const MAX_ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("no check with id {0}")]
    UnknownCheck(String),
    /// The worker's lease ran out and another worker took the job; its result is dropped.
    #[error("the lease on check {0} was lost to another worker")]
    LeaseLost(String),
    #[error("a stored value is malformed: {0}")]
    Corrupt(String),
    #[error("unknown database kind {0:?}: give a postgres:// URL or a SQLite file path")]
    UnknownDatabase(String),
    #[error("the database has schema version {found}, newer than this build of factually knows ({known}): run the newer factually, or point this one at another database")]
    NewerSchema { found: i64, known: i64 },
}

/// Opens the store a `--database-url` names: `postgres://...` (or `postgresql://...`) is a
/// PostgreSQL database, anything else a SQLite file path (`sqlite://` prefix optional).
pub async fn open(url: &str) -> Result<Box<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PgStore::connect(url).await?));
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    if let Some((scheme, _)) = path.split_once("://") {
        return Err(StoreError::UnknownDatabase(scheme.to_string()));
    }
    Ok(Box::new(
        SqliteStore::open(std::path::Path::new(path)).await?,
    ))
}

/// Stops before migrating a database that a newer build has migrated further than this one
/// knows: running old code on a newer schema could lose data. `applied` is the highest
/// migration recorded in the database, if any.
pub(crate) fn check_schema(
    applied: Option<i64>,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), StoreError> {
    let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    match applied {
        Some(found) if found > known => Err(StoreError::NewerSchema { found, known }),
        _ => Ok(()),
    }
}

/// The highest migration recorded in the database; `None` when it was never migrated (there
/// is no table to read then).
pub(crate) fn applied_migration(
    read: Result<Option<i64>, sqlx::Error>,
) -> Result<Option<i64>, StoreError> {
    match read {
        Ok(v) => Ok(v),
        Err(sqlx::Error::Database(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Reads the database's migration level and refuses one newer than this build (see
/// [`check_schema`]). A macro, because the query is the same text on both backends but
/// sqlx's executors are not generic enough to share one function.
macro_rules! refuse_newer_schema {
    ($pool:expr, $migrator:expr) => {{
        let read =
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version) FROM _sqlx_migrations")
                .fetch_one($pool)
                .await;
        crate::check_schema(crate::applied_migration(read)?, $migrator)
    }};
}
pub(crate) use refuse_newer_schema;

/// Where a check is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Running,
    Done,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            other => return Err(StoreError::Corrupt(format!("status {other:?}"))),
        })
    }
}

/// What a progress event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A step of the check (its JSON data says which).
    Progress,
    /// The report was stored.
    Done,
    /// The check failed for good.
    Failed,
    /// The attempt failed; the check went back to the queue.
    Retrying,
}

impl EventKind {
    /// The name stored, and the SSE event name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Progress => "progress",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Retrying => "retrying",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "progress" => Self::Progress,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "retrying" => Self::Retrying,
            other => return Err(StoreError::Corrupt(format!("event kind {other:?}"))),
        })
    }
}

/// A question to check, as submitted.
#[derive(Debug, Clone)]
pub struct NewCheck {
    pub input: String,
    /// The normalised input: two submissions with the same key are the same question.
    pub input_key: String,
    pub topic: String,
    pub slug: String,
    /// A check of the same key created after this time (RFC 3339) is returned instead of a
    /// new one; `None` always creates a new check.
    pub reuse_since: Option<String>,
    /// The knowledge base the check is to search: only a worker searching the same one takes
    /// it. `None`: any worker.
    pub kb: Option<String>,
    /// For a document check, what the worker needs besides `input` (JSON, see the web crate's
    /// `DocumentJob`); `None` for a question or claim.
    pub document: Option<String>,
}

/// The outcome of [`Store::submit`].
#[derive(Debug, Clone)]
pub struct Submitted {
    pub check: CheckRecord,
    /// True when an existing recent check was returned.
    pub existing: bool,
}

/// A check as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckRecord {
    pub id: String,
    pub input: String,
    pub topic: String,
    pub slug: String,
    pub status: Status,
    pub created_at: String,
    pub updated_at: String,
    /// The report version the current or last job writes (1 for the first check).
    pub run: u32,
    pub attempts: u32,
    pub error: Option<String>,
    /// For a document check, the JSON it was submitted with ([`NewCheck::document`]).
    pub document: Option<String>,
}

/// One version of a check's report.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReport {
    pub check_id: String,
    pub version: u32,
    /// The report JSON, exactly as written.
    pub json: String,
    pub created_at: String,
}

/// What a worker hands back when a check is done.
#[derive(Debug, Clone)]
pub struct FinishedReport {
    pub json: String,
    pub label: String,
    pub rating: u8,
    /// The text the archive search indexes besides the question (the summary).
    pub summary: String,
    pub sources: Vec<SourceRow>,
    /// The stored texts of the cited sources, kept in the database with the report.
    pub texts: Vec<SourceText>,
}

/// The stored copy of a cited source: what the `/sources/...` page shows, from the database,
/// whichever process fetched or read it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceText {
    pub kb: String,
    /// Derived from title and text: one id is one text.
    pub doc_id: String,
    pub title: String,
    pub text: String,
}

/// A cited source of a report version.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    pub n: u32,
    pub doc_id: String,
    pub kb: String,
    pub title: String,
    pub url: Option<String>,
}

/// A claimed job: the right to run one check until the lease ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub check_id: String,
    pub input: String,
    pub run: u32,
    /// 1 for the first attempt; more after a crash or a failure that may pass on retry.
    pub attempt: u32,
    pub owner: String,
    /// For a document check, the JSON it was submitted with ([`NewCheck::document`]).
    pub document: Option<String>,
}

/// A progress event of a check (an SSE event).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Increasing across the whole database: the SSE `id`, and `Last-Event-ID` resumes after it.
    pub id: i64,
    pub check_id: String,
    pub run: u32,
    pub kind: EventKind,
    /// JSON.
    pub data: String,
    pub at: String,
}

/// A row of the archive: a check with its latest verdict, when it has one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckSummary {
    pub id: String,
    pub input: String,
    pub topic: String,
    pub slug: String,
    pub status: Status,
    pub created_at: String,
    pub label: Option<String>,
    pub rating: Option<u8>,
    pub checked_at: Option<String>,
}

/// A reader's report of an error, with the check it is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorReport {
    pub check_id: String,
    pub input: String,
    pub topic: String,
    pub slug: String,
    /// The report version the reader saw; `None` for reports made before versions were kept.
    pub version: Option<u32>,
    pub message: String,
    pub at: String,
}

/// A payment recorded through the webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Donation {
    /// The provider's event id; a replayed event is recorded once.
    pub event_id: String,
    pub amount_cents: i64,
    pub currency: String,
    pub at: String,
}

/// The storage boundary. Every method is one transaction.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates a queued check, or returns a recent one with the same key (see
    /// [`NewCheck::reuse_since`]).
    async fn submit(&self, new: NewCheck) -> Result<Submitted, StoreError>;
    /// Queues a new run of an existing check (its report gets a new version). A check that is
    /// queued or running already is returned as it is.
    async fn recheck(&self, id: &str) -> Result<CheckRecord, StoreError>;
    async fn check(&self, id: &str) -> Result<Option<CheckRecord>, StoreError>;
    /// A report version; the latest when `version` is `None`.
    async fn report(
        &self,
        id: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredReport>, StoreError>;
    /// Takes the oldest queued job, or one whose lease ran out (its worker died), for `lease`;
    /// with `kb`, only among checks that asked for that knowledge base (or for none).
    async fn claim_for(
        &self,
        owner: &str,
        lease: Duration,
        kb: Option<&str>,
    ) -> Result<Option<Job>, StoreError>;
    /// [`Store::claim_for`] any knowledge base.
    async fn claim(&self, owner: &str, lease: Duration) -> Result<Option<Job>, StoreError> {
        self.claim_for(owner, lease, None).await
    }
    /// Resolves when another process may have queued work. A backend that cannot tell
    /// (SQLite) never resolves: its workers find new work by polling.
    async fn work_queued(&self) {
        std::future::pending::<()>().await
    }
    /// The owners of the leases on running checks (a server restarted after a crash looks
    /// for its predecessor's among them).
    async fn lease_owners(&self) -> Result<Vec<String>, StoreError>;
    /// Ends the leases of `owner` at once, so their running checks can be claimed now instead
    /// of when the leases run out; for owners known to be dead. Returns how many checks.
    async fn expire_leases(&self, owner: &str) -> Result<u64, StoreError>;
    /// Extends a lease; [`StoreError::LeaseLost`] when another worker has the job now.
    async fn renew(&self, job: &Job, lease: Duration) -> Result<(), StoreError>;
    /// Hands a running job back to the queue at once, as if it had never been claimed (the
    /// attempt does not count): for a worker that stops before the check is done.
    async fn release(&self, job: &Job) -> Result<(), StoreError>;
    /// Appends a progress event; returns its id.
    async fn event(&self, job: &Job, kind: EventKind, data: &str) -> Result<i64, StoreError>;
    /// Stores the report as version `job.run`, marks the check done and appends its `done`
    /// event, in one transaction.
    async fn complete(&self, job: &Job, report: FinishedReport) -> Result<(), StoreError>;
    /// Ends an attempt that failed: back in the queue when `retry` and attempts remain,
    /// otherwise the check is failed with `error`; the `retrying` or `failed` event is
    /// appended in the same transaction.
    async fn fail(&self, job: &Job, error: &str, retry: bool) -> Result<Status, StoreError>;
    /// The stored text of a cited source (title and text), when a report citing it was stored.
    async fn source_text(
        &self,
        kb: &str,
        doc_id: &str,
    ) -> Result<Option<(String, String)>, StoreError>;
    /// Events of a check after the event id `after` (0 for all), oldest first.
    async fn events_after(&self, id: &str, after: i64) -> Result<Vec<Event>, StoreError>;
    /// The newest checks, newest first.
    async fn recent(&self, limit: u32) -> Result<Vec<CheckSummary>, StoreError>;
    /// Full-text search over questions and summaries, best first.
    async fn search(&self, query: &str, limit: u32) -> Result<Vec<CheckSummary>, StoreError>;
    /// The checks of one topic, newest first.
    async fn topic(&self, topic: &str, limit: u32) -> Result<Vec<CheckSummary>, StoreError>;
    /// How many checks have each status (statuses with none are left out).
    async fn status_counts(&self) -> Result<Vec<(Status, u64)>, StoreError>;
    /// Topics with their number of checks, largest first.
    async fn topics(&self, limit: u32) -> Result<Vec<(String, u32)>, StoreError>;
    /// Records a donation; false when the event was recorded before (a replay).
    async fn record_donation(&self, donation: Donation) -> Result<bool, StoreError>;
    /// The sum of donations (in cents) recorded at or after `since` (RFC 3339).
    async fn donations_since(&self, since: &str) -> Result<i64, StoreError>;
    /// A reader's report of an error in version `version` of a check's report (the latest
    /// when `None`).
    async fn report_error(
        &self,
        id: &str,
        version: Option<u32>,
        message: &str,
    ) -> Result<(), StoreError>;
    /// Readers' error reports, newest first.
    async fn error_reports(&self, limit: u32) -> Result<Vec<ErrorReport>, StoreError>;
}

pub(crate) fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A fresh 6-hex-digit id; `salt` differs between retries after a collision.
pub(crate) fn new_id(input: &str, salt: u32) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(input.as_bytes());
    h.update(nanos.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(salt.to_le_bytes());
    hex::encode(&h.finalize()[..3])
}

/// Now as RFC 3339 (UTC, second precision, so strings sort in time order).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
