//! The check engine: one [`CheckSession`] that `factually check`, the site's workers and the
//! MCP server all run checks through.
//!
//! Why a session: everything a check needs that does not change from one check to the next
//! (the open knowledge bases, the embedding, stance and judge models, started chat models,
//! web sources and an async runtime) is resolved and loaded once, when the session is built,
//! and shared by every check after it. A command runs one check through it; a worker process
//! runs thousands. Loading per check, as the pipeline once did inside the CLI, reloaded a GGUF
//! model and reopened knowledge bases on every check.
//!
//! Why one path through a check: the input is validated and analysed once, with one set of
//! limits ([`factually_analyze::MAX_INPUT_CHARS`], which `verify` shares), so an input is
//! either refused up front as bad input or checked; the sources gathered for the check are the
//! one set that verification, the report writer and the LLM gate all read, and each cited
//! document is read from the views the check already holds.
//!
//! Why errors classify themselves: [`CheckError::is_input`] (the input can never be checked:
//! exit status 2 in the CLI, no retry in a worker) and [`CheckError::is_retryable`] (a failure
//! another attempt may get past) are decided here, once, instead of by each caller.

mod document;
pub mod factchecks;
mod settings;
pub mod snapshots;
mod stance_llm;
mod writer;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use factually_analyze::{analyze, validate_input, InputError};
use factually_assets::AssetCache;
use factually_core::DocId;
use factually_embed::{BertEmbedder, EmbedError, Embedder, Embedders};
use factually_fetch::{queries_for, WebSources};
use factually_kb::default_kb::{ensure_default_kb, DEFAULT_KB};
use factually_kb::{DataDir, DenseScope, KbError, KbName, KnowledgeBase};
use factually_report::{Checker, OfferedSources, Progress, Report};
use factually_stance::{StanceError, StanceModel};
use factually_verify::{Judge, Verifier, VerifyError, VerifyOptions};
use tokio::runtime::Handle;
/// What a caller cancels a check with ([`CheckRequest::cancel`]).
pub use tokio_util::sync::CancellationToken;

pub use settings::{
    env, load_judge, load_stance, LimitsConfig, LlmConfig, LlmFlags, LlmJudgeContext, LlmProvider,
    LlmSettings, ModelsConfig, ProviderProbe, Settings, StanceChoice, WebConfig,
};

/// Where a data directory keeps the language models' call cache.
pub const LLM_CALL_CACHE: &str = "llm-cache";
pub use document::{DocumentRequest, DOCUMENT_THRESHOLD, MAX_CLAIMS};
pub use factchecks::{
    match_fact_checks, rank_fact_checks, FactCheckMatch, RetrievedFactCheck, FACTCHECKS_KB,
};
pub use snapshots::{open_web_kb, QUERIES, WEB_KB};

/// Why a session could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A setting is wrong (an unknown provider, a URL that does not parse, a model file that
    /// is not one): the user has to change it.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Kb(#[from] KbError),
    #[error(transparent)]
    Stance(StanceError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// Anything else that stopped the session from starting.
    #[error("{0}")]
    Failed(String),
}

impl SetupError {
    /// The settings are wrong (exit status 2), as opposed to a failure to start.
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::Invalid(_) | Self::Kb(KbError::BadName(_)))
    }
}

