//! The PostgreSQL backend, for a site whose checks run in many worker processes on several
//! hosts: the same tables and guarantees as [`crate::SqliteStore`], with two things SQLite
//! cannot give.
//!
//! - **Claims that do not queue behind each other.** A worker claims with
//!   `SELECT ... FOR UPDATE SKIP LOCKED` inside the claiming `UPDATE`: two workers asking at
//!   the same moment take two different checks, neither waits for the other's transaction.
//! - **Wake-ups across processes.** Submitting, re-checking or handing back a check sends
//!   `NOTIFY factually_queue`; every process keeps one `LISTEN` connection and wakes its idle
//!   workers at once ([`Store::work_queued`]), instead of finding the work on the next poll.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::Row;
use tokio::sync::Notify;

use crate::{
    new_id, now_rfc3339, unix_ms, CheckRecord, CheckSummary, Donation, ErrorReport, Event,
    EventKind, FinishedReport, Job, NewCheck, Status, Store, StoreError, StoredReport, Submitted,
    MAX_ATTEMPTS,
};

/// The channel that announces queued work.
const QUEUE_CHANNEL: &str = "factually_queue";

/// A [`Store`] in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    queued: Arc<Notify>,
}

const CHECK_COLUMNS: &str =
    "id, input, topic, slug, status, created_at, updated_at, run, attempts, error, document";
const SUMMARY_SELECT: &str = "SELECT c.id, c.input, c.topic, c.slug, c.status, c.created_at, \
     r.label, r.rating, r.created_at AS checked_at FROM checks c LEFT JOIN reports r \
     ON r.check_id = c.id AND r.version = (SELECT MAX(version) FROM reports WHERE check_id = c.id)";

