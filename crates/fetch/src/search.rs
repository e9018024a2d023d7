//! Web search: the [`SearchProvider`] trait, the SearxNG, Brave and Wikipedia providers, query
//! generation and result merging.
//!
//! Search endpoints are configured by the operator (a SearxNG instance commonly runs on the
//! same host), so provider calls go through an ordinary client; only the *result* URLs, which
//! come from the web, go through the SSRF-checked [`crate::Fetcher`].

use std::collections::HashSet;
use std::time::Duration;

use factually_analyze::words::token_f1;
use factually_analyze::Analysis;
use futures::future::BoxFuture;
use serde::Deserialize;
use url::Url;

use crate::fetcher::root_cause;

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub url: String,
    pub title: String,
    pub snippet: String,
    /// The provider that found it (`searxng`, `brave`, `wikipedia`).
    pub provider: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("{provider}: could not reach the search service: {message}")]
    Network {
        provider: &'static str,
        message: String,
    },
    #[error("{provider}: the search service answered HTTP {status}")]
    Status { provider: &'static str, status: u16 },
    #[error("{provider}: unexpected response: {message}")]
    Format {
        provider: &'static str,
        message: String,
    },
}

/// A web search service.
pub trait SearchProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Up to `limit` results for `query`, best first.
    fn search<'a>(
        &'a self,
        query: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<SearchHit>, SearchError>>;
}

/// The HTTP client shared by the providers: a timeout, a clear User-Agent, no redirects
/// (a search API that redirects is misconfigured).
pub fn api_client(user_agent: &str, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client with static settings builds")
}

async fn get_body(
    provider: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<Vec<u8>, SearchError> {
    let response = request.send().await.map_err(|e| SearchError::Network {
        provider,
        message: root_cause(&e),
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(SearchError::Status {
            provider,
            status: status.as_u16(),
        });
    }
    response
        .bytes()
        .await
        .map(|body| body.to_vec())
        .map_err(|e| SearchError::Network {
            provider,
            message: root_cause(&e),
        })
}

fn parse_json<T: for<'de> Deserialize<'de>>(
    provider: &'static str,
    body: &[u8],
) -> Result<T, SearchError> {
    serde_json::from_slice(body).map_err(|e| SearchError::Format {
        provider,
        message: e.to_string(),
    })
}

fn endpoint(base: &Url, path: &str) -> Url {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join(path.trim_start_matches('/'))
        .expect("a relative path joins")
}

/// A SearxNG instance's JSON API (`/search?format=json`; the instance must enable the json
/// format in its `settings.yml`).
pub struct SearxNg {
    client: reqwest::Client,
    base: Url,
}

impl SearxNg {
    pub fn new(client: reqwest::Client, base: Url) -> Self {
        Self { client, base }
    }
}

#[derive(Deserialize)]
struct SearxResponse {
    results: Vec<SearxResult>,
}

#[derive(Deserialize)]
struct SearxResult {
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    content: Option<String>,
}

impl SearchProvider for SearxNg {
    fn name(&self) -> &'static str {
        "searxng"
    }

    fn search<'a>(
        &'a self,
        query: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<SearchHit>, SearchError>> {
        Box::pin(async move {
            let request = self.client.get(endpoint(&self.base, "search")).query(&[
                ("q", query),
                ("format", "json"),
                ("language", "en"),
            ]);
            parse_searxng(&get_body(self.name(), request).await?, limit)
        })
    }
}

/// The hits in a SearxNG JSON answer, at most `limit`.
pub fn parse_searxng(body: &[u8], limit: usize) -> Result<Vec<SearchHit>, SearchError> {
    let response: SearxResponse = parse_json("searxng", body)?;
    Ok(response
        .results
        .into_iter()
        .take(limit)
        .map(|r| SearchHit {
            url: r.url,
            title: r.title,
            snippet: r.content.unwrap_or_default(),
            provider: "searxng",
        })
        .collect())
}

/// The Brave Search web API (`/res/v1/web/search`, key in `X-Subscription-Token`).
pub struct Brave {
    client: reqwest::Client,
    base: Url,
    key: String,
}

/// Brave's public API address.
pub const BRAVE_URL: &str = "https://api.search.brave.com";

impl Brave {
    pub fn new(client: reqwest::Client, base: Url, key: String) -> Self {
        Self { client, base, key }
    }
}

#[derive(Deserialize)]
struct BraveResponse {
    #[serde(default)]
    web: Option<BraveWeb>,
}

#[derive(Deserialize)]
struct BraveWeb {
    results: Vec<BraveResult>,
}

#[derive(Deserialize)]
struct BraveResult {
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
}

impl SearchProvider for Brave {
    fn name(&self) -> &'static str {
        "brave"
    }

    fn search<'a>(
        &'a self,
        query: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<SearchHit>, SearchError>> {
        Box::pin(async move {
            let count = limit.clamp(1, 20).to_string();
            let request = self
                .client
                .get(endpoint(&self.base, "res/v1/web/search"))
                .query(&[("q", query), ("count", count.as_str())])
                .header("Accept", "application/json")
                .header("X-Subscription-Token", &self.key);
            parse_brave(&get_body(self.name(), request).await?, limit)
        })
    }
}

