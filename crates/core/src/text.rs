//! Cutting stored text into citable sentences and retrievable passages.
//!
//! Sentences are byte ranges into the stored text, never copies with adjusted whitespace:
//! that is what makes a quote verifiable later. The splitter is rule-based (terminal
//! punctuation followed by a plausible sentence start, paragraph breaks), with the usual
//! guards for abbreviations, initials and decimals. It is deterministic and total: every
//! input, including binary junk, yields valid `char`-boundary spans.

use serde::{Deserialize, Serialize};

/// A byte range `start..end` into a document's stored UTF-8 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The spanned text. Panics only if the span was not made for `text`.
    pub fn slice<'t>(&self, text: &'t str) -> &'t str {
        &text[self.start..self.end]
    }
}

/// A sentence longer than this many bytes is cut at a word boundary, so that text without
/// punctuation (tables, PDF extraction debris) still yields bounded, citable units.
pub const MAX_SENTENCE_BYTES: usize = 600;

/// Words that end with a period without ending a sentence (compared lower-case).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "etc", "e.g", "i.e", "cf",
    "al", "inc", "ltd", "co", "corp", "no", "nos", "vol", "fig", "figs", "eq", "approx", "ca",
    "gen", "gov", "sen", "rep", "col", "lt", "capt", "sgt", "rev", "hon", "pres", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n",
    "e.u", "a.m", "p.m", "ph.d", "b.c", "a.d", "dept", "univ", "est", "op", "ed", "eds", "pp",
    "ch", "sec", "art", "ave", "blvd", "rd",
];

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}' | '»' | '”' | '’')
}

fn is_opener(c: char) -> bool {
    matches!(c, '"' | '\'' | '(' | '[' | '«' | '“' | '‘' | '¿' | '¡')
}

