//! SSRF: without an explicit allowance, every non-public address class is refused, on the
//! first request and after redirects, by IP literal and by host name, before any byte is sent.
//!
//! The redirect half needs a first hop that is allowed: the policy there allows exactly the
//! loopback address and port of the local test server, so each redirect target below, which is
//! any *other* private address, proves that redirects are re-checked.

mod common;

use std::collections::HashMap;
use std::net::IpAddr;

use common::{serve, Delays};
use factually_fetch::{FetchConfig, FetchError, Fetcher, Policy, PrivateAccess, Refusal};

/// Host names pinned to addresses, standing in for DNS answers an attacker controls.
fn hostile_dns() -> HashMap<String, Vec<IpAddr>> {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    HashMap::from([
        ("metadata.test".to_string(), vec![ip("169.254.169.254")]),
        ("intranet.test".to_string(), vec![ip("10.1.2.3")]),
        ("router.test".to_string(), vec![ip("192.168.0.1")]),
        ("cgnat.test".to_string(), vec![ip("100.64.1.1")]),
        ("ula.test".to_string(), vec![ip("fd12:3456::1")]),
        ("mapped.test".to_string(), vec![ip("::ffff:127.0.0.1")]),
        (
            "rebind.test".to_string(),
            vec![ip("93.184.216.34"), ip("10.0.0.1")],
        ),
    ])
}

/// Every class of address the issue lists, as URLs (`{port}` is the test server's port).
const TARGETS: &[(&str, &str)] = &[
    ("loopback", "http://127.0.0.1:{port}/pages/eiffel"),
    (
        "loopback, other address",
        "http://127.0.0.2:{port}/pages/eiffel",
    ),
    ("loopback, decimal form", "http://2130706434:{port}/"),
    ("loopback, by name", "http://localhost:{port}/pages/eiffel"),
    ("loopback IPv6", "http://[::1]:{port}/"),
    ("unspecified", "http://0.0.0.0:{port}/"),
    ("private 10/8", "http://10.0.0.1/"),
    ("private 172.16/12", "http://172.16.5.4/"),
    ("private 192.168/16", "http://192.168.1.1/"),
    ("private, by name", "http://intranet.test/"),
    ("private, by name (2)", "http://router.test/"),
    (
        "link-local / cloud metadata",
        "http://169.254.169.254/latest/meta-data/",
    ),
    (
        "cloud metadata, by name",
        "http://metadata.test/latest/meta-data/",
    ),
    ("CGNAT 100.64/10", "http://100.64.0.1/"),
    ("CGNAT, by name", "http://cgnat.test/"),
    ("unique-local fc00::/7", "http://[fd00::1]/"),
    ("unique-local, by name", "http://ula.test/"),
    ("link-local IPv6", "http://[fe80::1]/"),
    ("IPv4-mapped IPv6", "http://[::ffff:127.0.0.1]:{port}/"),
    ("IPv4-mapped IPv6, public", "http://[::ffff:8.8.8.8]/"),
    ("IPv4-mapped, by name", "http://mapped.test/"),
    ("NAT64 of a private address", "http://[64:ff9b::a00:1]/"),
    ("public and private answers", "http://rebind.test/"),
    ("non-standard port", "http://example.org:8080/"),
    ("scheme file", "file:///etc/passwd"),
    ("scheme gopher", "gopher://127.0.0.1:{port}/"),
    ("scheme ftp", "ftp://example.org/"),
    ("credentials in URL", "http://user:pw@example.org/"),
];

fn refused(result: &Result<factually_fetch::Fetched, FetchError>) -> bool {
    matches!(result, Err(FetchError::Refused(_)))
}

#[tokio::test]
async fn every_private_target_is_refused_on_the_first_hop() {
    let fetcher = Fetcher::new(FetchConfig {
        resolve: hostile_dns(),
        ..FetchConfig::default()
    })
    .unwrap();
    // Port 80, so that what refuses a target is its address, not its port.
    let port = "80";
    let mut bypasses = Vec::new();
    println!("{:<32} {:<48} result", "class", "first hop");
    for (class, template) in TARGETS {
        let url = template.replace("{port}", port);
        let result = fetcher.fetch(&url).await;
        println!("{class:<32} {url:<48} {}", describe(&result));
        // An http(s) target on port 80 without credentials must be refused for its address.
        let by_address = template.starts_with("http")
            && !matches!(*class, "non-standard port" | "credentials in URL");
        let ok = match &result {
            Err(FetchError::Refused(Refusal::Address { .. })) => true,
            Err(FetchError::Refused(_)) => !by_address,
            _ => false,
        };
        if !ok {
            bypasses.push(format!("{class}: {url} -> {}", describe(&result)));
        }
    }
    assert!(bypasses.is_empty(), "not refused: {bypasses:#?}");
}

#[tokio::test]
async fn every_private_target_is_refused_after_a_redirect() {
    let server = serve(Delays::default()).await;
    let fetcher = Fetcher::new(FetchConfig {
        policy: Policy {
            private: PrivateAccess::Allow(vec![server.addr.ip()]),
            extra_ports: vec![server.addr.port()],
        },
        resolve: hostile_dns(),
        // Every case's first hop is the one test server.
        per_host_per_second: std::num::NonZeroU32::new(1000).unwrap(),
        ..FetchConfig::default()
    })
    .unwrap();
    let port = server.addr.port().to_string();
    // The allowed first hop works...
    assert!(fetcher
        .fetch(&server.url("/redirect?to=/pages/eiffel"))
        .await
        .is_ok());
    let mut bypasses = Vec::new();
    println!("{:<32} {:<48} result", "class", "redirect target");
    // ...and every other private target is refused when a redirect points at it (the two
    // targets that *are* the allowed address are left out).
    let allowed_itself = |t: &str| t.starts_with("http://127.0.0.1:") || t.contains("localhost");
    for (class, template) in TARGETS.iter().filter(|(_, t)| !allowed_itself(t)) {
        let target = template.replace("{port}", &port);
        let mut first = url::Url::parse(&server.url("/redirect")).unwrap();
        first.query_pairs_mut().append_pair("to", &target);
        let result = fetcher.fetch(first.as_str()).await;
        println!("{class:<32} {target:<48} {}", describe(&result));
        if !refused(&result) {
            bypasses.push(format!("{class}: {target} -> {}", describe(&result)));
        }
    }
    assert!(
        bypasses.is_empty(),
        "not refused after a redirect: {bypasses:#?}"
    );
}

fn describe(result: &Result<factually_fetch::Fetched, FetchError>) -> String {
    match result {
        Ok(page) => format!("FETCHED {}", page.url),
        Err(e) => e.to_string(),
    }
}
