//! A real HTTP server on loopback for the fetch tests: fixture articles, robots.txt,
//! redirects, slow, huge, binary and broken responses, and fake SearxNG and MediaWiki search
//! endpoints speaking those services' real JSON formats. Every request is counted per path, so
//! tests can prove what was (not) fetched.

#![allow(dead_code)] // each test binary uses its own part of the server

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::stream;

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Delays applied by the server, for the overhead benchmark.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delays {
    pub search: Duration,
    pub page: Duration,
}

#[derive(Clone)]
struct App {
    base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    delays: Delays,
}

pub struct TestServer {
    pub addr: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// Serves on an ephemeral loopback port until the runtime stops.
pub async fn serve(delays: Delays) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(Mutex::new(HashMap::new()));
    let app = App {
        base: format!("http://{addr}"),
        hits: hits.clone(),
        delays,
    };
    let router = Router::new()
        .route("/robots.txt", get(robots))
        .route("/pages/{name}", get(page))
        .route("/article/{n}", get(article))
        .route(
            "/private/secret",
            get(|| async { html(fixture("eiffel.html")) }),
        )
        .route("/redirect", get(redirect))
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]) }),
        )
        .route("/status/{code}", get(status))
        .route("/slow", get(slow))
        .route("/huge", get(huge))
        .route("/huge-declared", get(huge_declared))
        .route("/binary", get(binary))
        .route("/latin1", get(latin1))
        .route("/plain", get(plain))
        .route("/paper.pdf", get(paper))
        .route("/search", get(searxng))
        .route("/w/api.php", get(mediawiki))
        .route("/res/v1/web/search", get(brave))
        .route(
            "/broken/search",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"results\": [{\"url\": ",
                )
            }),
        )
        .route("/garbage", get(garbage))
        .route("/wiki/{title}", get(wiki_page))
        .layer(axum::middleware::from_fn_with_state(app.clone(), count))
        .with_state(app);
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    TestServer { addr, hits }
}

async fn count(
    State(app): State<App>,
    uri: Uri,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    *app.hits
        .lock()
        .unwrap()
        .entry(uri.path().to_string())
        .or_default() += 1;
    next.run(request).await
}

async fn robots() -> &'static str {
    "User-agent: *\nDisallow: /private/\n"
}

async fn page(State(app): State<App>, Path(name): Path<String>) -> Response {
    tokio::time::sleep(app.delays.page).await;
    let file = match name.as_str() {
        "wire" => "wire-story.html",
        "copy" => "copy.html",
        "eiffel" => "eiffel.html",
        "injected" => "injected.html",
        "paywall" => "paywall.html",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    html(fixture(file))
}

/// A distinct article per number (for the overhead benchmark): the wire story with its own
/// opening paragraph, so no two are copies of each other, inside about 240 KB of the menus,
/// related-story lists and comments that real news pages carry.
async fn article(State(app): State<App>, Path(n): Path<usize>) -> Response {
    tokio::time::sleep(app.delays.page).await;
    let opening: String = (0..400)
        .map(|i| format!("word{} ", (n * 7919 + i * 104729) % 100_003))
        .collect();
    let menu: String = (0..5000)
        .map(|i| format!("<li><a href=\"/section/{i}\">Section {i}</a></li>"))
        .collect();
    let related: String = (0..20)
        .map(|i| format!("<div class=\"card\"><a href=\"/story/{i}\"><h3>Related story {i}</h3></a><p>A short teaser for another story that readers might like.</p></div>"))
        .collect();
    let page = fixture("wire-story.html")
        .replace(
            "<article>",
            &format!("<nav><ul>{menu}</ul></nav><article><p>{opening}</p>"),
        )
        .replace("<footer>", &format!("<aside>{related}</aside><footer>"));
    html(page)
}

async fn redirect(Query(q): Query<HashMap<String, String>>) -> Response {
    let to = q
        .get("to")
        .cloned()
        .unwrap_or_else(|| "/pages/eiffel".to_string());
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

async fn status(Path(code): Path<u16>) -> Response {
    StatusCode::from_u16(code)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}

async fn slow() -> Response {
    tokio::time::sleep(Duration::from_secs(30)).await;
    html(fixture("eiffel.html"))
}

/// 50 MB of HTML without a Content-Length, in 64 KiB chunks.
async fn huge() -> Response {
    let chunk = vec![b'a'; 64 * 1024];
    let chunks = stream::iter((0..800).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    (
        [(header::CONTENT_TYPE, "text/html")],
        Body::from_stream(chunks),
    )
        .into_response()
}

async fn huge_declared() -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, "text/html".parse().unwrap());
    headers.insert(header::CONTENT_LENGTH, "52428800".parse().unwrap());
    // The body never comes: the declared length alone must be enough to refuse.
    (
        headers,
        Body::from_stream(stream::pending::<Result<Vec<u8>, std::io::Error>>()),
    )
        .into_response()
}

async fn binary() -> Response {
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        vec![0u8, 159, 146, 150, 255, 0, 1],
    )
        .into_response()
}