/// Splits `text` into sentence spans (trimmed of surrounding whitespace, never empty),
/// in order and non-overlapping.
pub fn split_sentences(text: &str) -> Vec<Span> {
    let mut raw = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut seg_start = 0usize;
    let mut i = 0usize;
    while i < chars.len() {
        let (pos, c) = chars[i];
        // Paragraph break: a newline followed by optional spaces and another newline.
        if c == '\n' {
            let mut j = i + 1;
            while j < chars.len() && chars[j].1 != '\n' && chars[j].1.is_whitespace() {
                j += 1;
            }
            if j < chars.len() && chars[j].1 == '\n' {
                raw.push(Span::new(seg_start, pos));
                seg_start = pos;
                i = j + 1;
                continue;
            }
        }
        if matches!(c, '.' | '!' | '?' | '…' | '。') {
            // Swallow runs of terminal punctuation and closing quotes/brackets.
            let mut j = i + 1;
            while j < chars.len()
                && (matches!(chars[j].1, '.' | '!' | '?' | '…') || is_closer(chars[j].1))
            {
                j += 1;
            }
            let end = if j < chars.len() {
                chars[j].0
            } else {
                text.len()
            };
            if j >= chars.len() {
                raw.push(Span::new(seg_start, end));
                seg_start = end;
                i = j;
                continue;
            }
            if chars[j].1.is_whitespace() && c != '.'
                || (chars[j].1.is_whitespace() && period_ends_sentence(text, &chars, i, j))
            {
                raw.push(Span::new(seg_start, end));
                seg_start = end;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    raw.push(Span::new(seg_start, text.len()));

    let mut out = Vec::new();
    for span in raw {
        if let Some(t) = trim_span(text, span) {
            cut_long(text, t, &mut out);
        }
    }
    out
}

/// Decides whether the period at `chars[i]` (followed by whitespace at `chars[j]`) ends a sentence.
fn period_ends_sentence(text: &str, chars: &[(usize, char)], i: usize, j: usize) -> bool {
    // The next non-space character must plausibly start a sentence.
    let mut k = j;
    while k < chars.len() && chars[k].1.is_whitespace() {
        k += 1;
    }
    let Some(&(_, next)) = chars.get(k) else {
        return true;
    };
    let starts_sentence =
        next.is_uppercase() || next.is_ascii_digit() || is_opener(next) || !next.is_alphabetic();
    if !starts_sentence {
        return false;
    }
    // The word before the period.
    let word_end = chars[i].0;
    let word_start = text[..word_end]
        .char_indices()
        .rev()
        .find(|&(_, ch)| ch.is_whitespace() || is_opener(ch))
        .map(|(p, ch)| p + ch.len_utf8())
        .unwrap_or(0);
    let word = &text[word_start..word_end];
    if word.is_empty() {
        return true;
    }
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    // A single capital letter is an initial ("J. R. R. Tolkien"), unless a lower-case
    // word follows... which `starts_sentence` already excluded; keep initials joined.
    let mut wc = word.chars();
    if let (Some(first), None) = (wc.next(), wc.next()) {
        if first.is_uppercase() {
            return false;
        }
    }
    // Dotted acronyms like "U.S.A" ending here stay unless followed by a clear new sentence;
    // treat them as abbreviations when the next word is capitalised but short context is ambiguous.
    if word.contains('.')
        && word.chars().filter(|c| c.is_alphabetic()).count() <= 4
        && word.chars().all(|c| c.is_alphabetic() || c == '.')
    {
        return false;
    }
    true
}

fn trim_span(text: &str, span: Span) -> Option<Span> {
    let s = &text[span.start..span.end];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    let t = Span::new(span.start + lead, span.end - trail);
    (t.start < t.end).then_some(t)
}

fn cut_long(text: &str, mut span: Span, out: &mut Vec<Span>) {
    while span.len() > MAX_SENTENCE_BYTES {
        let s = span.slice(text);
        let mut cut = MAX_SENTENCE_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        // Prefer the last whitespace before the limit.
        if let Some(ws) = s[..cut].rfind(char::is_whitespace) {
            if ws > MAX_SENTENCE_BYTES / 2 {
                cut = ws;
            }
        }
        if let Some(head) = trim_span(text, Span::new(span.start, span.start + cut)) {
            out.push(head);
        }
        match trim_span(text, Span::new(span.start + cut, span.end)) {
            Some(rest) => span = rest,
            None => return,
        }
    }
    out.push(span);
}

/// Groups sentences into passages of up to `window` consecutive sentences, starting a new
/// window every `stride` sentences (stride < window gives overlap). Returns, for each passage,
/// its span in the text and the index range of its sentences.
pub fn passage_windows(
    sentences: &[Span],
    window: usize,
    stride: usize,
) -> Vec<(Span, std::ops::Range<usize>)> {
    let window = window.max(1);
    let stride = stride.clamp(1, window);
    let mut out = Vec::new();
    let mut first = 0;
    while first < sentences.len() {
        let last = (first + window).min(sentences.len());
        out.push((
            Span::new(sentences[first].start, sentences[last - 1].end),
            first..last,
        ));
        if last == sentences.len() {
            break;
        }
        first += stride;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(text: &str, expected: &[&str]) {
        let got: Vec<&str> = split_sentences(text)
            .iter()
            .map(|s| s.slice(text))
            .collect();
        assert_eq!(got, expected, "splitting {text:?}");
    }

    #[test]
    fn splits_like_a_careful_reader() {
        check(
            "The tower is in Paris. It opened in 1889.",
            &["The tower is in Paris.", "It opened in 1889."],
        );
        check(
            "Is it? Yes! Really...  Fine.",
            &["Is it?", "Yes!", "Really...", "Fine."],
        );
        check(
            "Dr. Smith met Mr. Jones at 3 p.m. on Monday.",
            &["Dr. Smith met Mr. Jones at 3 p.m. on Monday."],
        );
        check(
            "J. R. R. Tolkien wrote it. The U.S. economy grew 2.5% in 2019.",
            &[
                "J. R. R. Tolkien wrote it.",
                "The U.S. economy grew 2.5% in 2019.",
            ],
        );
        check(
            "He said \"Stop.\" Then he left.",
            &["He said \"Stop.\"", "Then he left."],
        );
        check(
            "See e.g. the appendix. Results (Fig. 2) vary.",
            &["See e.g. the appendix.", "Results (Fig. 2) vary."],
        );
        check(
            "Title line\n\nFirst paragraph here. Second sentence.\n  \nNext",
            &[
                "Title line",
                "First paragraph here.",
                "Second sentence.",
                "Next",
            ],
        );
        check(
            "lower case after period. stays together",
            &["lower case after period. stays together"],
        );
        check("Version 3.14 is out. Ok", &["Version 3.14 is out.", "Ok"]);
        check("", &[]);
        check("   \n\n  ", &[]);
        check("Без точки конец", &["Без точки конец"]);
    }

    #[test]
    fn very_long_runs_are_cut_at_word_boundaries() {
        let text = "word ".repeat(1000);
        let spans = split_sentences(&text);
        assert!(spans.len() > 5);
        for s in &spans {
            assert!(s.len() <= MAX_SENTENCE_BYTES);
            assert!(!s.slice(&text).starts_with(' ') && !s.slice(&text).ends_with(' '));
        }
    }

    #[test]
    fn windows_cover_all_sentences() {
        let text = "A a. B b. C c. D d. E e.";
        let s = split_sentences(text);
        let w = passage_windows(&s, 3, 2);
        let got: Vec<&str> = w.iter().map(|(sp, _)| sp.slice(text)).collect();
        assert_eq!(got, ["A a. B b. C c.", "C c. D d. E e."]);
        assert_eq!(passage_windows(&s, 3, 3).len(), 2);
        assert!(passage_windows(&[], 3, 2).is_empty());
    }

    proptest! {
        #[test]
        fn spans_are_ordered_trimmed_char_boundaries(text in "\\PC{0,300}|[a-zA-Z .!?\\n\"]{0,300}") {
            let spans = split_sentences(&text);
            let mut last = 0;
            for s in &spans {
                prop_assert!(s.start >= last && s.start < s.end && s.end <= text.len());
                prop_assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
                let t = s.slice(&text);
                prop_assert_eq!(t, t.trim());
                last = s.end;
            }
            // Nothing but whitespace is lost between sentences.
            let kept: usize = spans.iter().map(|s| s.slice(&text).chars().filter(|c| !c.is_whitespace()).count()).sum();
            prop_assert_eq!(kept, text.chars().filter(|c| !c.is_whitespace()).count());
        }
    }
}
