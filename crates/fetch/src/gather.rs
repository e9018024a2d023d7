//! Gathering the web sources of one check: search every provider for every query in parallel,
//! merge the results, fetch and extract the pages concurrently (with a snapshot cache), collapse
//! syndicated copies, and score each source's credibility.
//!
//! Nothing here aborts a check: a provider that fails becomes a warning, a page that cannot be
//! used becomes a [`Skipped`] entry with its reason, and the check goes on with the rest.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use factually_core::NewDocument;
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::credibility::{Credibility, ScoreSource};
use crate::extract::to_document;
use crate::fetcher::{FetchError, Fetcher};
use crate::guard::PrivateAccess;
use crate::search::{canonical_url, merge_results, SearchProvider};
use crate::syndication::origin_groups;

/// A usable web source.
#[derive(Debug, Clone)]
pub struct WebDocument {
    pub document: NewDocument,
    /// The URL the stored text came from (after redirects).
    pub url: String,
    /// When the page was fetched, RFC 3339 (earlier than now when it came from the cache).
    pub fetched_at: String,
    pub credibility: f32,
    pub credibility_source: ScoreSource,
    /// URLs of pages carrying the same story, collapsed into this one.
    pub copies: Vec<String>,
}

/// A page that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub url: String,
    pub reason: String,
}

/// Milliseconds per step of gathering.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct GatherTimings {
    pub search: f64,
    pub fetch: f64,
    pub total: f64,
}

/// Everything the web contributed to one check.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    pub queries: Vec<String>,
    /// Usable sources, given URLs first, then search results in merged rank order.
    pub documents: Vec<WebDocument>,
    pub skipped: Vec<Skipped>,
    /// Failures that cost results without naming a page (a search provider down...).
    pub warnings: Vec<String>,
    pub timings_ms: GatherTimings,
}

/// The web side of factually: providers, the fetcher, the snapshot cache and credibility.
pub struct WebSources {
    pub fetcher: Arc<Fetcher>,
    pub providers: Vec<Box<dyn SearchProvider>>,
    pub credibility: Credibility,
    pub cache: Option<SnapshotCache>,
    /// Pages fetched from search results per check.
    pub max_pages: usize,
    /// Results asked of each provider per query.
    pub results_per_query: usize,
    /// Pages fetched at once.
    pub concurrency: usize,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

impl WebSources {
    /// Searches for `queries` (when providers are configured) and fetches the results together
    /// with `given_urls` (always fetched, listed first).
    pub async fn gather(&self, queries: &[String], given_urls: &[String]) -> Gathered {
        let started = Instant::now();
        let mut out = Gathered {
            queries: queries.to_vec(),
            ..Gathered::default()
        };

        let t = Instant::now();
        let searches = queries.iter().flat_map(|q| {
            self.providers
                .iter()
                .map(move |p| p.search(q, self.results_per_query))
        });
        let mut lists = Vec::new();
        for result in futures::future::join_all(searches).await {
            match result {
                Ok(hits) => lists.push(hits),
                Err(e) => out.warnings.push(format!("search failed: {e}")),
            }
        }
        let hits = merge_results(lists, self.max_pages);
        out.timings_ms.search = ms(t);

        let mut urls: Vec<String> = Vec::new();
        for url in given_urls.iter().chain(hits.iter().map(|h| &h.url)) {
            let key = canonical_url(url);
            if !urls.iter().any(|u| canonical_url(u) == key) {
                urls.push(url.clone());
            }
        }

        let t = Instant::now();
        let results: Vec<(String, Result<WebDocument, String>)> = stream::iter(urls)
            .map(|url| async move {
                let result = self.source(&url).await;
                (url, result)
            })
            .buffered(self.concurrency.max(1))
            .collect()
            .await;
        out.timings_ms.fetch = ms(t);

        let mut documents = Vec::new();
        for (url, result) in results {
            match result {
                Ok(doc) => documents.push(doc),
                Err(reason) => out.skipped.push(Skipped { url, reason }),
            }
        }
        out.documents = collapse_copies(documents);
        out.timings_ms.total = ms(started);
        out
    }

