//! Background workers: threads that take checks from the store's durable queue and run them,
//! inside `serve` or in separate `factually worker` processes on any host sharing the database.
//!
//! A check runs on a plain OS thread because the pipeline blocks (model inference) and may
//! start its own async work (web search, LLM calls); store calls are made through the
//! process's runtime handle. While a check runs, a task on that runtime renews its lease, so
//! another worker takes it only after this process died. Each progress step is stored as an
//! event before it is announced, so a reader who reconnects misses nothing.
//!
//! Stopping is a drain ([`WorkerPool::drain`]): the workers stop claiming, running checks get
//! a grace period to finish, and those still running after it are handed back to the queue at
//! once (not when their leases run out), so another worker starts them immediately.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use factually_report::{DocumentReport, Progress, Report};
use factually_store::{
    EventKind, FinishedReport, Job, SourceRow, SourceText, Status, Store, StoreError,
};
use serde_json::json;
use tokio::runtime::Handle;

use crate::metrics::{Metrics, Outcome};
use crate::{DocumentJob, Engine, EngineError, Wake};

/// How long a claimed check stays with its worker without a renewal.
pub const LEASE: Duration = Duration::from_secs(20);
/// How often a running check's lease is renewed.
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How long an idle worker sleeps before looking at the queue again (it is also woken at
/// once by submissions in this process, and by other processes' through the store when the
/// store can tell).
const IDLE_POLL: Duration = Duration::from_secs(2);

/// What the workers of one process share.
#[derive(Clone)]
pub struct Workers {
    pub store: Arc<dyn Store>,
    pub engine: Arc<dyn Engine>,
    pub wake: Arc<Wake>,
    pub metrics: Arc<Metrics>,
    /// Told the id of a check whose events or state changed: a site in the same process drops
    /// the check's cached page and wakes its event streams.
    pub changed: Arc<dyn Fn(&str) + Send + Sync>,
}

/// A running check: its job, and whether its result must be dropped (its lease was lost, or
/// it was handed back).
struct Running {
    job: Job,
    abandoned: Arc<AtomicBool>,
}

struct Pool {
    workers: Workers,
    handle: Handle,
    stop: AtomicBool,
    /// Keyed by worker (lease owner).
    running: Mutex<HashMap<String, Running>>,
}

/// The worker threads of one process.
pub struct WorkerPool {
    pool: Arc<Pool>,
    threads: Vec<JoinHandle<()>>,
}

/// What [`WorkerPool::drain`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Checks that were running when the drain began and finished within the grace period.
    pub finished: usize,
    /// Checks still running at its end, handed back to the queue.
    pub handed_back: usize,
}

/// Starts `count` workers. Checks left running by a process of this machine that has died are
/// taken over at once (see `ProcessId`).
pub fn start(workers: Workers, count: usize, handle: Handle) -> WorkerPool {
    let process = ProcessId::current().map_or_else(
        || crate::guard::random_hex(4),
        |id| format!("{}/{}", id.owner_prefix(), crate::guard::random_hex(4)),
    );
    handle.spawn(expire_dead_leases(
        workers.store.clone(),
        workers.wake.clone(),
    ));
    // Work queued by other processes rings the bell at once where the store can tell.
    {
        let (store, wake) = (workers.store.clone(), workers.wake.clone());
        handle.spawn(async move {
            loop {
                store.work_queued().await;
                wake.ring();
            }
        });
    }
    let pool = Arc::new(Pool {
        workers,
        handle,
        stop: AtomicBool::new(false),
        running: Mutex::new(HashMap::new()),
    });
    let threads = (0..count.max(1))
        .map(|i| {
            let pool = pool.clone();
            let owner = format!("{process}-{i}");
            std::thread::Builder::new()
                .name(format!("factually-worker-{i}"))
                .spawn(move || work(&pool, &owner))
                .expect("a worker thread starts")
        })
        .collect();
    WorkerPool { pool, threads }
}

impl WorkerPool {
    /// Stops claiming new checks; running ones go on.
    pub fn stop_claiming(&self) {
        self.pool.stop.store(true, Ordering::Relaxed);
        self.pool.workers.wake.ring();
    }

    /// How many checks are running now.
    pub fn running(&self) -> usize {
        self.pool.running.lock().map_or(0, |r| r.len())
    }

