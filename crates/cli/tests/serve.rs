//! `factually serve` end to end, with the real pipeline over a fixture knowledge base: checks
//! submitted through the API finish with grounded reports, and a server killed with SIGKILL
//! while checks run loses none of them and duplicates none after a restart.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A data dir holding the fixture knowledge base `facts`.
fn data_dir() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_factually"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["kb", "add", "--kb", "facts"])
        .arg(fixtures().join("report-kb"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    data
}

/// A running `factually serve`, killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(data: &Path, workers: usize) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = data.join(format!("serve-{port}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_factually"))
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--kb", "facts", "--submissions-per-minute", "100"])
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args(["--workers", &workers.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let server = Self { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(120);
        while server.try_request("GET", "/api/health", None).is_none() {
            assert!(
                Instant::now() < deadline,
                "the server did not start: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One HTTP/1.1 exchange; `None` when the server cannot be reached.
    fn try_request(&self, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.split(' ').nth(1)?.parse().ok()?;
        let (_, body) = response.split_once("\r\n\r\n")?;
        Some((status, body.to_string()))
    }

    fn json(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, text) = self
            .try_request(method, path, body.as_ref())
            .unwrap_or_else(|| panic!("{method} {path}: no answer; log: {}", self.log()));
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
        (status, value)
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const QUESTIONS: [&str; 10] = [
    "Why did Einstein fail math?",
    "Is the Great Wall of China visible from the Moon?",
    "The measles vaccine causes autism.",
    "Is the Eiffel Tower in Paris?",
    "Was the Eiffel Tower built in 1889?",
    "Did Einstein develop the theory of relativity?",
    "Is the measles vaccine effective?",
    "Who designed the Eiffel Tower?",
    "Can astronauts see the Great Wall from orbit?",
    "Was Einstein born in Germany?",
];

fn statuses(server: &Server, ids: &[String]) -> Vec<String> {
    ids.iter()
        .map(|id| {
            let (_, check) = server.json("GET", &format!("/api/checks/{id}"), None);
            check["status"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn a_server_killed_during_ten_checks_finishes_all_of_them_once_after_a_restart() {
    let data = data_dir();
    // Ten workers, so that all ten checks are running when the server dies.
    let server = Server::start(data.path(), 10);
    let ids: Vec<String> = QUESTIONS
        .iter()
        .map(|q| {
            let (status, answer) = server.json("POST", "/api/checks", Some(json!({"input": q})));
            assert_eq!(status, 202, "{answer}");
            answer["id"].as_str().unwrap().to_string()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    let at_kill = loop {
        let now = statuses(&server, &ids);
        if now.iter().all(|s| s == "running") {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "no check started: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    server.kill();
    eprintln!("killed with SIGKILL while the checks were {at_kill:?}");

    let server = Server::start(data.path(), 2);
    let deadline = Instant::now() + Duration::from_secs(300);
    while statuses(&server, &ids).iter().any(|s| s != "done") {
        assert!(
            Instant::now() < deadline,
            "checks did not finish after the restart: {:?}\n{}",
            statuses(&server, &ids),
            server.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    for (id, question) in ids.iter().zip(QUESTIONS) {
        let (_, check) = server.json("GET", &format!("/api/checks/{id}"), None);
        assert_eq!(check["version"], 1, "one report per check: {check}");
        assert_eq!(check["report"]["input"], question);
        assert_grounded(data.path(), &check["report"]);
    }
    let (_, listed) = server.json("GET", "/api/checks?limit=100", None);
    assert_eq!(
        listed["checks"].as_array().unwrap().len(),
        10,
        "no check lost or duplicated"
    );
    let resumed: usize = ids
        .iter()
        .map(|id| {
            let (status, events) = server
                .try_request("GET", &format!("/api/checks/{id}/events"), None)
                .unwrap();
            assert_eq!(status, 200);
            usize::from(events.contains("Resumed (attempt 2"))
        })
        .sum();
    assert_eq!(
        resumed, 10,
        "every check interrupted by the kill says it resumed"
    );
}

/// Every quote of a report is the stored text at its offsets (`kb show` prints it).
fn assert_grounded(data: &Path, report: &Value) {
    for source in report["sources"].as_array().unwrap() {
        let out = Command::new(env!("CARGO_BIN_EXE_factually"))
            .arg("--data-dir")
            .arg(data)
            .args(["kb", "show", source["doc_id"].as_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success());
        for e in source["evidence"].as_array().unwrap() {
            let (start, end) = (
                e["start"].as_u64().unwrap() as usize,
                e["end"].as_u64().unwrap() as usize,
            );
            assert_eq!(
                &out.stdout[start..end],
                e["quote"].as_str().unwrap().as_bytes()
            );
        }
    }
}
