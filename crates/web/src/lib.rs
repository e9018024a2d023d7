//! The web site and JSON API (`factually serve`): the only crate that speaks HTTP as a server.
//!
//! One process serves pages and the API and runs the checks. A submission writes a queued check
//! to the [`Store`]; worker threads ([`worker`]) claim checks from the store's durable queue, run
//! them through the [`Engine`] (the real pipeline, supplied by the binary), store progress events
//! as they happen and the report when done. Pages and the API only ever read the store, so a
//! page never waits on a check, and a server killed mid-check loses nothing: the store hands the
//! job to the next worker once its lease runs out.
//!
//! - [`pages`]: server-rendered HTML (minijinja), with a little progressive JavaScript;
//! - [`api`]: the JSON API, its OpenAPI document, and server-sent progress events;
//! - [`guard`]: what protects both: CSRF tokens, the submission rate limit, security headers,
//!   body limits and error bodies;
//! - [`donate`]: the campaign banner and the payment webhook (Stripe's signature scheme);
//! - [`names`]: topics, slugs and permanent URLs, derived from the question.

pub mod admin;
pub mod api;
pub mod donate;
pub mod guard;
pub mod mcp;
pub mod metrics;
pub mod names;
pub mod pages;
pub mod worker;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use factually_report::{DocumentOrigin, DocumentReport, Progress, Report};
use factually_store::Store;
use serde::Deserialize;

pub use worker::{start as start_workers, Drained, WorkerPool, Workers};

/// What runs a check: the real pipeline ([`factually_engine::CheckSession`]), or a stand-in in
/// tests and benchmarks. Called on a worker thread; it may block for seconds.
pub trait Engine: Send + Sync + 'static {
    /// Checks `input` on `checked_on` (`YYYY-MM-DD`), telling `progress` about each step.
    fn run(
        &self,
        input: &str,
        checked_on: &str,
        progress: &dyn Fn(Progress),
    ) -> Result<Report, EngineError>;

    /// Checks a document (`POST /api/documents`): `input` is its text, or the page's address
    /// when `job.origin` is `url`. An engine that checks only questions says so (the check
    /// fails with that reason, not retried).
    fn run_document(
        &self,
        input: &str,
        job: &DocumentJob,
        checked_on: &str,
        progress: &dyn Fn(Progress),
    ) -> Result<DocumentReport, EngineError> {
        let _ = (input, job, checked_on, progress);
        Err(EngineError::Permanent(
            "this site's engine does not check documents".into(),
        ))
    }

    /// The stored copy of a cited source (title and text), for the page that shows a quote in
    /// place; `None` when it is not stored here.
    fn stored_text(&self, kb: &str, doc_id: &str) -> Option<(String, String)>;

    /// The knowledge base checks search here, if any: a check records the one its site asked
    /// for, and workers take only checks they can run against the same one.
    fn kb(&self) -> Option<String> {
        None
    }

    /// Whether checks can run here: the knowledge base opens and the models are loaded.
    fn health(&self) -> Result<(), String> {
        Ok(())
    }
}

/// What a document check is submitted with besides its input (stored with the check as JSON).
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct DocumentJob {
    /// `text`: the input is the document's text; `url`: the input is the page to fetch.
    pub origin: DocumentOrigin,
    /// The title given with a text ("Pasted text" when none); a page's is its own.
    pub title: Option<String>,
    pub max_claims: usize,
}

/// An engine error from the check engine's, classified the same way for checks and documents.
fn engine_error(e: factually_engine::CheckError) -> EngineError {
    let message = e.to_string();
    if e.is_input() {
        EngineError::Input(message)
    } else if e.is_retryable() {
        EngineError::Failed(message)
    } else {
        EngineError::Permanent(message)
    }
}

/// Why a check could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The input cannot be checked (not a question or claim, not English...): retrying will
    /// not help.
    #[error("{0}")]
    Input(String),
    /// A failure another attempt may get past (a model that failed to load, a busy knowledge
    /// base).
    #[error("{0}")]
    Failed(String),
    /// A failure that will happen again however often the check is tried (the knowledge base
    /// is missing or damaged): the check is marked failed at once, with the reason.
    #[error("{0}")]
    Permanent(String),
}

impl Engine for factually_engine::CheckSession {
    fn run(
        &self,
        input: &str,
        checked_on: &str,
        progress: &dyn Fn(Progress),
    ) -> Result<Report, EngineError> {
        let request = factually_engine::CheckRequest {
            input,
            checked_on,
            urls: &[],
            cancel: None,
        };
        self.check(&request, progress).map_err(engine_error)
    }

