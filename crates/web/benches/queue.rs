//! Queue scaling: does adding workers add throughput?
//!
//! `cargo bench -p factually-web --bench queue` runs an engine that takes a fixed time per
//! check (`QUEUE_CHECK_MS`, default 1000; it sleeps, so the cores are not the limit) with 1, 2
//! and 4 workers, each given `QUEUE_CHECKS_PER_WORKER` checks (default 8), and prints checks
//! per second and the ratio to one worker (ideal: the number of workers). It runs on SQLite
//! and on PostgreSQL (a throw-away cluster; skipped when PostgreSQL is not installed).
//! What it measures is the queue's overhead per check: claiming, lease renewal, progress
//! events and writing the report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use factually_report::{Progress, Report};
use factually_store::test_cluster::TempPostgres;
use factually_store::{NewCheck, PgStore, SqliteStore, Status, Store};
use factually_web::metrics::Metrics;
use factually_web::{Engine, EngineError, Wake, Workers};

/// Takes `delay` per check and answers with the recorded report.
struct FixedDelay {
    delay: Duration,
    report: Report,
}

impl Engine for FixedDelay {
    fn run(
        &self,
        input: &str,
        _: &str,
        progress: &dyn Fn(Progress),
    ) -> Result<Report, EngineError> {
        progress(Progress::Writing);
        std::thread::sleep(self.delay);
        let mut report = self.report.clone();
        report.input = input.to_string();
        Ok(report)
    }

    fn stored_text(&self, _: &str, _: &str) -> Option<(String, String)> {
        None
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Checks per second with `workers` workers on a fresh store.
async fn throughput(
    store: Arc<dyn Store>,
    engine: Arc<FixedDelay>,
    workers: usize,
    per_worker: usize,
) -> f64 {
    let n = workers * per_worker;
    for i in 0..n {
        let input = format!("Is the Great Wall of China visible from the Moon, case {i}?");
        store
            .submit(NewCheck {
                input_key: factually_web::names::input_key(&input),
                topic: factually_web::names::topic(&input),
                slug: factually_web::names::slug(&input),
                input,
                reuse_since: None,
                kb: None,
                document: None,
            })
            .await
            .unwrap();
    }
    let started = Instant::now();
    let pool = factually_web::start_workers(
        Workers {
            store: store.clone(),
            engine,
            wake: Arc::new(Wake::default()),
            metrics: Arc::new(Metrics::default()),
            changed: Arc::new(|_: &str| {}),
        },
        workers,
        tokio::runtime::Handle::current(),
    );
    loop {
        let counts = store.status_counts().await.unwrap();
        let done = counts
            .iter()
            .find(|(s, _)| *s == Status::Done)
            .map_or(0, |(_, n)| *n);
        if done as usize == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    tokio::task::spawn_blocking(move || pool.drain(Duration::ZERO))
        .await
        .unwrap();
    n as f64 / elapsed
}

/// Throughput with 1, 2 and 4 workers, each run on its own fresh store from `stores`.
async fn scaling(database: &str, stores: [Arc<dyn Store>; 3], engine: Arc<FixedDelay>) {
    let per_worker = env_or("QUEUE_CHECKS_PER_WORKER", 8) as usize;
    println!(
        "queue on {database}: {} ms per check, {per_worker} checks per worker",
        engine.delay.as_millis()
    );
    let mut one = 0.0;
    for (workers, store) in [1, 2, 4].into_iter().zip(stores) {
        let rate = throughput(store, engine.clone(), workers, per_worker).await;
        if workers == 1 {
            one = rate;
        }
        let ideal = workers as f64 / engine.delay.as_secs_f64();
        println!(
            "  {workers} worker(s)  {rate:6.2} checks/s  {:.2} x one worker  ({:.0}% of ideal)",
            rate / one,
            100.0 * rate / ideal
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let recorded: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/great-wall.json")).unwrap();
    let engine = Arc::new(FixedDelay {
        delay: Duration::from_millis(env_or("QUEUE_CHECK_MS", 1000)),
        report: serde_json::from_value(recorded).unwrap(),
    });
    let dir = tempfile::tempdir().unwrap();
    let mut sqlite = Vec::new();
    for i in 0..3 {
        let store = SqliteStore::open(&dir.path().join(format!("queue-{i}.db")))
            .await
            .unwrap();
        sqlite.push(Arc::new(store) as Arc<dyn Store>);
    }
    scaling("SQLite", sqlite.try_into().ok().unwrap(), engine.clone()).await;
    match TempPostgres::shared() {
        Some(cluster) => {
            let mut postgres = Vec::new();
            for _ in 0..3 {
                let store = PgStore::connect(&cluster.new_database().await)
                    .await
                    .unwrap();
                postgres.push(Arc::new(store) as Arc<dyn Store>);
            }
            scaling("PostgreSQL", postgres.try_into().ok().unwrap(), engine).await;
        }
        None => println!("queue on PostgreSQL: skipped (PostgreSQL is not installed)"),
    }
}
