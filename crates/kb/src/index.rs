//! One knowledge base: a tantivy index of documents and passages plus its vector file.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use factually_core::{
    passage_windows, split_sentences, DocId, Document, DocumentMeta, FusionWeights, RankedLists,
};
use factually_embed::{Embedder, EmbedderRecipe};
use fs2::FileExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{Bm25StatisticsProvider, BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED,
    STRING,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::vectors::{ExactIndex, VectorIndex};
use crate::KbError;

const ANALYZER: &str = "factually_en";
const CONFIG_FILE: &str = "kb.json";
const KIND_DOC: &str = "doc";
const KIND_PASSAGE: &str = "passage";
/// Queries are cut to this many distinct terms; a 1 MB query must not become a 100k-clause query.
const MAX_QUERY_TERMS: usize = 64;
/// Candidates each retriever contributes to fusion.
const FUSION_DEPTH: usize = 100;

/// Which passages get a dense vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenseScope {
    /// Every passage (best recall; embedding cost grows with the text).
    AllPassages,
    /// One short vector per document, from its title and description (or first words),
    /// attached to its first passage: dense retrieval then finds *which document* a query is
    /// about, and BM25 finds the passage. On 2 cores MiniLM embeds about 2,000 tokens/s, so
    /// this is what keeps the 10,033-article default KB build near a minute, where every
    /// passage would take over ten.
    Heading,
    /// No vectors: BM25 only.
    None,
}

/// The on-disk layout this build reads and writes. Bumped whenever the index schema or the
/// vector file changes meaning; an older KB is refused with [`KbError::Outdated`].
pub const KB_FORMAT: u32 = 2;

/// Settings fixed when a knowledge base is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbConfig {
    /// [`KB_FORMAT`] of the build that created the KB (0 for KBs that predate the field).
    #[serde(default)]
    pub format: u32,
    /// Sentences per passage.
    pub window: usize,
    /// A new passage starts every `stride` sentences (`stride < window` overlaps them).
    pub stride: usize,
    pub dense: DenseScope,
    /// The embedding model the vectors come from; `None` when `dense` is `None`.
    pub model_id: Option<String>,
    /// How to load that model again; `None` for the bundled one (and for KBs that predate
    /// the field, all of which used it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedder: Option<EmbedderRecipe>,
    pub dim: usize,
    pub created_at: String,
}

impl KbConfig {
    pub fn new(dense: DenseScope, embedder: Option<&dyn Embedder>, created_at: String) -> Self {
        let (model_id, dim, recipe) = match (dense, embedder) {
            (DenseScope::None, _) | (_, None) => (None, 0, None),
            (_, Some(e)) => (Some(e.model_id().to_string()), e.dim(), e.recipe()),
        };
        let dense = if model_id.is_none() {
            DenseScope::None
        } else {
            dense
        };
        Self {
            format: KB_FORMAT,
            window: 3,
            stride: 2,
            dense,
            model_id,
            embedder: recipe,
            dim,
            created_at,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    kind: Field,
    doc_id: Field,
    origin: Field,
    title: Field,
    body: Field,
    start: Field,
    end: Field,
    pkey: Field,
    ordinal: Field,
    meta: Field,
    text: Field,
    /// The document key (see [`doc_key`]) on document and passage records.
    dkey: Field,
    /// Title and full text of a document record, for document-level BM25.
    doc_body: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let en = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        kind: b.add_text_field("kind", STRING),
        doc_id: b.add_text_field("doc_id", STRING | STORED),
        origin: b.add_text_field("origin", STRING),
        title: b.add_text_field("title", en.clone() | STORED),
        body: b.add_text_field("body", en.clone() | STORED),
        start: b.add_u64_field("start", STORED),
        end: b.add_u64_field("end", STORED),
        pkey: b.add_u64_field("pkey", INDEXED | STORED | FAST),
        dkey: b.add_u64_field("dkey", FAST),
        ordinal: b.add_u64_field("ordinal", STORED),
        meta: b.add_text_field("meta", STORED),
        text: b.add_text_field("text", STORED),
        doc_body: b.add_text_field("doc_body", en),
    };
    (b.build(), fields)
}

fn register_analyzer(index: &Index) {
    let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::new(Language::English).expect("tantivy ships English stop words"))
        .filter(Stemmer::new(Language::English))
        .build();
    index.tokenizers().register(ANALYZER, analyzer);
}

