//! Knowledge-base behaviour through the public API, with the real embedding model.

use factually_assets::AssetCache;
use factually_core::{Document, NewDocument};
use factually_embed::{BertEmbedder, Embedder};
use factually_kb::{DenseScope, KbConfig, KnowledgeBase, RetrievalMode, SearchOptions};
use std::sync::OnceLock;

fn embedder() -> &'static BertEmbedder {
    static M: OnceLock<BertEmbedder> = OnceLock::new();
    M.get_or_init(|| BertEmbedder::bundled(&AssetCache::from_env()).expect("model"))
}

fn doc(title: &str, text: &str, origin: &str) -> Document {
    Document::new(
        NewDocument {
            title: title.into(),
            text: text.into(),
            origin: origin.into(),
            ..Default::default()
        },
        "2026-11-29T00:00:00Z".into(),
    )
}

fn corpus() -> Vec<Document> {
    vec![
        doc("Eiffel Tower", "The Eiffel Tower is a wrought-iron lattice tower in Paris, France. It is named after the engineer Gustave Eiffel, whose company designed and built the tower from 1887 to 1889. Locally nicknamed \"La dame de fer\", it was constructed as the centrepiece of the 1889 World's Fair.", "eiffel.txt"),
        doc("Great Wall of China", "The Great Wall of China is a series of fortifications built across the historical northern borders of ancient Chinese states. Contrary to a popular belief, the wall is not visible to the naked eye from the Moon.", "wall.txt"),
        doc("Photosynthesis", "Photosynthesis is a process used by plants to convert light energy into chemical energy. Most plants, algae and cyanobacteria perform photosynthesis.", "photo.txt"),
    ]
}

fn new_kb(dir: &std::path::Path) -> KnowledgeBase {
    let e: &dyn Embedder = embedder();
    KnowledgeBase::create(
        dir,
        KbConfig::new(
            DenseScope::AllPassages,
            Some(e),
            "2026-11-29T00:00:00Z".into(),
        ),
    )
    .unwrap()
}

fn add_all(kb: &KnowledgeBase, docs: Vec<Document>) -> factually_kb::AddStats {
    let mut w = kb.writer().unwrap();
    let stats = w.add(docs, Some(embedder()), |_| {}).unwrap();
    w.commit().unwrap();
    stats
}

/// One search check: the top hit's title for a query in a mode.
fn check(kb: &KnowledgeBase, query: &str, mode: RetrievalMode, expected_top_title: &str) {
    let hits = kb
        .search(
            query,
            &SearchOptions {
                k: 3,
                mode,
                ..Default::default()
            },
            Some(embedder()),
        )
        .unwrap();
    assert!(!hits.is_empty(), "{query:?} ({mode:?}) found nothing");
    assert_eq!(
        hits[0].title, expected_top_title,
        "{query:?} ({mode:?}): {hits:#?}"
    );
    for h in &hits {
        let stored = kb.document(&h.doc_id).unwrap().unwrap();
        assert_eq!(
            &stored.text[h.start..h.end],
            h.text,
            "hit offsets must point into the stored text"
        );
    }
}

#[test]
fn every_mode_finds_the_right_passage_and_offsets_are_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let kb = new_kb(tmp.path());
    add_all(&kb, corpus());
    let kb = KnowledgeBase::open(tmp.path()).unwrap();
    for mode in [
        RetrievalMode::Bm25,
        RetrievalMode::Dense,
        RetrievalMode::Hybrid,
    ] {
        check(&kb, "who designed the Eiffel Tower", mode, "Eiffel Tower");
        check(
            &kb,
            "Can you see the Great Wall from the Moon?",
            mode,
            "Great Wall of China",
        );
    }
    // Paraphrase with no shared content words: only the dense side can find it.
    check(
        &kb,
        "how vegetation turns sunshine into food",
        RetrievalMode::Dense,
        "Photosynthesis",
    );
    let stats = kb.stats().unwrap();
    assert_eq!(stats.documents, 3);
    assert!(stats.passages >= 3);
    assert_eq!(stats.vectors as u64, stats.passages);
}

