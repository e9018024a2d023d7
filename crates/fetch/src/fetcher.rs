//! The fetcher: one polite, bounded, SSRF-checked HTTP GET per page.
//!
//! Redirects are followed by hand rather than by the HTTP client, so that every hop gets the
//! same treatment as the first: the URL policy, robots.txt of the hop's host, and that host's
//! rate limit. Bodies are streamed and cut off at [`FetchConfig::max_bytes`], so a 50 MB
//! response costs at most the cap in memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION, USER_AGENT};
use texting_robots::Robot;
use url::Url;

use crate::guard::{GuardedResolver, Policy, PrivateAccess, Refusal};

/// The product token robots.txt rules are matched against.
pub const ROBOTS_TOKEN: &str = "factually";

/// Settings of a [`Fetcher`].
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub policy: Policy,
    /// Sent with every request, so site owners can see who fetches and why.
    pub user_agent: String,
    /// Whole-request limit (connect, headers and body) per hop.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Largest body read; a longer one is refused with [`FetchError::TooLarge`].
    pub max_bytes: usize,
    pub max_redirects: usize,
    /// Requests per second to any one host.
    pub per_host_per_second: NonZeroU32,
    /// Pages fetched at once by this fetcher, across every check that shares it (one per
    /// process in `serve` and `worker`), so many workers cannot open unbounded connections.
    pub max_concurrent: usize,
    /// Host names pinned to addresses (like curl's `--resolve`); the policy still applies.
    pub resolve: HashMap<String, Vec<IpAddr>>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            user_agent: format!(
                "factually/{} (fact-checking bot; +https://example.invalid/factually)",
                env!("CARGO_PKG_VERSION")
            ),
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_bytes: 5 * 1024 * 1024,
            max_redirects: 5,
            per_host_per_second: NonZeroU32::new(2).expect("non-zero"),
            max_concurrent: 16,
            resolve: HashMap::new(),
        }
    }
}

impl FetchConfig {
    /// Lets the fetcher reach loopback and private addresses on any port.
    pub fn allow_private_hosts(mut self) -> Self {
        self.policy.private = PrivateAccess::AllowAll;
        self
    }
}

/// Why a page was not fetched. Every variant names its cause in words a report can show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("not a valid URL: {0}")]
    BadUrl(String),
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    #[error("robots.txt of {0} disallows fetching this page")]
    RobotsDisallowed(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("timed out after {0} s")]
    Timeout(u64),
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("a redirect without a usable Location header")]
    BadRedirect,
    #[error("content type {0} is not a page factually can read")]
    Unsupported(String),
    #[error("could not connect: {0}")]
    Network(String),
}

/// A fetched response body and what is known about it.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL asked for.
    pub requested: Url,
    /// The URL the body came from, after redirects.
    pub url: Url,
    /// Media type without parameters, lower case (`text/html`).
    pub media_type: String,
    /// The `charset` parameter of the Content-Type header, if any.
    pub charset: Option<String>,
    pub body: Vec<u8>,
}

/// What robots.txt says for one origin.
enum Robots {
    AllowAll,
    DisallowAll,
    Rules(Box<Robot>),
}

impl Robots {
    fn allows(&self, url: &Url) -> bool {
        match self {
            Robots::AllowAll => true,
            Robots::DisallowAll => false,
            Robots::Rules(robot) => robot.allowed(url.as_str()),
        }
    }
}