/// Stable key of a passage: derived from its document and position.
fn passage_key(doc: &DocId, ordinal: usize) -> u64 {
    let mut h = Sha256::new();
    h.update(doc.as_str().as_bytes());
    h.update((ordinal as u64).to_le_bytes());
    u64::from_le_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CommitPayload {
    generation: u64,
    vectors: Option<String>,
}

impl CommitPayload {
    /// The payload of the last commit on disk (the default before the first one).
    fn of(index: &Index) -> Result<Self, KbError> {
        index
            .load_metas()?
            .payload
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| KbError::Corrupt(format!("commit payload: {e}")))
            .map(Option::unwrap_or_default)
    }

    /// The vectors this commit names, in the knowledge base in `dir`.
    fn vectors(&self, dir: &Path, dim: usize) -> Result<ExactIndex, KbError> {
        match &self.vectors {
            Some(file) => ExactIndex::load(&dir.join("vectors").join(file)),
            None => Ok(ExactIndex::new(dim)),
        }
    }
}

/// A read-only view of one knowledge base: a snapshot of the last commit made before it was
/// opened (commits made later are seen by opening it again).
pub struct KnowledgeBase {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    config: KbConfig,
    vectors: ExactIndex,
    /// Document key of every vector's passage, so dense hits need no index lookups.
    vector_docs: HashMap<u64, u64>,
    generation: u64,
}

/// What `kb stats` prints.
#[derive(Debug, Clone, Serialize)]
pub struct KbStats {
    pub documents: u64,
    pub passages: u64,
    pub vectors: usize,
    pub bytes_on_disk: u64,
    pub dense: DenseScope,
    pub model: Option<String>,
    pub passage_window: usize,
    pub passage_stride: usize,
    pub created_at: String,
    pub generation: u64,
}

/// A ranked passage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub doc_id: DocId,
    pub title: String,
    pub score: f64,
    /// Byte range of the passage in the document's stored text.
    pub start: usize,
    pub end: usize,
    pub text: String,
    #[serde(skip)]
    pub passage_key: u64,
    /// Rank (from 1) in the BM25 list, if it was there.
    pub bm25_rank: Option<usize>,
    /// Rank (from 1) in the dense list, if it was there.
    pub dense_rank: Option<usize>,
}

/// Which retrievers a search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetrievalMode {
    Bm25,
    Dense,
    Hybrid,
}

#[derive(Debug, Clone, Copy)]
pub struct SearchOptions {
    pub k: usize,
    pub mode: RetrievalMode,
    pub weights: FusionWeights,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            k: 10,
            mode: RetrievalMode::Hybrid,
            weights: FusionWeights::default(),
        }
    }
}