    fn run_document(
        &self,
        input: &str,
        job: &DocumentJob,
        checked_on: &str,
        progress: &dyn Fn(Progress),
    ) -> Result<DocumentReport, EngineError> {
        let (title, text, url) = match job.origin {
            DocumentOrigin::Url => {
                let (title, text) = self.read_page(input, None).map_err(engine_error)?;
                (title, text, Some(input))
            }
            DocumentOrigin::Text | DocumentOrigin::File => (
                job.title.clone().unwrap_or_else(|| "Pasted text".into()),
                input.to_string(),
                None,
            ),
        };
        let request = factually_engine::DocumentRequest {
            text: &text,
            title: &title,
            origin: job.origin,
            url,
            max_claims: job.max_claims,
            checked_on,
            urls: &[],
            cancel: None,
        };
        self.check_document(&request, progress)
            .map_err(engine_error)
    }

    fn stored_text(&self, kb: &str, doc_id: &str) -> Option<(String, String)> {
        factually_engine::CheckSession::stored_text(self, kb, doc_id)
    }

    fn health(&self) -> Result<(), String> {
        self.prepare().map_err(|e| e.to_string())
    }

    fn kb(&self) -> Option<String> {
        self.searches_kb().then(|| self.kb_name().to_string())
    }
}

/// The `[site]` table of the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    /// The public address of the site (for permanent links, ClaimReview and the feed), such
    /// as `https://factually.example`; by default `http://` and the listening address.
    pub base_url: Option<String>,
    /// Check submissions allowed per client IP address per minute.
    pub submissions_per_minute: u32,
    /// Worker threads running checks.
    pub workers: usize,
    /// A repeated question within this many days gets the existing check.
    pub reuse_days: u32,
    /// A check older than this many days shows a notice and a re-check button.
    pub stale_days: u32,
    /// Trust the `X-Forwarded-For` header for the client address (only behind a proxy).
    pub trust_forwarded_for: bool,
    /// The donation campaign; no banner without one.
    pub campaign: Option<donate::Campaign>,
    /// The signing secret of the payment provider's webhook (`whsec_...`); env
    /// `FACTUALLY_STRIPE_WEBHOOK_SECRET`. The webhook refuses every event without one.
    pub stripe_webhook_secret: Option<String>,
    /// The token of `/admin/reports` (env `FACTUALLY_ADMIN_TOKEN`); without one that page
    /// does not exist.
    pub admin_token: Option<String>,
    /// Also serve the check engine over MCP (streamable HTTP) at `/mcp`.
    pub mcp: bool,
}

impl Default for SiteConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            submissions_per_minute: 3,
            workers: 1,
            reuse_days: 7,
            stale_days: 30,
            trust_forwarded_for: false,
            campaign: None,
            stripe_webhook_secret: None,
            admin_token: None,
            mcp: false,
        }
    }
}

/// Everything a request handler can reach.
pub struct Site {
    pub store: Arc<dyn Store>,
    pub engine: Arc<dyn Engine>,
    pub config: SiteConfig,
    /// `base_url` without a trailing slash.
    pub base_url: String,
    /// Signs CSRF tokens; from the data directory, so tokens survive restarts.
    pub secret: Vec<u8>,
    pub limiter: guard::SubmissionLimiter,
    /// Wakes idle workers when a check is queued (or when they should stop).
    pub wake: Arc<Wake>,
    /// What this process's workers did, for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Tells SSE streams that an event was stored (the id of its check).
    pub events: tokio::sync::broadcast::Sender<String>,
    pages: RwLock<HashMap<String, CachedPage>>,
}

/// A doorbell for idle workers. Plain threads wait on it, so it needs no async runtime (and
/// keeps working while one shuts down).
#[derive(Default)]
pub struct Wake {
    rings: Mutex<u64>,
    bell: Condvar,
}

impl Wake {
    /// Wakes every waiting worker.
    pub fn ring(&self) {
        if let Ok(mut rings) = self.rings.lock() {
            *rings += 1;
            self.bell.notify_all();
        }
    }

    /// Waits for a ring, at most `timeout`.
    pub fn wait(&self, timeout: Duration) {
        if let Ok(rings) = self.rings.lock() {
            let seen = *rings;
            let _ = self.bell.wait_timeout_while(rings, timeout, |r| *r == seen);
        }
    }
}

