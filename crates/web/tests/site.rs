//! The site against its real router and a real SQLite store. Checks are run by the real
//! workers; the engine behind them replays a report recorded from `factually check --format
//! json` (tests/fixtures/great-wall.json), so these tests need no models. The binary's tests
//! run the real pipeline behind `factually serve`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use factually_report::{Progress, Report};
use factually_store::SqliteStore;
use factually_web::{Engine, EngineError, Site, SiteConfig};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const RECORDED: &str = include_str!("fixtures/great-wall.json");

/// Replays the recorded report for any question, with the question and, when set, a
/// payload written into every text a source contributes.
#[derive(Default)]
struct Replay {
    source_text: Option<String>,
    /// What `health` says is wrong, if anything.
    broken: Option<String>,
    /// Holds no stored sources (a process on another host than the one that read them).
    holds_no_sources: bool,
}

impl Engine for Replay {
    fn run(
        &self,
        input: &str,
        _checked_on: &str,
        progress: &dyn Fn(Progress),
    ) -> Result<Report, EngineError> {
        if input.contains("unanswerable") {
            return Err(EngineError::Input("not a question".into()));
        }
        progress(Progress::Analysed {
            statements: 1,
            presuppositions: 0,
        });
        progress(Progress::Checking {
            n: 1,
            of: 1,
            text: input.into(),
        });
        let mut report: Value = serde_json::from_str(RECORDED).unwrap();
        report["input"] = json!(input);
        if let Some(payload) = &self.source_text {
            report["follow_up_questions"][0] = json!(payload);
            report["sections"]["summary"][0]["text"] = json!(format!("{payload} [1]"));
            let source = &mut report["sources"][0];
            source["title"] = json!(payload);
            source["publisher"] = json!(payload);
            source["url"] = json!(format!("javascript:alert(1)//{payload}"));
            source["evidence"][0]["quote"] = json!(payload);
        }
        Ok(serde_json::from_value(report).expect("the recorded report deserialises"))
    }

    fn health(&self) -> Result<(), String> {
        self.broken.clone().map_or(Ok(()), Err)
    }

    fn stored_text(&self, _kb: &str, _doc_id: &str) -> Option<(String, String)> {
        if self.holds_no_sources {
            return None;
        }
        Some((
            "Stored <b>title</b>".into(),
            "First sentence. <script>x</script> Last.".into(),
        ))
    }
}

struct TestSite {
    /// Where the database is; `None` for a second site over another's database.
    _dir: Option<tempfile::TempDir>,
    db: std::path::PathBuf,
    router: Router,
    workers: factually_web::WorkerPool,
}

impl Drop for TestSite {
    fn drop(&mut self) {
        self.workers.stop_claiming();
    }
}

async fn site_with(config: SiteConfig, engine: Replay) -> TestSite {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("factually.db");
    site_on(db, Some(dir), config, engine).await
}

/// A site over the database file `db` (a second site over the same file is another process
/// sharing the database).
async fn site_on(
    db: std::path::PathBuf,
    dir: Option<tempfile::TempDir>,
    config: SiteConfig,
    engine: Replay,
) -> TestSite {
    let store = SqliteStore::open(&db).await.unwrap();
    let site = Site::new(
        Arc::new(store),
        Arc::new(engine),
        config,
        "127.0.0.1:8080".parse().unwrap(),
        b"test secret, 32 bytes at least!!".to_vec(),
    );
    let workers = factually_web::start_workers(
        site.workers(),
        site.config.workers,
        tokio::runtime::Handle::current(),
    );
    TestSite {
        router: factually_web::router(site),
        _dir: dir,
        db,
        workers,
    }
}