impl KnowledgeBase {
    /// Opens an existing knowledge base.
    pub fn open(dir: &Path) -> Result<Self, KbError> {
        let config_path = dir.join(CONFIG_FILE);
        let config_text =
            fs::read_to_string(&config_path).map_err(|e| KbError::io(&config_path, e))?;
        let config: KbConfig = serde_json::from_str(&config_text)
            .map_err(|e| KbError::Corrupt(format!("{}: {e}", config_path.display())))?;
        if config.format != KB_FORMAT {
            return Err(KbError::Outdated {
                dir: dir.to_path_buf(),
                found: config.format,
                expected: KB_FORMAT,
            });
        }
        let index = Index::open_in_dir(dir.join("index"))?;
        register_analyzer(&index);
        let (_, fields) = schema();
        let payload = CommitPayload::of(&index)?;
        let vectors = payload.vectors(dir, config.dim)?;
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let vector_docs = passage_documents(&reader)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            index,
            reader,
            fields,
            config,
            vectors,
            vector_docs,
            generation: payload.generation,
        })
    }

    /// Creates an empty knowledge base. Two processes creating the same one take turns: the
    /// second waits for the first and then opens what it made (with the first one's
    /// settings).
    pub fn create(dir: &Path, config: KbConfig) -> Result<Self, KbError> {
        fs::create_dir_all(dir).map_err(|e| KbError::io(dir, e))?;
        let lock_path = dir.join("write.lock");
        let lock = File::create(&lock_path).map_err(|e| KbError::io(&lock_path, e))?;
        lock.lock_exclusive()
            .map_err(|e| KbError::io(&lock_path, e))?;
        if Self::exists(dir) {
            drop(lock);
            return Self::open(dir);
        }
        let index_dir = dir.join("index");
        fs::create_dir_all(&index_dir).map_err(|e| KbError::io(&index_dir, e))?;
        fs::create_dir_all(dir.join("vectors")).map_err(|e| KbError::io(dir, e))?;
        let (schema, _) = schema();
        let index = Index::create_in_dir(&index_dir, schema)?;
        register_analyzer(&index);
        // An initial empty commit makes the KB openable before the first add.
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000)?;
        let mut prepared = writer.prepare_commit()?;
        prepared
            .set_payload(&serde_json::to_string(&CommitPayload::default()).expect("serialisable"));
        prepared.commit()?;
        drop(writer);
        // kb.json is written last: its presence marks a complete KB (see DataDir::list).
        write_atomically(
            &dir.join(CONFIG_FILE),
            serde_json::to_vec_pretty(&config)
                .expect("serialisable")
                .as_slice(),
        )?;
        drop(lock);
        Self::open(dir)
    }

    /// Whether `dir` holds a complete knowledge base (one that [`KnowledgeBase::open`] can
    /// try): its config file is written last, so a half-created one does not count.
    pub fn exists(dir: &Path) -> bool {
        dir.join(CONFIG_FILE).is_file()
    }

    /// Opens the knowledge base in `dir`, creating it with `config()` when there is none.
    pub fn open_or_create(dir: &Path, config: impl FnOnce() -> KbConfig) -> Result<Self, KbError> {
        if Self::exists(dir) {
            Self::open(dir)
        } else {
            Self::create(dir, config())
        }
    }

    /// Whether this view still shows the last commit on disk; when not, opening the knowledge
    /// base again shows what was added since. Cheap: it reads the index's small meta file.
    pub fn is_current(&self) -> bool {
        self.generation_on_disk()
            .is_ok_and(|on_disk| on_disk == self.generation)
    }

    pub fn config(&self) -> &KbConfig {
        &self.config
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn stats(&self) -> Result<KbStats, KbError> {
        Ok(KbStats {
            documents: self.count(self.fields.kind, KIND_DOC)?,
            passages: self.count(self.fields.kind, KIND_PASSAGE)?,
            vectors: self.vectors.len(),
            bytes_on_disk: dir_size(&self.dir),
            dense: self.config.dense,
            model: self.config.model_id.clone(),
            passage_window: self.config.window,
            passage_stride: self.config.stride,
            created_at: self.config.created_at.clone(),
            generation: self.generation,
        })
    }

    /// Live (not deleted) records whose `field` holds `value`. Unlike `doc_freq`, this
    /// ignores deleted records, which stay in the term dictionary until segments merge.
    fn count(&self, field: Field, value: &str) -> Result<u64, KbError> {
        let searcher = self.reader.searcher();
        Ok(searcher.search(
            &TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ),
            &Count,
        )? as u64)
    }

    /// The stored document, exactly as ingested.
    pub fn document(&self, id: &DocId) -> Result<Option<Document>, KbError> {
        let searcher = self.reader.searcher();
        let query = BooleanQuery::new(vec![
            (Occur::Must, term_query(self.fields.doc_id, id.as_str())),
            (Occur::Must, term_query(self.fields.kind, KIND_DOC)),
        ]);
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        let Some((_, addr)) = top.first() else {
            return Ok(None);
        };
        let stored: TantivyDocument = searcher.doc(*addr)?;
        let meta_json = stored
            .get_first(self.fields.meta)
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let meta: DocumentMeta = serde_json::from_str(meta_json)
            .map_err(|e| KbError::Corrupt(format!("metadata of {id}: {e}")))?;
        let text = stored
            .get_first(self.fields.text)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        Ok(Some(Document { meta, text }))
    }

    /// Ids of every stored document (in index order).
    pub fn all_document_ids(&self) -> Result<Vec<DocId>, KbError> {
        let searcher = self.reader.searcher();
        let q = term_query(self.fields.kind, KIND_DOC);
        let n = self.count(self.fields.kind, KIND_DOC)? as usize;
        if n == 0 {
            return Ok(Vec::new());
        }
        let top = searcher.search(&q, &TopDocs::with_limit(n).order_by_score())?;
        let mut ids = Vec::with_capacity(n);
        for (_, addr) in top {
            let d: TantivyDocument = searcher.doc(addr)?;
            if let Some(id) = d
                .get_first(self.fields.doc_id)
                .and_then(|v| v.as_str())
                .and_then(DocId::parse)
            {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Analyzes `query` the way the index analyzes passages; distinct terms, in order.
    fn query_terms(&self, query: &str) -> Result<Vec<String>, KbError> {
        let mut analyzer = self.index.tokenizer_for_field(self.fields.body)?;
        let mut stream = analyzer.token_stream(query);
        let mut seen = HashSet::new();
        let mut terms = Vec::new();
        while stream.advance() {
            let t = stream.token().text.clone();
            if seen.insert(t.clone()) {
                terms.push(t);
                if terms.len() == MAX_QUERY_TERMS {
                    break;
                }
            }
        }
        Ok(terms)
    }

    /// BM25 over passage text and title: `(passage key, document key)`, best first.
    pub fn bm25(&self, query: &str, n: usize) -> Result<Vec<(u64, u64)>, KbError> {
        let terms = self.query_terms(query)?;
        if terms.is_empty() || n == 0 {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for t in &terms {
            clauses.push((Occur::Should, term_query(self.fields.body, t)));
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(term_query(self.fields.title, t), 0.5)),
            ));
        }
        let searcher = self.reader.searcher();
        let top = searcher.search_with_statistics_provider(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(n).order_by_score(),
            &KindStatistics::new(&searcher, self.fields.kind, KIND_PASSAGE)?,
        )?;
        let mut out = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let fast = searcher.segment_reader(addr.segment_ord).fast_fields();
            if let (Some(p), Some(d)) = (
                fast.u64("pkey")?.first(addr.doc_id),
                fast.u64("dkey")?.first(addr.doc_id),
            ) {
                out.push((p, d));
            }
        }
        Ok(out)
    }

    /// BM25 over whole documents (title and full text): document keys, best first.
    pub fn doc_bm25(&self, query: &str, n: usize) -> Result<Vec<u64>, KbError> {
        let terms = self.query_terms(query)?;
        if terms.is_empty() || n == 0 {
            return Ok(Vec::new());
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|t| (Occur::Should, term_query(self.fields.doc_body, t)))
            .collect();
        self.top_fast_values(&BooleanQuery::new(clauses), n, KIND_DOC, "dkey")
    }

    /// The `field` fast-field value of the `n` best records of `kind` matching `query`, best
    /// first.
    fn top_fast_values(
        &self,
        query: &dyn Query,
        n: usize,
        kind: &str,
        field: &str,
    ) -> Result<Vec<u64>, KbError> {
        let searcher = self.reader.searcher();
        let top = searcher.search_with_statistics_provider(
            query,
            &TopDocs::with_limit(n).order_by_score(),
            &KindStatistics::new(&searcher, self.fields.kind, kind)?,
        )?;
        let mut out = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let col = searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .u64(field)?;
            out.extend(col.first(addr.doc_id));
        }
        Ok(out)
    }

    /// Dense search with an already embedded query: `(passage key, document key)`, best first.
    pub fn dense(&self, query_vector: &[f32], n: usize) -> Vec<(u64, u64)> {
        self.vectors
            .search(query_vector, n)
            .into_iter()
            .filter_map(|(pkey, _)| self.vector_docs.get(&pkey).map(|&d| (pkey, d)))
            .collect()
    }

    fn check_model(&self, embedder: &dyn Embedder) -> Result<(), KbError> {
        match &self.config.model_id {
            Some(built) if built != embedder.model_id() => Err(KbError::ModelMismatch {
                built: built.clone(),
                given: embedder.model_id().to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// The ranked lists a mode asks for. BM25 mode is lexical only (passage and document
    /// BM25), dense mode is the dense list only, hybrid is all three. A KB without vectors,
    /// or a call without an embedder, falls back to BM25.
    fn retrieve(
        &self,
        query: &str,
        mode: RetrievalMode,
        depth: usize,
        embedder: Option<&dyn Embedder>,
    ) -> Result<RankedLists<u64, u64>, KbError> {
        if query.trim().is_empty() {
            return Err(KbError::EmptyQuery);
        }
        let dense_embedder =
            embedder.filter(|_| mode != RetrievalMode::Bm25 && !self.vectors.is_empty());
        let lexical = mode != RetrievalMode::Dense || dense_embedder.is_none();
        let passage_dense = match dense_embedder {
            Some(e) => {
                self.check_model(e)?;
                // The embedder truncates long input to its window; cap the bytes first so a
                // huge query costs no more than a normal one.
                let v = e.embed_query(truncate_at_char(query, 4096))?;
                self.dense(&v, depth)
            }
            None => Vec::new(),
        };
        Ok(RankedLists {
            passage_bm25: if lexical {
                self.bm25(query, depth)?
            } else {
                Vec::new()
            },
            passage_dense,
            doc_bm25: if lexical {
                self.doc_bm25(query, depth)?
            } else {
                Vec::new()
            },
        })
    }

    /// Ranked passages for a query.
    pub fn search(
        &self,
        query: &str,
        opts: &SearchOptions,
        embedder: Option<&dyn Embedder>,
    ) -> Result<Vec<Hit>, KbError> {
        let lists = self.retrieve(query, opts.mode, FUSION_DEPTH.max(opts.k), embedder)?;
        let ranks = ListRanks::of(&lists);
        let mut hits = Vec::with_capacity(opts.k);
        for (pkey, _, score) in lists.fuse_passages(&opts.weights).into_iter().take(opts.k) {
            if let Some(hit) = self.passage(pkey)? {
                hits.push(ranks.annotate(hit, score));
            }
        }
        Ok(hits)
    }

    /// Ranked documents for a query, each with its best passage.
    pub fn search_documents(
        &self,
        query: &str,
        opts: &SearchOptions,
        embedder: Option<&dyn Embedder>,
    ) -> Result<Vec<Hit>, KbError> {
        let lists = self.retrieve(query, opts.mode, FUSION_DEPTH.max(opts.k), embedder)?;
        let ranks = ListRanks::of(&lists);
        let mut best_passage: HashMap<u64, u64> = HashMap::new();
        for (pkey, dkey, _) in lists.fuse_passages(&opts.weights) {
            best_passage.entry(dkey).or_insert(pkey);
        }
        let mut hits = Vec::with_capacity(opts.k);
        for (dkey, score) in lists.fuse_documents(&opts.weights).into_iter().take(opts.k) {
            // A document found only by its whole text is represented by its lead passage.
            let pkey = best_passage
                .get(&dkey)
                .copied()
                .unwrap_or_else(|| passage_key(&doc_id_of(dkey), 0));
            if let Some(hit) = self.passage(pkey)? {
                hits.push(ranks.annotate(hit, score));
            }
        }
        Ok(hits)
    }

    /// Loads a passage by key.
    pub fn passage(&self, key: u64) -> Result<Option<Hit>, KbError> {
        let searcher = self.reader.searcher();
        let q = TermQuery::new(
            Term::from_field_u64(self.fields.pkey, key),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(&q, &TopDocs::with_limit(1).order_by_score())?;
        let Some((_, addr)) = top.first() else {
            return Ok(None);
        };
        let d: TantivyDocument = searcher.doc(*addr)?;
        let f = &self.fields;
        let str_of = |field| {
            d.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let u64_of = |field| {
            d.get_first(field)
                .and_then(|v| v.as_u64())
                .unwrap_or_default() as usize
        };
        let Some(doc_id) = DocId::parse(&str_of(f.doc_id)) else {
            return Err(KbError::Corrupt(format!(
                "passage {key} has no valid document id"
            )));
        };
        Ok(Some(Hit {
            doc_id,
            title: str_of(f.title),
            score: 0.0,
            start: u64_of(f.start),
            end: u64_of(f.end),
            text: str_of(f.body),
            passage_key: key,
            bm25_rank: None,
            dense_rank: None,
        }))
    }

    /// Opens a writer. Only one process may write to a KB at a time: when another one is,
    /// this fails with [`KbError::Busy`].
    pub fn writer(&self) -> Result<KbWriter<'_>, KbError> {
        let lock = self.write_lock()?;
        lock.try_lock_exclusive()
            .map_err(|_| KbError::Busy(self.dir.display().to_string()))?;
        self.writer_holding(lock)
    }

    /// [`KnowledgeBase::writer`], but when another process is writing, `on_wait` is called and
    /// this waits until it has finished.
    pub fn writer_waiting(&self, on_wait: impl FnOnce()) -> Result<KbWriter<'_>, KbError> {
        let lock = self.write_lock()?;
        if lock.try_lock_exclusive().is_err() {
            on_wait();
            lock.lock_exclusive()
                .map_err(|e| KbError::io(&self.dir.join("write.lock"), e))?;
        }
        self.writer_holding(lock)
    }

    fn write_lock(&self) -> Result<File, KbError> {
        let lock_path = self.dir.join("write.lock");
        File::create(&lock_path).map_err(|e| KbError::io(&lock_path, e))
    }

    /// A writer for the holder of the write lock. It starts from the last commit on disk, not
    /// from this view: another process may have committed since the view was opened, and a
    /// writer starting from the view's vectors would drop that process's vectors at commit.
    fn writer_holding(&self, lock: File) -> Result<KbWriter<'_>, KbError> {
        let vectors = if self.is_current() {
            self.vectors.clone()
        } else {
            // What `add` reads (documents already there, passages to replace) must be current too.
            self.reader.reload()?;
            CommitPayload::of(&self.index)?.vectors(&self.dir, self.config.dim)?
        };
        let writer: IndexWriter = self.index.writer_with_num_threads(1, 64_000_000)?;
        Ok(KbWriter {
            kb: self,
            writer,
            vectors,
            pending_ids: HashSet::new(),
            _lock: lock,
        })
    }
}

/// Counts of one `add` call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AddStats {
    pub added: usize,
    /// Documents whose exact content was already present (idempotent re-adds).
    pub unchanged: usize,
    /// Documents that replaced an older version from the same origin.
    pub replaced: usize,
    pub passages: usize,
    pub embedded: usize,
}

/// Adds documents to a knowledge base; nothing is visible (or durable) until [`KbWriter::commit`].
pub struct KbWriter<'kb> {
    kb: &'kb KnowledgeBase,
    writer: IndexWriter,
    vectors: ExactIndex,
    pending_ids: HashSet<DocId>,
    _lock: File,
}