fn check_record(row: &PgRow) -> Result<CheckRecord, StoreError> {
    Ok(CheckRecord {
        id: row.try_get("id")?,
        input: row.try_get("input")?,
        topic: row.try_get("topic")?,
        slug: row.try_get("slug")?,
        status: Status::parse(row.try_get("status")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        run: row.try_get::<i64, _>("run")? as u32,
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        error: row.try_get("error")?,
        document: row.try_get("document")?,
    })
}

fn summary(row: &PgRow) -> Result<CheckSummary, StoreError> {
    Ok(CheckSummary {
        id: row.try_get("id")?,
        input: row.try_get("input")?,
        topic: row.try_get("topic")?,
        slug: row.try_get("slug")?,
        status: Status::parse(row.try_get("status")?)?,
        created_at: row.try_get("created_at")?,
        label: row.try_get("label")?,
        rating: row.try_get::<Option<i64>, _>("rating")?.map(|r| r as u8),
        checked_at: row.try_get("checked_at")?,
    })
}

/// Appends an event on `conn` (a transaction's, or a pooled connection); returns its id.
async fn insert_event(
    conn: &mut sqlx::PgConnection,
    job: &Job,
    kind: EventKind,
    data: &str,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO events (check_id, run, kind, data, at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(&job.check_id)
    .bind(i64::from(job.run))
    .bind(kind.as_str())
    .bind(data)
    .bind(now_rfc3339())
    .fetch_one(conn)
    .await?)
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`), refuses a database
    /// that a newer factually has migrated, applies pending migrations and starts listening
    /// for queued work.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        // One plain connection first: a pool that cannot connect only says it timed out,
        // this says why (refused, no such database, wrong password).
        {
            use sqlx::Connection as _;
            sqlx::PgConnection::connect_with(&options)
                .await?
                .close()
                .await?;
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let migrator = sqlx::migrate!("./migrations/postgres");
        crate::refuse_newer_schema!(&pool, &migrator)?;
        migrator.run(&pool).await?;
        let queued = Arc::new(Notify::new());
        let listener = PgListener::connect_with(&pool).await?;
        tokio::spawn(listen(listener, queued.clone()));
        Ok(Self { pool, queued })
    }

    async fn summaries(
        &self,
        sql: &str,
        bind: &str,
        limit: u32,
    ) -> Result<Vec<CheckSummary>, StoreError> {
        let rows = sqlx::query(sql)
            .bind(bind)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(summary).collect()
    }

    async fn announce_queued(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(QUEUE_CHANNEL)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Wakes the waiters of [`Store::work_queued`] on every notification; a lost connection is
/// re-established by the listener, and waiters are woken then too (work may have been queued
/// while it was down).
async fn listen(mut listener: PgListener, queued: Arc<Notify>) {
    if let Err(e) = listener.listen(QUEUE_CHANNEL).await {
        tracing::warn!("cannot listen for queued checks ({e}); workers poll instead");
        return;
    }
    loop {
        match listener.try_recv().await {
            Ok(_) => queued.notify_waiters(),
            Err(e) => {
                tracing::warn!("the queue listener lost its connection: {e}");
                queued.notify_waiters();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[async_trait]
impl Store for PgStore {
    async fn submit(&self, new: NewCheck) -> Result<Submitted, StoreError> {
        let now = now_rfc3339();
        for salt in 0..16 {
            let id = new_id(&new.input, salt);
            // One statement, under a transaction-scoped advisory lock on the question's key:
            // two simultaneous submissions of one question cannot both create a check.
            let mut tx = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(&new.input_key)
                .execute(&mut *tx)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO checks (id, input, input_key, topic, slug, status, created_at, updated_at, kb, document) \
                 SELECT $1, $2, $3, $4, $5, 'queued', $6, $6, $8, $9 WHERE $7::text IS NULL OR NOT EXISTS \
                 (SELECT 1 FROM checks WHERE input_key = $3 AND created_at >= $7::text AND status != 'failed') \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&id)
            .bind(&new.input)
            .bind(&new.input_key)
            .bind(&new.topic)
            .bind(&new.slug)
            .bind(&now)
            .bind(&new.reuse_since)
            .bind(&new.kb)
            .bind(&new.document)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            if inserted == 1 {
                self.announce_queued().await?;
                let check = self.check(&id).await?.ok_or(StoreError::UnknownCheck(id))?;
                return Ok(Submitted {
                    check,
                    existing: false,
                });
            }
            if let Some(since) = &new.reuse_since {
                let row = sqlx::query(&format!(
                    "SELECT {CHECK_COLUMNS} FROM checks WHERE input_key = $1 AND created_at >= $2 \
                     AND status != 'failed' ORDER BY created_at DESC, seq DESC LIMIT 1"
                ))
                .bind(&new.input_key)
                .bind(since)
                .fetch_optional(&self.pool)
                .await?;
                if let Some(row) = row {
                    return Ok(Submitted {
                        check: check_record(&row)?,
                        existing: true,
                    });
                }
            }
            // Otherwise the id collided with another check's: try another.
        }
        Err(StoreError::Corrupt(
            "no free check id after 16 tries".into(),
        ))
    }

    async fn recheck(&self, id: &str) -> Result<CheckRecord, StoreError> {
        let queued = sqlx::query(
            "UPDATE checks SET status = 'queued', run = run + 1, attempts = 0, error = NULL, \
             lease_owner = NULL, lease_until = NULL, updated_at = $2 \
             WHERE id = $1 AND status IN ('done', 'failed')",
        )
        .bind(id)
        .bind(now_rfc3339())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if queued > 0 {
            self.announce_queued().await?;
        }
        self.check(id)
            .await?
            .ok_or_else(|| StoreError::UnknownCheck(id.to_string()))
    }

    async fn check(&self, id: &str) -> Result<Option<CheckRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {CHECK_COLUMNS} FROM checks WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(check_record).transpose()
    }

    async fn report(
        &self,
        id: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredReport>, StoreError> {
        let row = sqlx::query(
            "SELECT check_id, version, json, created_at FROM reports WHERE check_id = $1 \
             AND ($2::bigint IS NULL OR version = $2::bigint) ORDER BY version DESC LIMIT 1",
        )
        .bind(id)
        .bind(version.map(i64::from))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(StoredReport {
                check_id: row.try_get("check_id")?,
                version: row.try_get::<i64, _>("version")? as u32,
                json: row.try_get("json")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .transpose()
    }

    async fn claim_for(
        &self,
        owner: &str,
        lease: Duration,
        kb: Option<&str>,
    ) -> Result<Option<Job>, StoreError> {
        loop {
            let now = unix_ms();
            let row = sqlx::query(
                "UPDATE checks SET status = 'running', lease_owner = $1, lease_until = $2, \
                 attempts = attempts + 1, updated_at = $3 WHERE id = (SELECT id FROM checks \
                 WHERE (status = 'queued' OR (status = 'running' AND lease_until < $4)) \
                 AND ($5::text IS NULL OR kb IS NULL OR kb = $5::text) \
                 ORDER BY updated_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, input, run, attempts, document",
            )
            .bind(owner)
            .bind(now + lease.as_millis() as i64)
            .bind(now_rfc3339())
            .bind(now)
            .bind(kb)
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let job = Job {
                check_id: row.try_get("id")?,
                input: row.try_get("input")?,
                run: row.try_get::<i64, _>("run")? as u32,
                attempt: row.try_get::<i64, _>("attempts")? as u32,
                owner: owner.to_string(),
                document: row.try_get("document")?,
            };
            if job.attempt <= MAX_ATTEMPTS {
                return Ok(Some(job));
            }
            let error = format!("the check was interrupted {MAX_ATTEMPTS} times");
            self.fail(&job, &error, false).await?;
        }
    }

    async fn work_queued(&self) {
        self.queued.notified().await;
    }

    async fn lease_owners(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT lease_owner FROM checks WHERE status = 'running' \
             AND lease_owner IS NOT NULL ORDER BY lease_owner",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get("lease_owner")?))
            .collect()
    }

    async fn expire_leases(&self, owner: &str) -> Result<u64, StoreError> {
        let n = sqlx::query(
            "UPDATE checks SET lease_until = 0 WHERE status = 'running' AND lease_owner = $1",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n > 0 {
            self.announce_queued().await?;
        }
        Ok(n)
    }

    async fn renew(&self, job: &Job, lease: Duration) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE checks SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 \
             AND run = $4 AND attempts = $5 AND status = 'running'",
        )
        .bind(unix_ms() + lease.as_millis() as i64)
        .bind(&job.check_id)
        .bind(&job.owner)
        .bind(i64::from(job.run))
        .bind(i64::from(job.attempt))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::LeaseLost(job.check_id.clone()));
        }
        Ok(())
    }

    async fn release(&self, job: &Job) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE checks SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, \
             lease_until = NULL, updated_at = $1 WHERE id = $2 AND lease_owner = $3 \
             AND run = $4 AND attempts = $5 AND status = 'running'",
        )
        .bind(now_rfc3339())
        .bind(&job.check_id)
        .bind(&job.owner)
        .bind(i64::from(job.run))
        .bind(i64::from(job.attempt))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::LeaseLost(job.check_id.clone()));
        }
        self.announce_queued().await
    }

    async fn event(&self, job: &Job, kind: EventKind, data: &str) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_event(&mut conn, job, kind, data).await
    }

    async fn complete(&self, job: &Job, report: FinishedReport) -> Result<(), StoreError> {
        let now = now_rfc3339();
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE checks SET status = 'done', lease_owner = NULL, lease_until = NULL, \
             error = NULL, updated_at = $1 WHERE id = $2 AND lease_owner = $3 AND run = $4 \
             AND attempts = $5 AND status = 'running'",
        )
        .bind(&now)
        .bind(&job.check_id)
        .bind(&job.owner)
        .bind(i64::from(job.run))
        .bind(i64::from(job.attempt))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::LeaseLost(job.check_id.clone()));
        }
        sqlx::query(
            "INSERT INTO reports (check_id, version, json, label, rating, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&job.check_id)
        .bind(i64::from(job.run))
        .bind(&report.json)
        .bind(&report.label)
        .bind(i64::from(report.rating))
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        for s in &report.sources {
            sqlx::query(
                "INSERT INTO sources (check_id, version, n, doc_id, kb, title, url) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&job.check_id)
            .bind(i64::from(job.run))
            .bind(i64::from(s.n))
            .bind(&s.doc_id)
            .bind(&s.kb)
            .bind(&s.title)
            .bind(&s.url)
            .execute(&mut *tx)
            .await?;
        }
        for t in &report.texts {
            sqlx::query(
                "INSERT INTO source_texts (kb, doc_id, title, text) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (kb, doc_id) DO NOTHING",
            )
            .bind(&t.kb)
            .bind(&t.doc_id)
            .bind(&t.title)
            .bind(&t.text)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO checks_fts (check_id, document) SELECT id, \
             to_tsvector('english', input || ' ' || $2) FROM checks WHERE id = $1 \
             ON CONFLICT (check_id) DO UPDATE SET document = EXCLUDED.document",
        )
        .bind(&job.check_id)
        .bind(&report.summary)
        .execute(&mut *tx)
        .await?;
        let data = serde_json::json!({ "status": Status::Done }).to_string();
        insert_event(&mut tx, job, EventKind::Done, &data).await?;
        // Crash test: the process dies with the report written but not committed.
        fail::fail_point!("store-complete", |_| std::process::abort());
        tx.commit().await?;
        Ok(())
    }

    async fn fail(&self, job: &Job, error: &str, retry: bool) -> Result<Status, StoreError> {
        let status = if retry && job.attempt < MAX_ATTEMPTS {
            Status::Queued
        } else {
            Status::Failed
        };
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE checks SET status = $1, error = $2, lease_owner = NULL, lease_until = NULL, \
             updated_at = $3 WHERE id = $4 AND run = $5 AND attempts = $6 \
             AND (lease_owner = $7 OR lease_owner IS NULL OR lease_until < $8)",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(now_rfc3339())
        .bind(&job.check_id)
        .bind(i64::from(job.run))
        .bind(i64::from(job.attempt))
        .bind(&job.owner)
        .bind(unix_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::LeaseLost(job.check_id.clone()));
        }
        // The attempt's end is an event in the same transaction: a process that dies right
        // after cannot leave the check ended without it.
        let kind = match status {
            Status::Queued => EventKind::Retrying,
            _ => EventKind::Failed,
        };
        let data = serde_json::json!({ "status": status }).to_string();
        insert_event(&mut tx, job, kind, &data).await?;
        tx.commit().await?;
        if status == Status::Queued {
            self.announce_queued().await?;
        }
        Ok(status)
    }

    async fn source_text(
        &self,
        kb: &str,
        doc_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query("SELECT title, text FROM source_texts WHERE kb = $1 AND doc_id = $2")
            .bind(kb)
            .bind(doc_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.try_get("title")?, row.try_get("text")?)))
            .transpose()
    }

    async fn events_after(&self, id: &str, after: i64) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, check_id, run, kind, data, at FROM events WHERE check_id = $1 AND id > $2 \
             ORDER BY id LIMIT 1000",
        )
        .bind(id)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Event {
                    id: row.try_get("id")?,
                    check_id: row.try_get("check_id")?,
                    run: row.try_get::<i64, _>("run")? as u32,
                    kind: EventKind::parse(row.try_get("kind")?)?,
                    data: row.try_get("data")?,
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }

    async fn recent(&self, limit: u32) -> Result<Vec<CheckSummary>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SUMMARY_SELECT} ORDER BY c.created_at DESC, c.seq DESC LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary).collect()
    }

    async fn search(&self, query: &str, limit: u32) -> Result<Vec<CheckSummary>, StoreError> {
        // `plainto_tsquery` reads the text as plain words (every one required), so no user
        // text is query syntax.
        if !query.chars().any(char::is_alphanumeric) {
            return Ok(Vec::new());
        }
        self.summaries(
            &format!(
                "{SUMMARY_SELECT} JOIN (SELECT check_id, ts_rank(document, q) AS rank \
                 FROM checks_fts, plainto_tsquery('english', $1) q WHERE document @@ q) f \
                 ON f.check_id = c.id ORDER BY f.rank DESC, c.seq DESC LIMIT $2"
            ),
            query,
            limit,
        )
        .await
    }

    async fn topic(&self, topic: &str, limit: u32) -> Result<Vec<CheckSummary>, StoreError> {
        self.summaries(
            &format!(
                "{SUMMARY_SELECT} WHERE c.topic = $1 ORDER BY c.created_at DESC, c.seq DESC LIMIT $2"
            ),
            topic,
            limit,
        )
        .await
    }

    async fn status_counts(&self) -> Result<Vec<(Status, u64)>, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM checks GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    Status::parse(row.try_get("status")?)?,
                    row.try_get::<i64, _>("n")? as u64,
                ))
            })
            .collect()
    }

    async fn topics(&self, limit: u32) -> Result<Vec<(String, u32)>, StoreError> {
        let rows = sqlx::query(
            "SELECT topic, COUNT(*) AS n FROM checks GROUP BY topic ORDER BY n DESC, topic LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("topic")?, row.try_get::<i64, _>("n")? as u32)))
            .collect()
    }

    async fn record_donation(&self, donation: Donation) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO donations (event_id, amount_cents, currency, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(&donation.event_id)
        .bind(donation.amount_cents)
        .bind(&donation.currency)
        .bind(&donation.at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn donations_since(&self, since: &str) -> Result<i64, StoreError> {
        let total: Option<i64> =
            sqlx::query_scalar("SELECT SUM(amount_cents)::bigint FROM donations WHERE at >= $1")
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
        Ok(total.unwrap_or(0))
    }

    async fn report_error(
        &self,
        id: &str,
        version: Option<u32>,
        message: &str,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO error_reports (check_id, version, message, at) \
             SELECT id, COALESCE($2::bigint, (SELECT MAX(version) FROM reports WHERE check_id = $1)), \
             $3, $4 FROM checks WHERE id = $1",
        )
        .bind(id)
        .bind(version.map(i64::from))
        .bind(message)
        .bind(now_rfc3339())
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::UnknownCheck(id.to_string()));
        }
        Ok(())
    }

    async fn error_reports(&self, limit: u32) -> Result<Vec<ErrorReport>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.check_id, c.input, c.topic, c.slug, e.version, e.message, e.at \
             FROM error_reports e JOIN checks c ON c.id = e.check_id \
             ORDER BY e.id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ErrorReport {
                    check_id: row.try_get("check_id")?,
                    input: row.try_get("input")?,
                    topic: row.try_get("topic")?,
                    slug: row.try_get("slug")?,
                    version: row.try_get::<Option<i64>, _>("version")?.map(|v| v as u32),
                    message: row.try_get("message")?,
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }
}