    /// Stops claiming, waits up to `grace` for the running checks, then hands the rest back to
    /// the queue. Returns once every worker is idle or abandoned.
    pub fn drain(self, grace: Duration) -> Drained {
        let running_at_start = self.running();
        self.stop_claiming();
        let deadline = Instant::now() + grace;
        while self.running() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let left: Vec<Running> = self
            .pool
            .running
            .lock()
            .map(|mut r| r.drain().map(|(_, v)| v).collect())
            .unwrap_or_default();
        let mut handed_back = 0;
        for r in &left {
            r.abandoned.store(true, Ordering::Relaxed);
            match self
                .pool
                .handle
                .block_on(self.pool.workers.store.release(&r.job))
            {
                Ok(()) => {
                    handed_back += 1;
                    self.pool
                        .workers
                        .metrics
                        .record(Outcome::HandedBack, Duration::ZERO, None);
                    announce(
                        &self.pool.workers,
                        &self.pool.handle,
                        &r.job,
                        json!({"step": "handed_back", "message": "Handed back to the queue: its worker stopped"}),
                    );
                }
                Err(e) => tracing::warn!("check {} could not be handed back: {e}", r.job.check_id),
            }
        }
        // Idle workers end at once; those still inside an abandoned check end with the process.
        for t in self.threads {
            if t.is_finished() {
                let _ = t.join();
            }
        }
        Drained {
            finished: running_at_start.saturating_sub(left.len()),
            handed_back,
        }
    }
}

fn work(pool: &Pool, owner: &str) {
    let w = &pool.workers;
    let kb = w.engine.kb();
    while !pool.stop.load(Ordering::Relaxed) {
        match pool
            .handle
            .block_on(w.store.claim_for(owner, LEASE, kb.as_deref()))
        {
            Ok(Some(job)) => {
                let abandoned = Arc::new(AtomicBool::new(false));
                if let Ok(mut running) = pool.running.lock() {
                    running.insert(
                        owner.to_string(),
                        Running {
                            job: job.clone(),
                            abandoned: abandoned.clone(),
                        },
                    );
                }
                run_job(w, &pool.handle, job, &abandoned);
                if let Ok(mut running) = pool.running.lock() {
                    running.remove(owner);
                }
            }
            Ok(None) => w.wake.wait(IDLE_POLL),
            Err(e) => {
                tracing::error!("the job queue could not be read: {e}");
                std::thread::sleep(IDLE_POLL);
            }
        }
    }
}

/// A process on this machine, told apart from any later one that reuses its pid: lease owners
/// start with it, so a server restarted after a crash can see that its predecessor is gone
/// and take over its running checks at once instead of waiting for their leases to run out.
/// Linux only (it reads `/proc`); elsewhere leases simply run out.
#[derive(Debug, PartialEq)]
struct ProcessId {
    boot: String,
    host: String,
    pid: u32,
    /// Start time in clock ticks since boot (`/proc/<pid>/stat`, field 22).
    started: u64,
}

impl ProcessId {
    fn current() -> Option<Self> {
        let pid = std::process::id();
        Some(Self {
            boot: read_trimmed("/proc/sys/kernel/random/boot_id")?,
            host: read_trimmed("/proc/sys/kernel/hostname")?,
            pid,
            started: start_time(pid)?,
        })
    }

    /// `boot/host/pid/started`; none of the parts can hold a `/`.
    fn owner_prefix(&self) -> String {
        format!("{}/{}/{}/{}", self.boot, self.host, self.pid, self.started)
    }

    /// The process an owner string names, when it was made by [`ProcessId::owner_prefix`].
    fn of_owner(owner: &str) -> Option<Self> {
        let mut parts = owner.split('/');
        let id = Self {
            boot: parts.next()?.to_string(),
            host: parts.next()?.to_string(),
            pid: parts.next()?.parse().ok()?,
            started: parts.next()?.parse().ok()?,
        };
        parts.next()?;
        Some(id)
    }

    /// Whether this process has certainly ended, seen from `me`. Another host's process (a
    /// container has its own host name and pids) is never declared dead.
    fn is_dead(&self, me: &ProcessId) -> bool {
        self.host == me.host && (self.boot != me.boot || start_time(self.pid) != Some(self.started))
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty() && !text.contains('/')).then(|| text.to_string())
}