#[test]
fn re_adding_is_idempotent_and_a_changed_origin_replaces_its_old_version() {
    let tmp = tempfile::tempdir().unwrap();
    let kb = new_kb(tmp.path());
    let first = add_all(&kb, corpus());
    assert_eq!((first.added, first.unchanged), (3, 0));
    let kb = KnowledgeBase::open(tmp.path()).unwrap();
    let again = add_all(&kb, corpus());
    assert_eq!((again.added, again.unchanged, again.replaced), (0, 3, 0));

    let edited = doc(
        "Photosynthesis",
        "Photosynthesis lets plants store solar energy as sugar.",
        "photo.txt",
    );
    let kb = KnowledgeBase::open(tmp.path()).unwrap();
    let stats = add_all(&kb, vec![edited.clone()]);
    assert_eq!((stats.added, stats.replaced), (1, 1));
    let kb = KnowledgeBase::open(tmp.path()).unwrap();
    let s = kb.stats().unwrap();
    assert_eq!(s.documents, 3);
    assert_eq!(
        s.vectors as u64, s.passages,
        "vectors of the replaced version are dropped"
    );
    assert_eq!(
        kb.document(&edited.meta.id).unwrap().unwrap().text,
        edited.text
    );
    assert!(kb.document(&corpus()[2].meta.id).unwrap().is_none());
}

#[test]
fn uncommitted_work_is_invisible_and_the_previous_state_stays_readable() {
    let tmp = tempfile::tempdir().unwrap();
    let kb = new_kb(tmp.path());
    add_all(&kb, corpus()[..1].to_vec());
    {
        let mut w = kb.writer().unwrap();
        w.add(corpus()[1..].to_vec(), Some(embedder()), |_| {})
            .unwrap();
        // Dropped without commit, as if the process died here.
    }
    let kb = KnowledgeBase::open(tmp.path()).unwrap();
    let s = kb.stats().unwrap();
    assert_eq!((s.documents, s.vectors as u64), (1, s.passages));
}

#[test]
fn a_second_writer_is_refused_while_one_is_open() {
    let tmp = tempfile::tempdir().unwrap();
    let kb = new_kb(tmp.path());
    let _w = kb.writer().unwrap();
    let other = KnowledgeBase::open(tmp.path()).unwrap();
    assert!(matches!(
        other.writer(),
        Err(factually_kb::KbError::Busy(_))
    ));
}

#[test]
fn hostile_queries_get_errors_or_results_never_panics() {
    let tmp = tempfile::tempdir().unwrap();
    add_all(&new_kb(tmp.path()), corpus());
    let kb = KnowledgeBase::open(tmp.path()).unwrap();
    let opts = SearchOptions::default();
    assert!(matches!(
        kb.search("   ", &opts, Some(embedder())),
        Err(factually_kb::KbError::EmptyQuery)
    ));
    let huge = "tower ".repeat(200_000);
    let hits = kb.search(&huge, &opts, Some(embedder())).unwrap();
    assert_eq!(hits[0].title, "Eiffel Tower");
    for q in [
        "AND OR NOT ((",
        "title:\"x",
        "\u{0}\u{1}\u{fffd}",
        "の東京タワー",
    ] {
        kb.search(q, &opts, Some(embedder())).unwrap();
    }
}

