//! `factually batch`: many claims from a JSONL or CSV file, checked by a few threads sharing one
//! check session, one JSON line per claim appended to the output file.
//!
//! Resumable: claims whose id is in the output already are skipped, so running the same
//! command again after an interruption (Ctrl-C, a crash, a reboot) finishes the rest. Each
//! result is one `write` of a whole line, and Ctrl-C stops the checks in flight (their lines
//! are not written) and leaves the file as valid JSONL; a line cut short by a crash is dropped
//! when the next run reads the file. Input lines that are not claims are reported by line
//! number and skipped; a claim that cannot be checked gets an error line of its own.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use clap::Args;
use factually_engine::{CancellationToken, CheckRequest, CheckSession};
use indicatif::ProgressBar;
use serde::Serialize;
use serde_json::{json, Value};

use crate::check_cmd::{today, PipelineArgs};
use crate::output::print_json;
use crate::runtime::{bar_style, Context};
use crate::{CmdResult, Failure, Format};

#[derive(Args, Debug)]
pub struct BatchArgs {
    /// Claims: JSONL (`{"id": ..., "claim": ...}` per line; `input` or `text` also name the
    /// claim) or CSV with a header naming a `claim` (or `input`, `text`) column and optionally
    /// an `id` column. Without an id, a claim's id is derived from its text.
    file: PathBuf,
    /// Where the results go, one JSON line per claim; appended to, and read first to skip the
    /// claims it already has.
    #[arg(long, value_name = "OUT.jsonl")]
    out: PathBuf,
    /// Claims checked at once.
    #[arg(long, default_value_t = 2, value_name = "N")]
    jobs: usize,
    /// Only verdicts and evidence (`verify`), not full reports (`check`): faster.
    #[arg(long)]
    verify_only: bool,
    /// The reports' "Checked on" date, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "DATE")]
    checked_on: Option<String>,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

/// One claim of the input file.
#[derive(Debug, Clone, PartialEq)]
struct Claim {
    id: String,
    text: String,
    /// 1-based line (JSONL) or record (CSV, counting the header) it came from.
    line: usize,
}

/// What reading the input gave: the claims, and the lines that were not claims.
#[derive(Debug, Default)]
struct Input {
    claims: Vec<Claim>,
    bad: Vec<String>,
}

/// Input files larger than this are refused: a batch is claims, not a corpus.
const MAX_INPUT_BYTES: u64 = 256 << 20;

fn derived_id(text: &str) -> String {
    factually_core::sha256_hex(text.trim().as_bytes())[..16].to_string()
}

fn claim_of(id: Option<String>, text: Option<String>, line: usize) -> Result<Claim, String> {
    let text = text
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("line {line}: no claim (a `claim`, `input` or `text` field)"))?;
    let id = id
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| derived_id(&text));
    Ok(Claim { id, text, line })
}

fn read_jsonl(bytes: &[u8]) -> Input {
    let mut input = Input::default();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = i + 1;
        let Ok(text) = std::str::from_utf8(raw) else {
            input.bad.push(format!("line {line}: not UTF-8"));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                input.bad.push(format!("line {line}: not JSON: {e}"));
                continue;
            }
        };
        let field = |names: &[&str]| {
            names.iter().find_map(|n| match value.get(*n) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
        };
        match claim_of(field(&["id"]), field(&["claim", "input", "text"]), line) {
            Ok(claim) => input.claims.push(claim),
            Err(e) => input.bad.push(e),
        }
    }
    input
}

fn read_csv(bytes: &[u8]) -> Result<Input, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("the CSV header: {e}"))?
        .clone();
    let column = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&h.trim().to_ascii_lowercase().as_str()))
    };
    let text_column = column(&["claim", "input", "text"])
        .ok_or("the CSV header names no `claim` (or `input`, `text`) column")?;
    let id_column = column(&["id"]);
    let mut input = Input::default();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        match record {
            Ok(r) => match claim_of(
                id_column.and_then(|c| r.get(c)).map(String::from),
                r.get(text_column).map(String::from),
                line,
            ) {
                Ok(claim) => input.claims.push(claim),
                Err(e) => input.bad.push(e),
            },
            Err(e) => input.bad.push(format!("record {line}: {e}")),
        }
    }
    Ok(input)
}

fn read_claims(path: &Path) -> Result<Input, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("reading {}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("reading {}: {e}", path.display())))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Failure::usage(format!(
            "{} is larger than {} MiB: split it",
            path.display(),
            MAX_INPUT_BYTES >> 20
        )));
    }
    let csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut input = if csv {
        read_csv(&bytes).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?
    } else {
        read_jsonl(&bytes)
    };
    // The same id twice: the first is checked, the others reported.
    let mut seen = HashMap::new();
    let mut claims = Vec::new();
    for claim in input.claims {
        match seen.get(&claim.id) {
            Some(first) => input.bad.push(format!(
                "line {}: id {:?} was used on line {first} already",
                claim.line, claim.id
            )),
            None => {
                seen.insert(claim.id.clone(), claim.line);
                claims.push(claim);
            }
        }
    }
    input.claims = claims;
    Ok(input)
}