async fn site() -> TestSite {
    site_with(
        SiteConfig {
            submissions_per_minute: 1000,
            ..SiteConfig::default()
        },
        Replay::default(),
    )
    .await
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(router: &Router, path: &str) -> Answer {
    send(router, Request::get(path).body(Body::empty()).unwrap()).await
}

async fn post_json(router: &Router, path: &str, body: &str) -> Answer {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(router, request).await
}

/// Submits a question and waits until its check is done; returns the check's JSON.
async fn checked(router: &Router, input: &str) -> Value {
    let submitted = post_json(router, "/api/checks", &json!({"input": input}).to_string()).await;
    assert_eq!(submitted.status, StatusCode::ACCEPTED, "{}", submitted.body);
    let id = submitted.json()["id"].as_str().unwrap().to_string();
    wait_for(router, &id, "done").await
}

async fn wait_for(router: &Router, id: &str, status: &str) -> Value {
    for _ in 0..200 {
        let check = get(router, &format!("/api/checks/{id}")).await.json();
        if check["status"] == status {
            return check;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("check {id} never became {status}");
}

fn path_of(url: &str) -> &str {
    url.strip_prefix("http://127.0.0.1:8080").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_goes_from_submission_to_a_report_with_progress_events() {
    let t = site().await;
    let submitted = post_json(
        &t.router,
        "/api/checks",
        r#"{"input": "Is the Great Wall of China visible from the Moon?"}"#,
    )
    .await;
    assert_eq!(submitted.status, StatusCode::ACCEPTED);
    let answer = submitted.json();
    let id = answer["id"].as_str().unwrap();
    assert_eq!(
        answer["url"],
        format!("http://127.0.0.1:8080/fact-checks/great-wall-of-china/is-the-great-wall-of-china-visible-from-the-moon-{id}")
    );
    let check = wait_for(&t.router, id, "done").await;
    assert_eq!(check["version"], 1);
    assert_eq!(
        check["report"]["input"],
        "Is the Great Wall of China visible from the Moon?"
    );
    assert_eq!(
        check["report"]["sources"][0]["title"],
        "The Great Wall and the Moon"
    );

    // The event stream replays everything, ends with `done`, and resumes after an id.
    let stream = get(&t.router, &format!("/api/checks/{id}/events")).await;
    assert_eq!(stream.status, StatusCode::OK);
    assert!(stream.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let ids: Vec<i64> = stream
        .body
        .lines()
        .filter_map(|l| l.strip_prefix("id: ").and_then(|v| v.parse().ok()))
        .collect();
    let kinds: Vec<&str> = stream
        .body
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(
        kinds,
        ["progress", "progress", "progress", "done"],
        "{}",
        stream.body
    );
    assert!(stream.body.contains("Checking 1 of 1"));
    let resumed = send(
        &t.router,
        Request::get(format!("/api/checks/{id}/events"))
            .header("last-event-id", ids[1].to_string())
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let resumed_ids: Vec<i64> = resumed
        .body
        .lines()
        .filter_map(|l| l.strip_prefix("id: ").and_then(|v| v.parse().ok()))
        .collect();
    assert_eq!(resumed_ids, ids[2..]);

    // The page is the report, with ClaimReview for its permanent URL.
    let page = get(&t.router, path_of(answer["url"].as_str().unwrap())).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .body
        .contains("<h1>Fact check: Is the Great Wall of China visible from the Moon?</h1>"));
    let ld = page
        .body
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .unwrap();
    let review: Value = serde_json::from_str(ld.split("</script>").next().unwrap()).unwrap();
    assert_eq!(review["@type"], "ClaimReview");
    assert_eq!(review["url"], answer["url"]);
    assert_eq!(review["itemReviewed"]["@type"], "Claim");
    assert_eq!(review["author"]["@type"], "Organization");
    for key in ["ratingValue", "bestRating", "worstRating", "alternateName"] {
        assert!(!review["reviewRating"][key].is_null(), "{key}");
    }
    assert!(
        page.body.contains("href=\"#source-1\""),
        "citations link to the sources list"
    );
    assert!(page.body.contains("Report an error"));

    // It is found in the archive, the API search, its topic page and the feed.
    let found = get(&t.router, "/api/checks?q=great+wall").await.json();
    assert_eq!(found["checks"][0]["id"], id);
    assert_eq!(
        found["checks"][0]["label"],
        check["report"]["verdict"]["label"]
    );
    let archive = get(&t.router, "/fact-checks?q=moon").await;
    assert!(archive.body.contains(id));
    assert!(get(&t.router, "/fact-checks/great-wall-of-china")
        .await
        .body
        .contains(id));
    let feed = get(&t.router, "/feed.atom").await;
    assert_eq!(
        feed.headers[header::CONTENT_TYPE],
        "application/atom+xml; charset=utf-8"
    );
    let feed_text = feed.body.replace("&#x2f;", "/");
    assert!(
        feed_text.contains(&format!("<id>{}</id>", answer["url"].as_str().unwrap())),
        "{feed_text}"
    );
    assert!(
        get(&t.router, "/").await.body.contains(id),
        "recent checks on the home page"
    );

    // The archive as a ClaimReview feed, read back by the importer `factually factchecks
    // import --url` uses: the check, its verdict, its page, this site as the fact-checker.
    let feed = get(&t.router, "/fact-checks.json").await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(
        feed.headers[header::CONTENT_TYPE],
        "application/ld+json; charset=utf-8"
    );
    let (imported, problems) = factually_ingest::claimreview::claim_reviews(&feed.json());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(imported.len(), 1, "{imported:?}");
    let fact_check = &imported[0];
    assert_eq!(
        fact_check.claim,
        "Is the Great Wall of China visible from the Moon?"
    );
    assert_eq!(fact_check.url.as_deref(), answer["url"].as_str());
    assert_eq!(fact_check.publisher.as_deref(), Some("factually"));
    assert_eq!(
        Some(fact_check.rating.as_str()),
        review["reviewRating"]["alternateName"].as_str()
    );
    // Dated the day the store finished it (the replayed report carries a fixed date).
    let finished = check["updated_at"].as_str().unwrap();
    assert_eq!(fact_check.published.as_deref(), finished.get(..10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_question_returns_the_check_and_a_recheck_adds_a_version() {
    let t = site().await;
    let first = checked(
        &t.router,
        "Is the Great Wall of China visible from the Moon?",
    )
    .await;
    let again = post_json(
        &t.router,
        "/api/checks",
        r#"{"input": "is the great wall of china visible from the moon"}"#,
    )
    .await
    .json();
    assert_eq!(
        (&again["id"], &again["existing"]),
        (&first["id"], &json!(true))
    );
    let id = first["id"].as_str().unwrap();
    let rechecked = post_json(
        &t.router,
        "/api/checks",
        r#"{"input": "Is the Great Wall of China visible from the Moon?", "recheck": true}"#,
    )
    .await
    .json();
    assert_eq!(rechecked["id"], id);
    for _ in 0..200 {
        let check = get(&t.router, &format!("/api/checks/{id}")).await.json();
        if check["version"] == 2 && check["status"] == "done" {
            let page = get(&t.router, path_of(first["url"].as_str().unwrap())).await;
            assert!(
                page.body.contains("What changed since version 1"),
                "{}",
                page.body
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the re-check never finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_the_engine_refuses_fails_the_check_without_retrying() {
    let t = site().await;
    let submitted = post_json(
        &t.router,
        "/api/checks",
        r#"{"input": "an unanswerable thing?"}"#,
    )
    .await
    .json();
    let check = wait_for(&t.router, submitted["id"].as_str().unwrap(), "failed").await;
    assert_eq!(check["error"], "not a question");
    let page = get(&t.router, path_of(submitted["url"].as_str().unwrap())).await;
    assert!(page.body.contains("could not be finished"));
}

/// Every malformed request gets its status and a JSON error body, never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_right_status_and_a_json_error() {
    let t = site().await;
    let check = |answer: Answer, status: StatusCode, what: &str| {
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        let body = answer.json();
        assert!(
            body["error"]["message"].is_string(),
            "{what}: {}",
            answer.body
        );
    };
    check(
        post_json(&t.router, "/api/checks", "{not json").await,
        StatusCode::BAD_REQUEST,
        "malformed",
    );
    check(
        post_json(&t.router, "/api/checks", "[1, 2]").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong shape",
    );
    check(
        post_json(&t.router, "/api/checks", r#"{"input": 7}"#).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong type",
    );
    check(
        post_json(&t.router, "/api/checks", r#"{"input": "x", "evil": 1}"#).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown field",
    );
    check(
        post_json(&t.router, "/api/checks", r#"{"input": ""}"#).await,
        StatusCode::BAD_REQUEST,
        "empty",
    );
    check(
        post_json(&t.router, "/api/checks", r#"{"input": "   "}"#).await,
        StatusCode::BAD_REQUEST,
        "blank",
    );
    let long = json!({"input": "Is it true? ".repeat(200)}).to_string();
    check(
        post_json(&t.router, "/api/checks", &long).await,
        StatusCode::BAD_REQUEST,
        "over 2,000 characters",
    );
    let huge = json!({"input": "a".repeat(100_000)}).to_string();
    check(
        post_json(&t.router, "/api/checks", &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "oversized",
    );
    let text = Request::post("/api/checks")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("hello"))
        .unwrap();
    check(
        send(&t.router, text).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "content type",
    );
    check(
        get(&t.router, "/api/checks/abcdef").await,
        StatusCode::NOT_FOUND,
        "unknown id",
    );
    check(
        get(&t.router, "/api/checks/../../etc").await,
        StatusCode::NOT_FOUND,
        "bad id",
    );
    check(
        get(&t.router, "/api/checks/ABCDEF/events").await,
        StatusCode::NOT_FOUND,
        "bad id events",
    );
    check(
        get(&t.router, "/api/nothing").await,
        StatusCode::NOT_FOUND,
        "unknown route",
    );
    check(
        get(&t.router, "/api/checks?limit=lots").await,
        StatusCode::BAD_REQUEST,
        "bad query",
    );
    check(
        post_json(&t.router, "/api/donations/webhook", "{}").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "no webhook secret",
    );

    for (path, status) in [
        ("/fact-checks/einstein/no-id-here", StatusCode::NOT_FOUND),
        ("/fact-checks/einstein/why-123456", StatusCode::NOT_FOUND),
        ("/fact-checks/Bad%20Topic", StatusCode::NOT_FOUND),
        ("/sources/default/zzzz", StatusCode::NOT_FOUND),
        ("/nowhere", StatusCode::NOT_FOUND),
    ] {
        let answer = get(&t.router, path).await;
        assert_eq!(answer.status, status, "{path}");
        assert!(answer.body.contains("<!doctype html>"), "{path}");
    }
    let health = get(&t.router, "/api/health").await;
    assert_eq!(
        (health.status, health.json()["status"].clone()),
        (StatusCode::OK, json!("ok"))
    );
    let openapi = get(&t.router, "/api/openapi.json").await.json();
    for path in [
        "/api/checks",
        "/api/checks/{id}",
        "/api/checks/{id}/events",
        "/api/health",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "{path} in the OpenAPI document"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_from_one_address_are_rate_limited() {
    let t = site_with(SiteConfig::default(), Replay::default()).await;
    for i in 0..3 {
        let answer = post_json(
            &t.router,
            "/api/checks",
            &json!({"input": format!("Is {i} a number?")}).to_string(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    }
    let refused = post_json(&t.router, "/api/checks", r#"{"input": "Is 4 a number?"}"#).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers[header::RETRY_AFTER], "60");
    assert_eq!(refused.json()["error"]["code"], "rate_limited");
}

/// The CSRF cookie and token of a fresh visit to the home page.
async fn visit(router: &Router) -> (String, String) {
    let home = get(router, "/").await;
    let cookie = home.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = home
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(cookie, format!("factually_csrf={token}"));
    (cookie, token)
}

fn form(path: &str, cookie: Option<&str>, body: String) -> Request<Body> {
    let mut request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, c);
    }
    request.body(Body::from(body)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_the_visitors_csrf_token() {
    let t = site().await;
    let (cookie, token) = visit(&t.router).await;
    let ask = |c: Option<&str>, tok: &str| {
        form("/checks", c, format!("input=Is+the+sky+blue%3F&csrf={tok}"))
    };

    assert_eq!(
        send(&t.router, ask(None, &token)).await.status,
        StatusCode::FORBIDDEN,
        "no cookie"
    );
    assert_eq!(
        send(&t.router, ask(Some(&cookie), "")).await.status,
        StatusCode::FORBIDDEN,
        "no token"
    );
    let (other_cookie, other_token) = visit(&t.router).await;
    assert_eq!(
        send(&t.router, ask(Some(&cookie), &other_token))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "another visitor's token"
    );
    let forged = format!("{}.{}", "0".repeat(32), "0".repeat(32));
    let forged_cookie = format!("factually_csrf={forged}");
    assert_eq!(
        send(&t.router, ask(Some(&forged_cookie), &forged))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "a token not signed here"
    );
    let _ = other_cookie;

    let accepted = send(&t.router, ask(Some(&cookie), &token)).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    let location = accepted.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        location.starts_with("/fact-checks/general/is-the-sky-blue-"),
        "{location}"
    );
    let id = &location[location.len() - 6..];
    wait_for(&t.router, id, "done").await;

    let page = get(&t.router, &location).await;
    assert!(page.body.contains("Re-check"));
    let report = format!("csrf={token}&message=Source+1+is+misquoted");
    let reported = send(
        &t.router,
        form(
            &format!("/fact-checks/{id}/report-error"),
            Some(&cookie),
            report,
        ),
    )
    .await;
    assert_eq!(reported.status, StatusCode::SEE_OTHER);
    let thanked = get(
        &t.router,
        reported.headers[header::LOCATION].to_str().unwrap(),
    )
    .await;
    assert!(thanked.body.contains("your report was recorded"));
    let recheck = send(
        &t.router,
        form(
            &format!("/fact-checks/{id}/recheck"),
            Some(&cookie),
            format!("csrf={token}"),
        ),
    )
    .await;
    assert_eq!(recheck.status, StatusCode::SEE_OTHER);
    let forged_recheck = send(
        &t.router,
        form(
            &format!("/fact-checks/{id}/recheck"),
            None,
            format!("csrf={token}"),
        ),
    )
    .await;
    assert_eq!(forged_recheck.status, StatusCode::FORBIDDEN);

    let moved = get(
        &t.router,
        &format!("/fact-checks/other-topic/other-slug-{id}"),
    )
    .await;
    assert_eq!(moved.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(moved.headers[header::LOCATION], location.as_str());
}

/// Twenty payloads, each in the question and in everything a source contributes.
const XSS: [&str; 20] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    "<body onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "</script><script>alert(1)</script>",
    "<style>*{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<base href=//evil.example/>",
    "<meta http-equiv=refresh content=0;url=//evil.example>",
    "<form action=//evil.example><button>x</button></form>",
    "{{ 7*7 }} {% raw %}<script>alert(1)</script>",
    "<!--<script>alert(1)//-->",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_and_source_text_are_rendered_inert() {
    for (i, payload) in XSS.iter().enumerate() {
        let t = site_with(
            SiteConfig {
                submissions_per_minute: 1000,
                ..SiteConfig::default()
            },
            Replay {
                source_text: Some(payload.to_string()),
                ..Replay::default()
            },
        )
        .await;
        let input = format!("Is it true that {payload} number {i}?");
        let check = checked(&t.router, &input).await;
        let url = check["url"].as_str().unwrap();
        for path in [
            path_of(url).to_string(),
            "/".to_string(),
            format!("/fact-checks?q=number+{i}"),
            "/feed.atom".to_string(),
        ] {
            let page = get(&t.router, &path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            assert!(!page.body.contains(payload), "payload {i} raw in {path}");
            // The only elements that can run or load anything are the site's own.
            let tags = [
                "<script",
                "<img",
                "<svg",
                "<iframe",
                "<object",
                "<embed",
                "<base",
                "<meta http-equiv",
                "<style",
                "<form action=//",
                "<input autofocus",
                "<details open",
                "<body onload",
            ];
            for tag in tags {
                let found = page.body.matches(tag).count();
                let own = match tag {
                    "<script" => {
                        page.body.matches("<script src=\"/static/app.js\"").count()
                            + page
                                .body
                                .matches("<script type=\"application/ld+json\">")
                                .count()
                    }
                    _ => 0,
                };
                assert_eq!(found, own, "payload {i}: {tag} in {path}");
            }
            assert!(
                !page.body.contains("href=\"javascript:"),
                "payload {i}: a javascript: link in {path}"
            );
            if payload.contains("{{ 7*7 }}") {
                assert!(
                    page.body.contains("{{ 7*7 }}"),
                    "payload {i}: a template expression was evaluated in {path}"
                );
            }
        }
        // JSON-LD cannot be closed early by a payload.
        let page = get(&t.router, path_of(url)).await;
        let ld = page
            .body
            .split("<script type=\"application/ld+json\">")
            .nth(1)
            .unwrap()
            .split("</script>")
            .next()
            .unwrap();
        let review: Value = serde_json::from_str(ld)
            .unwrap_or_else(|e| panic!("payload {i}: JSON-LD broken ({e})"));
        assert_eq!(review["claimReviewed"], input);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_sources_show_the_quote_in_place_as_text() {
    let t = site().await;
    let page = get(
        &t.router,
        "/sources/default/0123456789abcdef?start=0&end=15",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .body
        .contains("<mark id=\"quote\">First sentence.</mark>"));
    assert!(page.body.contains("&lt;script&gt;x&lt;&#x2f;script&gt;"));
    assert!(page.body.contains("Stored &lt;b&gt;title&lt;&#x2f;b&gt;"));
    let outside = get(
        &t.router,
        "/sources/default/0123456789abcdef?start=5&end=500",
    )
    .await;
    assert!(
        !outside.body.contains("<mark"),
        "offsets outside the text mark nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let t = site().await;
    for path in ["/", "/api/health", "/nowhere", "/static/site.css"] {
        let answer = get(&t.router, path).await;
        assert_eq!(
            answer.headers["content-security-policy"],
            factually_web::guard::CSP,
            "{path}"
        );
        assert_eq!(answer.headers["x-content-type-options"], "nosniff");
        assert_eq!(answer.headers["x-frame-options"], "DENY");
    }
    assert!(!factually_web::guard::CSP.contains("unsafe-inline"));
}

fn signed(secret: &str, t: i64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn donations_are_counted_once_from_signed_events_and_shown_in_the_banner() {
    let today = time::OffsetDateTime::now_utc().date();
    let campaign: factually_web::donate::Campaign = serde_json::from_value(json!({
        "goal": 50_000,
        "starts": (today - time::Duration::days(3)).to_string(),
        "ends": (today + time::Duration::days(9)).to_string(),
        "donate_url": "https://donate.example/factually",
    }))
    .unwrap();
    let secret = "whsec_test";
    let t = site_with(
        SiteConfig {
            campaign: Some(campaign),
            stripe_webhook_secret: Some(secret.into()),
            ..SiteConfig::default()
        },
        Replay::default(),
    )
    .await;
    let home = get(&t.router, "/").await.body;
    assert!(home.contains("Keep factually independent"));
    assert!(home.contains("$0 raised so far, 10 days left"), "{home}");

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let event = |id: &str, kind: &str, amount: i64| {
        json!({"id": id, "type": kind, "created": now,
               "data": {"object": {"amount_total": amount, "currency": "usd", "payment_status": "paid"}}})
        .to_string()
    };
    let deliver = |body: String, signature: String| {
        let router = t.router.clone();
        async move {
            let request = Request::post("/api/donations/webhook")
                .header(header::CONTENT_TYPE, "application/json")
                .header("stripe-signature", signature)
                .body(Body::from(body))
                .unwrap();
            send(&router, request).await
        }
    };
    let paid = event("evt_1", "checkout.session.completed", 250_000);
    let first = deliver(paid.clone(), signed(secret, now, &paid)).await;
    assert_eq!(
        (first.status, first.json()["counted"].clone()),
        (StatusCode::OK, json!(true))
    );
    let replayed = deliver(paid.clone(), signed(secret, now, &paid)).await;
    assert_eq!(replayed.json()["duplicate"], true);
    for (what, answer) in [
        (
            "forged",
            deliver(paid.clone(), signed("whsec_wrong", now, &paid)).await,
        ),
        (
            "tampered",
            deliver(paid.replace("250000", "990000"), signed(secret, now, &paid)).await,
        ),
        (
            "stale",
            deliver(paid.clone(), signed(secret, now - 3600, &paid)).await,
        ),
        ("unsigned", deliver(paid.clone(), String::new()).await),
    ] {
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{what}");
        assert_eq!(answer.json()["error"]["code"], "bad_event", "{what}");
    }
    let intent = event("evt_2", "payment_intent.succeeded", 250_000);
    let ignored = deliver(intent.clone(), signed(secret, now, &intent)).await;
    assert_eq!(
        ignored.json()["counted"],
        false,
        "one payment is counted from one event type"
    );

    let home = get(&t.router, "/").await.body;
    assert!(home.contains("We are raising $50,000"), "{home}");
    assert!(home.contains("$2,500 raised so far"), "{home}");
    assert!(home.contains("aria-valuenow=\"5\""));
    assert!(home.contains("href=\"https:&#x2f;&#x2f;donate.example&#x2f;factually\""));
}

/// `/metrics` counts the queue and this process's finished and failed checks; `/api/health`
/// names the part that is broken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_checks_and_health_names_what_is_broken() {
    let t = site().await;
    checked(
        &t.router,
        "Is the Great Wall of China visible from the Moon?",
    )
    .await;
    let failed = post_json(
        &t.router,
        "/api/checks",
        r#"{"input": "an unanswerable thing?"}"#,
    )
    .await
    .json();
    wait_for(&t.router, failed["id"].as_str().unwrap(), "failed").await;
    let metrics = get(&t.router, "/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    for line in [
        "factually_checks{status=\"done\"} 1",
        "factually_checks{status=\"failed\"} 1",
        "factually_checks{status=\"queued\"} 0",
        "factually_check_attempts_total{outcome=\"finished\"} 1",
        "factually_check_attempts_total{outcome=\"failed\"} 1",
        "factually_check_duration_seconds_count 1",
    ] {
        assert!(
            metrics.body.lines().any(|l| l == line),
            "{line}:\n{}",
            metrics.body
        );
    }

    let broken = site_with(
        SiteConfig::default(),
        Replay {
            broken: Some("knowledge base default: no such directory".into()),
            ..Replay::default()
        },
    )
    .await;
    let health = get(&broken.router, "/api/health").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = health.json();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["store"], "ok");
    assert_eq!(body["engine"], "knowledge base default: no such directory");
}

/// A source's page works in a process that never read the source (a site on another host
/// than the worker that fetched it): its text was stored in the database with the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cited_source_is_shown_from_the_database_by_a_process_that_never_read_it() {
    let t = site().await;
    let check = checked(
        &t.router,
        "Is the Great Wall of China visible from the Moon?",
    )
    .await;
    let source = &check["report"]["sources"][0];
    let path = format!(
        "/sources/{}/{}?start=0&end=15",
        source["kb"].as_str().unwrap(),
        source["doc_id"].as_str().unwrap()
    );
    // The same database, opened by another site whose engine holds no sources.
    let elsewhere = site_on(
        t.db.clone(),
        None,
        SiteConfig::default(),
        Replay {
            holds_no_sources: true,
            ..Replay::default()
        },
    )
    .await;
    let page = get(&elsewhere.router, &path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page
        .body
        .contains("<mark id=\"quote\">First sentence.</mark>"));
    let never_cited = get(&elsewhere.router, "/sources/default/ffffffffffffffff").await;
    assert_eq!(never_cited.status, StatusCode::NOT_FOUND);
}

/// Readers' error reports reach `/admin/reports`, which exists only with an admin token and
/// shows nothing without it; each report names the version the reader saw, as text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_reports_are_listed_for_the_admin_only() {
    let plain = site().await;
    assert_eq!(
        get(&plain.router, "/admin/reports").await.status,
        StatusCode::NOT_FOUND,
        "no token, no page"
    );

    const TOKEN: &str = "a-long-admin-token-0123456789";
    let t = site_with(
        SiteConfig {
            submissions_per_minute: 1000,
            admin_token: Some(TOKEN.into()),
            ..SiteConfig::default()
        },
        Replay::default(),
    )
    .await;
    let check = checked(
        &t.router,
        "Is the Great Wall of China visible from the Moon?",
    )
    .await;
    let id = check["id"].as_str().unwrap().to_string();
    let page = get(&t.router, path_of(check["url"].as_str().unwrap())).await;
    assert!(
        page.body.contains("name=\"version\" value=\"1\""),
        "the form says which version the reader sees"
    );
    let (cookie, token) = visit(&t.router).await;
    let reported = send(
        &t.router,
        form(
            &format!("/fact-checks/{id}/report-error"),
            Some(&cookie),
            format!(
                "csrf={token}&version=1&message=%3Cscript%3Ex%3C%2Fscript%3E+source+1+is+misquoted"
            ),
        ),
    )
    .await;
    assert_eq!(reported.status, StatusCode::SEE_OTHER);

    let with = |auth: Option<String>| {
        let mut request = Request::get("/admin/reports");
        if let Some(a) = auth {
            request = request.header(header::AUTHORIZATION, a);
        }
        request.body(Body::empty()).unwrap()
    };
    for refused in [
        None,
        Some("Bearer wrong-token-wrong-token".to_string()),
        Some("Basic !!!".to_string()),
    ] {
        let answer = send(&t.router, with(refused.clone())).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{refused:?}");
        assert!(answer.headers.contains_key(header::WWW_AUTHENTICATE));
        assert!(!answer.body.contains("misquoted"));
    }
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("admin:{TOKEN}"));
    for allowed in [format!("Bearer {TOKEN}"), format!("Basic {basic}")] {
        let answer = send(&t.router, with(Some(allowed))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(answer.body.contains("version 1"), "{}", answer.body);
        assert!(answer
            .body
            .contains("&lt;script&gt;x&lt;&#x2f;script&gt; source 1 is misquoted"));
        assert!(answer.body.contains(&format!("-{id}\"")), "links the check");
    }
}

/// The home page's article form: a pasted text is queued as a document check (the visitor is
/// sent to its page), an empty form comes back with the reason, and the form needs the
/// visitor's CSRF token like every other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_article_form_queues_a_document_check() {
    let t = site().await;
    let home = get(&t.router, "/").await;
    assert!(home.body.contains("action=\"/documents\""), "{}", home.body);
    let (cookie, token) = visit(&t.router).await;
    let text = "The+Eiffel+Tower+was+built+in+Berlin+in+1889.+Thank+you+for+reading%21";

    let refused = send(
        &t.router,
        form("/documents", None, format!("text={text}&csrf={token}")),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "no cookie");

    let accepted = send(
        &t.router,
        form(
            "/documents",
            Some(&cookie),
            format!("text={text}&csrf={token}"),
        ),
    )
    .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let location = accepted.headers[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with("/fact-checks/"), "{location}");
    let id = location.rsplit('-').next().unwrap();
    let check: serde_json::Value =
        serde_json::from_str(&get(&t.router, &format!("/api/checks/{id}")).await.body).unwrap();
    assert_eq!(
        check["input"],
        "The Eiffel Tower was built in Berlin in 1889. Thank you for reading!"
    );

    let empty = send(
        &t.router,
        form(
            "/documents",
            Some(&cookie),
            format!("text=&url=&csrf={token}"),
        ),
    )
    .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(
        empty.body.contains("give exactly one of"),
        "the reason is shown: {}",
        empty.body
    );
}
