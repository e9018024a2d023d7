//! The report as data: what `check --format json` prints and every renderer reads.
//! Its JSON Schema is generated from these types (`factually schema report`) and kept at
//! `docs/report.schema.json`.

use factually_analyze::{Checkability, InputKind, LoadedSpan, Trigger};
use factually_core::{DocId, Stance, Verdict, VerdictLabel};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Bumped when a field changes meaning or disappears, or a new form of report appears
/// (adding fields keeps the version). 2: the document report
/// ([`crate::document::DocumentReport`], `kind: "document"`) joined the single check's report.
pub const SCHEMA_VERSION: u32 = 2;

/// A fact-check report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    pub schema_version: u32,
    pub input: String,
    pub input_kind: InputKind,
    /// The day of the check, `YYYY-MM-DD`.
    pub checked_on: String,
    /// Published fact-checks of the same claim (from `factually factchecks import`), closest
    /// first; absent when none is close enough or none were imported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub already_checked: Vec<PublishedCheck>,
    pub verdict: ReportVerdict,
    /// False for opinions and predictions, which get no true/false verdict.
    pub check_worthy: bool,
    pub checkability: Checkability,
    /// The checkable statements behind the input, each with its own verdict.
    pub statements: Vec<StatementCheck>,
    pub sections: Sections,
    pub presuppositions: Vec<PresuppositionCheck>,
    pub loaded_language: Vec<LoadedSpan>,
    /// Three to five specific questions to look into next.
    pub follow_up_questions: Vec<String>,
    /// The cited sources; every citation number in the report is one of them.
    pub sources: Vec<Source>,
    /// Sources found but not used (a dead link, a paywall, robots.txt...), each with the reason.
    pub skipped_sources: Vec<SkippedSource>,
    /// The web search queries made for this check (absent when the web was not searched).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search_queries: Vec<String>,
    /// What went wrong without stopping the report (a source that could not be read...).
    pub warnings: Vec<String>,
    /// What LLM mode did (model, prompt version, tokens, what the grounding gate removed);
    /// absent when the report was written without a language model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<crate::llm::LlmRecord>,
    pub timings_ms: ReportTimings,
}

/// A fact-check someone published of the claim being checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PublishedCheck {
    /// The claim as the fact-checker wrote it.
    pub claim: String,
    /// The fact-checker's verdict in its own words.
    pub rating: Option<String>,
    /// Who checked it.
    pub publisher: Option<String>,
    /// When, `YYYY-MM-DD`.
    pub published: Option<String>,
    /// The fact-check's page.
    pub url: Option<String>,
    /// Cosine similarity of its claim and this input (sentence vectors), `0..=1`.
    pub similarity: f32,
}

impl PublishedCheck {
    /// "Already checked by Full Fact on 6 April 2020: False".
    pub fn line(&self) -> String {
        format!(
            "Already checked by {}{}: {}",
            self.publisher.as_deref().unwrap_or("a fact-checker"),
            self.published
                .as_deref()
                .map(|d| format!(" on {}", crate::render::long_date(d)))
                .unwrap_or_default(),
            self.rating.as_deref().unwrap_or("no rating given"),
        )
    }
}

/// The verdict on a scale ClaimReview can carry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportVerdict {
    pub label: VerdictLabel,
    /// Probability that the label is right, `0..=1`.
    pub confidence: f32,
    /// 1 = false ... 5 = true (ClaimReview `ratingValue`).
    pub rating: u8,
}

impl From<&Verdict> for ReportVerdict {
    fn from(v: &Verdict) -> Self {
        Self {
            label: v.label,
            confidence: v.confidence,
            rating: v.rating,
        }
    }
}

/// The three numbered sections of the report page.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Sections {
    /// "Summary of the results": the verdict in one sentence, then statements from evidence.
    pub summary: Vec<Item>,
    /// "Missing context/alternative viewpoints".
    pub missing_context: Vec<Item>,
    /// "Potential misinformation/bias in the original statement".
    pub misinformation_bias: Vec<Item>,
}

/// One statement of a section with the sources it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Item {
    pub text: String,
    /// Source numbers (`sources[].n`) backing the text.
    pub citations: Vec<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StatementCheck {
    pub text: String,
    pub verdict: ReportVerdict,
    pub citations: Vec<usize>,
    /// Independent origins with evidence for the statement: distinct sources, where copies of
    /// one syndicated story count once.
    pub supporting_origins: usize,
    /// Independent origins with evidence against it.
    pub refuting_origins: usize,
}

/// A source that was found but not used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SkippedSource {
    pub url: String,
    pub reason: String,
}

/// What the sources say about one presupposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresuppositionStatus {
    /// Sources support it.
    Holds,
    /// Sources contradict it: the input rests on a false assumption.
    Refuted,
    /// Credible sources disagree.
    Disputed,
    /// No source supports or contradicts it.
    Unsupported,
}

impl PresuppositionStatus {
    pub fn of(label: VerdictLabel) -> Self {
        match label {
            VerdictLabel::Supported => Self::Holds,
            VerdictLabel::Refuted => Self::Refuted,
            VerdictLabel::Mixed => Self::Disputed,
            VerdictLabel::NotEnoughEvidence => Self::Unsupported,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PresuppositionCheck {
    pub text: String,
    pub trigger: Trigger,
    pub verdict: ReportVerdict,
    pub status: PresuppositionStatus,
    pub citations: Vec<usize>,
}

/// A cited source and the quotes taken from it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    pub n: usize,
    #[schemars(with = "String")]
    pub doc_id: DocId,
    /// The knowledge base holding the stored copy (`factually kb show DOC_ID --kb KB`).
    pub kb: String,
    pub title: String,
    pub url: Option<String>,
    pub publisher: Option<String>,
    pub published: Option<String>,
    /// Reliability of the source's web domain in `0..=1` (see docs/web.md); absent for
    /// knowledge-base documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credibility: Option<f32>,
    /// When the stored snapshot of a web page was fetched (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieved_at: Option<String>,
    /// Other pages carrying the same story, counted as one origin with this source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<String>,
    pub evidence: Vec<EvidenceQuote>,
}

/// A quote: exactly the stored text between the byte offsets `start..end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceQuote {
    pub quote: String,
    pub start: usize,
    pub end: usize,
    pub stance: Stance,
    /// Probability of `stance` for the statement it was judged against.
    pub probability: f32,
    /// The statement or presupposition the quote was judged against.
    pub judged_against: String,
}

/// Milliseconds per stage.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema)]
pub struct ReportTimings {
    /// Web search, fetching, extraction and storing snapshots (0 without web sources).
    #[serde(default)]
    pub web: f64,
    pub analyze: f64,
    pub retrieve: f64,
    pub select: f64,
    pub stance: f64,
    pub aggregate: f64,
    pub write: f64,
    pub total: f64,
}

/// What `check --format json` prints: one check's report, or a document's (`kind: "document"`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(title = "FactuallyReport")]
pub enum AnyReport {
    /// A document report (`check --file | --url | --text`).
    Document(Box<crate::document::DocumentReport>),
    /// The report of one question or claim.
    Check(Box<Report>),
}

/// The JSON Schema of [`AnyReport`] (a single check's report or a document's), pretty-printed.
pub fn report_schema() -> String {
    let schema = schemars::schema_for!(AnyReport);
    serde_json::to_string_pretty(&schema).expect("a schema serialises") + "\n"
}
