//! Live web sources: search, safe fetching, extraction, snapshots, syndication and credibility.
//!
//! Most questions people ask are about this week, not about an encyclopedia, so factually must
//! read the web. The web is also the most hostile input factually has: pages lie about their
//! encoding, redirect to cloud metadata endpoints, weigh 50 MB, carry instructions aimed at
//! language models, or are the same wire story on twenty sites. Each module answers one of
//! those:
//!
//! * [`guard`]: which URLs and addresses may be reached at all (SSRF protection);
//! * [`fetcher`]: polite, bounded GETs (robots.txt, per-host rate limits, size caps, redirects
//!   re-checked hop by hop);
//! * [`extract`]: bytes to a document (charset, HTML main content, PDF, plain text), refusing
//!   stubs and pages that address the program;
//! * [`search`]: the [`SearchProvider`] trait (SearxNG, Brave, Wikipedia), query generation and
//!   result merging;
//! * [`syndication`]: copies of one story count as one origin;
//! * [`credibility`]: a per-domain reliability score from public lists;
//! * [`gather`]: all of the above for one check, never aborting on one bad page.
//!
//! What is fetched becomes a stored, hashed snapshot in a knowledge base (the caller adds the
//! documents), so citations keep pointing at what the page said when it was checked.

pub mod credibility;
pub mod extract;
pub mod fetcher;
pub mod gather;
pub mod guard;
pub mod search;
pub mod syndication;

pub use credibility::{Credibility, ScoreSource};
pub use extract::{to_document, ExtractError};
pub use fetcher::{FetchConfig, FetchError, Fetched, Fetcher};
pub use gather::{GatherTimings, Gathered, Skipped, SnapshotCache, WebDocument, WebSources};
pub use guard::{Policy, PrivateAccess, Refusal};
pub use search::{
    api_client, canonical_url, merge_results, queries_for, Brave, SearchError, SearchHit,
    SearchProvider, SearxNg, Wikipedia, BRAVE_URL, WIKIPEDIA_URL,
};
