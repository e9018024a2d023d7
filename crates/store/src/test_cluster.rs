//! A throw-away PostgreSQL cluster for tests (feature `test-cluster`): `initdb` and `pg_ctl` of
//! the Debian `postgresql` package, in a temporary directory, on a loopback port, with trust
//! authentication. One cluster serves a whole test process; each test takes its own database
//! ([`TempPostgres::new_database`]), so tests run in parallel without seeing each other.
//!
//! Why a watchdog: a cluster kept in a `static` is never dropped, so a small shell process
//! waits for the test process to end and then stops the cluster and removes its directory.
//!
//! PostgreSQL refuses to run as root; as root (CI machines, containers) the cluster runs as
//! the `postgres` user the package creates.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Set to `1` to make a missing PostgreSQL fail the tests instead of skipping them.
pub const REQUIRE_ENV: &str = "FACTUALLY_REQUIRE_POSTGRES";

/// A running cluster.
pub struct TempPostgres {
    port: u16,
    next_database: AtomicU32,
}

/// The directory holding `initdb` and `pg_ctl`: on the `PATH`, or Debian's
/// `/usr/lib/postgresql/<version>/bin` (the newest).
fn bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// The uid and gid of the `postgres` user, from `/etc/passwd`.
fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"postgres"))
            .then(|| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))
            .flatten()
    })
}

/// A command run as the user the cluster belongs to.
fn as_owner(program: &Path, root: bool) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

impl TempPostgres {
    /// The cluster of this test process, started on first use; `None` (with a note on stderr)
    /// when PostgreSQL is not installed, unless [`REQUIRE_ENV`] is set, which makes that a
    /// panic.
    pub fn shared() -> Option<&'static TempPostgres> {
        static CLUSTER: OnceLock<Option<TempPostgres>> = OnceLock::new();
        CLUSTER
            .get_or_init(|| match Self::start() {
                Ok(cluster) => Some(cluster),
                Err(why) if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") => {
                    panic!("{REQUIRE_ENV}=1 but no PostgreSQL cluster could start: {why}")
                }
                Err(why) => {
                    eprintln!("skipped: the PostgreSQL half of this test ({why}; install the `postgresql` package)");
                    None
                }
            })
            .as_ref()
    }

    fn start() -> Result<Self, String> {
        let bin = bin_dir().ok_or("initdb and pg_ctl were not found")?;
        let root = is_root();
        let dir = tempfile::Builder::new()
            .prefix("factually-pg-")
            .tempdir()
            .map_err(|e| format!("a temporary directory: {e}"))?
            .keep();
        if root {
            let (uid, gid) = postgres_user().ok_or("running as root and no `postgres` user")?;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", dir.display()))?;
        }
        let data = dir.join("data");
        let mut initdb = as_owner(&bin.join("initdb"), root);
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ]);
        run(initdb, "initdb")?;
        let port = free_port()?;
        let mut pg_ctl = as_owner(&bin.join("pg_ctl"), root);
        pg_ctl
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .arg("-w")
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                dir.display()
            ))
            .arg("start");
        run(pg_ctl, "pg_ctl start")?;
        // The watchdog: once this process is gone, stop the cluster and remove it.
        let stop = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runuser}'{pg_ctl}' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            runuser = if root { "runuser -u postgres -- " } else { "" },
            pg_ctl = bin.join("pg_ctl").display(),
            data = data.display(),
            dir = dir.display(),
        );
        Command::new("sh")
            .args(["-c", &stop])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("the cluster's watchdog: {e}"))?;
        Ok(Self {
            port,
            next_database: AtomicU32::new(1),
        })
    }

    /// The URL of `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A new, empty database; returns its URL.
    pub async fn new_database(&self) -> String {
        use sqlx::Connection as _;
        let name = format!(
            "t{}_{}",
            std::process::id(),
            self.next_database.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .expect("the test cluster accepts connections");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a test database");
        self.url(&name)
    }
}

impl TempPostgres {
    /// [`TempPostgres::new_database`] for tests without an async runtime.
    pub fn new_database_blocking(&self) -> String {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(self.new_database())
    }
}
