//! PDF files: text extraction isolated from the caller, then line-level clean-up.
//!
//! The PDF reader (pdf-extract) panics on some damaged files and never returns on others
//! (fuzzing found both, docs/fuzzing.md). A panic can be caught on a thread, a hang cannot be
//! stopped there: an abandoned thread keeps a core busy until the process ends, and in a
//! server that runs for weeks such threads add up. So a program that registers a helper
//! ([`extract_pdfs_in_child_processes`]: the `factually` binary runs itself with a hidden
//! argument) has every PDF read in a child process, killed at the deadline. Without one (unit
//! tests, fuzz targets, other users of the library) extraction runs on a thread as before.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use factually_core::NewDocument;

use crate::isolate::{run_isolated, Isolation};
use crate::{file_stem, IngestError};

/// The program (and its arguments) that reads a PDF on stdin and writes its text to stdout
/// ([`serve_pdf_text_helper`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfHelper {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The child's address-space limit (RLIMIT_AS) in bytes: a PDF that makes the reader
    /// allocate without end fails there, as a crash, instead of taking the machine's memory.
    pub memory_limit_bytes: Option<u64>,
}

static HELPER: OnceLock<PdfHelper> = OnceLock::new();

/// From now on, this process reads PDFs in child processes running `helper`, which must
/// call [`serve_pdf_text_helper`]. Only the first call counts.
pub fn extract_pdfs_in_child_processes(helper: PdfHelper) {
    let _ = HELPER.set(helper);
}

/// Exit status of the helper when the PDF reader returned an error (its message is on
/// stderr); any other failure (a panic, a signal) means the reader crashed.
const HELPER_READ_ERROR: i32 = 3;

/// The helper's side: reads a PDF from stdin, writes the reader's raw text to stdout, and
/// returns the process exit status (0, or [`HELPER_READ_ERROR`] with the message on stderr).
/// A panic in the reader ends the process with Rust's panic status.
pub fn serve_pdf_text_helper() -> i32 {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("reading the PDF from stdin: {e}");
        return HELPER_READ_ERROR;
    }
    match pdf_extract::extract_text_from_mem(&bytes) {
        Ok(text) => match std::io::stdout().write_all(text.as_bytes()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("writing the text: {e}");
                HELPER_READ_ERROR
            }
        },
        Err(e) => {
            eprintln!("{e}");
            HELPER_READ_ERROR
        }
    }
}

/// Runs `helper` on `bytes`, killing it at `timeout`: its text, or the reader's error message.
#[cfg(test)]
fn raw_text_in_child(
    helper: &PdfHelper,
    bytes: Vec<u8>,
    timeout: Duration,
) -> Result<Result<String, String>, Isolation> {
    let child = spawn_helper(helper).map_err(Isolation::Failed)?;
    text_from_child(child, bytes, timeout)
}

fn spawn_helper(helper: &PdfHelper) -> std::io::Result<std::process::Child> {
    let mut command = Command::new(&helper.program);
    command
        .args(&helper.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(limit) = helper.memory_limit_bytes {
        use std::os::unix::process::CommandExt;
        let limit = limit as libc::rlim_t;
        // SAFETY: runs in the forked child before exec; setrlimit is async-signal-safe and
        // touches nothing of the parent's state.
        unsafe {
            command.pre_exec(move || {
                let rlimit = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &rlimit) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    }
    command.spawn()
}

/// Feeds `bytes` to a started helper and collects its answer, killing it at `timeout`.
fn text_from_child(
    mut child: std::process::Child,
    bytes: Vec<u8>,
    timeout: Duration,
) -> Result<Result<String, String>, Isolation> {
    let started = Instant::now();
    let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(Isolation::Failed(std::io::Error::other(
            "the helper's pipes were not opened",
        )));
    };
    // Pipes are drained on their own threads, so a large PDF or a long text cannot block
    // the child and us on each other. A helper that stops reading early is no error here.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    });
    let out = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = (writer.join(), out.join(), err.join());
                return Err(Isolation::TimedOut);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Isolation::Failed(e));
            }
        }
    };
    let _ = writer.join();
    let text = out.join().unwrap_or_default();
    let message = err.join().unwrap_or_default();
    if status.success() {
        Ok(Ok(String::from_utf8_lossy(&text).into_owned()))
    } else if status.code() == Some(HELPER_READ_ERROR) {
        Ok(Err(String::from_utf8_lossy(&message).trim().to_string()))
    } else {
        Err(Isolation::Panicked)
    }
}

