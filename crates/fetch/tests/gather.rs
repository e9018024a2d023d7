//! A whole gathering round against local fake search services: parallel search, merging,
//! concurrent fetching, skipped pages with reasons, syndicated copies collapsed, the snapshot
//! cache, and a search provider that is down.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{serve, Delays, TestServer};
use factually_fetch::{
    api_client, Brave, Credibility, FetchConfig, Fetcher, SearchProvider, SearxNg, SnapshotCache,
    WebSources, Wikipedia,
};

fn sources(
    server: &TestServer,
    cache: Option<SnapshotCache>,
    extra: Vec<Box<dyn SearchProvider>>,
) -> WebSources {
    let fetcher = Fetcher::new(FetchConfig {
        per_host_per_second: std::num::NonZeroU32::new(1000).unwrap(),
        ..FetchConfig::default().allow_private_hosts()
    })
    .unwrap();
    let client = api_client("factually-test", Duration::from_secs(5));
    let base = url::Url::parse(&server.url("/")).unwrap();
    let mut providers: Vec<Box<dyn SearchProvider>> = vec![
        Box::new(SearxNg::new(client.clone(), base.clone())),
        Box::new(Wikipedia::new(client, base)),
    ];
    providers.extend(extra);
    WebSources {
        fetcher: Arc::new(fetcher),
        providers,
        credibility: Credibility::default(),
        cache,
        max_pages: 8,
        results_per_query: 8,
        concurrency: 8,
    }
}

#[tokio::test]
async fn a_round_keeps_good_pages_and_says_why_others_were_skipped() {
    let server = serve(Delays::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = SnapshotCache {
        dir: dir.path().join("cache"),
        max_age: Duration::from_secs(3600),
    };
    let web = sources(&server, Some(cache.clone()), vec![]);
    let queries = vec!["Harbour Bridge reopening".to_string()];
    let given = vec![server.url("/pages/eiffel")];
    let got = web.gather(&queries, &given).await;

    let urls: Vec<&str> = got.documents.iter().map(|d| d.url.as_str()).collect();
    assert_eq!(
        urls,
        [server.url("/pages/eiffel"), server.url("/pages/wire")],
        "{got:#?}"
    );
    // The wiki page carries the same text as the given page: one origin.
    assert_eq!(got.documents[0].copies, [server.url("/wiki/Eiffel_Tower")]);
    // The wire story and its copy on another page are one origin.
    assert_eq!(
        got.documents[1].copies,
        [server.url("/pages/copy?utm_source=feed")]
    );
    assert_eq!(
        got.documents[1].document.published.as_deref(),
        Some("2026-11-20")
    );

    let reason = |path: &str| {
        got.skipped
            .iter()
            .find(|s| s.url == server.url(path))
            .map(|s| s.reason.clone())
            .unwrap_or_else(|| panic!("{path} not skipped: {:#?}", got.skipped))
    };
    assert!(reason("/pages/paywall").contains("words of text"));
    assert!(reason("/private/secret").contains("robots.txt"));
    assert!(reason("/status/404").contains("404"));
    assert!(reason("/pages/injected").contains("addressed to the program"));
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);

    // A second round within the cache age fetches nothing again.
    let before = server.hits("/pages/wire");
    let again = sources(&server, Some(cache), vec![])
        .gather(&queries, &given)
        .await;
    assert_eq!(again.documents.len(), 2);
    assert_eq!(
        server.hits("/pages/wire"),
        before,
        "the cached page was fetched again"
    );
    assert_eq!(again.documents[1].fetched_at, got.documents[1].fetched_at);
}

#[tokio::test]
async fn a_provider_that_is_down_costs_only_its_results() {
    let server = serve(Delays::default()).await;
    let dead = url::Url::parse("http://127.0.0.1:9/").unwrap();
    let down = SearxNg::new(api_client("factually-test", Duration::from_secs(2)), dead);
    let web = sources(&server, None, vec![Box::new(down)]);
    let got = web.gather(&["Eiffel Tower".to_string()], &[]).await;
    assert_eq!(got.documents.len(), 1, "{got:#?}");
    assert_eq!(got.warnings.len(), 1);
    assert!(got.warnings[0].contains("searxng"), "{:?}", got.warnings);
}

#[tokio::test]
async fn blocked_domains_are_never_fetched() {
    let server = serve(Delays::default()).await;
    let mut web = sources(&server, None, vec![]);
    web.credibility = Credibility::new([], ["127.0.0.1".to_string()]);
    let got = web.gather(&[], &[server.url("/pages/eiffel")]).await;
    assert!(got.documents.is_empty());
    assert!(got.skipped[0].reason.contains("block list"));
    assert_eq!(server.hits("/pages/eiffel"), 0);
}

#[tokio::test]
async fn brave_results_are_fetched_and_bad_keys_or_bodies_are_warnings() {
    let server = serve(Delays::default()).await;
    let client = api_client("factually-test", Duration::from_secs(5));
    let base = url::Url::parse(&server.url("/")).unwrap();
    let good = Brave::new(client.clone(), base.clone(), "test-key".into());
    let wrong_key = Brave::new(client.clone(), base.clone(), "stolen".into());
    let broken = SearxNg::new(client, url::Url::parse(&server.url("/broken/")).unwrap());
    let mut web = sources(&server, None, vec![]);
    web.providers = vec![Box::new(good), Box::new(wrong_key), Box::new(broken)];
    let got = web.gather(&["bridge".to_string()], &[]).await;
    assert_eq!(got.documents.len(), 1, "{got:#?}");
    assert!(got.documents[0].url.ends_with("/pages/wire"));
    assert_eq!(got.warnings.len(), 2, "{:?}", got.warnings);
    assert!(got
        .warnings
        .iter()
        .any(|w| w.contains("brave") && w.contains("401")));
    assert!(got
        .warnings
        .iter()
        .any(|w| w.contains("searxng") && w.contains("unexpected response")));
}