/// The ids the output file has results for. A last line cut short (a crash in the middle of
/// writing it) is cut off, so that appending continues a valid file.
fn done_ids(out: &Path) -> Result<HashSet<String>, Failure> {
    let mut file = match std::fs::OpenOptions::new().read(true).write(true).open(out) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(Failure::usage(format!("opening {}: {e}", out.display()))),
    };
    let mut ids = HashSet::new();
    let mut valid_len = 0u64;
    let mut reader = std::io::BufReader::new(&mut file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading {}", out.display()))?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            break; // cut short: dropped below
        }
        valid_len += n as u64;
        match serde_json::from_slice::<Value>(&line) {
            Ok(v) => {
                if let Some(id) = v.get("id").and_then(Value::as_str) {
                    ids.insert(id.to_string());
                }
            }
            Err(_) if line.iter().all(u8::is_ascii_whitespace) => {}
            Err(e) => {
                return Err(Failure::usage(format!(
                "{} is not a results file of `batch` (a line is not JSON: {e}); name another --out",
                out.display()
            )))
            }
        }
    }
    drop(reader);
    let len = file.seek(std::io::SeekFrom::End(0))?;
    if len > valid_len {
        file.set_len(valid_len)
            .with_context(|| format!("cutting the unfinished last line of {}", out.display()))?;
        eprintln!(
            "factually: {}: dropped an unfinished last line ({} bytes)",
            out.display(),
            len - valid_len
        );
    }
    Ok(ids)
}

/// What a batch did, printed at the end.
#[derive(Debug, Default, Serialize)]
struct Summary {
    claims: usize,
    already_done: usize,
    checked: usize,
    /// Verdict label counts of the claims checked in this run.
    verdicts: std::collections::BTreeMap<String, usize>,
    /// Claims that could not be checked (an error line each).
    errors: usize,
    /// Input lines that were not claims.
    bad_lines: Vec<String>,
    interrupted: bool,
    seconds: f64,
}

/// The result line of one claim, and its verdict label when it has one.
fn run_one(
    session: &CheckSession,
    claim: &Claim,
    verify_only: bool,
    checked_on: &str,
    cancel: &CancellationToken,
) -> Option<(Value, Option<String>)> {
    let outcome = if verify_only {
        session
            .verify(&claim.text)
            .map(|v| serde_json::to_value(v).map_err(anyhow::Error::from))
    } else {
        session
            .check(
                &CheckRequest {
                    input: &claim.text,
                    checked_on,
                    urls: &[],
                    cancel: Some(cancel),
                },
                &|_| {},
            )
            .map(|r| serde_json::to_value(r).map_err(anyhow::Error::from))
    };
    let line = |result: Value, label| {
        let key = if verify_only {
            "verification"
        } else {
            "report"
        };
        Some((
            json!({ "id": claim.id, "claim": claim.text, "line": claim.line, key: result }),
            label,
        ))
    };
    match outcome {
        Ok(Ok(value)) => {
            let label = value["verdict"]["label"].as_str().map(String::from);
            line(value, label)
        }
        Ok(Err(e)) => Some((
            json!({ "id": claim.id, "claim": claim.text, "line": claim.line,
                    "error": { "kind": "failure", "message": e.to_string() } }),
            None,
        )),
        Err(factually_engine::CheckError::Cancelled) => None,
        Err(e) => {
            let kind = if e.is_input() { "bad_input" } else { "failure" };
            Some((
                json!({ "id": claim.id, "claim": claim.text, "line": claim.line,
                        "error": { "kind": kind, "message": e.to_string() } }),
                None,
            ))
        }
    }
}