/// Why a check produced no report.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The input cannot be checked (empty, too long, not English, instructions...).
    #[error(transparent)]
    Input(#[from] InputError),
    /// Not one statement of the input could be verified.
    #[error("nothing could be checked: {0}")]
    Unverified(VerifyError),
    #[error(transparent)]
    Kb(#[from] KbError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("the async runtime: {0}")]
    Runtime(String),
    /// The caller cancelled the check ([`CheckRequest::cancel`]) before it finished.
    #[error("the check was cancelled")]
    Cancelled,
    /// A document cannot be checked as given.
    #[error(transparent)]
    Document(#[from] DocumentError),
}

/// Why a document cannot be checked (see [`CheckSession::check_document`]).
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the document has no text")]
    Empty,
    #[error("the document is {:.1} MB; at most {} MB is read", *.0 as f64 / 1e6, factually_claims::MAX_TEXT_BYTES >> 20)]
    TooLong(usize),
    #[error("--max-claims must be between 1 and {max}, not {0}", max = document::MAX_CLAIMS)]
    MaxClaims(usize),
    /// The page to check could not be fetched or has no text.
    #[error("{0}")]
    Page(String),
}

impl From<factually_report::CheckError> for CheckError {
    fn from(e: factually_report::CheckError) -> Self {
        match e {
            factually_report::CheckError::Input(e) => Self::Input(e),
            factually_report::CheckError::Verify(e) => Self::Unverified(e),
            factually_report::CheckError::Cancelled => Self::Cancelled,
        }
    }
}

impl CheckError {
    /// The input itself is the problem: checking it again can never succeed.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            Self::Input(_)
                | Self::Document(_)
                | Self::Unverified(
                    VerifyError::EmptyClaim | VerifyError::ClaimTooLong(_) | VerifyError::NoWords
                )
                | Self::Kb(KbError::EmptyQuery)
        )
    }

    /// Another attempt may succeed (a busy or briefly unreadable knowledge base, a model that
    /// failed to load); false for bad input and for a setup that will fail the same way again
    /// (a knowledge base that does not exist, is damaged, outdated, or was built with another
    /// embedding model).
    pub fn is_retryable(&self) -> bool {
        !self.is_input()
            && !matches!(
                self,
                Self::Cancelled
                    | Self::Kb(
                        KbError::NotFound { .. }
                            | KbError::BadName(_)
                            | KbError::Outdated { .. }
                            | KbError::Corrupt(_)
                            | KbError::ModelMismatch { .. }
                    )
                    | Self::Unverified(VerifyError::Kb(
                        KbError::Outdated { .. }
                            | KbError::Corrupt(_)
                            | KbError::ModelMismatch { .. }
                    ))
            )
    }
}

/// One check to run.
#[derive(Debug, Clone, Copy)]
pub struct CheckRequest<'a> {
    /// The question or claim, as given.
    pub input: &'a str,
    /// The report's date, `YYYY-MM-DD`.
    pub checked_on: &'a str,
    /// Pages to use as sources besides any search.
    pub urls: &'a [String],
    /// Stops the check when cancelled: between steps, and at once while it waits on the web
    /// or a language model. The check then fails with [`CheckError::Cancelled`].
    pub cancel: Option<&'a CancellationToken>,
}

/// Sources gathered outside the knowledge base, and the web KB that stores their snapshots.
#[derive(Clone)]
struct Gathered {
    offered: OfferedSources,
    kb: Arc<KnowledgeBase>,
}

/// The runtime a session's async work (web search and fetch, LLM calls) runs on.
enum Runtime {
    /// The session's own, for a command that has none.
    Owned(tokio::runtime::Runtime),
    /// The caller's (`serve`), so a process has one.
    Shared(Handle),
}

impl Runtime {
    fn handle(&self) -> &Handle {
        match self {
            Self::Owned(r) => r.handle(),
            Self::Shared(h) => h,
        }
    }
}