impl KbWriter<'_> {
    /// Indexes a batch of documents, embedding their passages as the KB's [`DenseScope`] says.
    /// `embedded_progress` is called with the number of passages embedded so far.
    pub fn add(
        &mut self,
        docs: Vec<Document>,
        embedder: Option<&dyn Embedder>,
        mut embedded_progress: impl FnMut(usize),
    ) -> Result<AddStats, KbError> {
        let kb = self.kb;
        let f = kb.fields;
        let mut stats = AddStats::default();
        let mut to_embed: Vec<(u64, String)> = Vec::new();
        if let Some(e) = embedder {
            kb.check_model(e)?;
        }
        for doc in docs {
            let id = doc.meta.id.clone();
            let present = self.pending_ids.contains(&id) || kb.count(f.doc_id, id.as_str())? > 0;
            if present {
                stats.unchanged += 1;
                continue;
            }
            // A new version of a document from the same origin replaces the old one.
            if kb.count(f.origin, &doc.meta.origin)? > 0 {
                let old = kb.passage_keys_of_origin(&doc.meta.origin)?;
                self.vectors.retain(|k| !old.contains(&k));
                self.writer
                    .delete_term(Term::from_field_text(f.origin, &doc.meta.origin));
                stats.replaced += 1;
            }
            let sentences = split_sentences(&doc.text);
            let windows = passage_windows(&sentences, kb.config.window, kb.config.stride);
            let mut d = TantivyDocument::default();
            d.add_text(f.kind, KIND_DOC);
            d.add_text(f.doc_id, id.as_str());
            d.add_text(f.origin, &doc.meta.origin);
            d.add_text(
                f.meta,
                serde_json::to_string(&doc.meta).expect("serialisable"),
            );
            d.add_text(f.text, &doc.text);
            d.add_u64(f.dkey, doc_key(&id));
            d.add_text(f.doc_body, format!("{}\n\n{}", doc.meta.title, doc.text));
            self.writer.add_document(d)?;
            for (ordinal, (span, _)) in windows.iter().enumerate() {
                let key = passage_key(&id, ordinal);
                let body = span.slice(&doc.text);
                let mut p = TantivyDocument::default();
                p.add_text(f.kind, KIND_PASSAGE);
                p.add_text(f.doc_id, id.as_str());
                p.add_text(f.origin, &doc.meta.origin);
                p.add_text(f.title, &doc.meta.title);
                p.add_text(f.body, body);
                p.add_u64(f.start, span.start as u64);
                p.add_u64(f.end, span.end as u64);
                p.add_u64(f.pkey, key);
                p.add_u64(f.dkey, doc_key(&id));
                p.add_u64(f.ordinal, ordinal as u64);
                self.writer.add_document(p)?;
                match kb.config.dense {
                    DenseScope::AllPassages => {
                        to_embed.push((key, passage_embedding_text(&doc.meta.title, body)))
                    }
                    DenseScope::Heading if ordinal == 0 => {
                        to_embed.push((key, heading_embedding_text(&doc.meta, body)))
                    }
                    DenseScope::Heading | DenseScope::None => {}
                }
            }
            stats.passages += windows.len();
            stats.added += 1;
            self.pending_ids.insert(id);
        }
        if let (Some(e), false) = (embedder, to_embed.is_empty()) {
            for chunk in to_embed.chunks(256) {
                let texts: Vec<&str> = chunk.iter().map(|(_, t)| t.as_str()).collect();
                for ((key, _), v) in chunk.iter().zip(e.embed(&texts)?) {
                    self.vectors.push(*key, &v);
                }
                stats.embedded += chunk.len();
                embedded_progress(stats.embedded);
            }
        }
        Ok(stats)
    }

    /// Makes everything added so far durable and visible to readers opened afterwards.
    /// Vectors are written first; the tantivy commit that names them is the switch-over.
    pub fn commit(&mut self) -> Result<(), KbError> {
        let generation = self.kb.generation_on_disk()? + 1;
        let vec_dir = self.kb.dir.join("vectors");
        fs::create_dir_all(&vec_dir).map_err(|e| KbError::io(&vec_dir, e))?;
        let file = format!("{generation:010}.fvec");
        self.vectors.save(&vec_dir.join(&file))?;
        let payload = CommitPayload {
            generation,
            vectors: Some(file.clone()),
        };
        // Crash tests: the process dies with the new vectors written but not yet named by a
        // commit, and right after the commit, before older vector files are removed.
        fail::fail_point!("kb-before-commit", |_| std::process::abort());
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&payload).expect("serialisable"));
        prepared.commit()?;
        fail::fail_point!("kb-after-commit", |_| std::process::abort());
        // Older vector files are no longer referenced by any commit.
        if let Ok(entries) = fs::read_dir(&vec_dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy() != file.as_str() {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        self.pending_ids.clear();
        Ok(())
    }
}

