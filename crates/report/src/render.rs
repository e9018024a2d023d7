//! The report for people: terminal text (wrapped at 80 columns, coloured when asked),
//! Markdown, and one self-contained HTML page carrying schema.org ClaimReview JSON-LD.

use std::sync::OnceLock;

use factually_core::VerdictLabel;
use minijinja::Environment;
use serde_json::json;

use crate::model::{Report, Source};

pub mod document;

const WIDTH: usize = 80;

/// Section titles, in order, as on the seed page.
pub const SUMMARY: &str = "Summary of the results";
pub const MISSING_CONTEXT: &str = "Missing context/alternative viewpoints";
pub const MISINFORMATION_BIAS: &str = "Potential misinformation/bias in the original statement";
pub const DIVE_DEEPER: &str = "Want to dive deeper?";

/// The three numbered sections with their titles, in page order.
fn numbered_sections(r: &Report) -> impl Iterator<Item = (&'static str, &Vec<crate::model::Item>)> {
    [
        (SUMMARY, &r.sections.summary),
        (MISSING_CONTEXT, &r.sections.missing_context),
        (MISINFORMATION_BIAS, &r.sections.misinformation_bias),
    ]
    .into_iter()
}

/// "2026-11-29" -> "November 29, 2026" (the input is returned unchanged if it is not a date).
pub fn long_date(iso: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let parts: Vec<&str> = iso.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => match (m.parse::<usize>(), d.parse::<u32>()) {
            (Ok(m @ 1..=12), Ok(d)) => format!("{} {d}, {y}", MONTHS[m - 1]),
            _ => iso.to_string(),
        },
        _ => iso.to_string(),
    }
}

/// The verdict as a short phrase for people ("Contradicted by the sources").
pub fn verdict_title(label: VerdictLabel) -> &'static str {
    match label {
        VerdictLabel::Supported => "Supported",
        VerdictLabel::Refuted => "Refuted",
        VerdictLabel::Mixed => "Mixed: sources conflict",
        VerdictLabel::NotEnoughEvidence => "Not enough evidence",
    }
}

/// Greedy word wrap with a hanging indent.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut line_has_word = false;
    for word in text.split_whitespace() {
        let len = line.chars().count() + word.chars().count() + usize::from(line_has_word);
        if line_has_word && len > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_string();
            line_has_word = false;
        }
        if line_has_word {
            line.push(' ');
        }
        line.push_str(word);
        line_has_word = true;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