/// An HTTP client for untrusted URLs. Cheap to share behind an `Arc`; fetches run concurrently.
pub struct Fetcher {
    client: reqwest::Client,
    config: FetchConfig,
    robots: Mutex<HashMap<String, Arc<Robots>>>,
    limiter: DefaultKeyedRateLimiter<String>,
    permits: tokio::sync::Semaphore,
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Result<Self, FetchError> {
        let policy = Arc::new(config.policy.clone());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(
                policy,
                config.resolve.clone(),
            )))
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| FetchError::Network(e.to_string()))?;
        let limiter = RateLimiter::keyed(Quota::per_second(config.per_host_per_second));
        let permits = tokio::sync::Semaphore::new(config.max_concurrent.clamp(1, 1024));
        Ok(Self {
            client,
            config,
            robots: Mutex::new(HashMap::new()),
            limiter,
            permits,
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Fetches a page, following redirects, each hop checked against the policy and
    /// robots.txt.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, FetchError> {
        let requested = Url::parse(url.trim()).map_err(|e| FetchError::BadUrl(e.to_string()))?;
        // Held for the whole fetch, redirects and robots.txt included; never closed.
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let mut current = requested.clone();
        for _ in 0..=self.config.max_redirects {
            self.config.policy.check_url(&current)?;
            if !self.robots_for(&current).await?.allows(&current) {
                return Err(FetchError::RobotsDisallowed(origin_of(&current)));
            }
            let response = self.get(&current).await?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| current.join(l).ok())
                    .ok_or(FetchError::BadRedirect)?;
                current = next;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let (media_type, charset) = content_type(&response);
            let body = self.read_body(response, self.config.max_bytes).await?;
            return Ok(Fetched {
                requested,
                url: current,
                media_type,
                charset,
                body,
            });
        }
        Err(FetchError::TooManyRedirects(self.config.max_redirects))
    }

    /// One GET after waiting for the host's rate limit.
    async fn get(&self, url: &Url) -> Result<reqwest::Response, FetchError> {
        self.limiter
            .until_key_ready(&url.host_str().unwrap_or_default().to_string())
            .await;
        self.client
            .get(url.clone())
            .header(USER_AGENT, &self.config.user_agent)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))
    }

    async fn read_body(
        &self,
        mut response: reqwest::Response,
        cap: usize,
    ) -> Result<Vec<u8>, FetchError> {
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > cap as u64) {
            return Err(FetchError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e))?
        {
            if body.len() + chunk.len() > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// robots.txt of the URL's origin, fetched once per fetcher. RFC 9309: a 4xx means no
    /// rules; a 5xx means "disallow all". A host that cannot be reached at all is reported as
    /// such (the page itself could not be fetched either).
    async fn robots_for(&self, url: &Url) -> Result<Arc<Robots>, FetchError> {
        let origin = origin_of(url);
        if let Some(r) = self.robots.lock().expect("robots cache").get(&origin) {
            return Ok(r.clone());
        }
        let robots = Arc::new(self.fetch_robots(url).await?);
        Ok(self
            .robots
            .lock()
            .expect("robots cache")
            .entry(origin)
            .or_insert(robots)
            .clone())
    }

    async fn fetch_robots(&self, url: &Url) -> Result<Robots, FetchError> {
        let robots_url = url
            .join("/robots.txt")
            .map_err(|e| FetchError::BadUrl(e.to_string()))?;
        let response = self.get(&robots_url).await?;
        let status = response.status();
        if status.is_client_error() || status.is_redirection() {
            return Ok(Robots::AllowAll);
        }
        if !status.is_success() {
            return Ok(Robots::DisallowAll);
        }
        Ok(match self.read_body(response, 512 * 1024).await {
            Ok(body) => match Robot::new(ROBOTS_TOKEN, &body) {
                Ok(robot) => Robots::Rules(Box::new(robot)),
                Err(_) => Robots::AllowAll,
            },
            Err(_) => Robots::DisallowAll,
        })
    }

    fn transport_error(&self, e: &reqwest::Error) -> FetchError {
        if let Some(refusal) = refusal_in(e) {
            return FetchError::Refused(refusal);
        }
        if e.is_timeout() {
            return FetchError::Timeout(self.config.timeout.as_secs());
        }
        FetchError::Network(root_cause(e))
    }
}

/// `scheme://host:port`, the scope of robots.txt and of the robots cache.
fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn content_type(response: &reqwest::Response) -> (String, Option<String>) {
    let raw = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut parts = raw.split(';');
    let media_type = parts.next().unwrap_or("").trim().to_string();
    let charset = parts
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .map(|c| c.trim_matches('"').to_string())
        .next();
    (media_type, charset)
}

/// The policy refusal inside a client error (raised by the guarded resolver), if any.
fn refusal_in(e: &reqwest::Error) -> Option<Refusal> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(r) = err.downcast_ref::<Refusal>() {
            return Some(r.clone());
        }
        source = err.source();
    }
    None
}

/// The innermost error message: "connection refused" rather than "error sending request".
pub(crate) fn root_cause(e: &reqwest::Error) -> String {
    let mut last: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}
