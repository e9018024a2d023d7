//! The document report for people: the text with each checked claim marked by its verdict,
//! the overall summary, then a short report per claim (verdict, summary, cited quotes).

use std::sync::OnceLock;

use factually_core::VerdictLabel;
use minijinja::Environment;

use super::{
    claim_review, item_html, long_date, md_escape, safe_url, source_line, verdict_title, wrap,
    Style,
};
use crate::document::{paragraphs, DocumentClaim, DocumentReport, Piece};

/// Quotes shown per source in a claim's short report (the JSON has them all).
const QUOTES_SHOWN: usize = 2;
/// Unchecked claims listed by the renderers.
const UNCHECKED_SHOWN: usize = 10;

fn short_verdict(label: Option<VerdictLabel>) -> &'static str {
    match label {
        Some(VerdictLabel::Supported) => "supported",
        Some(VerdictLabel::Refuted) => "refuted",
        Some(VerdictLabel::Mixed) => "mixed",
        Some(VerdictLabel::NotEnoughEvidence) => "not enough evidence",
        None => "not checked",
    }
}

/// "support", "refute", "neutral", as the JSON has them.
fn stance_name(stance: factually_core::Stance) -> String {
    serde_json::to_value(stance)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn claim_heading(c: &DocumentClaim) -> String {
    match &c.report {
        Some(r) => format!(
            "Claim {}: {} (confidence {:.2}, rating {}/5)",
            c.n,
            verdict_title(r.verdict.label),
            r.verdict.confidence,
            r.verdict.rating
        ),
        None => format!("Claim {}: not checked", c.n),
    }
}

/// Where the claim stands in the text, and how check-worthy it scored.
fn claim_place(c: &DocumentClaim) -> String {
    let mut line = format!(
        "Check-worthiness {:.2}; bytes {}–{} of the text",
        c.found.score, c.found.start, c.found.end
    );
    for [s, e] in &c.found.also_at {
        line.push_str(&format!(", said again at {s}–{e}"));
    }
    if c.found.claim != c.found.sentence {
        line.push_str(&format!(" (as written: “{}”)", c.found.sentence));
    }
    line
}

fn unchecked_line(r: &DocumentReport) -> Option<String> {
    let more = r.document.claims_found.saturating_sub(r.claims.len());
    (more > 0).then(|| {
        format!(
            "{more} more check-worthy claim{} found but not checked (raise --max-claims to check more):",
            if more == 1 { " was" } else { "s were" }
        )
    })
}

/// The document report as terminal text, readable at 80 columns.
pub fn to_text(r: &DocumentReport, colour: bool) -> String {
    let st = Style { colour };
    let mut out = String::new();
    out.push_str(&st.heading(&wrap(
        &format!("Document check: {}", r.document.title),
        "",
        "  ",
    )));
    if let Some(url) = &r.document.url {
        out.push_str(&format!("{url}\n"));
    }
    out.push_str(&format!("Checked on {}\n\n", long_date(&r.checked_on)));
    for line in &r.summary {
        out.push_str(&wrap(line, "", "  "));
    }
    out.push('\n');
    out.push_str(&st.heading("The text"));
    out.push_str(&format!(
        " (checked claims in «», numbered, with their verdicts{})\n\n",
        if colour { " in colour" } else { "" }
    ));
    for paragraph in paragraphs(r) {
        let Some(pieces) = paragraph else {
            out.push_str("[…]\n\n");
            continue;
        };
        let mut flat = String::new();
        for piece in &pieces {
            match piece {
                Piece::Text(t) => flat.push_str(t),
                Piece::Claim { n, label, text } => {
                    let marked = format!("«{}» [{n}: {}]", text.trim(), short_verdict(*label));
                    flat.push_str(&match label {
                        Some(label) => st.verdict(*label, &marked),
                        None => marked,
                    });
                }
            }
        }
        out.push_str(&wrap(&flat, "", ""));
        out.push('\n');
    }
    for c in &r.claims {
        out.push_str(&st.heading(&wrap(&claim_heading(c), "", "  ")));
        out.push_str(&wrap(&format!("“{}”", c.found.claim), "  ", "  "));
        out.push_str(&wrap(&claim_place(c), "  ", "  "));
        if let Some(e) = &c.error {
            out.push_str(&wrap(&format!("Not checked: {e}"), "  ", "  "));
        }
        if let Some(report) = &c.report {
            for p in &report.already_checked {
                out.push_str(&wrap(&p.line(), "  ", "    "));
            }
            for item in &report.sections.summary {
                out.push_str(&wrap(&item.text, "  ", "  "));
            }
            for s in &report.sources {
                out.push_str(&wrap(&source_line(s), &format!("  [{}] ", s.n), "      "));
                for e in s.evidence.iter().take(QUOTES_SHOWN) {
                    out.push_str(&wrap(
                        &format!(
                            "“{}” ({} {:.2})",
                            e.quote,
                            stance_name(e.stance),
                            e.probability
                        ),
                        "      ",
                        "      ",
                    ));
                }
            }
        }
        out.push('\n');
    }
    if let Some(line) = unchecked_line(r) {
        out.push_str(&wrap(&line, "", ""));
        for c in r.unchecked.iter().take(UNCHECKED_SHOWN) {
            out.push_str(&wrap(
                &format!("[{:.2}] {}", c.score, c.claim),
                "  • ",
                "    ",
            ));
        }
    }
    for w in &r.warnings {
        out.push_str(&wrap(&format!("warning: {w}"), "", "  "));
    }
    out
}

/// The document report as Markdown: checked claims in bold in the text, each followed by its
/// number and verdict, linked to its section.
pub fn to_markdown(r: &DocumentReport) -> String {
    let mut out = format!("# Document check: {}\n\n", md_escape(&r.document.title));
    if let Some(url) = &r.document.url {
        out.push_str(&format!("<{url}>\n\n"));
    }
    out.push_str(&format!("Checked on {}\n\n", long_date(&r.checked_on)));
    for line in &r.summary {
        out.push_str(&format!("- {}\n", md_escape(line)));
    }
    out.push_str("\n## The text\n\n");
    for paragraph in paragraphs(r) {
        let Some(pieces) = paragraph else {
            out.push_str("\\[…\\]\n\n");
            continue;
        };
        let mut flat = String::new();
        for piece in &pieces {
            match piece {
                Piece::Text(t) => flat.push_str(&md_escape(t)),
                Piece::Claim { n, label, text } => flat.push_str(&format!(
                    "**{}** [\\[{n}: {}\\]](#claim-{n})",
                    md_escape(text.trim()),
                    short_verdict(*label)
                )),
            }
        }
        out.push_str(flat.trim());
        out.push_str("\n\n");
    }
    for c in &r.claims {
        out.push_str(&format!(
            "## <a id=\"claim-{}\"></a>{}\n\n> {}\n\n{}\n\n",
            c.n,
            md_escape(&claim_heading(c)),
            md_escape(&c.found.claim),
            md_escape(&claim_place(c))
        ));
        if let Some(e) = &c.error {
            out.push_str(&format!("Not checked: {}\n\n", md_escape(e)));
        }
        let Some(report) = &c.report else { continue };
        for p in &report.already_checked {
            out.push_str(&format!("{}\n\n", md_escape(&p.line())));
        }
        for item in &report.sections.summary {
            out.push_str(&format!("{}\n\n", md_escape(&item.text)));
        }
        for s in &report.sources {
            out.push_str(&format!("{}. {}\n", s.n, md_escape(&source_line(s))));
            for e in s.evidence.iter().take(QUOTES_SHOWN) {
                out.push_str(&format!(
                    "   > “{}” ({} {:.2})\n",
                    md_escape(&e.quote),
                    stance_name(e.stance),
                    e.probability
                ));
            }
        }
        out.push('\n');
    }
    if let Some(line) = unchecked_line(r) {
        out.push_str(&format!("## Not checked\n\n{}\n\n", md_escape(&line)));
        for c in r.unchecked.iter().take(UNCHECKED_SHOWN) {
            out.push_str(&format!("- \\[{:.2}\\] {}\n", c.score, md_escape(&c.claim)));
        }
        out.push('\n');
    }
    for w in &r.warnings {
        out.push_str(&format!("Warning: {}\n\n", md_escape(w)));
    }
    out
}

const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Document check: {{ r.document.title }}</title>
<script type="application/ld+json">{{ claim_reviews|tojson }}</script>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem;line-height:1.25}h2{font-size:1.2rem;margin-top:2rem}
.verdict{display:inline-block;padding:.2rem .6rem;border-radius:.3rem;font-weight:600;color:#fff}
.supported{background:#146c2e}.refuted{background:#a51d1d}.mixed{background:#8a5a00}.not_enough_evidence{background:#30517a}
mark{padding:0 .15rem;border-radius:.2rem}mark.supported{background:#d3f0da}mark.refuted{background:#f8d4d4}mark.mixed{background:#f6e6c2}mark.not_enough_evidence{background:#d9e4f2}mark.not_checked{background:#eee}
mark a{color:inherit;text-decoration:none}sup a{text-decoration:none}
.meta{color:#444}blockquote{margin:.3rem 0 .3rem 1rem;color:#333}.document-text{border-left:3px solid #ccc;padding-left:1rem}
a{color:#0b57d0}.note{font-size:.9rem;color:#444;border-top:1px solid #ccc;margin-top:2rem;padding-top:1rem}
</style>
</head>
<body>
<main>
{% include "document_body.html" %}</main>
</body>
</html>
"##;

/// The body of the document report page (everything inside `<main>`), shared by
/// `check --file ... --format html` and the web site. It reads [`html_context`].
pub const DOCUMENT_BODY_TEMPLATE: &str = r##"<h1>Document check: {{ r.document.title }}</h1>
{% if url %}<p class="meta"><a href="{{ url }}" rel="nofollow noopener">{{ url }}</a></p>
{% endif %}<p class="meta">Checked on <time datetime="{{ r.checked_on }}">{{ checked_on_long }}</time></p>
<section>
<h2>Summary</h2>
<ul>
{% for line in r.summary %}<li>{{ line }}</li>
{% endfor %}</ul>
</section>
<section>
<h2>The text</h2>
<div class="document-text">
{% for p in paragraphs %}{% if p %}<p>{{ p }}</p>{% else %}<p class="meta">[…]</p>{% endif %}
{% endfor %}</div>
</section>
{% for c in claims %}<section id="claim-{{ c.n }}">
<h2>Claim {{ c.n }}: “{{ c.claim }}”</h2>
<p>{% if c.label %}<span class="verdict {{ c.label }}">{{ c.verdict_title }}</span>
 <span class="meta">confidence {{ "%.2f"|format(c.confidence) }}, rating {{ c.rating }}/5</span>{% else %}<span class="meta">Not checked: {{ c.error }}</span>{% endif %}</p>
<p class="meta">{{ c.place }}</p>
{% for line in c.already_checked %}<p class="meta already-checked">{{ line }}</p>
{% endfor %}{% for item in c.summary %}<p>{{ item }}</p>
{% endfor %}{% if c.sources %}<ol>
{% for s in c.sources %}<li id="claim-{{ c.n }}-source-{{ s.n }}">{% if s.url %}<a href="{{ s.url }}">{{ s.title }}</a>{% else %}{{ s.title }}{% endif %}{% if s.publisher %}, {{ s.publisher }}{% endif %}{% if s.published %}, {{ s.published }}{% endif %}
 <span class="meta">(kb {{ s.kb }}, doc {{ s.doc_id }})</span>
{% for e in s.quotes %}<blockquote>“{{ e.quote }}” <span class="meta">{% if stored_base %}<a href="{{ stored_base }}/{{ s.kb }}/{{ s.doc_id }}?start={{ e.start }}&amp;end={{ e.end }}#quote">bytes {{ e.start }}–{{ e.end }}</a>{% else %}bytes {{ e.start }}–{{ e.end }}{% endif %}, {{ e.stance }} {{ "%.2f"|format(e.probability) }}</span></blockquote>
{% endfor %}</li>
{% endfor %}</ol>{% endif %}
</section>
{% endfor %}{% if unchecked_line %}<section>
<h2>Not checked</h2>
<p>{{ unchecked_line }}</p>
<ul>
{% for c in unchecked %}<li>{{ "%.2f"|format(c.score) }}: {{ c.claim }}</li>
{% endfor %}</ul>
</section>
{% endif %}{% for w in r.warnings %}<p class="note">Warning: {{ w }}</p>
{% endfor %}<p class="note">factually can make mistakes: every quote above points to a stored copy of its source, so check them.</p>
"##;

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_template("document_body.html", DOCUMENT_BODY_TEMPLATE)
            .expect("the document body template parses");
        env.add_template("document.html", PAGE)
            .expect("the document template parses");
        env
    })
}

/// One paragraph as HTML: the text escaped, each checked claim a `<mark>` coloured by verdict
/// that links to its section.
fn paragraph_html(pieces: &[Piece<'_>]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(&minijinja::HtmlEscape(t).to_string()),
            Piece::Claim { n, label, text } => {
                let class = label.map_or("not_checked".to_string(), |l| {
                    serde_json::to_value(l)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                });
                out.push_str(&format!(
                    "<mark class=\"{class}\" title=\"Claim {n}: {}\"><a href=\"#claim-{n}\">{}</a></mark><sup><a href=\"#claim-{n}\">{n}</a></sup>",
                    short_verdict(*label),
                    minijinja::HtmlEscape(text.trim())
                ));
            }
        }
    }
    out
}

/// What [`DOCUMENT_BODY_TEMPLATE`] reads.
pub fn html_context(r: &DocumentReport) -> minijinja::Value {
    let paragraphs: Vec<Option<minijinja::Value>> = paragraphs(r)
        .into_iter()
        .map(|p| p.map(|pieces| minijinja::Value::from_safe_string(paragraph_html(&pieces))))
        .collect();
    let claims: Vec<minijinja::Value> = r
        .claims
        .iter()
        .map(|c| {
            let report = c.report.as_ref();
            let summary: Vec<minijinja::Value> = report
                .map(|rep| {
                    rep.sections
                        .summary
                        .iter()
                        .map(|i| {
                            minijinja::Value::from_safe_string(item_html(
                                &i.text,
                                rep.sources.len(),
                                &format!("claim-{}-source-", c.n),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let sources: Vec<minijinja::Value> = report
                .map(|rep| {
                    rep.sources
                        .iter()
                        .map(|s| {
                            minijinja::context! {
                                n => s.n,
                                kb => s.kb,
                                doc_id => s.doc_id.to_string(),
                                title => s.title,
                                url => safe_url(s.url.as_deref()),
                                publisher => s.publisher,
                                published => s.published,
                                quotes => minijinja::Value::from_serialize(
                                    s.evidence.iter().take(QUOTES_SHOWN).collect::<Vec<_>>()
                                ),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            minijinja::context! {
                n => c.n,
                claim => c.found.claim,
                label => report.map(|rep| minijinja::Value::from_serialize(rep.verdict.label)),
                verdict_title => report.map(|rep| verdict_title(rep.verdict.label)),
                confidence => report.map(|rep| rep.verdict.confidence),
                rating => report.map(|rep| rep.verdict.rating),
                error => c.error,
                place => claim_place(c),
                already_checked => report
                    .map(|rep| rep.already_checked.iter().map(|p| p.line()).collect::<Vec<_>>())
                    .unwrap_or_default(),
                summary => summary,
                sources => sources,
            }
        })
        .collect();
    let unchecked: Vec<minijinja::Value> = r
        .unchecked
        .iter()
        .take(UNCHECKED_SHOWN)
        .map(minijinja::Value::from_serialize)
        .collect();
    let claim_reviews: Vec<serde_json::Value> = r
        .claims
        .iter()
        .filter_map(|c| c.report.as_ref().map(|rep| claim_review(rep, None)))
        .collect();
    minijinja::context! {
        r => minijinja::Value::from_serialize(r),
        url => safe_url(r.document.url.as_deref()),
        checked_on_long => long_date(&r.checked_on),
        paragraphs => paragraphs,
        claims => claims,
        unchecked_line => unchecked_line(r),
        unchecked => unchecked,
        claim_reviews => claim_reviews,
    }
}

/// The document report as one self-contained HTML page with a ClaimReview per checked claim.
pub fn to_html(r: &DocumentReport) -> String {
    environment()
        .get_template("document.html")
        .and_then(|t| t.render(html_context(r)))
        .expect("the document template renders")
}

/// The body of the page alone, for a site that wraps it in its own layout; `stored_base`
/// links each quote to the stored copy of its source as on the report page.
pub fn body_html(r: &DocumentReport, stored_base: Option<&str>) -> String {
    let context = minijinja::context! {
        stored_base => stored_base,
        ..html_context(r)
    };
    environment()
        .get_template("document_body.html")
        .and_then(|t| t.render(context))
        .expect("the document body template renders")
}