impl KnowledgeBase {
    fn generation_on_disk(&self) -> Result<u64, KbError> {
        let payload: CommitPayload = self
            .index
            .load_metas()?
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        Ok(payload.generation)
    }

    fn passage_keys_of_origin(&self, origin: &str) -> Result<HashSet<u64>, KbError> {
        let q = BooleanQuery::new(vec![
            (Occur::Must, term_query(self.fields.origin, origin)),
            (Occur::Must, term_query(self.fields.kind, KIND_PASSAGE)),
        ]);
        Ok(self
            .top_fast_values(&q, 100_000, KIND_PASSAGE, "pkey")?
            .into_iter()
            .collect())
    }
}

/// Passage key -> document key for every live passage record (read from fast fields).
fn passage_documents(reader: &IndexReader) -> Result<HashMap<u64, u64>, KbError> {
    let mut map = HashMap::new();
    for segment in reader.searcher().segment_readers() {
        let pkeys = segment.fast_fields().u64("pkey")?;
        let dkeys = segment.fast_fields().u64("dkey")?;
        for doc in 0..segment.max_doc() {
            if segment.is_deleted(doc) {
                continue;
            }
            if let (Some(p), Some(d)) = (pkeys.first(doc), dkeys.first(doc)) {
                map.insert(p, d);
            }
        }
    }
    Ok(map)
}

