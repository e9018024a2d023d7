//! What the tests of `factually serve` share: a data dir with the fixture knowledge base, and a
//! running server spoken to over plain HTTP/1.1.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Ten questions the fixture knowledge base `facts` can answer.
pub const QUESTIONS: [&str; 10] = [
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

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `factually --data-dir DATA`, without the settings of the environment it runs in (a config
/// file or a model server would change what the checks do).
pub fn factually(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_factually"));
    command
        .arg("--data-dir")
        .arg(data)
        .env_remove("FACTUALLY_CONFIG")
        .env_remove("FACTUALLY_LLM_URL")
        .env_remove("FACTUALLY_LLM_MODEL")
        .env_remove("FACTUALLY_LLM_API_KEY");
    command
}

/// Runs `factually ARGS` with `stdin` written to its standard input (closed at once when none).
pub fn run(data: &Path, args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    let mut child = factually(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// [`run`], checking the exit status and that nothing panicked; returns (stdout, stderr).
pub fn run_expecting(
    data: &Path,
    args: &[&str],
    stdin: Option<&[u8]>,
    status: i32,
) -> (String, String) {
    let out = run(data, args, stdin);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(status),
        "factually {args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    (stdout, stderr)
}

/// A data dir holding the fixture knowledge base `facts`.
pub fn data_dir_with_facts() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let out = factually(data.path())
        .args(["kb", "add", "--kb", "facts"])
        .arg(fixtures().join("report-kb"))
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "kb add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    data
}

/// A running `factually serve` over the `facts` knowledge base, killed (SIGKILL) when dropped,
/// also when an assertion fails.
pub struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    pub fn start(data: &Path, workers: usize) -> Self {
        Self::start_with(data, workers, &[])
    }

    /// [`Server::start`] with more arguments (`--database-url ...`).
    pub fn start_with(data: &Path, workers: usize, extra: &[&str]) -> Self {
        Self::start_env(data, workers, extra, &[])
    }

    /// [`Server::start_with`] with environment variables (`FAILPOINTS`).
    pub fn start_env(data: &Path, workers: usize, extra: &[&str], env: &[(&str, &str)]) -> Self {
        // A free port: the kernel picks one, and it is released for the server to take.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = data.join(format!("serve-{port}.log"));
        let mut child = factually(data);
        child.args(["serve", "--kb", "facts"]);
        if !extra.contains(&"--submissions-per-minute") {
            child.args(["--submissions-per-minute", "100"]);
        }
        let child = child
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args(["--workers", &workers.to_string()])
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the binary runs");
        let mut server = Self { child, port, log };
        // Generous: the first start may load the models.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some((200, _)) = server.request("GET", "/api/health", None) {
                break;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited ({status}): {}", server.log());
            }
            assert!(
                Instant::now() < deadline,
                "the server did not answer /api/health: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The server's process id (for its memory and open files in /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One HTTP/1.1 exchange over a plain socket (answers carry a Content-Length or end with
    /// the connection, so the body is everything after the headers); `None` when the server
    /// cannot be reached.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.split(' ').nth(1)?.parse().ok()?;
        let (_, body) = response.split_once("\r\n\r\n")?;
        Some((status, body.to_string()))
    }

    /// A JSON exchange; panics (with the server's log) when there is no JSON answer.
    pub fn json(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, text) = self
            .request(method, path, body.as_ref())
            .unwrap_or_else(|| panic!("{method} {path}: no answer; log: {}", self.log()));
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path} answered {status}, {e}: {text}"));
        (status, value)
    }

    /// Waits for the server to exit by itself (a crash point), at most `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server is still running: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(mut self) {
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

/// A running `factually worker` over the `facts` knowledge base, killed when dropped.
pub struct Worker {
    child: Child,
    log: PathBuf,
}

impl Worker {
    /// Starts a worker on `database` and waits until it takes checks.
    pub fn start(data: &Path, database: &str, name: &str) -> Self {
        Self::start_draining(data, database, name, 60)
    }

    /// [`Worker::start`] with `--drain-seconds`.
    pub fn start_draining(data: &Path, database: &str, name: &str, drain_seconds: u32) -> Self {
        let log = data.join(format!("worker-{name}.log"));
        let child = factually(data)
            .args(["worker", "--kb", "facts", "--database-url", database])
            .args(["--drain-seconds", &drain_seconds.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the binary runs");
        let mut worker = Self { child, log };
        let deadline = Instant::now() + Duration::from_secs(120);
        while !worker.log().contains("worker running") {
            if let Ok(Some(status)) = worker.child.try_wait() {
                panic!("the worker exited ({status}): {}", worker.log());
            }
            assert!(
                Instant::now() < deadline,
                "the worker did not start: {}",
                worker.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        worker
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the worker with SIGKILL, as a crash would.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM, as a service manager stopping it would, and waits for it to exit.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        // SAFETY: signalling our own child, which has not been reaped yet.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let status = self.child.wait().unwrap();
        (status, self.log())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` JSONL records `{title, text}` of deterministic, varied English-like text.
pub fn synthetic_corpus(n: usize) -> String {
    const WORDS: [&str; 24] = [
        "virus",
        "vaccine",
        "trial",
        "patients",
        "masks",
        "transmission",
        "study",
        "dose",
        "immune",
        "response",
        "hospital",
        "cases",
        "reduced",
        "increased",
        "children",
        "adults",
        "symptoms",
        "infection",
        "protein",
        "antibody",
        "risk",
        "data",
        "model",
        "treatment",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = String::new();
    for i in 0..n {
        let text: Vec<String> = (0..8)
            .map(|_| {
                let words: Vec<&str> = (0..14)
                    .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
                    .collect();
                format!("The {} in study {i}.", words.join(" "))
            })
            .collect();
        out.push_str(
            &serde_json::json!({"title": format!("Abstract {i}"), "text": text.join(" ")})
                .to_string(),
        );
        out.push('\n');
    }
    out
}

/// Every quote of a report is the stored text of its source at its offsets, as `kb show`
/// prints it.
pub fn assert_grounded(data: &Path, report: &Value) {
    for source in report["sources"].as_array().unwrap() {
        let out = factually(data)
            .args(["kb", "show", "--kb", source["kb"].as_str().unwrap()])
            .arg(source["doc_id"].as_str().unwrap())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
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
