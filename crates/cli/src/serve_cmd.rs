//! `factually serve`: the web site, the JSON API and the workers in one process, over the
//! SQLite database in the data directory (`factually.db`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use factually_engine::env;
use factually_store::SqliteStore;
use factually_web::Site;

use crate::check_cmd::PipelineArgs;
use crate::runtime::Context;
use crate::{CmdResult, Failure};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    addr: SocketAddr,
    /// Worker threads running checks (default 1, or `workers` in the `[site]` table).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Check submissions allowed per client address per minute (default 3).
    #[arg(long, value_name = "N")]
    submissions_per_minute: Option<u32>,
    /// The site's public address, for permanent links, ClaimReview and the feed.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

/// The key that signs CSRF tokens: made once per data directory and kept there, readable by
/// the owner only.
fn site_secret(root: &Path) -> anyhow::Result<Vec<u8>> {
    let path = root.join("site.secret");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(bytes) = hex::decode(text.trim()) {
            if bytes.len() >= 32 {
                return Ok(bytes);
            }
        }
    }
    std::fs::create_dir_all(root)?;
    let secret = factually_web::guard::random_hex(32);
    let tmp = root.join("site.secret.tmp");
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        file.write_all(secret.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(hex::decode(secret)?)
}

pub fn run_serve(ctx: Context, args: ServeArgs) -> CmdResult {
    let mut config = crate::web::ConfigFile::read(&ctx)?.site;
    if let Some(n) = args.workers {
        config.workers = n;
    }
    if let Some(n) = args.submissions_per_minute {
        config.submissions_per_minute = n;
    }
    if args.base_url.is_some() {
        config.base_url = args.base_url.clone();
    }
    if let Some(secret) = env("FACTUALLY_STRIPE_WEBHOOK_SECRET") {
        config.stripe_webhook_secret = Some(secret);
    }
    config.workers = config.workers.clamp(1, 64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let session = args
        .pipeline
        .session(&ctx, false, Some(runtime.handle().clone()))?;
    // Build or open the knowledge base and load the models before taking checks, so a missing
    // model stops the server at once instead of failing every check.
    session.prepare()?;
    let root = ctx.data.root().to_path_buf();
    let secret = site_secret(&root)?;
    let store = runtime
        .block_on(SqliteStore::open(&root.join("factually.db")))
        .with_context(|| format!("opening {}", root.join("factually.db").display()))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(args.addr))
        .map_err(|e| Failure {
            code: 1,
            error: anyhow::anyhow!("cannot listen on {}: {e}", args.addr),
        })?;
    let listening = listener.local_addr().unwrap_or(args.addr);
    let site = Site::new(
        Arc::new(store),
        Arc::new(session),
        config,
        listening,
        secret,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let _workers = factually_web::spawn_workers(&site, runtime.handle().clone(), stop.clone());
    eprintln!(
        "factually: serving {} on http://{listening} ({} worker(s))",
        site.base_url, site.config.workers
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    runtime
        .block_on(factually_web::serve(site, listener, shutdown))
        .context("serving")?;
    // Checks still running are not waited for: their leases run out and the next start
    // resumes them.
    stop.store(true, Ordering::Relaxed);
    Ok(ExitCode::SUCCESS)
}