/// The hits in a Brave web-search JSON answer, at most `limit`.
pub fn parse_brave(body: &[u8], limit: usize) -> Result<Vec<SearchHit>, SearchError> {
    let response: BraveResponse = parse_json("brave", body)?;
    Ok(response
        .web
        .map(|w| w.results)
        .unwrap_or_default()
        .into_iter()
        .take(limit)
        .map(|r| SearchHit {
            url: r.url,
            title: r.title,
            snippet: r.description,
            provider: "brave",
        })
        .collect())
}

/// Wikipedia (or any MediaWiki) full-text search through `/w/api.php`; results are the
/// article pages (`/wiki/Title`).
pub struct Wikipedia {
    client: reqwest::Client,
    base: Url,
}

/// English Wikipedia.
pub const WIKIPEDIA_URL: &str = "https://en.wikipedia.org";

impl Wikipedia {
    pub fn new(client: reqwest::Client, base: Url) -> Self {
        Self { client, base }
    }
}

#[derive(Deserialize)]
struct WikiResponse {
    query: WikiQuery,
}

#[derive(Deserialize)]
struct WikiQuery {
    search: Vec<WikiResult>,
}

#[derive(Deserialize)]
struct WikiResult {
    title: String,
    #[serde(default)]
    snippet: String,
}

impl SearchProvider for Wikipedia {
    fn name(&self) -> &'static str {
        "wikipedia"
    }

    fn search<'a>(
        &'a self,
        query: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<SearchHit>, SearchError>> {
        Box::pin(async move {
            let limit_s = limit.clamp(1, 50).to_string();
            let request = self.client.get(endpoint(&self.base, "w/api.php")).query(&[
                ("action", "query"),
                ("list", "search"),
                ("format", "json"),
                ("srsearch", query),
                ("srlimit", limit_s.as_str()),
            ]);
            parse_mediawiki(&self.base, &get_body(self.name(), request).await?, limit)
        })
    }
}

/// The article pages in a MediaWiki `list=search` JSON answer (`base` is the wiki's address),
/// at most `limit`.
pub fn parse_mediawiki(
    base: &Url,
    body: &[u8],
    limit: usize,
) -> Result<Vec<SearchHit>, SearchError> {
    let response: WikiResponse = parse_json("wikipedia", body)?;
    Ok(response
        .query
        .search
        .into_iter()
        .take(limit)
        .map(|r| {
            let mut page = endpoint(base, "wiki/");
            page.set_path(&format!("{}{}", page.path(), r.title.replace(' ', "_")));
            SearchHit {
                url: page.to_string(),
                title: r.title,
                snippet: strip_tags(&r.snippet),
                provider: "wikipedia",
            }
        })
        .collect())
}