/// Everything that checks share, loaded once: see the crate docs. `Sync`: worker threads
/// run checks through one session at the same time.
pub struct CheckSession {
    data: DataDir,
    cache: AssetCache,
    kb: KbName,
    search_kb: bool,
    search_web: bool,
    documents: usize,
    stance: StanceModel,
    judge: Judge,
    llm: Option<LlmSettings>,
    web: WebSources,
    budget: Option<std::time::Duration>,
    runtime: Runtime,
    build_progress: Option<Arc<dyn Fn(factually_kb::default_kb::BuildProgress) + Send + Sync>>,
    embedders: Embedders,
    /// The searched knowledge base, kept open between checks (opening the default one reads
    /// its vectors, about a quarter of a second) and reopened when a commit changed it.
    searched: Mutex<Option<Arc<KnowledgeBase>>>,
    web_kb: Mutex<Option<Arc<KnowledgeBase>>>,
    /// The published fact-checks (`factchecks`), consulted by every check once imported.
    factchecks_kb: Mutex<Option<Arc<KnowledgeBase>>>,
    /// Started on the first check in LLM mode, then kept.
    models: OnceLock<writer::StartedModels>,
    /// Loaded on the first document check, then kept.
    check_worthiness: Mutex<Option<Arc<factually_claims::CheckWorthiness>>>,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Now, RFC 3339 (UTC).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formattable")
}

