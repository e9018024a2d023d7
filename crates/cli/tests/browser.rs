//! The web site in a real browser: `factually serve` over the fixture knowledge base, driven by
//! `tests/browser/check.mjs` (Playwright's library with the system's headless Chromium). The
//! script asks through the home page form, follows the live progress page to the report, checks
//! its summary and a citation link, and fails on any script error or CSP violation; it leaves
//! full-page screenshots in `target/screenshots`.
//!
//! It needs `/usr/bin/chromium`, `node` and `tests/browser/node_modules` (`scripts/test`
//! installs them). Without them the test is skipped with a note on stderr, unless
//! `FACTUALLY_REQUIRE_BROWSER=1` (set by `scripts/test`), which makes their absence a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{data_dir_with_facts, Server};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Checks queued through the API before the browser asks its question. There is one worker and
/// each check takes a second or so, so these keep it busy while Chromium starts and the form is
/// submitted: the browser's check then waits in the queue and its progress page is really seen
/// (and followed live) instead of the finished report.
// Enough that the worker is still busy when the browser submits, on a cold machine too (with
// six, a first run after a clean build once saw the report without its progress page).
const FILLER_CHECKS: [&str; 12] = [
    "Why did Einstein fail math?",
    "Is the Great Wall of China visible from the Moon?",
    "Is the Eiffel Tower in Paris?",
    "Was the Eiffel Tower built in 1889?",
    "Did Einstein develop the theory of relativity?",
    "Is the measles vaccine effective?",
    "Was Gustave Eiffel an engineer?",
    "Is the Great Wall of China long?",
    "Did Einstein win a Nobel Prize?",
    "Does the measles vaccine cause autism?",
    "Is the Eiffel Tower made of iron?",
    "Was Einstein born in Germany?",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// What the browser test needs and is missing, as one line each; empty when all is there.
fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push(format!("{CHROMIUM} (Debian/Ubuntu package `chromium`)"));
    }
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        missing.push("`node` (Node.js 20 or later)".to_string());
    }
    if !workspace()
        .join("tests/browser/node_modules/playwright-core")
        .is_dir()
    {
        missing.push(
            "tests/browser/node_modules/playwright-core (`npm ci --prefix tests/browser`)"
                .to_string(),
        );
    }
    missing
}

/// Queues a check through the JSON API.
fn queue(server: &Server, input: &str) {
    let (status, answer) = server.json("POST", "/api/checks", Some(json!({ "input": input })));
    assert_eq!(status, 202, "POST /api/checks {input:?}: {answer}");
    assert_eq!(
        answer["existing"], false,
        "{input:?} must be a new check, to keep the worker busy: {answer}"
    );
}

#[test]
fn the_site_works_in_headless_chromium() {
    let missing = missing_prerequisites();
    if !missing.is_empty() {
        let list = missing.join(", ");
        if std::env::var("FACTUALLY_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "FACTUALLY_REQUIRE_BROWSER=1 but the browser test cannot run; missing: {list}. \
                 scripts/test installs them (apt-get install chromium; npm ci --prefix tests/browser)."
            );
        }
        eprintln!(
            "browser test skipped: missing {list} (scripts/test installs them; \
             FACTUALLY_REQUIRE_BROWSER=1 makes this a failure)"
        );
        return;
    }

    let data = data_dir_with_facts();
    let server = Server::start(data.path(), 1);
    for input in FILLER_CHECKS {
        queue(&server, input);
    }

    let shots = workspace().join("target/screenshots");
    for name in ["home.png", "fact-check.png", "failure.png"] {
        let _ = std::fs::remove_file(shots.join(name));
    }
    // The script's own output goes straight to the test's (shown with --nocapture or on failure
    // of the assertion below, which also shows the server's log).
    let status = Command::new("node")
        .arg(workspace().join("tests/browser/check.mjs"))
        .arg(server.base_url())
        .arg(&shots)
        .status()
        .expect("node runs");
    assert!(
        status.success(),
        "tests/browser/check.mjs failed ({status}); its messages are above, screenshots in {}; \
         server log:\n{}",
        shots.display(),
        server.log()
    );
    for name in ["home.png", "fact-check.png"] {
        let path = shots.join(name);
        let size = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        assert!(size > 0, "{} is empty", path.display());
        eprintln!("screenshot: {} ({size} bytes)", path.display());
    }
}