/// Where each passage stood in the lists, for display.
struct ListRanks {
    bm25: HashMap<u64, usize>,
    dense: HashMap<u64, usize>,
}

impl ListRanks {
    fn of(lists: &RankedLists<u64, u64>) -> Self {
        let rank = |l: &[(u64, u64)]| {
            l.iter()
                .enumerate()
                .rev()
                .map(|(i, (p, _))| (*p, i + 1))
                .collect()
        };
        Self {
            bm25: rank(&lists.passage_bm25),
            dense: rank(&lists.passage_dense),
        }
    }

    fn annotate(&self, mut hit: Hit, score: f64) -> Hit {
        hit.score = score;
        hit.bm25_rank = self.bm25.get(&hit.passage_key).copied();
        hit.dense_rank = self.dense.get(&hit.passage_key).copied();
        hit
    }
}

/// A document id (16 hex digits) is exactly a u64: the document key used in fast fields.
fn doc_key(id: &DocId) -> u64 {
    u64::from_str_radix(id.as_str(), 16).expect("a DocId is 16 hex digits")
}

fn doc_id_of(key: u64) -> DocId {
    DocId::parse(&format!("{key:016x}")).expect("16 hex digits")
}

/// What the dense model sees for a passage: the title gives context the window may lack.
fn passage_embedding_text(title: &str, body: &str) -> String {
    if title.is_empty() || body.starts_with(title) {
        body.to_string()
    } else {
        format!("{title}. {body}")
    }
}