impl CheckSession {
    /// A session with its own async runtime.
    pub fn new(settings: Settings) -> Result<Self, SetupError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| SetupError::Failed(format!("starting the async runtime: {e}")))?;
        Self::build(settings, Runtime::Owned(runtime))
    }

    /// A session whose async work runs on the caller's runtime. Its checks must then be run
    /// from threads outside that runtime (they block).
    pub fn with_runtime(settings: Settings, handle: Handle) -> Result<Self, SetupError> {
        Self::build(settings, Runtime::Shared(handle))
    }

    fn build(settings: Settings, runtime: Runtime) -> Result<Self, SetupError> {
        let llm_judge = settings.llm.as_ref().map(|llm| LlmJudgeContext {
            settings: llm,
            call_cache: settings.data.root().join(LLM_CALL_CACHE),
            handle: runtime.handle().clone(),
        });
        let stance = load_stance(&settings.cache, &settings.stance, llm_judge)?;
        let judge = load_judge(
            settings.judge_model.as_deref(),
            settings.stance.judge_mode(),
        )?;
        let web = settings.web.sources(
            &settings.data,
            settings.allow_private_hosts,
            settings.search_web,
            settings.max_pages,
        )?;
        Ok(Self {
            data: settings.data,
            cache: settings.cache.clone(),
            kb: settings.kb,
            search_kb: settings.search_kb,
            search_web: settings.search_web,
            documents: settings.documents.clamp(1, 50),
            stance,
            judge,
            llm: settings.llm,
            web,
            budget: settings.check_budget,
            runtime,
            build_progress: settings.build_progress,
            embedders: Embedders::new(settings.cache.clone(), settings.embedder),
            searched: Mutex::new(None),
            web_kb: Mutex::new(None),
            factchecks_kb: Mutex::new(None),
            models: OnceLock::new(),
            check_worthiness: Mutex::new(None),
        })
    }

    /// Opens (and, for the default one, builds) the searched knowledge base and loads the
    /// models it needs, so a server or worker fails at start rather than on every check.
    pub fn prepare(&self) -> Result<(), CheckError> {
        if self.search_kb {
            let kb = self.searched_kb()?;
            self.embedder_for(&kb)?;
        }
        Ok(())
    }

    /// Whether checks search the knowledge base (not only web or given sources).
    pub fn searches_kb(&self) -> bool {
        self.search_kb
    }

    /// The name of the searched knowledge base.
    pub fn kb_name(&self) -> &KbName {
        &self.kb
    }

    /// The model `kb` was built with: none when it has no dense vectors (or is not searched).
    fn embedder_for(&self, kb: &KnowledgeBase) -> Result<Option<Arc<BertEmbedder>>, EmbedError> {
        if !self.search_kb || kb.config().dense == DenseScope::None {
            return Ok(None);
        }
        let name = kb.dir().display().to_string();
        Ok(Some(
            self.embedders
                .for_kb(&name, kb.config().embedder.as_ref())?,
        ))
    }

    /// A knowledge base view kept in `slot`, reopened when a commit has changed the base.
    fn current(
        slot: &Mutex<Option<Arc<KnowledgeBase>>>,
        open: impl FnOnce() -> Result<KnowledgeBase, KbError>,
    ) -> Result<Arc<KnowledgeBase>, KbError> {
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(kb) = slot.as_ref().filter(|kb| kb.is_current()) {
            return Ok(kb.clone());
        }
        let kb = Arc::new(open()?);
        *slot = Some(kb.clone());
        Ok(kb)
    }

    /// The searched knowledge base; the default one is built on first use.
    fn searched_kb(&self) -> Result<Arc<KnowledgeBase>, CheckError> {
        if self.kb.as_str() != DEFAULT_KB {
            return Ok(Self::current(&self.searched, || {
                self.data.open_kb(&self.kb)
            })?);
        }
        // The default KB is searched with dense vectors, so the embedder is needed either way.
        let embedder = self.embedders.for_new_kb()?;
        Ok(Self::current(&self.searched, || {
            ensure_default_kb(&self.data, &self.cache, &*embedder, &now_rfc3339(), |p| {
                if let Some(f) = &self.build_progress {
                    f(p);
                }
            })
        })?)
    }

    fn web_kb(&self) -> Result<Arc<KnowledgeBase>, KbError> {
        Self::current(&self.web_kb, || open_web_kb(&self.data, &now_rfc3339()))
    }

    /// Runs `queries` (when the session searches the web) and fetches the results and the
    /// given `urls`, and stores them as snapshots: the sources offered to a check, or to
    /// every claim of a document.
    fn gather(
        &self,
        queries: Vec<String>,
        urls: &[String],
        cancel: Option<&CancellationToken>,
        progress: &dyn Fn(Progress),
    ) -> Result<Gathered, CheckError> {
        let queries = if self.search_web { queries } else { Vec::new() };
        if !queries.is_empty() {
            progress(Progress::Searching {
                queries: queries.clone(),
            });
        }
        let started = Instant::now();
        let gathered = self.block_on_unless_cancelled(self.web.gather(&queries, urls), cancel)?;
        let kb = self.web_kb()?;
        let mut offered = snapshots::store(&kb, gathered);
        offered.gather_ms = ms(started);
        progress(Progress::Fetched {
            pages: offered.documents.len(),
        });
        Ok(Gathered { offered, kb })
    }

    /// Whether a check gathers sources outside the knowledge base.
    fn gathers(&self, urls: &[String]) -> bool {
        self.search_web || !urls.is_empty()
    }

    /// Checks one input, telling `progress` about each step.
    pub fn check(
        &self,
        request: &CheckRequest<'_>,
        progress: &dyn Fn(Progress),
    ) -> Result<Report, CheckError> {
        let input = validate_input(request.input)?;
        let started = Instant::now();
        let analysis = analyze(input);
        let analyze_ms = ms(started);
        if request.cancel.is_some_and(CancellationToken::is_cancelled) {
            return Err(CheckError::Cancelled);
        }
        let gathered = if self.gathers(request.urls) {
            let queries = queries_for(&analysis, QUERIES);
            Some(self.gather(queries, request.urls, request.cancel, progress)?)
        } else {
            None
        };
        self.check_analysed(request, &analysis, analyze_ms, started, gathered, progress)
    }

    /// The rest of a check once its input is analysed and its sources gathered (`None`: only
    /// the knowledge base is searched). The wall-time budget counts from `started`.
    fn check_analysed(
        &self,
        request: &CheckRequest<'_>,
        analysis: &factually_analyze::Analysis,
        analyze_ms: f64,
        started: Instant,
        gathered: Option<Gathered>,
        progress: &dyn Fn(Progress),
    ) -> Result<Report, CheckError> {
        let cancel = request.cancel;
        let cancelled = || cancel.is_some_and(CancellationToken::is_cancelled);
        let deadline = self.budget.map(|b| started + b);
        let (offered, web_kb) = match gathered {
            Some(g) => (g.offered, Some(g.kb)),
            None => (OfferedSources::default(), None),
        };
        // Without the knowledge base among the sources it is never searched, so the web KB
        // stands in for it (and the default KB is not built just to be ignored).
        let kb = match (self.search_kb, web_kb) {
            (false, Some(web)) => web,
            _ => self.searched_kb()?,
        };
        let embedder = self.embedder_for(&kb)?;
        let checker = Checker {
            verifier: self.verifier(&kb, embedder.as_deref()),
            kb_name: self.kb.to_string(),
            search_kb: self.search_kb,
            offered,
            deadline,
            cancelled: Some(&cancelled),
        };
        let mut report =
            checker.check_analysed(analysis, analyze_ms, request.checked_on, progress)?;
        if let Some(settings) = &self.llm {
            progress(Progress::WritingWithModel {
                models: settings.models(),
            });
            let started = self.models.get_or_init(|| {
                writer::StartedModels::start(
                    settings,
                    &self.cache,
                    self.data.root().join(LLM_CALL_CACHE),
                )
            });
            // The cited documents are the offered ones or the searched KB's: read from what
            // this check holds, not looked up again across the data directory.
            let text_of = |id: &DocId| {
                checker
                    .offered
                    .documents
                    .iter()
                    .find(|o| o.document.meta.id == *id)
                    .map(|o| o.document.text.clone())
                    .or_else(|| kb.document(id).ok().flatten().map(|d| d.text))
            };
            self.block_on_unless_cancelled(
                writer::write(&mut report, started, &self.stance, settings, text_of),
                cancel,
            )?;
        }
        self.add_published_checks(&mut report);
        Ok(report)
    }

    /// Published fact-checks of the input (imported with `factually factchecks import`) at the
    /// top of the report: those whose claim is at least [`factchecks::ALREADY_CHECKED`]
    /// similar to it. A collection that cannot be read is a warning, not a failed check.
    fn add_published_checks(&self, report: &mut Report) {
        if let Err(e) = self.try_add_published_checks(report) {
            report.warnings.push(format!(
                "the published fact-checks could not be searched: {e}"
            ));
        }
    }

    /// Each close published fact-check is shown at the top and cited as a numbered source,
    /// its stored claim the quote.
    fn try_add_published_checks(&self, report: &mut Report) -> Result<(), CheckError> {
        let Some(matches) = self.match_fact_checks(&report.input, 3)? else {
            return Ok(());
        };
        let name = KbName::parse(FACTCHECKS_KB)?;
        let base = Self::current(&self.factchecks_kb, || self.data.open_kb(&name))?;
        let close = factchecks::already_checked(matches);
        for m in &close {
            let Some(id) = DocId::parse(&m.doc_id) else {
                continue;
            };
            if let Some(doc) = base.document(&id)? {
                factually_report::cite_published_check(
                    report,
                    &m.published(),
                    id,
                    FACTCHECKS_KB,
                    &doc.text,
                );
            }
        }
        report.already_checked = close.iter().map(FactCheckMatch::published).collect();
        Ok(())
    }

    /// Runs `work` on the session's runtime until it is done or `cancel` is cancelled
    /// (dropping it then: its requests are abandoned).
    fn block_on_unless_cancelled<T>(
        &self,
        work: impl std::future::Future<Output = T>,
        cancel: Option<&CancellationToken>,
    ) -> Result<T, CheckError> {
        let Some(cancel) = cancel else {
            return Ok(self.runtime.handle().block_on(work));
        };
        self.runtime.handle().block_on(async {
            tokio::select! {
                done = work => Ok(done),
                () = cancel.cancelled() => Err(CheckError::Cancelled),
            }
        })
    }

    /// One claim against the searched knowledge base: verdict and grounded evidence (what
    /// `factually verify` prints), with this session's models and judge.
    pub fn verify(&self, claim: &str) -> Result<factually_verify::Verification, CheckError> {
        let kb = self.searched_kb()?;
        let embedder = self.embedder_for(&kb)?;
        self.verifier(&kb, embedder.as_deref())
            .verify(claim)
            .map_err(CheckError::Unverified)
    }

    /// The verify pipeline over `kb` with this session's models, judge and depth.
    fn verifier<'s>(
        &'s self,
        kb: &'s KnowledgeBase,
        embedder: Option<&'s BertEmbedder>,
    ) -> Verifier<'s> {
        Verifier {
            kb,
            embedder: embedder.map(|e| e as &dyn Embedder),
            stance: &self.stance,
            judge: &self.judge,
            options: VerifyOptions {
                documents: self.documents,
                ..VerifyOptions::default()
            },
        }
    }

    /// The `k` best passages of the searched knowledge base for a query (hybrid retrieval).
    pub fn search(&self, query: &str, k: usize) -> Result<Vec<factually_kb::Hit>, CheckError> {
        let kb = self.searched_kb()?;
        let embedder = self.embedder_for(&kb)?;
        let opts = factually_kb::SearchOptions {
            k: k.clamp(1, 100),
            ..factually_kb::SearchOptions::default()
        };
        Ok(kb.search(
            query,
            &opts,
            embedder.as_deref().map(|e| e as &dyn Embedder),
        )?)
    }

    /// The published fact-checks (knowledge base `factchecks`) that best match `claim`;
    /// `None` when none were imported into this data directory.
    pub fn match_fact_checks(
        &self,
        claim: &str,
        k: usize,
    ) -> Result<Option<Vec<FactCheckMatch>>, CheckError> {
        let claim = validate_input(claim)?;
        let name = KbName::parse(FACTCHECKS_KB)?;
        if !self.data.has_kb(&name) {
            return Ok(None);
        }
        // Kept open between checks like the searched KB: every check consults it.
        let base = Self::current(&self.factchecks_kb, || self.data.open_kb(&name))?;
        Ok(Some(factchecks::matches_in(
            &base,
            &self.embedders,
            claim,
            k,
        )?))
    }

    /// The stored copy of a cited source (title and text), for pages that show a quote in
    /// place; `None` when this data directory does not hold it.
    pub fn stored_text(&self, kb: &str, doc_id: &str) -> Option<(String, String)> {
        let name = KbName::parse(kb).ok()?;
        let id = DocId::parse(doc_id)?;
        let view = if name == self.kb && self.data.has_kb(&name) {
            self.searched_kb().ok()?
        } else if name.as_str() == WEB_KB {
            self.web_kb().ok()?
        } else {
            let (_, doc) = self.data.find_document(&id, Some(&name)).ok()??;
            return Some((doc.meta.title, doc.text));
        };
        let doc = view.document(&id).ok()??;
        Some((doc.meta.title, doc.text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_whether_the_input_or_a_retry_is_the_way_out() {
        let input = CheckError::Input(InputError::Empty);
        assert!(input.is_input() && !input.is_retryable());
        let long = CheckError::from(factually_report::CheckError::Verify(
            VerifyError::ClaimTooLong(5000),
        ));
        assert!(long.is_input() && !long.is_retryable());
        let busy = CheckError::Kb(KbError::Busy("web".into()));
        assert!(!busy.is_input() && busy.is_retryable());
        let missing = CheckError::Kb(KbError::NotFound {
            name: "news".into(),
            dir: "/data".into(),
        });
        assert!(!missing.is_input() && !missing.is_retryable());
        let damaged = CheckError::Unverified(VerifyError::Kb(KbError::Corrupt("x".into())));
        assert!(!damaged.is_input() && !damaged.is_retryable());
    }

    #[test]
    fn a_wrong_setting_is_a_usage_error() {
        assert!(SetupError::Invalid("x".into()).is_usage());
        assert!(!SetupError::Failed("x".into()).is_usage());
    }
}
