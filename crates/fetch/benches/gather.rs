//! Our own overhead in a web-mode gathering round: 3 queries to a search service that answers
//! after a fixed delay, then 8 pages (about 240 KB of HTML each, mostly menus and related-story
//! lists, on 8 host names) from a server that answers each after a fixed delay.
//! The network's share of the critical path is one search delay plus one page delay (searches
//! run in parallel, pages are fetched concurrently); everything above that is ours: request
//! set-up, robots.txt, extraction, syndication checks. Prints the figures; no assertion.
//!
//! `cargo bench -p factually-fetch --bench gather`

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{serve, Delays};
use factually_fetch::{api_client, Credibility, FetchConfig, Fetcher, SearxNg, WebSources};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let delays = Delays {
        search: Duration::from_millis(300),
        page: Duration::from_millis(500),
    };
    let network = delays.search + delays.page;
    let server = rt.block_on(serve(delays));
    let mut overheads = Vec::new();
    for round in 0..5 {
        let resolve = (0..256)
            .map(|n| (format!("site{n}.test"), vec![server.addr.ip()]))
            .collect();
        let fetcher = Fetcher::new(FetchConfig {
            resolve,
            ..FetchConfig::default().allow_private_hosts()
        })
        .unwrap();
        let base = url::Url::parse(&server.url("/")).unwrap();
        let web = WebSources {
            fetcher: Arc::new(fetcher),
            providers: vec![Box::new(SearxNg::new(
                api_client("factually-bench", Duration::from_secs(10)),
                base,
            ))],
            credibility: Credibility::default(),
            cache: None,
            max_pages: 8,
            results_per_query: 5,
            concurrency: 8,
        };
        // Each round asks for different articles, so nothing is reused between rounds.
        let queries: Vec<String> = (0..3).map(|q| format!("bench {}", round * 3 + q)).collect();
        let started = Instant::now();
        let got = rt.block_on(web.gather(&queries, &[]));
        let wall = started.elapsed();
        assert_eq!(got.documents.len(), 8, "{:?}", got.skipped);
        let overhead = wall.saturating_sub(network);
        println!(
            "round {round}: {} pages, wall {:.0} ms, network critical path {:.0} ms, overhead {:.0} ms (search {:.0} ms, fetch+extract {:.0} ms)",
            got.documents.len(),
            wall.as_secs_f64() * 1e3,
            network.as_secs_f64() * 1e3,
            overhead.as_secs_f64() * 1e3,
            got.timings_ms.search,
            got.timings_ms.fetch,
        );
        overheads.push(overhead.as_secs_f64() * 1e3);
    }
    overheads.sort_by(f64::total_cmp);
    println!(
        "overhead beyond network time: median {:.0} ms, max {:.0} ms (target <= 1000 ms)",
        overheads[overheads.len() / 2],
        overheads[overheads.len() - 1]
    );
}