/// What the dense model sees for a document heading: "Title: description", or the title and
/// the first dozen words of the lead when there is no description.
fn heading_embedding_text(meta: &DocumentMeta, lead: &str) -> String {
    match &meta.description {
        // Three words of description disambiguate ("Mercury: First planet from", "Mercury:
        // Chemical element with") at 20% less embedding time than the whole line, which keeps
        // the default KB build under a minute (docs/retrieval.md has the measurements).
        Some(d) if !d.trim().is_empty() => {
            format!(
                "{}: {}",
                meta.title,
                d.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
            )
        }
        _ => {
            let words: Vec<&str> = lead.split_whitespace().take(12).collect();
            passage_embedding_text(&meta.title, &words.join(" "))
        }
    }
}

/// BM25 statistics of one kind of record. Documents and passages share one tantivy index, and
/// tantivy's own statistics count every record in it: the document-text field then saw about
/// six times as many records as carry it (the Check-COVID KB holds 792 documents and 4,509
/// passages), which gave terms found in nearly every document (`covid`, `patient`) an IDF of
/// about 1.9 instead of about 0, and shrank the average document length the same way, so a
/// claim's rare word no longer decided the ranking. Only the record count needs correcting:
/// token totals and document frequencies of a field come from the records that have it.
struct KindStatistics<'a> {
    searcher: &'a Searcher,
    records: u64,
}

impl<'a> KindStatistics<'a> {
    fn new(searcher: &'a Searcher, kind_field: Field, kind: &str) -> Result<Self, KbError> {
        // Like tantivy's own count (max_doc), this includes deleted records not yet merged
        // away, as the token totals and document frequencies do.
        let records = searcher
            .doc_freq(&Term::from_field_text(kind_field, kind))?
            .max(1);
        Ok(Self { searcher, records })
    }
}

impl Bm25StatisticsProvider for KindStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        Bm25StatisticsProvider::total_num_tokens(self.searcher, field)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.records)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.searcher.doc_freq(term)
    }
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn truncate_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), KbError> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).map_err(|e| KbError::io(&tmp, e))?;
    File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| KbError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| KbError::io(path, e))
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}