/// MediaWiki snippets mark matches with `<span class="searchmatch">`.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Search queries for an analysed input: the input as asked, then its statements and
/// presuppositions (each a claim the sources must speak to), near-duplicates removed (token
/// F1 of 0.8 or more with a query already kept), at most `max`.
pub fn queries_for(analysis: &Analysis, max: usize) -> Vec<String> {
    let input = analysis.input.trim().trim_end_matches(['?', '.', '!']);
    let candidates = std::iter::once(input)
        .chain(analysis.statements.iter().map(String::as_str))
        .chain(analysis.presuppositions.iter().map(|p| p.text.as_str()));
    let mut queries: Vec<String> = Vec::new();
    for c in candidates {
        let c = c.trim().trim_end_matches(['?', '.', '!']).trim();
        if c.is_empty() || queries.iter().any(|q| token_f1(q, c) >= 0.8) {
            continue;
        }
        queries.push(c.to_string());
        if queries.len() == max {
            break;
        }
    }
    queries
}

/// The key under which two URLs count as the same page: no scheme, no `www.`, no fragment,
/// no tracking parameters, no trailing slash.
pub fn canonical_url(raw: &str) -> Option<String> {
    let url = Url::parse(raw.trim()).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.trim_start_matches("www.");
    let query: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| !is_tracking_parameter(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let path = url.path().trim_end_matches('/');
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    Some(format!("{host}{port}{path}{query}"))
}

fn is_tracking_parameter(key: &str) -> bool {
    key.starts_with("utm_")
        || matches!(
            key,
            "fbclid" | "gclid" | "dclid" | "msclkid" | "mc_cid" | "mc_eid" | "ref" | "ref_src"
        )
}

/// Merges ranked result lists (one per query and provider) into one list: round-robin by
/// rank, so every query's best results come before any list's tail; duplicates (by
/// [`canonical_url`]) keep their best position; unparsable URLs are dropped.
pub fn merge_results(lists: Vec<Vec<SearchHit>>, max: usize) -> Vec<SearchHit> {
    let mut seen = HashSet::new();
    let mut merged = Vec::new();
    let depth = lists.iter().map(Vec::len).max().unwrap_or(0);
    for rank in 0..depth {
        for list in &lists {
            let Some(hit) = list.get(rank) else { continue };
            let Some(key) = canonical_url(&hit.url) else {
                continue;
            };
            if seen.insert(key) {
                merged.push(hit.clone());
                if merged.len() == max {
                    return merged;
                }
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_urls_ignore_what_does_not_name_the_page() {
        let same = [
            "https://www.example.org/news/story/",
            "http://example.org/news/story?utm_source=x&utm_medium=y",
            "https://EXAMPLE.org/news/story#comments",
            "https://example.org/news/story?fbclid=abc",
        ];
        for u in same {
            assert_eq!(
                canonical_url(u).as_deref(),
                Some("example.org/news/story"),
                "{u}"
            );
        }
        assert_ne!(
            canonical_url("https://example.org/story?id=1"),
            canonical_url("https://example.org/story?id=2")
        );
        assert_eq!(canonical_url("not a url"), None);
    }

    #[test]
    fn merging_interleaves_and_dedupes() {
        let hit = |u: &str| SearchHit {
            url: u.to_string(),
            title: String::new(),
            snippet: String::new(),
            provider: "searxng",
        };
        let a = vec![
            hit("https://a.org/1"),
            hit("https://a.org/2"),
            hit("https://a.org/3"),
        ];
        let b = vec![
            hit("https://www.a.org/1/"),
            hit("https://b.org/1"),
            hit("bad"),
        ];
        let merged: Vec<String> = merge_results(vec![a, b], 4)
            .into_iter()
            .map(|h| h.url)
            .collect();
        assert_eq!(
            merged,
            [
                "https://a.org/1",
                "https://a.org/2",
                "https://b.org/1",
                "https://a.org/3"
            ]
        );
    }

    #[test]
    fn queries_cover_the_input_and_its_presuppositions() {
        let analysis = factually_analyze::analyze(
            "What are the consequences for ICE agents who fail to meet deportation quotas?",
        );
        let queries = queries_for(&analysis, 3);
        assert_eq!(
            queries[0],
            "What are the consequences for ICE agents who fail to meet deportation quotas"
        );
        assert!(queries.len() >= 2, "{queries:?}");
        assert!(queries.iter().any(|q| q.contains("quota")));
        for (i, a) in queries.iter().enumerate() {
            for b in &queries[i + 1..] {
                assert!(token_f1(a, b) < 0.8, "{a} ~ {b}");
            }
        }
    }
}