struct Style {
    colour: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn heading(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn verdict(&self, label: VerdictLabel, s: &str) -> String {
        let code = match label {
            VerdictLabel::Supported => "1;32",
            VerdictLabel::Refuted => "1;31",
            VerdictLabel::Mixed => "1;33",
            VerdictLabel::NotEnoughEvidence => "1;36",
        };
        self.paint(code, s)
    }
}

fn source_line(s: &Source) -> String {
    let mut line = s.title.clone();
    if let Some(url) = &s.url {
        line.push_str(&format!(" <{url}>"));
    }
    let mut meta = Vec::new();
    if let Some(p) = &s.publisher {
        meta.push(p.clone());
    }
    if let Some(d) = &s.published {
        meta.push(d.clone());
    }
    if !meta.is_empty() {
        line.push_str(&format!(" ({})", meta.join(", ")));
    }
    line
}

/// What a web source adds to its line: domain reliability, snapshot time, syndicated copies.
fn web_details(s: &Source) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(c) = s.credibility {
        parts.push(format!("domain reliability {c:.2}"));
    }
    if let Some(t) = &s.retrieved_at {
        parts.push(format!("snapshot {t}"));
    }
    if !s.copies.is_empty() {
        parts.push(format!(
            "same story also at {} (counted once): {}",
            plural(s.copies.len(), "page"),
            s.copies.join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// "2 independent origins support it, 1 contradicts it", per statement.
fn origins_line(s: &crate::model::StatementCheck) -> String {
    let verb = |n: usize, base: &str| format!("{base}{}", if n == 1 { "s" } else { "" });
    format!(
        "“{}”: {} {} it, {} {} it.",
        s.text,
        plural(s.supporting_origins, "independent origin"),
        verb(s.supporting_origins, "support"),
        s.refuting_origins,
        verb(s.refuting_origins, "contradict")
    )
}

/// The report as terminal text, readable at 80 columns.
pub fn to_text(r: &Report, colour: bool) -> String {
    let st = Style { colour };
    let mut out = String::new();
    out.push_str(&st.heading(&wrap(&format!("Fact check: {}", r.input), "", "  ")));
    out.push_str(&format!("Checked on {}\n", long_date(&r.checked_on)));
    for c in &r.already_checked {
        out.push_str(&wrap(&c.line(), "", "  "));
        if let Some(url) = &c.url {
            out.push_str(&format!("  {url}\n"));
        }
    }
    out.push_str(&format!(
        "Verdict: {} (confidence {:.2}, rating {}/5)\n",
        st.verdict(r.verdict.label, verdict_title(r.verdict.label)),
        r.verdict.confidence,
        r.verdict.rating
    ));
    for statement in &r.statements {
        out.push_str(&wrap(&origins_line(statement), "", "  "));
    }
    for (i, (title, items)) in numbered_sections(r).enumerate() {
        out.push('\n');
        out.push_str(&st.heading(&format!("{}. {title}", i + 1)));
        out.push_str("\n\n");
        for (k, item) in items.iter().enumerate() {
            if i == 0 {
                if k > 0 {
                    out.push('\n');
                }
                out.push_str(&wrap(&item.text, "", ""));
            } else {
                out.push_str(&wrap(&item.text, "  • ", "    "));
            }
        }
    }
    out.push('\n');
    out.push_str(&st.heading(DIVE_DEEPER));
    out.push('\n');
    for q in &r.follow_up_questions {
        out.push_str(&wrap(q, "", "  "));
    }
    out.push('\n');
    out.push_str(&st.heading("Sources"));
    out.push('\n');
    if r.sources.is_empty() {
        out.push_str("No source is cited.\n");
    }
    for s in &r.sources {
        out.push_str(&wrap(&source_line(s), &format!("[{}] ", s.n), "    "));
        out.push_str(&format!(
            "    kb {} · doc {} · {} quote{}\n",
            s.kb,
            s.doc_id,
            s.evidence.len(),
            if s.evidence.len() == 1 { "" } else { "s" }
        ));
        if let Some(details) = web_details(s) {
            out.push_str(&wrap(&details, "    ", "    "));
        }
    }
    if !r.skipped_sources.is_empty() {
        out.push('\n');
        out.push_str(&st.heading("Not used"));
        out.push('\n');
        for k in &r.skipped_sources {
            out.push_str(&wrap(&format!("{}: {}", k.url, k.reason), "  • ", "    "));
        }
    }
    if let Some(line) = llm_line(r) {
        out.push('\n');
        out.push_str(&wrap(&line, "", "  "));
    }
    for w in &r.warnings {
        out.push_str(&wrap(&format!("warning: {w}"), "", "  "));
    }
    out
}

/// How the report's prose was written, when a language model took part.
fn llm_line(r: &Report) -> Option<String> {
    let l = r.llm.as_ref()?;
    let mut line = match &l.fallback {
        Some(reason) => format!("Written without {} ({reason}).", l.model),
        None => format!(
            "Summary and context written with {} ({}): {} statement{} kept, {} removed by the grounding gate; {} quote{} not found in the sources dropped; {} call{} ({} cached), {} + {} tokens.",
            l.model,
            l.prompt_version,
            l.statements_kept,
            if l.statements_kept == 1 { "" } else { "s" },
            l.statements_removed,
            l.quotes_removed,
            if l.quotes_removed == 1 { "" } else { "s" },
            l.calls,
            if l.calls == 1 { "" } else { "s" },
            l.cached_calls,
            l.analysis_tokens.prompt + l.synthesis_tokens.prompt,
            l.analysis_tokens.completion + l.synthesis_tokens.completion,
        ),
    };
    if l.jury.is_empty() {
        if let Some(v) = l.verdict {
            line.push_str(&format!(" The model's own verdict: {v}."));
        }
    } else {
        let votes: Vec<String> = l
            .jury
            .iter()
            .map(|v| match (&v.verdict, &v.failure) {
                (Some(verdict), _) => format!("{} says {verdict}", v.model),
                (None, Some(why)) => format!("{} did not finish ({why})", v.model),
                (None, None) => format!("{} did not vote", v.model),
            })
            .collect();
        line.push_str(&format!(" Jury: {}.", votes.join("; ")));
    }
    if let Some(o) = &l.overruled {
        line.push_str(&format!(
            " The jury unanimously overruled the evidence pipeline's verdict ({}, confidence {:.2}).",
            o.pipeline.label, o.pipeline.confidence
        ));
    }
    if !l.disagreements.is_empty() {
        line.push_str(&format!(" Disagreements: {}.", l.disagreements.join("; ")));
    }
    Some(line)
}

fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '<' | '>' | '#' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The report as Markdown.
pub fn to_markdown(r: &Report) -> String {
    let mut out = format!("# Fact check: {}\n\n", md_escape(&r.input));
    out.push_str(&format!("Checked on {}\n\n", long_date(&r.checked_on)));
    for c in &r.already_checked {
        let line = md_escape(&c.line());
        match &c.url {
            Some(url) => out.push_str(&format!("{line} ([{}]({url}))\n\n", md_escape(url))),
            None => out.push_str(&format!("{line}\n\n")),
        }
    }
    out.push_str(&format!(
        "**Verdict: {}** (confidence {:.2}, rating {}/5)\n",
        verdict_title(r.verdict.label),
        r.verdict.confidence,
        r.verdict.rating
    ));
    for statement in &r.statements {
        out.push_str(&format!("\n{}\n", md_escape(&origins_line(statement))));
    }
    for (i, (title, items)) in numbered_sections(r).enumerate() {
        out.push_str(&format!("\n## {}. {title}\n\n", i + 1));
        for item in items {
            if i == 0 {
                out.push_str(&format!("{}\n\n", md_escape(&item.text)));
            } else {
                out.push_str(&format!("- {}\n", md_escape(&item.text)));
            }
        }
    }
    out.push_str(&format!("\n## {DIVE_DEEPER}\n\n"));
    for q in &r.follow_up_questions {
        out.push_str(&format!("- {}\n", md_escape(q)));
    }
    out.push_str("\n## Sources\n\n");
    for s in &r.sources {
        out.push_str(&format!(
            "{}. {} (kb `{}`, doc `{}`)\n",
            s.n,
            md_escape(&source_line(s)),
            s.kb,
            s.doc_id
        ));
        if let Some(details) = web_details(s) {
            out.push_str(&format!("   {}\n", md_escape(&details)));
        }
    }
    if !r.skipped_sources.is_empty() {
        out.push_str("\n## Not used\n\n");
        for k in &r.skipped_sources {
            out.push_str(&format!(
                "- {}: {}\n",
                md_escape(&k.url),
                md_escape(&k.reason)
            ));
        }
    }
    if let Some(line) = llm_line(r) {
        out.push_str(&format!("\n{}\n", md_escape(&line)));
    }
    out
}

/// schema.org ClaimReview for the report; `url` is the page's permanent address when it has one.
pub fn claim_review(r: &Report, url: Option<&str>) -> serde_json::Value {
    claim_review_of(
        &r.input,
        &r.checked_on,
        r.verdict.label,
        r.verdict.rating,
        url,
    )
}

/// schema.org ClaimReview of a checked claim: what it said, the day it was checked, its
/// verdict and rating (1 = false ... 5 = true), and the page of the check when it has one.
pub fn claim_review_of(
    claim: &str,
    checked_on: &str,
    label: VerdictLabel,
    rating: u8,
    url: Option<&str>,
) -> serde_json::Value {
    let mut review = json!({
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "claimReviewed": claim,
        "datePublished": checked_on,
        "author": {"@type": "Organization", "name": "factually"},
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": rating,
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": verdict_title(label),
        },
        "itemReviewed": {
            "@type": "Claim",
            "name": claim,
        },
    });
    if let Some(url) = url {
        review["url"] = json!(url);
    }
    review
}

const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fact check: {{ r.input }}</title>
<script type="application/ld+json">{{ claim_review|tojson }}</script>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem;line-height:1.25}h2{font-size:1.2rem;margin-top:2rem}
.verdict{display:inline-block;padding:.2rem .6rem;border-radius:.3rem;font-weight:600;color:#fff}
.supported{background:#146c2e}.refuted{background:#a51d1d}.mixed{background:#8a5a00}.not_enough_evidence{background:#30517a}
.meta{color:#444}blockquote{margin:.3rem 0 .3rem 1rem;color:#333}
a{color:#0b57d0}.note{font-size:.9rem;color:#444;border-top:1px solid #ccc;margin-top:2rem;padding-top:1rem}
</style>
</head>
<body>
<main>
{% include "report_body.html" %}</main>
</body>
</html>
"##;

/// The body of the report page (everything inside `<main>`), shared by `check --format html`
/// and the web site's fact-check page. It reads the context of [`html_context`]; when the
/// context also has `ask_url` and `csrf`, each follow-up question is a button that starts a new
/// check by posting the question there; with `stored_base`, each quote links to
/// `{stored_base}/{kb}/{doc_id}?start=..&end=..`, the stored copy of its source.
pub const REPORT_BODY_TEMPLATE: &str = r##"<h1>Fact check: {{ r.input }}</h1>
<p class="meta">Checked on <time datetime="{{ r.checked_on }}">{{ checked_on_long }}</time></p>
{% for c in already_checked %}<p class="meta already-checked">{{ c.line }}{% if c.url %} (<a href="{{ c.url }}" rel="nofollow noopener">{{ c.url }}</a>){% endif %}</p>
{% endfor %}<p><span class="verdict {{ r.verdict.label }}">{{ verdict_title }}</span>
 <span class="meta">confidence {{ "%.2f"|format(r.verdict.confidence) }}, rating {{ r.verdict.rating }}/5</span></p>
{% for line in origins %}<p class="meta">{{ line }}</p>
{% endfor %}{% for section in sections %}
<section>
<h2>{{ loop.index }}. {{ section.title }}</h2>
{% if loop.first %}{% for item in section.items %}<p>{{ item.html }}</p>
{% endfor %}{% else %}<ul>
{% for item in section.items %}<li>{{ item.html }}</li>
{% endfor %}</ul>{% endif %}
</section>
{% endfor %}
<section>
<h2>Want to dive deeper?</h2>
<ul>
{% for q in r.follow_up_questions %}<li>{% if ask_url %}<form method="post" action="{{ ask_url }}" class="ask-again"><input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="input" value="{{ q }}"><button type="submit" class="link">{{ q }}</button></form>{% else %}{{ q }}{% endif %}</li>
{% endfor %}</ul>
</section>
<section>
<h2>Sources</h2>
<ol>
{% for s in sources %}<li id="source-{{ s.n }}">{% if s.url %}<a href="{{ s.url }}">{{ s.title }}</a>{% else %}{{ s.title }}{% endif %}{% if s.publisher %}, {{ s.publisher }}{% endif %}{% if s.published %}, {{ s.published }}{% endif %}
 <span class="meta">(kb {{ s.kb }}, doc {{ s.doc_id }})</span>
{% if s.details %} <span class="meta">{{ s.details }}</span>
{% endif %}{% for e in s.evidence %}<blockquote>“{{ e.quote }}” <span class="meta">{% if stored_base %}<a href="{{ stored_base }}/{{ s.kb }}/{{ s.doc_id }}?start={{ e.start }}&amp;end={{ e.end }}#quote">bytes {{ e.start }}–{{ e.end }}</a>{% else %}bytes {{ e.start }}–{{ e.end }}{% endif %}, {{ e.stance }} {{ "%.2f"|format(e.probability) }}</span></blockquote>
{% endfor %}</li>
{% endfor %}</ol>
</section>
{% if r.skipped_sources %}<section>
<h2>Not used</h2>
<ul>
{% for k in r.skipped_sources %}<li>{{ k.url }}: {{ k.reason }}</li>
{% endfor %}</ul>
</section>
{% endif %}{% if llm_line %}<p class="note">{{ llm_line }}</p>
{% endif %}<p class="note">factually can make mistakes: every quote above links to a stored copy of its source, so check them. Found an error? Report it with the input, the date and the source number.</p>
"##;

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_template("report_body.html", REPORT_BODY_TEMPLATE)
            .expect("the report body template parses");
        env.add_template("report.html", PAGE)
            .expect("the report template parses");
        env
    })
}

/// A source's address as a link target: only `http` and `https` (a stored document's URL
/// comes from whoever wrote it, and `javascript:` or `data:` links must never reach a page).
fn safe_url(url: Option<&str>) -> Option<&str> {
    url.filter(|u| {
        let lower = u.trim_start().to_ascii_lowercase();
        lower.starts_with("https://") || lower.starts_with("http://")
    })
}

/// HTML-escapes text, then turns `[n]` citations into links to the sources list (the
/// elements with id `{id_prefix}{n}`).
fn item_html(text: &str, sources: usize, id_prefix: &str) -> String {
    let escaped = minijinja::HtmlEscape(text).to_string();
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped.as_str();
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']').map(|c| (c, after[..c].parse::<usize>())) {
            Some((close, Ok(n))) if (1..=sources).contains(&n) => {
                out.push_str(&format!("<a href=\"#{id_prefix}{n}\">[{n}]</a>"));
                rest = &after[close + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What [`REPORT_BODY_TEMPLATE`] reads: the report (`r`), its ClaimReview (for the page at
/// `url`, when it has a permanent address) and the pieces already formatted.
pub fn html_context(r: &Report, url: Option<&str>) -> minijinja::Value {
    let sections: Vec<minijinja::Value> = numbered_sections(r)
        .map(|(title, items)| {
            let items: Vec<minijinja::Value> = items
                .iter()
                .map(|i| {
                    let html = minijinja::Value::from_safe_string(item_html(
                        &i.text,
                        r.sources.len(),
                        "source-",
                    ));
                    minijinja::context! { html => html }
                })
                .collect();
            minijinja::context! { title => title, items => items }
        })
        .collect();
    let sources: Vec<minijinja::Value> = r
        .sources
        .iter()
        .map(|s| {
            minijinja::context! {
                ..minijinja::context! { details => web_details(s), url => safe_url(s.url.as_deref()) },
                ..minijinja::Value::from_serialize(s),
            }
        })
        .collect();
    let origins: Vec<String> = r.statements.iter().map(origins_line).collect();
    let already_checked: Vec<minijinja::Value> = r
        .already_checked
        .iter()
        .map(|c| minijinja::context! { line => c.line(), url => safe_url(c.url.as_deref()) })
        .collect();
    minijinja::context! {
        r => minijinja::Value::from_serialize(r),
        claim_review => claim_review(r, url),
        checked_on_long => long_date(&r.checked_on),
        verdict_title => verdict_title(r.verdict.label),
        sections => sections,
        sources => sources,
        origins => origins,
        already_checked => already_checked,
        llm_line => llm_line(r),
    }
}

/// The report as one self-contained HTML page (no external assets), with ClaimReview JSON-LD.
pub fn to_html(r: &Report) -> String {
    environment()
        .get_template("report.html")
        .and_then(|t| t.render(html_context(r, None)))
        .expect("the report template renders")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_long() {
        assert_eq!(long_date("2025-07-17"), "July 17, 2025");
        assert_eq!(long_date("someday"), "someday");
    }

    #[test]
    fn text_wraps_at_80_columns() {
        let long = "word ".repeat(60);
        for line in wrap(&long, "  • ", "    ").lines() {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
    }

    #[test]
    fn citations_become_links_and_markup_is_escaped() {
        assert_eq!(
            item_html("<b>x</b> [1] [9] [a]", 2, "source-"),
            "&lt;b&gt;x&lt;&#x2f;b&gt; <a href=\"#source-1\">[1]</a> [9] [a]"
        );
    }
}
