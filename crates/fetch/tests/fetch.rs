//! The real fetch path (reqwest, robots.txt, redirects, caps, extraction) against a local HTTP
//! server, with private hosts allowed because the server is on loopback.

mod common;

use std::time::Duration;

use common::{serve, Delays, TestServer};
use factually_fetch::{to_document, FetchConfig, FetchError, Fetcher};

fn fetcher() -> Fetcher {
    Fetcher::new(FetchConfig {
        timeout: Duration::from_secs(2),
        max_bytes: 2 * 1024 * 1024,
        // One host serves every case here; the politeness limit is tested on its own below.
        per_host_per_second: std::num::NonZeroU32::new(1000).unwrap(),
        ..FetchConfig::default().allow_private_hosts()
    })
    .unwrap()
}

/// What a fetch should come to: a document whose text contains a phrase, or an error whose
/// message contains a phrase.
enum Expect {
    Text(&'static str),
    Error(&'static str),
}

async fn check(server: &TestServer, fetcher: &Fetcher, path: &str, expect: Expect) {
    let result = match fetcher.fetch(&server.url(path)).await {
        Ok(page) => to_document(&page).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match (expect, result) {
        (Expect::Text(want), Ok(doc)) => {
            assert!(
                doc.text.contains(want),
                "{path}: {want:?} not in {:?}",
                doc.text
            )
        }
        (Expect::Error(want), Err(e)) => assert!(e.contains(want), "{path}: {e:?} lacks {want:?}"),
        (Expect::Text(want), Err(e)) => panic!("{path}: wanted text {want:?}, got error {e}"),
        (Expect::Error(want), Ok(doc)) => {
            panic!("{path}: wanted error {want:?}, got {:?}", doc.title)
        }
    }
}

#[tokio::test]
async fn pages_good_and_bad() {
    let server = serve(Delays::default()).await;
    let f = fetcher();
    use Expect::*;
    let cases = [
        (
            "/pages/wire",
            Text("replaced the damaged suspension cables"),
        ),
        ("/redirect?to=/pages/eiffel", Text("Gustave Eiffel")),
        ("/latin1", Text("près de la Seine")),
        ("/plain", Text("finished two weeks early")),
        ("/paper.pdf", Text("examined the suspension cables")),
        ("/private/secret", Error("robots.txt")),
        ("/status/404", Error("HTTP status 404")),
        ("/status/500", Error("HTTP status 500")),
        ("/status/403", Error("HTTP status 403")),
        ("/loop", Error("more than 5 redirects")),
        ("/slow", Error("timed out")),
        ("/huge", Error("larger than")),
        ("/huge-declared", Error("larger than")),
        ("/binary", Error("application/octet-stream")),
        ("/pages/paywall", Error("words of text")),
        ("/pages/injected", Error("addressed to the program")),
        ("/pages/missing", Error("HTTP status 404")),
        ("/garbage", Error("not readable text")),
    ];
    for (path, expect) in cases {
        check(&server, &f, path, expect).await;
    }
    assert_eq!(
        server.hits("/private/secret"),
        0,
        "a disallowed page was requested"
    );
    assert_eq!(
        server.hits("/robots.txt"),
        1,
        "robots.txt is fetched once per origin"
    );
}

#[tokio::test]
async fn metadata_and_snapshot_url_are_kept() {
    let server = serve(Delays::default()).await;
    let page = fetcher()
        .fetch(&server.url("/redirect?to=/pages/wire"))
        .await
        .unwrap();
    assert_eq!(
        page.url.path(),
        "/pages/wire",
        "the final URL names the snapshot"
    );
    let doc = to_document(&page).unwrap();
    assert_eq!(doc.title, "Bridge to reopen next month after early repairs");
    assert_eq!(doc.published.as_deref(), Some("2026-11-20"));
    assert_eq!(doc.publisher.as_deref(), Some("Example Wire"));
    assert!(
        !doc.text.contains("Subscribe to our newsletter"),
        "footer kept"
    );
}

#[tokio::test]
async fn unreachable_hosts_are_clear_errors() {
    // Bind and drop a listener to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = fetcher()
        .fetch(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Network(_)), "{err:?}");
    assert!(matches!(
        fetcher().fetch("not a url").await,
        Err(FetchError::BadUrl(_))
    ));
}

#[tokio::test]
async fn one_host_is_not_hammered() {
    let server = serve(Delays::default()).await;
    let polite = Fetcher::new(FetchConfig {
        per_host_per_second: std::num::NonZeroU32::new(4).unwrap(),
        ..FetchConfig::default().allow_private_hosts()
    })
    .unwrap();
    let started = std::time::Instant::now();
    // robots.txt plus 8 pages = 9 requests at 4 per second: the last waits about 1.25 s.
    let url = server.url("/pages/eiffel");
    let fetches = (0..8).map(|_| polite.fetch(&url));
    for r in futures::future::join_all(fetches).await {
        assert!(r.is_ok(), "{r:?}");
    }
    // The quota's burst admits the first four at once; the rest wait their turn.
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
}

/// A fetcher lets at most `max_concurrent` pages be fetched at once, whoever asks: six
/// fetches of a page that takes 300 ms, two at a time, take three rounds.
#[tokio::test]
async fn concurrent_fetches_are_capped() {
    let server = serve(Delays {
        page: Duration::from_millis(300),
        ..Delays::default()
    })
    .await;
    let capped = Fetcher::new(FetchConfig {
        max_concurrent: 2,
        per_host_per_second: std::num::NonZeroU32::new(1000).unwrap(),
        ..FetchConfig::default().allow_private_hosts()
    })
    .unwrap();
    let url = server.url("/pages/eiffel");
    let started = std::time::Instant::now();
    let fetches = (0..6).map(|_| capped.fetch(&url));
    for r in futures::future::join_all(fetches).await {
        assert!(r.is_ok(), "{r:?}");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "six 300 ms pages, two at a time: {:?}",
        started.elapsed()
    );
    assert_eq!(server.hits("/pages/eiffel"), 6);
}