pub fn run(ctx: &Context, args: BatchArgs) -> CmdResult {
    let started = std::time::Instant::now();
    let checked_on = match &args.checked_on {
        Some(d) => crate::check_cmd::valid_date(d)?,
        None => today(),
    };
    let input = read_claims(&args.file)?;
    for bad in &input.bad {
        eprintln!("factually: {}: skipped {bad}", args.file.display());
    }
    let done = done_ids(&args.out)?;
    let todo: Vec<Claim> = input
        .claims
        .iter()
        .filter(|c| !done.contains(&c.id))
        .cloned()
        .collect();
    let mut summary = Summary {
        claims: input.claims.len(),
        already_done: input.claims.len() - todo.len(),
        bad_lines: input.bad.clone(),
        ..Summary::default()
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let cancel = CancellationToken::new();
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let (cancel, interrupted) = (cancel.clone(), interrupted.clone());
        runtime.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                interrupted.store(true, Ordering::SeqCst);
                cancel.cancel();
            }
        });
    }
    if !todo.is_empty() {
        let session = args
            .pipeline
            .session(ctx, false, Some(runtime.handle().clone()))?;
        session.prepare()?;
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&args.out)
            .with_context(|| format!("opening {}", args.out.display()))?;
        let out = Mutex::new(out);
        let bar = ProgressBar::new(todo.len() as u64).with_style(bar_style("claims"));
        let next = AtomicUsize::new(0);
        let results: Mutex<(usize, usize, Vec<String>)> = Mutex::new((0, 0, Vec::new()));
        let write_failed: Mutex<Option<std::io::Error>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..args.jobs.clamp(1, 16) {
                scope.spawn(|| loop {
                    if cancel.is_cancelled() {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(claim) = todo.get(i) else { return };
                    let Some((line, label)) =
                        run_one(&session, claim, args.verify_only, &checked_on, &cancel)
                    else {
                        return; // cancelled: no line, the next run checks it
                    };
                    let mut text = line.to_string();
                    text.push('\n');
                    // One write of the whole line (O_APPEND): a result is in the file whole
                    // or not at all.
                    let written = out
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .write_all(text.as_bytes());
                    if let Err(e) = written {
                        *write_failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                        cancel.cancel();
                        return;
                    }
                    let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
                    r.0 += 1;
                    match label {
                        Some(label) => r.2.push(label),
                        None => r.1 += 1,
                    }
                    drop(r);
                    bar.inc(1);
                });
            }
        });
        bar.finish_and_clear();
        if let Some(e) = write_failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(Failure {
                code: 1,
                error: anyhow::anyhow!("writing {}: {e}", args.out.display()),
            });
        }
        let (checked, errors, labels) = results.into_inner().unwrap_or_else(|e| e.into_inner());
        summary.checked = checked;
        summary.errors = errors;
        for label in labels {
            *summary.verdicts.entry(label).or_default() += 1;
        }
    }
    summary.interrupted = interrupted.load(Ordering::SeqCst);
    summary.seconds = started.elapsed().as_secs_f64();
    match ctx.format {
        Format::Json => print_json(&serde_json::to_value(&summary)?),
        Format::Text => {
            let verdicts = summary
                .verdicts
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ");
            println!(
                "{} claim(s): {} checked now ({}), {} already in {}, {} error(s); {} bad line(s); {:.1} s{}",
                summary.claims,
                summary.checked,
                if verdicts.is_empty() { "-".to_string() } else { verdicts },
                summary.already_done,
                args.out.display(),
                summary.errors,
                summary.bad_lines.len(),
                summary.seconds,
                if summary.interrupted {
                    "; interrupted: run the same command again to finish"
                } else {
                    ""
                }
            );
        }
    }
    Ok(if summary.interrupted {
        ExitCode::from(130)
    } else if summary.errors > 0 || !summary.bad_lines.is_empty() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(input: &Input) -> Vec<(&str, &str, usize)> {
        input
            .claims
            .iter()
            .map(|c| (c.id.as_str(), c.text.as_str(), c.line))
            .collect()
    }

    #[test]
    fn jsonl_lines_become_claims_and_bad_lines_are_named() {
        let input = read_jsonl(
            b"{\"id\": \"a\", \"claim\": \"The sky is blue.\"}\n\
              not json\n\
              \n\
              {\"id\": 7, \"input\": \"Water boils at 100 C.\"}\n\
              {\"claim\": \"  \"}\n\
              {\"text\": \"Paris is in France.\"}\n\
              \xff\xfe\n",
        );
        let paris = derived_id("Paris is in France.");
        assert_eq!(
            ids(&input),
            [
                ("a", "The sky is blue.", 1),
                ("7", "Water boils at 100 C.", 4),
                (paris.as_str(), "Paris is in France.", 6)
            ]
        );
        assert_eq!(input.bad.len(), 3, "{:?}", input.bad);
        assert!(input.bad[0].starts_with("line 2: not JSON"));
        assert!(input.bad[1].starts_with("line 5: no claim"));
        assert_eq!(input.bad[2], "line 7: not UTF-8");
    }

    #[test]
    fn csv_records_become_claims_with_quoting_and_broken_records_named() {
        let input = read_csv(
            b"ID,Claim,source\n\
              1,\"Paris, the capital, is in France.\",x\n\
              2,,y\n\
              3,\"Water boils at 100 C.\"\n",
        )
        .unwrap();
        assert_eq!(
            ids(&input),
            [
                ("1", "Paris, the capital, is in France.", 2),
                ("3", "Water boils at 100 C.", 4)
            ]
        );
        assert_eq!(
            input.bad,
            ["line 3: no claim (a `claim`, `input` or `text` field)"]
        );
        assert!(read_csv(b"id,speaker\n1,someone\n")
            .unwrap_err()
            .contains("no `claim`"));
        // A quote that never closes swallows the rest: one bad record, not a panic.
        let broken = read_csv(b"claim\n\"unterminated, quote\nnext line\n");
        assert!(broken.is_ok_and(|i| i.claims.len() + i.bad.len() <= 1));
    }

    #[test]
    fn an_unfinished_last_line_is_cut_off_and_done_ids_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        std::fs::write(&out, "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\",\"rep").unwrap();
        let done = done_ids(&out).unwrap();
        assert_eq!(done, HashSet::from(["a".to_string(), "b".to_string()]));
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "{\"id\":\"a\"}\n{\"id\":\"b\"}\n"
        );
        std::fs::write(&out, "a results file? no\n").unwrap();
        assert!(done_ids(&out).is_err());
        assert!(done_ids(&dir.path().join("absent.jsonl"))
            .unwrap()
            .is_empty());
    }
}