/// The Eiffel article in windows-1252, declared only in the HTTP header.
async fn latin1() -> Response {
    let text = fixture("eiffel.html").replace("Champ de Mars", "Champ de Mars, près de la Seine,");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    (
        [(header::CONTENT_TYPE, "text/html; charset=windows-1252")],
        bytes.into_owned(),
    )
        .into_response()
}

/// Bytes that are not HTML in any encoding, declared as HTML.
async fn garbage() -> Response {
    let bytes: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], bytes).into_response()
}

/// The Brave Search API's response shape; answers 401 without the subscription token.
async fn brave(
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    State(app): State<App>,
) -> Response {
    if headers
        .get("x-subscription-token")
        .and_then(|v| v.to_str().ok())
        != Some("test-key")
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    axum::Json(serde_json::json!({
        "type": "search",
        "query": {"original": q.get("q")},
        "web": {"type": "search", "results": [{
            "title": "Bridge to reopen",
            "url": format!("{}/pages/wire", app.base),
            "description": "Officials said on Tuesday...",
            "page_age": "2026-11-20T08:00:00",
            "language": "en"
        }]}
    }))
    .into_response()
}

async fn plain() -> Response {
    let text = "Harbour Bridge repair report\n\n".to_string()
        + &"The repair works on the bridge cables were finished two weeks early. ".repeat(10);
    ([(header::CONTENT_TYPE, "text/plain")], text).into_response()
}

/// SearxNG's `/search?format=json` response shape.
async fn searxng(State(app): State<App>, Query(q): Query<HashMap<String, String>>) -> Response {
    tokio::time::sleep(app.delays.search).await;
    if q.get("format").map(String::as_str) != Some("json") {
        return StatusCode::FORBIDDEN.into_response();
    }
    let query = q.get("q").cloned().unwrap_or_default();
    let result = |path: &str, title: &str| {
        serde_json::json!({
            "url": format!("{}{}", app.base, path),
            "title": title,
            "content": "snippet",
            "engine": "duckduckgo",
            "engines": ["duckduckgo"],
            "positions": [1],
            "score": 1.0,
            "category": "general",
            "publishedDate": null
        })
    };
    let results = if let Some(rest) = query.strip_prefix("bench ") {
        // Eight articles per query, a different eight for each query number, each on its own
        // host name (`site<i>.test`, which the benchmark pins to loopback), as search results
        // are: one site's politeness limit is not what is measured.
        let k: usize = rest.parse().unwrap_or(0);
        (0..8)
            .map(|i| {
                let n = k * 8 + i;
                let mut r = result(&format!("/article/{n}"), "Article");
                let url = r["url"]
                    .as_str()
                    .unwrap()
                    .replace("127.0.0.1", &format!("site{n}.test"));
                r["url"] = serde_json::Value::String(url);
                r
            })
            .collect()
    } else if query.to_lowercase().contains("bridge") {
        vec![
            result("/pages/wire", "Bridge to reopen"),
            result("/pages/copy?utm_source=feed", "Harbour Bridge reopening"),
            result("/pages/paywall", "Exclusive"),
            result("/private/secret", "Secret"),
            result("/status/404", "Gone"),
            result("/pages/injected", "Council"),
        ]
    } else {
        vec![result("/pages/eiffel", "Eiffel Tower")]
    };
    axum::Json(serde_json::json!({
        "query": query,
        "number_of_results": 0,
        "results": results,
        "answers": [],
        "corrections": [],
        "infoboxes": [],
        "suggestions": [],
        "unresponsive_engines": []
    }))
    .into_response()
}

/// MediaWiki's `action=query&list=search` response shape.
async fn mediawiki(State(app): State<App>, Query(q): Query<HashMap<String, String>>) -> Response {
    tokio::time::sleep(app.delays.search).await;
    axum::Json(serde_json::json!({
        "batchcomplete": "",
        "continue": {"sroffset": 1, "continue": "-||"},
        "query": {
            "searchinfo": {"totalhits": 1},
            "search": [{
                "ns": 0,
                "title": "Eiffel Tower",
                "pageid": 9232,
                "size": 100,
                "wordcount": 10,
                "snippet": format!("The <span class=\"searchmatch\">{}</span> tower", q.get("srsearch").cloned().unwrap_or_default()),
                "timestamp": "2026-11-01T00:00:00Z"
            }]
        }
    }))
    .into_response()
}

async fn wiki_page(State(app): State<App>, Path(title): Path<String>) -> Response {
    tokio::time::sleep(app.delays.page).await;
    if title == "Eiffel_Tower" {
        html(fixture("eiffel.html"))
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

/// A one-page PDF report with a text layer (Helvetica, a correct cross-reference table).
async fn paper() -> Response {
    let mut lines =
        vec!["BT /F1 18 Tf 72 720 Td (Harbour Bridge Inspection Report) Tj ET".to_string()];
    lines.push("BT /F1 11 Tf 72 680 Td".to_string());
    for i in 0..12 {
        lines.push(format!(
            "(Section {i}: the inspectors examined the suspension cables and support beams.) Tj 0 -14 Td"
        ));
    }
    lines.push("ET".to_string());
    let content = lines.join("\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    ([(header::CONTENT_TYPE, "application/pdf")], out).into_response()
}
