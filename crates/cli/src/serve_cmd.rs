//! `factually serve`: the web site and the JSON API, with workers in the same process (or
//! none: `--workers 0`, and `factually worker` processes run the checks), over the SQLite
//! database in the data directory (`factually.db`) or the PostgreSQL database of
//! `--database-url`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use factually_engine::env;
use factually_store::Store;
use factually_web::Site;

use crate::check_cmd::PipelineArgs;
use crate::runtime::Context;
use crate::{CmdResult, Failure};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    addr: SocketAddr,
    /// Worker threads running checks (default 1, or `workers` in the `[site]` table); 0 only
    /// serves, and `factually worker` processes run the checks.
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    #[command(flatten)]
    queue: QueueArgs,
    /// Check submissions allowed per client address per minute (default 3).
    #[arg(long, value_name = "N")]
    submissions_per_minute: Option<u32>,
    /// The site's public address, for permanent links, ClaimReview and the feed.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Also serve MCP (streamable HTTP) at /mcp: the tools of `factually mcp`, and the site's
    /// finished checks as resources `factually://checks/<id>`.
    #[arg(long)]
    mcp: bool,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

/// The database and how workers stop: shared by `serve` and `worker`.
#[derive(Args, Debug, Clone)]
pub struct QueueArgs {
    /// The database: `postgres://user:password@host:port/db` for PostgreSQL (many processes,
    /// many hosts), or a SQLite file path. Default: `factually.db` in the data directory.
    #[arg(long, env = "FACTUALLY_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// On SIGTERM or Ctrl-C, how long running checks may take to finish before they are handed
    /// back to the queue.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    drain_seconds: u64,
}

impl QueueArgs {
    /// Opens the database (creating or migrating it), or says why it cannot.
    pub fn open(
        &self,
        ctx: &Context,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<(Arc<dyn Store>, String), Failure> {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => {
                std::fs::create_dir_all(ctx.data.root())
                    .with_context(|| format!("creating {}", ctx.data.root().display()))?;
                ctx.data.root().join("factually.db").display().to_string()
            }
        };
        let store = runtime
            .block_on(factually_store::open(&url))
            .with_context(|| format!("opening the database {}", redact(&url)))?;
        Ok((Arc::from(store), redact(&url)))
    }

    pub fn drain(&self) -> Duration {
        Duration::from_secs(self.drain_seconds.min(3600))
    }
}

/// What `serve` and `worker` start with: one runtime, the database, and the check session,
/// its knowledge base opened and its models loaded, so a process that cannot run checks (no
/// model, no knowledge base, no database) stops at once instead of failing every check.
pub struct Started {
    pub runtime: tokio::runtime::Runtime,
    pub store: Arc<dyn Store>,
    /// The database's URL without its password, for messages.
    pub database: String,
    pub session: factually_engine::CheckSession,
}

pub fn start(
    ctx: &Context,
    queue: &QueueArgs,
    pipeline: &PipelineArgs,
) -> Result<Started, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (store, database) = queue.open(ctx, &runtime)?;
    let session = pipeline.session(ctx, false, Some(runtime.handle().clone()))?;
    session.prepare()?;
    Ok(Started {
        runtime,
        store,
        database,
        session,
    })
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Resolves on SIGTERM (a service manager stopping us) or Ctrl-C.
pub async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
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
    config.mcp |= args.mcp;
    if let Some(secret) = env("FACTUALLY_STRIPE_WEBHOOK_SECRET") {
        config.stripe_webhook_secret = Some(secret);
    }
    if let Some(token) = env("FACTUALLY_ADMIN_TOKEN") {
        config.admin_token = Some(token);
    }
    // An empty or short token would be guessable: no admin page rather than a weak one.
    if let Some(token) = config.admin_token.as_deref() {
        if token.chars().count() < 16 {
            return Err(Failure::usage(
                "the admin token (FACTUALLY_ADMIN_TOKEN or admin_token in [site]) must be at least 16 characters",
            ));
        }
    }
    config.workers = config.workers.min(64);
    let Started {
        runtime,
        store,
        database,
        session,
    } = start(&ctx, &args.queue, &args.pipeline)?;
    let secret = site_secret(ctx.data.root())?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(args.addr))
        .map_err(|e| Failure {
            code: 1,
            error: anyhow::anyhow!("cannot listen on {}: {e}", args.addr),
        })?;
    let listening = listener.local_addr().unwrap_or(args.addr);
    let session = Arc::new(session);
    // MCP tool calls run in this process, at most as many at once as there are workers.
    let mcp = config
        .mcp
        .then(|| factually_mcp::Factually::new(session.clone(), config.workers.max(1)));
    let site = Site::new(store, session, config, listening, secret);
    let workers = (site.config.workers > 0).then(|| {
        factually_web::start_workers(
            site.workers(),
            site.config.workers,
            runtime.handle().clone(),
        )
    });
    eprintln!(
        "factually: serving {} on http://{listening} ({} worker(s), database {database}{})",
        site.base_url,
        site.config.workers,
        if mcp.is_some() { ", MCP at /mcp" } else { "" }
    );
    runtime
        .block_on(factually_web::serve(site, listener, stop_signal(), mcp))
        .context("serving")?;
    if let Some(workers) = workers {
        let drained = workers.drain(args.queue.drain());
        eprintln!(
            "factually: stopped: {} running check(s) finished, {} handed back to the queue",
            drained.finished, drained.handed_back
        );
    }
    Ok(ExitCode::SUCCESS)
}