/// Document BM25 must count documents, not every record of the index: passages share the
/// index, and counting them too inflated the IDF of words found in every document and
/// shrank the average document length, so a short document repeating such a word beat the
/// one document that has the query's rare word.
#[test]
fn document_bm25_statistics_count_documents_only() {
    let tmp = tempfile::tempdir().unwrap();
    let kb = KnowledgeBase::create(
        tmp.path(),
        KbConfig::new(DenseScope::None, None, "2026-11-29T00:00:00Z".into()),
    )
    .unwrap();
    let filler = |topic: &str, n: usize| -> String {
        (0..n)
            .map(|i| format!("Sentence {i} of the {topic} report describes ward {i} in detail."))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let target = format!(
        "{} One arm received favipiravir and the virus cleared sooner. {}",
        filler("trial", 12),
        filler("trial", 12)
    );
    let docs = vec![
        doc("Trial", &target, "trial.txt"),
        doc(
            "Virus note",
            "The virus. The virus spreads. Virus, virus, virus.",
            "note.txt",
        ),
        doc(
            "Survey",
            &format!("{} The virus was common.", filler("survey", 20)),
            "survey.txt",
        ),
        doc(
            "Audit",
            &format!("{} No virus was found.", filler("audit", 20)),
            "audit.txt",
        ),
    ];
    let mut w = kb.writer().unwrap();
    w.add(docs, None, |_| {}).unwrap();
    w.commit().unwrap();
    let kb = KnowledgeBase::open(tmp.path()).unwrap();
    let whole_text_only = SearchOptions {
        k: 4,
        mode: RetrievalMode::Bm25,
        weights: factually_core::FusionWeights {
            bm25: 0.0,
            dense: 0.0,
            doc: 1.0,
            k: 60.0,
        },
    };
    let hits = kb
        .search_documents("favipiravir virus", &whole_text_only, None)
        .unwrap();
    let titles: Vec<&str> = hits.iter().map(|h| h.title.as_str()).collect();
    assert_eq!(titles.first(), Some(&"Trial"), "{titles:?}");
}

/// A writer opened from a view that another writer has committed past starts from the commit
/// on disk: the other writer's documents and vectors are kept.
#[test]
fn a_writer_from_an_older_view_keeps_what_others_committed() {
    let tmp = tempfile::tempdir().unwrap();
    add_all(&new_kb(tmp.path()), corpus()[..1].to_vec());
    let older = KnowledgeBase::open(tmp.path()).unwrap();
    let other = KnowledgeBase::open(tmp.path()).unwrap();
    {
        let mut w = other.writer().unwrap();
        w.add(corpus()[1..2].to_vec(), Some(embedder()), |_| {})
            .unwrap();
        w.commit().unwrap();
    }
    assert!(!older.is_current());
    {
        let mut w = older.writer().unwrap();
        w.add(corpus()[2..].to_vec(), Some(embedder()), |_| {})
            .unwrap();
        w.commit().unwrap();
    }
    let s = KnowledgeBase::open(tmp.path()).unwrap().stats().unwrap();
    assert_eq!(s.documents as usize, corpus().len());
    assert_eq!(
        s.vectors as u64, s.passages,
        "every passage keeps its vector"
    );
}

/// Two writers at once: the second waits for the first (and is told so), and both documents
/// end up in the knowledge base. Two creators of one new knowledge base take turns too.
#[test]
fn a_waiting_writer_goes_after_the_first_and_creators_take_turns() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kb");
    // Both creators succeed (before they took turns, the second failed on tantivy's lock).
    let creators: Vec<_> = (0..2)
        .map(|_| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                new_kb(&dir);
            })
        })
        .collect();
    for creator in creators {
        creator.join().expect("both creators get a knowledge base");
    }
    let kb = KnowledgeBase::open(&dir).unwrap();
    let first = kb.writer().unwrap();
    let waited = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let second = {
        let (dir, waited) = (dir.clone(), waited.clone());
        std::thread::spawn(move || {
            let kb = KnowledgeBase::open(&dir).unwrap();
            let mut w = kb
                .writer_waiting(|| waited.store(true, std::sync::atomic::Ordering::SeqCst))
                .unwrap();
            w.add(corpus()[1..2].to_vec(), Some(embedder()), |_| {})
                .unwrap();
            w.commit().unwrap();
        })
    };
    let mut first = first;
    first
        .add(corpus()[..1].to_vec(), Some(embedder()), |_| {})
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    first.commit().unwrap();
    drop(first);
    second.join().unwrap();
    assert!(waited.load(std::sync::atomic::Ordering::SeqCst));
    let s = KnowledgeBase::open(&dir).unwrap().stats().unwrap();
    assert_eq!(s.documents, 2);
    assert_eq!(s.vectors as u64, s.passages);
}