/// A process's start time from `/proc/<pid>/stat`; `None` when there is no such process.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Ends the leases held by processes of this machine that no longer run, so their checks
/// resume now.
async fn expire_dead_leases(store: Arc<dyn Store>, wake: Arc<Wake>) {
    let Some(me) = ProcessId::current() else {
        return;
    };
    let owners = match store.lease_owners().await {
        Ok(owners) => owners,
        Err(e) => {
            tracing::warn!("the running checks' leases could not be read: {e}");
            return;
        }
    };
    let mut resumed = 0;
    for owner in owners {
        if ProcessId::of_owner(&owner).is_some_and(|p| p.is_dead(&me)) {
            match store.expire_leases(&owner).await {
                Ok(n) => resumed += n,
                Err(e) => tracing::warn!("the leases of {owner} could not be ended: {e}"),
            }
        }
    }
    if resumed > 0 {
        // A warning: it means a server stopped without finishing its checks.
        tracing::warn!("resuming {resumed} check(s) that a stopped server was running");
        wake.ring();
    }
}

/// Stores a progress event and tells whoever follows the check. (An attempt's last event,
/// done, failed or retrying, is stored by the store with the attempt's end.)
fn announce(w: &Workers, handle: &Handle, job: &Job, data: serde_json::Value) {
    match handle.block_on(w.store.event(job, EventKind::Progress, &data.to_string())) {
        Ok(_) => (w.changed)(&job.check_id),
        Err(e) => tracing::warn!("an event of check {} was not stored: {e}", job.check_id),
    }
}

fn run_job(w: &Workers, handle: &Handle, job: Job, abandoned: &Arc<AtomicBool>) {
    (w.changed)(&job.check_id);
    let began = Instant::now();
    let renewer = {
        let (store, job, abandoned) = (w.store.clone(), job.clone(), abandoned.clone());
        handle.spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                if abandoned.load(Ordering::Relaxed) {
                    return;
                }
                if let Err(e) = store.renew(&job, LEASE).await {
                    tracing::warn!("check {}: {e}", job.check_id);
                    if matches!(e, StoreError::LeaseLost(_)) {
                        abandoned.store(true, Ordering::Relaxed);
                        return;
                    }
                }
            }
        })
    };
    let started = if job.attempt > 1 {
        format!(
            "Resumed (attempt {} of {})",
            job.attempt,
            factually_store::MAX_ATTEMPTS
        )
    } else {
        "Started".to_string()
    };
    announce(
        w,
        handle,
        &job,
        json!({"step": "started", "message": started}),
    );
    let checked_on = today();
    let progress = |p: Progress| {
        if abandoned.load(Ordering::Relaxed) {
            return;
        }
        let mut data = serde_json::to_value(&p).unwrap_or_default();
        data["message"] = json!(p.message());
        announce(w, handle, &job, data);
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        match job.document.as_deref() {
            None => w
                .engine
                .run(&job.input, &checked_on, &progress)
                .map(|report| Finished::Check(Box::new(report))),
            Some(document) => serde_json::from_str::<DocumentJob>(document)
                .map_err(|e| EngineError::Permanent(format!("a damaged document check: {e}")))
                .and_then(|d| {
                    w.engine
                        .run_document(&job.input, &d, &checked_on, &progress)
                })
                .map(|report| Finished::Document(Box::new(report))),
        }
    }))
    .unwrap_or_else(|_| Err(EngineError::Failed("the check crashed".into())));
    renewer.abort();
    if abandoned.load(Ordering::Relaxed) {
        return;
    }
    let finished = match &outcome {
        Ok(done) => {
            let stored = match done {
                Finished::Check(report) => {
                    finished(report, cited_texts(w.engine.as_ref(), &report.sources))
                }
                Finished::Document(report) => finished_document(w.engine.as_ref(), report),
            };
            handle
                .block_on(w.store.complete(&job, stored))
                .map(|()| Outcome::Finished)
        }
        Err(e) => {
            let retry = matches!(e, EngineError::Failed(_));
            if matches!(e, EngineError::Permanent(_)) {
                tracing::warn!("check {} failed for good: {e}", job.check_id);
            }
            handle
                .block_on(w.store.fail(&job, &e.to_string(), retry))
                .map(|status| {
                    if status == Status::Queued {
                        w.wake.ring();
                        Outcome::Retried
                    } else {
                        Outcome::Failed
                    }
                })
        }
    };
    // `complete` and `fail` store the attempt's last event (done, failed, retrying) in their
    // own transaction.
    match finished {
        Ok(recorded) => w.metrics.record(
            recorded,
            began.elapsed(),
            outcome.as_ref().ok().and_then(|done| match done {
                Finished::Check(report) => Some(report.as_ref()),
                Finished::Document(_) => None,
            }),
        ),
        Err(e) => tracing::error!("check {} could not be finished: {e}", job.check_id),
    }
    (w.changed)(&job.check_id);
}

