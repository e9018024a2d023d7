//! Load benchmark: many concurrent readers of finished fact-check pages.
//!
//! `cargo bench -p factually-web --bench load` serves a store of finished checks (the recorded
//! report of tests/fixtures) on loopback and runs `LOAD_CLIENTS` readers (default 200), each
//! with its own keep-alive connection, fetching fact-check pages one after another for
//! `LOAD_SECONDS` (default 10) after a 2-second warm-up. It prints requests per second, latency
//! percentiles and errors. Server and readers share this machine's cores, so the figures are
//! a lower bound for a server with the machine to itself. It runs once on SQLite and once on
//! PostgreSQL (a throw-away cluster; skipped when PostgreSQL is not installed); `LOAD_DATABASE`
//! = `sqlite` or `postgres` runs one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use factually_report::{Progress, Report};
use factually_store::test_cluster::TempPostgres;
use factually_store::{NewCheck, PgStore, SqliteStore, Store};
use factually_web::{Engine, EngineError, Site, SiteConfig};

/// The site here only serves stored pages; no check is ever queued.
struct StoredPagesOnly;

impl Engine for StoredPagesOnly {
    fn run(&self, _: &str, _: &str, _: &dyn Fn(Progress)) -> Result<Report, EngineError> {
        Err(EngineError::Failed(
            "this benchmark serves stored pages only".into(),
        ))
    }

    fn stored_text(&self, _: &str, _: &str) -> Option<(String, String)> {
        None
    }
}

const PAGES: usize = 50;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let only = std::env::var("LOAD_DATABASE").unwrap_or_default();
    if only.is_empty() || only == "sqlite" {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("factually.db"))
            .await
            .unwrap();
        run(Arc::new(store), "SQLite").await;
    }
    if only.is_empty() || only == "postgres" {
        match TempPostgres::shared() {
            Some(cluster) => {
                let store = PgStore::connect(&cluster.new_database().await)
                    .await
                    .unwrap();
                run(Arc::new(store), "PostgreSQL").await;
            }
            None => println!("load on PostgreSQL: skipped (PostgreSQL is not installed)"),
        }
    }
}

async fn run(store: Arc<dyn Store>, database: &str) {
    let clients = env_or("LOAD_CLIENTS", 200) as usize;
    let seconds = env_or("LOAD_SECONDS", 10);
    let recorded: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/great-wall.json")).unwrap();
    let mut paths = Vec::new();
    for i in 0..PAGES {
        let input = format!("Is the Great Wall of China visible from the Moon, case {i}?");
        let mut report = recorded.clone();
        report["input"] = serde_json::json!(input);
        let report: Report = serde_json::from_value(report).unwrap();
        let check = store
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
            .unwrap()
            .check;
        let job = store
            .claim("bench", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        store
            .complete(&job, factually_web::worker::finished(&report, Vec::new()))
            .await
            .unwrap();
        paths.push(factually_web::names::check_path(
            &check.topic,
            &check.slug,
            &check.id,
        ));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let site = Site::new(
        store,
        Arc::new(StoredPagesOnly),
        SiteConfig::default(),
        addr,
        b"benchmark secret, 32 bytes long!".to_vec(),
    );
    tokio::spawn(factually_web::serve(
        site,
        listener,
        std::future::pending(),
        None,
    ));

    let paths = Arc::new(paths);
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (paths, measuring, stop, errors) = (
            paths.clone(),
            measuring.clone(),
            stop.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            // One client per reader: each keeps its own connection, like a browser.
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut latencies = Vec::new();
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                let url = format!("http://{addr}{}", paths[i % paths.len()]);
                i += 1;
                let started = Instant::now();
                let ok = match client.get(&url).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        latencies.push(started.elapsed().as_micros() as u64);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    println!("load on {database}: {clients} concurrent readers of {PAGES} cached fact-check pages, {seconds} s on loopback");
    println!("  requests     {}", all.len());
    println!("  requests/s   {:.0}", all.len() as f64 / elapsed);
    println!("  errors       {}", errors.load(Ordering::Relaxed));
    println!(
        "  latency ms   p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        percentile(&all, 0.50),
        percentile(&all, 0.90),
        percentile(&all, 0.99),
        percentile(&all, 1.0)
    );
}