/// Longest first paragraph still taken as the title of a PDF.
const MAX_PDF_TITLE_CHARS: usize = 150;

/// Extracts the text of a PDF, cleaned for citation: words hyphenated across line ends are
/// rejoined, lines within a paragraph are joined with spaces, paragraphs are separated by a
/// blank line.
///
/// Extraction runs in a child process killed after `timeout` when the program registered a
/// helper ([`extract_pdfs_in_child_processes`]), else on its own thread with panics caught,
/// abandoned after `timeout` (the thread is left to finish in the background); either way a
/// hostile or broken PDF yields an error instead of a crash or a hang. A PDF without a text
/// layer (a scan) is [`IngestError::Empty`].
pub fn extract_pdf_text(
    bytes: &[u8],
    path: &Path,
    timeout: Duration,
) -> Result<String, IngestError> {
    let bytes = bytes.to_vec();
    let pdf_error = |message: String| IngestError::Pdf {
        path: path.to_path_buf(),
        message,
    };
    // A helper that cannot be started (a sandbox without fork, a deleted binary) leaves
    // the thread: slower to give up on a hang, but the file is still read.
    let child = HELPER.get().and_then(|helper| {
        spawn_helper(helper)
            .inspect_err(|e| tracing::warn!("cannot start the PDF helper, reading in-process: {e}"))
            .ok()
    });
    let outcome = match child {
        Some(child) => text_from_child(child, bytes, timeout),
        None => run_isolated("pdf-extract", timeout, move || {
            pdf_extract::extract_text_from_mem(&bytes).map_err(|e| e.to_string())
        }),
    };
    let raw = match outcome {
        Ok(Ok(text)) => text,
        Ok(Err(e)) => return Err(pdf_error(e)),
        Err(Isolation::Panicked) => return Err(pdf_error(
            "the PDF reader crashed on this file (it may be damaged or use unsupported features)"
                .to_string(),
        )),
        Err(Isolation::TimedOut) => {
            tracing::warn!(path = %path.display(), "PDF extraction timed out; stopped it");
            return Err(IngestError::PdfTimeout {
                path: path.to_path_buf(),
            });
        }
        Err(Isolation::Failed(e)) => return Err(pdf_error(e.to_string())),
    };
    let text = clean_pdf_text(&raw);
    if text.is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

/// A PDF file as one document. The title is the first paragraph when it looks like one
/// (short, not ending like a sentence), else the file name.
pub fn pdf_document(
    path: &Path,
    bytes: &[u8],
    timeout: Duration,
) -> Result<NewDocument, IngestError> {
    let text = extract_pdf_text(bytes, path, timeout)?;
    let title = text
        .split("\n\n")
        .next()
        .filter(|first| looks_like_title(first))
        .map_or_else(|| file_stem(path), str::to_string);
    Ok(NewDocument {
        title,
        text,
        origin: path.display().to_string(),
        ..NewDocument::default()
    })
}

fn looks_like_title(paragraph: &str) -> bool {
    let chars = paragraph.chars().count();
    (3..=MAX_PDF_TITLE_CHARS).contains(&chars)
        && paragraph.chars().any(char::is_alphabetic)
        && !paragraph.ends_with(['.', ',', ';', ':'])
}

/// Joins the lines of each paragraph (repairing end-of-line hyphenation) and separates
/// paragraphs (blank lines or page breaks in the extracted text) by one blank line.
fn clean_pdf_text(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n").replace(['\r', '\u{c}'], "\n\n");
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    for line in raw.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if current.is_empty() {
            current = line;
        } else if let Some(keep) = hyphen_join(&current, &line) {
            current.truncate(keep);
            current.push_str(&line);
        } else {
            current.push(' ');
            current.push_str(&line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs.join("\n\n")
}

/// When `text` ends with a hyphen (hard or soft) between word characters across the line
/// break, how much of `text` to keep before appending `next` directly: without the hyphen
/// when the word continues in lower case ("exam-" + "ple"), with it otherwise ("COVID-" +
/// "19", "SARS-" + "CoV-2"). `None` when the lines are joined with a space.
fn hyphen_join(text: &str, next: &str) -> Option<usize> {
    let (stem, soft) = match text.strip_suffix('\u{ad}') {
        Some(stem) => (stem, true),
        None => (text.strip_suffix('-')?, false),
    };
    let before = stem.chars().next_back()?;
    let after = next.chars().next()?;
    if !before.is_alphanumeric() || !after.is_alphanumeric() {
        return None;
    }
    Some(
        if soft || (before.is_alphabetic() && after.is_lowercase()) {
            stem.len()
        } else {
            text.len()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A helper that is a shell script: the process machinery without the PDF reader.
    fn shell(script: &str) -> PdfHelper {
        PdfHelper {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".to_string(), script.to_string()],
            memory_limit_bytes: None,
        }
    }

    #[test]
    fn a_helper_s_text_errors_crashes_and_hangs_are_told_apart() {
        let run = |script: &str, timeout_ms: u64| {
            raw_text_in_child(
                &shell(script),
                b"%PDF-1.4 ...".to_vec(),
                Duration::from_millis(timeout_ms),
            )
        };
        // The helper reads all of stdin and answers on stdout.
        assert!(matches!(
            run("wc -c | tr -d ' \\n'; printf ' bytes'", 10_000),
            Ok(Ok(text)) if text == "12 bytes"
        ));
        assert!(matches!(
            run("echo 'no text layer' >&2; exit 3", 10_000),
            Ok(Err(message)) if message == "no text layer"
        ));
        assert!(matches!(
            run("kill -9 $$", 10_000),
            Err(Isolation::Panicked)
        ));
        assert!(matches!(run("exit 101", 10_000), Err(Isolation::Panicked)));
        let missing = PdfHelper {
            program: PathBuf::from("/nonexistent/helper"),
            args: Vec::new(),
            memory_limit_bytes: None,
        };
        assert!(matches!(
            raw_text_in_child(&missing, Vec::new(), Duration::from_secs(1)),
            Err(Isolation::Failed(_))
        ));
    }

    #[test]
    fn a_helper_over_its_memory_limit_fails_as_a_crash() {
        // 200 MB in a shell variable: fine without a limit, a crash under 64 MiB.
        let script = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); printf '%s' ${#x}";
        let unlimited = raw_text_in_child(&shell(script), Vec::new(), Duration::from_secs(60));
        assert!(
            matches!(unlimited, Ok(Ok(ref n)) if n == "200000000"),
            "{unlimited:?}"
        );
        let limited = PdfHelper {
            memory_limit_bytes: Some(64 << 20),
            ..shell(script)
        };
        let outcome = raw_text_in_child(&limited, Vec::new(), Duration::from_secs(60));
        assert!(matches!(outcome, Err(Isolation::Panicked)), "{outcome:?}");
    }

    #[test]
    fn a_helper_past_its_deadline_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!("echo $$ > {}; exec sleep 30", pid_file.display());
        let started = Instant::now();
        let outcome = raw_text_in_child(&shell(&script), Vec::new(), Duration::from_millis(300));
        assert!(matches!(outcome, Err(Isolation::TimedOut)));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        // Killed and reaped: no such process any more (not even a zombie).
        assert!(
            !Path::new(&format!("/proc/{}", pid.trim())).exists(),
            "the helper {pid} is still there"
        );
    }

    #[test]
    fn cleaning_cases() {
        let cases = [
            ("An exam-\nple of text.", "An example of text."),
            ("soft\u{ad}\nhyphen", "softhyphen"),
            (
                "line one\nline two\n\n\nnext   paragraph\n",
                "line one line two\n\nnext paragraph",
            ),
            ("COVID-\n19 stays", "COVID-19 stays"),
            ("SARS-\nCoV-2", "SARS-CoV-2"),
            ("3-\nyear", "3-year"),
            ("- \nbullet", "- bullet"),
            ("page one\u{c}page two", "page one\n\npage two"),
            ("\r\n\r\n  \n", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_pdf_text(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn titles() {
        assert!(looks_like_title("Effects of Masks on Transmission"));
        assert!(!looks_like_title("This is the first sentence of the body."));
        assert!(!looks_like_title("12"));
        assert!(!looks_like_title(&"long ".repeat(40)));
    }
}