/// What a job produced: one check's report or a document's.
enum Finished {
    Check(Box<Report>),
    Document(Box<DocumentReport>),
}

/// What the store keeps of a finished document report: its JSON, and as its label the word
/// `document` (a document has a verdict per claim, none of its own); the sources of all its
/// claims, each document once, numbered in the order the claims first cite them.
pub fn finished_document(engine: &dyn Engine, report: &DocumentReport) -> FinishedReport {
    let mut sources: Vec<&factually_report::Source> = Vec::new();
    for s in report
        .claims
        .iter()
        .filter_map(|c| c.report.as_ref())
        .flat_map(|r| &r.sources)
    {
        if !sources.iter().any(|k| k.kb == s.kb && k.doc_id == s.doc_id) {
            sources.push(s);
        }
    }
    let rows = sources
        .iter()
        .enumerate()
        .map(|(i, s)| SourceRow {
            n: i as u32 + 1,
            doc_id: s.doc_id.to_string(),
            kb: s.kb.clone(),
            title: s.title.clone(),
            url: s.url.clone(),
        })
        .collect();
    let owned: Vec<factually_report::Source> = sources.into_iter().cloned().collect();
    FinishedReport {
        json: serde_json::to_string(report).unwrap_or_default(),
        label: DOCUMENT_LABEL.to_string(),
        rating: 0,
        summary: report.summary.join(" "),
        sources: rows,
        texts: cited_texts(engine, &owned),
    }
}

/// The label a document report is stored with (a check's is its verdict).
pub const DOCUMENT_LABEL: &str = "document";

/// The stored texts of a report's sources, as the engine holds them, to be kept in the
/// database with the report (a source the engine cannot read is left out; its page then
/// falls back to the engine of whichever process serves it).
fn cited_texts(engine: &dyn Engine, sources: &[factually_report::Source]) -> Vec<SourceText> {
    sources
        .iter()
        .filter_map(|s| {
            let doc_id = s.doc_id.to_string();
            let (title, text) = engine.stored_text(&s.kb, &doc_id)?;
            Some(SourceText {
                kb: s.kb.clone(),
                doc_id,
                title,
                text,
            })
        })
        .collect()
}

/// What the store keeps of a finished report.
pub fn finished(report: &Report, texts: Vec<SourceText>) -> FinishedReport {
    let label = serde_json::to_value(report.verdict.label)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    FinishedReport {
        json: serde_json::to_string(report).unwrap_or_default(),
        label,
        rating: report.verdict.rating,
        summary: report
            .sections
            .summary
            .iter()
            .map(|i| i.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        sources: report
            .sources
            .iter()
            .map(|s| SourceRow {
                n: s.n as u32,
                doc_id: s.doc_id.to_string(),
                kb: s.kb.clone(),
                title: s.title.clone(),
                url: s.url.clone(),
            })
            .collect(),
        texts,
    }
}

/// Today, `YYYY-MM-DD` (UTC).
pub fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn a_process_is_alive_until_it_ends_and_a_reused_pid_is_not_it() {
        let me = ProcessId::current().expect("/proc is readable");
        let owner = format!("{}/ab12-0", me.owner_prefix());
        assert_eq!(ProcessId::of_owner(&owner).as_ref(), Some(&me));
        assert!(!me.is_dead(&me));

        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let child_id = ProcessId {
            pid: child.id(),
            started: start_time(child.id()).unwrap(),
            ..ProcessId::current().unwrap()
        };
        assert!(!child_id.is_dead(&me), "running");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(child_id.is_dead(&me), "ended");

        let reused = ProcessId {
            started: me.started + 1,
            ..ProcessId::current().unwrap()
        };
        assert!(reused.is_dead(&me), "same pid, another start time");
        let rebooted = ProcessId {
            boot: "another-boot".into(),
            ..ProcessId::current().unwrap()
        };
        assert!(rebooted.is_dead(&me));
        let elsewhere = ProcessId {
            host: "another-host".into(),
            pid: child_id.pid,
            started: child_id.started,
            ..ProcessId::current().unwrap()
        };
        assert!(
            !elsewhere.is_dead(&me),
            "another host's process is never declared dead"
        );
        for not_ours in ["ab12-0", "a/b/c/d/e", "a/b/1/x/e", ""] {
            assert_eq!(ProcessId::of_owner(not_ours), None, "{not_ours}");
        }
    }
}