/// A rendered page kept for a short while: finished fact-check pages are read far more often
/// than they change.
#[derive(Clone)]
struct CachedPage {
    html: Arc<str>,
    made: Instant,
}

/// How long a rendered page is served from memory.
const PAGE_TTL: Duration = Duration::from_secs(60);
/// Pages kept in memory at most.
const PAGE_CACHE_ENTRIES: usize = 2_000;

impl Site {
    pub fn new(
        store: Arc<dyn Store>,
        engine: Arc<dyn Engine>,
        config: SiteConfig,
        listening: SocketAddr,
        secret: Vec<u8>,
    ) -> Arc<Self> {
        let base_url = config
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{listening}"))
            .trim_end_matches('/')
            .to_string();
        let limiter = guard::SubmissionLimiter::new(config.submissions_per_minute);
        Arc::new(Self {
            store,
            engine,
            config,
            base_url,
            secret,
            limiter,
            wake: Arc::default(),
            metrics: Arc::default(),
            events: tokio::sync::broadcast::channel(1024).0,
            pages: RwLock::new(HashMap::new()),
        })
    }

    fn cached_page(&self, key: &str) -> Option<Arc<str>> {
        let pages = self.pages.read().ok()?;
        let page = pages.get(key)?;
        (page.made.elapsed() < PAGE_TTL).then(|| page.html.clone())
    }

    fn cache_page(&self, key: String, html: Arc<str>) {
        if let Ok(mut pages) = self.pages.write() {
            if pages.len() >= PAGE_CACHE_ENTRIES {
                pages.retain(|_, p| p.made.elapsed() < PAGE_TTL);
                if pages.len() >= PAGE_CACHE_ENTRIES {
                    pages.clear();
                }
            }
            pages.insert(
                key,
                CachedPage {
                    html,
                    made: Instant::now(),
                },
            );
        }
    }

    /// Drops the cached pages of a check (its status or report changed) or, with `None`, all
    /// of them (the donation banner changed).
    pub fn forget_pages(&self, check_id: Option<&str>) {
        if let Ok(mut pages) = self.pages.write() {
            match check_id {
                Some(id) => pages.retain(|k, _| !k.starts_with(id)),
                None => pages.clear(),
            }
        }
    }

    /// What workers running in this process need: this site's store, engine and bell, and
    /// word back when a check changes (its cached page is dropped, its event streams woken).
    pub fn workers(self: &Arc<Self>) -> Workers {
        let site = Arc::downgrade(self);
        Workers {
            store: self.store.clone(),
            engine: self.engine.clone(),
            wake: self.wake.clone(),
            metrics: self.metrics.clone(),
            changed: Arc::new(move |check_id: &str| {
                if let Some(site) = site.upgrade() {
                    site.forget_pages(Some(check_id));
                    let _ = site.events.send(check_id.to_string());
                }
            }),
        }
    }

    /// The permanent address of a check's page.
    pub fn check_url(&self, topic: &str, slug: &str, id: &str) -> String {
        format!("{}{}", self.base_url, names::check_path(topic, slug, id))
    }
}

/// The whole site: pages, API, feed and static files, behind the guards.
pub fn router(site: Arc<Site>) -> Router {
    app(site, Router::new())
}

/// The site with `extra` routes (the MCP endpoint) behind the same guards.
fn app(site: Arc<Site>, extra: Router<Arc<Site>>) -> Router {
    let admin = if site.config.admin_token.is_some() {
        admin::routes()
    } else {
        Router::new()
    };
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(donate::routes())
        .merge(admin)
        .merge(extra)
        .fallback(guard::not_found)
        .layer(axum::middleware::from_fn(guard::security_headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            guard::panic_response,
        ))
        .with_state(site)
}

/// Serves the site on `listener` until `shutdown` resolves; with `mcp`, that MCP server too,
/// at [`mcp::PATH`].
pub async fn serve(
    site: Arc<Site>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    mcp: Option<factually_mcp::Factually>,
) -> std::io::Result<()> {
    // MCP sessions hold event streams open: they end when the site stops, or the graceful
    // shutdown would wait on them.
    let stop = tokio_util::sync::CancellationToken::new();
    let extra = match mcp {
        Some(server) => mcp::routes(&site, server, stop.clone()),
        None => Router::new(),
    };
    let stopping = stop.clone();
    let result = axum::serve(
        listener,
        app(site, extra).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        stopping.cancel();
    })
    .await;
    stop.cancel();
    result
}
