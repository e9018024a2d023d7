//! Web pages as sources: one gathering round for a check, and storing what was fetched as
//! snapshots in the `web` knowledge base, where citations point.
//!
//! Why the store retries: every worker of every process that shares a data directory writes
//! its snapshots into the one `web` knowledge base, and only one writer may hold it at a time.
//! A check that met a busy writer used to give up and cite none of its pages; now it waits its
//! turn (a commit takes milliseconds), so concurrent checks lose no sources.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use factually_core::{sha256_hex, Document};
use factually_fetch::Gathered;
use factually_kb::{DataDir, DenseScope, KbConfig, KbError, KbName, KnowledgeBase};
use factually_report::{OfferedSource, OfferedSources, SkippedSource};

/// The knowledge base web snapshots are stored in.
pub const WEB_KB: &str = "web";
/// Search queries per check.
pub const QUERIES: usize = 3;
/// How long a check waits for another writer of the `web` knowledge base.
const WRITER_PATIENCE: Duration = Duration::from_secs(60);

/// The `web` knowledge base, created on first use. It holds no dense vectors: web documents are
/// chosen per check by the search engines, not by retrieval, so embedding them would only cost
/// time.
pub fn open_web_kb(data: &DataDir, now_rfc3339: &str) -> Result<KnowledgeBase, KbError> {
    let name = KbName::parse(WEB_KB)?;
    KnowledgeBase::open_or_create(&data.kb_dir(&name), || {
        KbConfig::new(DenseScope::None, None, now_rfc3339.to_string())
    })
}

/// Stores the gathered pages as snapshots and turns them into offered sources. A page is
/// offered only once it is stored: a citation must always point at a stored copy.
pub fn store(kb: &KnowledgeBase, gathered: Gathered) -> OfferedSources {
    let mut offered = OfferedSources {
        queries: gathered.queries,
        skipped: gathered
            .skipped
            .into_iter()
            .map(|s| SkippedSource {
                url: s.url,
                reason: s.reason,
            })
            .collect(),
        warnings: gathered.warnings,
        documents: Vec::new(),
        gather_ms: 0.0,
    };
    let mut seen = HashSet::new();
    let mut candidates: Vec<(Document, f32, Vec<String>)> = gathered
        .documents
        .into_iter()
        .map(|w| {
            let mut new = w.document;
            // Each distinct content of a URL is its own snapshot: a page that changes later
            // must not replace the copy earlier reports cite.
            new.origin = format!(
                "{}#sha256={}",
                w.url,
                &sha256_hex(new.text.as_bytes())[..16]
            );
            (Document::new(new, w.fetched_at), w.credibility, w.copies)
        })
        .filter(|(doc, _, _)| seen.insert(doc.meta.id.clone()))
        .collect();
    if candidates.is_empty() {
        return offered;
    }
    // A snapshot already stored (same title and text) is cited as stored, with its original
    // fetch time; only new ones are written.
    let mut new_docs = Vec::new();
    for (doc, _, _) in &mut candidates {
        match kb.document(&doc.meta.id) {
            Ok(Some(existing)) => *doc = existing,
            _ => new_docs.push(doc.clone()),
        }
    }
    let stored = if new_docs.is_empty() {
        Ok(())
    } else {
        write_waiting_for_others(kb, new_docs)
    };
    match stored {
        Ok(()) => {
            offered.documents = candidates
                .into_iter()
                .map(|(document, credibility, copies)| OfferedSource {
                    document,
                    kb: WEB_KB.to_string(),
                    credibility,
                    copies,
                })
                .collect();
        }
        Err(e) => offered.warnings.push(format!(
            "the fetched pages could not be stored ({e}), so none of them is cited"
        )),
    }
    offered
}

/// Adds and commits `docs`, waiting while another thread or process holds the writer.
fn write_waiting_for_others(kb: &KnowledgeBase, docs: Vec<Document>) -> Result<(), KbError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        match kb.writer() {
            Ok(mut writer) => {
                writer.add(docs, None, |_| {})?;
                // Crash test: the process dies with fetched pages added but not committed.
                fail::fail_point!("snapshot-commit", |_| std::process::abort());
                return writer.commit();
            }
            Err(KbError::Busy(_)) if started.elapsed() < WRITER_PATIENCE => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use factually_core::NewDocument;
    use factually_fetch::WebDocument;

    fn page(i: usize) -> WebDocument {
        WebDocument {
            url: format!("https://example.org/{i}"),
            document: NewDocument {
                title: format!("Page {i}"),
                text: format!("Page number {i} says something checkable about the number {i}."),
                ..NewDocument::default()
            },
            fetched_at: "2026-12-06T00:00:00Z".into(),
            credibility: 0.5,
            credibility_source: factually_fetch::ScoreSource::Unknown,
            copies: Vec::new(),
        }
    }

    /// Eight checks storing their pages at once into one `web` knowledge base, each through its
    /// own view of it (as separate workers do): every page of every check is stored and cited.
    #[test]
    fn concurrent_checks_lose_none_of_their_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        open_web_kb(&data, "2026-12-06T00:00:00Z").unwrap();
        let offered: Vec<OfferedSources> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|check| {
                    let data = data.clone();
                    s.spawn(move || {
                        let kb = open_web_kb(&data, "2026-12-06T00:00:00Z").unwrap();
                        let gathered = Gathered {
                            documents: (0..3).map(|p| page(check * 10 + p)).collect(),
                            ..Gathered::default()
                        };
                        store(&kb, gathered)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for o in &offered {
            assert!(o.warnings.is_empty(), "{:?}", o.warnings);
            assert_eq!(o.documents.len(), 3);
        }
        let kb = open_web_kb(&data, "2026-12-06T00:00:00Z").unwrap();
        for o in &offered {
            for d in &o.documents {
                let stored = kb.document(&d.document.meta.id).unwrap().expect("stored");
                assert_eq!(stored.text, d.document.text);
            }
        }
        assert_eq!(kb.stats().unwrap().documents, 24);
    }
}