    /// One page as a source: from the cache when fresh, else fetched and extracted.
    async fn source(&self, url: &str) -> Result<WebDocument, String> {
        let parsed = Url::parse(url.trim()).map_err(|e| format!("not a valid URL: {e}"))?;
        let host = parsed.host_str().unwrap_or_default().to_string();
        if self.credibility.is_blocked(&host) {
            return Err("the domain is on your block list".to_string());
        }
        // The policy applies to cached pages too: a page cached by a run that allowed private
        // hosts is not served to a run that does not.
        let policy = &self.fetcher.config().policy;
        policy
            .check_url(&parsed)
            .map_err(|e| FetchError::from(e).to_string())?;
        let private = policy.private != PrivateAccess::Deny;
        let (document, final_url, fetched_at) =
            match self.cache.as_ref().and_then(|c| c.get(url, private)) {
                Some(hit) => hit,
                None => {
                    let page = self
                        .fetcher
                        .fetch(url)
                        .await
                        .map_err(|e: FetchError| e.to_string())?;
                    let fetched_at = now_rfc3339();
                    let extracted = {
                        let page = page.clone();
                        tokio::task::spawn_blocking(move || to_document(&page))
                            .await
                            .map_err(|_| "extraction failed".to_string())?
                    };
                    let document = extracted.map_err(|e| e.to_string())?;
                    let final_url = page.url.to_string();
                    if let Some(cache) = &self.cache {
                        cache.put(url, &document, &final_url, &fetched_at, private);
                    }
                    (document, final_url, fetched_at)
                }
            };
        let final_host = Url::parse(&final_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or(host);
        if self.credibility.is_blocked(&final_host) {
            return Err("it redirects to a domain on your block list".to_string());
        }
        let (credibility, credibility_source) = self.credibility.score(&final_host);
        Ok(WebDocument {
            document,
            url: final_url,
            fetched_at,
            credibility,
            credibility_source,
            copies: Vec::new(),
        })
    }
}

/// Keeps the first page of each origin group and records the others as its copies.
fn collapse_copies(documents: Vec<WebDocument>) -> Vec<WebDocument> {
    let texts: Vec<&str> = documents.iter().map(|d| d.document.text.as_str()).collect();
    let groups = origin_groups(&texts);
    let mut kept: Vec<WebDocument> = Vec::new();
    let mut index_of = vec![usize::MAX; documents.len()];
    for (i, doc) in documents.into_iter().enumerate() {
        if groups[i] == i {
            index_of[i] = kept.len();
            kept.push(doc);
        } else {
            kept[index_of[groups[i]]].copies.push(doc.url);
        }
    }
    kept
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("the current time formats")
}

/// Extracted pages kept on disk, one JSON file per URL, reused while younger than `max_age`.
/// The stored snapshot in the knowledge base is what citations point into; this cache only
/// saves a second download and extraction of a page checked recently.
#[derive(Debug, Clone)]
pub struct SnapshotCache {
    pub dir: PathBuf,
    pub max_age: Duration,
}

#[derive(Serialize, Deserialize)]
struct CachedPage {
    url: String,
    final_url: String,
    fetched_at: String,
    fetched_unix: u64,
    /// Fetched while private addresses were allowed.
    private: bool,
    title: String,
    text: String,
    canonical: Option<String>,
    publisher: Option<String>,
    published: Option<String>,
    language: Option<String>,
    description: Option<String>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl SnapshotCache {
    fn path(&self, url: &str) -> PathBuf {
        let key = canonical_url(url).unwrap_or_else(|| url.to_string());
        let hash = factually_core::sha256_hex(key.as_bytes());
        self.dir.join(format!("{}.json", &hash[..32]))
    }

    /// The cached page for a URL when it is fresh (and, unless `private` allows them, was not
    /// fetched from a private address): document, final URL, fetch time.
    pub fn get(&self, url: &str, private: bool) -> Option<(NewDocument, String, String)> {
        let bytes = std::fs::read(self.path(url)).ok()?;
        let page: CachedPage = serde_json::from_slice(&bytes).ok()?;
        if unix_now().saturating_sub(page.fetched_unix) > self.max_age.as_secs()
            || (page.private && !private)
        {
            return None;
        }
        let document = NewDocument {
            title: page.title,
            text: page.text,
            url: page.canonical,
            origin: page.final_url.clone(),
            publisher: page.publisher,
            published: page.published,
            language: page.language,
            external_id: None,
            description: page.description,
        };
        Some((document, page.final_url, page.fetched_at))
    }

    /// Stores a page; a cache that cannot be written only costs a refetch later.
    pub fn put(
        &self,
        url: &str,
        document: &NewDocument,
        final_url: &str,
        fetched_at: &str,
        private: bool,
    ) {
        let page = CachedPage {
            url: url.to_string(),
            final_url: final_url.to_string(),
            fetched_at: fetched_at.to_string(),
            fetched_unix: unix_now(),
            private,
            title: document.title.clone(),
            text: document.text.clone(),
            canonical: document.url.clone(),
            publisher: document.publisher.clone(),
            published: document.published.clone(),
            language: document.language.clone(),
            description: document.description.clone(),
        };
        let path = self.path(url);
        let tmp = path.with_extension("tmp");
        let written = std::fs::create_dir_all(&self.dir).is_ok()
            && serde_json::to_vec(&page)
                .ok()
                .is_some_and(|bytes| std::fs::write(&tmp, bytes).is_ok());
        if written {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}
