//! From a text to its ranked claims: candidate sentences, standalone wording, merging.

use std::collections::HashSet;

use factually_analyze::words::{tokens, words, Word};
use factually_core::split_sentences;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Sentences shorter than this many words are fragments ("Thank you."), not claims.
const MIN_WORDS: usize = 4;
/// Longer ones are run-ons or tables the sentence splitter could not cut.
const MAX_WORDS: usize = 80;
/// How far back a leading pronoun looks for the subject it stands for.
const ANTECEDENT_WINDOW: usize = 3;
/// Claims sharing at least this share of their words (Jaccard) are one claim said twice.
const SAME_CLAIM: f64 = 0.8;

/// A sentence of the text that could be a claim: its text and byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// The sentences of `text` a claim could be: not headings, not fragments, not run-ons.
pub fn candidates(text: &str) -> Vec<Candidate> {
    split_sentences(text)
        .into_iter()
        .filter_map(|span| {
            let sentence = &text[span.start..span.end];
            let n = words(sentence).len();
            let heading = sentence.trim_start().starts_with('#');
            (!heading && (MIN_WORDS..=MAX_WORDS).contains(&n)).then(|| Candidate {
                text: sentence.to_string(),
                start: span.start,
                end: span.end,
            })
        })
        .collect()
}

/// One check-worthy claim of a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Claim {
    /// 1 for the most check-worthy.
    pub rank: usize,
    /// The claim as it stands alone (a leading pronoun replaced by what it stands for).
    pub claim: String,
    /// The sentence as the text has it.
    pub sentence: String,
    /// Byte span of the sentence in the text.
    pub start: usize,
    pub end: usize,
    /// Probability that the sentence is a check-worthy factual claim.
    pub score: f32,
    /// Byte spans of other sentences saying the same thing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_at: Vec<[usize; 2]>,
}

/// The claims of `text`: every candidate scoring at least `threshold`, made to stand alone,
/// repeats merged into the first-ranked, ranked by score (ties in text order).
pub fn extract(text: &str, candidates: &[Candidate], scores: &[f32], threshold: f32) -> Vec<Claim> {
    let sentences: Vec<&str> = split_sentences(text)
        .into_iter()
        .map(|s| &text[s.start..s.end])
        .collect();
    let sentence_starts: Vec<usize> = split_sentences(text).iter().map(|s| s.start).collect();
    let mut chosen: Vec<(&Candidate, f32)> = candidates
        .iter()
        .zip(scores)
        .filter(|(_, s)| **s >= threshold)
        .map(|(c, s)| (c, *s))
        .collect();
    chosen.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.start.cmp(&b.0.start)));
    let mut out: Vec<(Claim, HashSet<String>)> = Vec::new();
    for (c, score) in chosen {
        let before = sentence_starts.partition_point(|s| *s < c.start);
        let earlier = &sentences[before.saturating_sub(ANTECEDENT_WINDOW)..before];
        let claim = standalone(&c.text, earlier);
        let words: HashSet<String> = tokens(&claim).into_iter().collect();
        if let Some((first, _)) = out
            .iter_mut()
            .find(|(_, seen)| jaccard(seen, &words) >= SAME_CLAIM)
        {
            first.also_at.push([c.start, c.end]);
            continue;
        }
        out.push((
            Claim {
                rank: out.len() + 1,
                claim,
                sentence: c.text.clone(),
                start: c.start,
                end: c.end,
                score,
                also_at: Vec::new(),
            },
            words,
        ));
    }
    out.into_iter().map(|(c, _)| c).collect()
}

fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

/// Words that open a sentence without starting a name.
const NOT_NAMES: &[&str] = &[
    "in",
    "on",
    "at",
    "after",
    "before",
    "but",
    "and",
    "or",
    "so",
    "however",
    "this",
    "that",
    "these",
    "those",
    "it",
    "he",
    "she",
    "they",
    "we",
    "i",
    "you",
    "there",
    "here",
    "when",
    "while",
    "if",
    "although",
    "since",
    "today",
    "yesterday",
    "now",
    "then",
    "our",
    "my",
    "his",
    "her",
    "its",
    "their",
    "as",
    "for",
    "with",
    "by",
    "from",
    "according",
    "during",
    "last",
];

/// The name a sentence opens with ("Barack Obama was ..." gives "Barack Obama", "The Eiffel
/// Tower is ..." gives "The Eiffel Tower"), and whether it opens with an article.
fn opening_name(sentence: &str) -> Option<(&str, bool)> {
    let ws = words(sentence);
    let first = ws.first()?;
    let article = matches!(first.lower.as_str(), "the" | "a" | "an");
    let start = usize::from(article);
    let mut end = None;
    let mut i = start;
    while let Some(w) = ws.get(i) {
        let joiner = matches!(
            w.lower.as_str(),
            "of" | "de" | "von" | "van" | "and" | "the"
        );
        if w.capitalised && !(i == 0 && NOT_NAMES.contains(&w.lower.as_str())) {
            end = Some(w.end);
        } else if !(joiner && end.is_some()) {
            break;
        }
        i += 1;
    }
    // A joiner is never the name's last word: `end` only moves on a capitalised word.
    end.map(|end| (&sentence[first.start..end], article))
}

/// Words that open an introductory phrase before a sentence's subject ("In 1905, he ...",
/// "After the war, she ...", "With a summit of 6,961 metres, it ..."); a phrase opening with
/// a verb's "-ing" form counts too ("Reaching 30 metres, it ...").
const INTRODUCERS: &[&str] = &[
    "with",
    "like",
    "unlike",
    "despite",
    "besides",
    "among",
    "outside",
    "throughout",
    "within",
    "located",
    "born",
    "founded",
    "built",
    "situated",
    "in",
    "on",
    "at",
    "after",
    "before",
    "during",
    "since",
    "until",
    "by",
    "from",
    "following",
    "later",
    "then",
    "however",
    "eventually",
    "initially",
    "subsequently",
    "meanwhile",
    "afterwards",
    "today",
    "when",
    "while",
    "although",
    "though",
    "as",
];

/// The subject pronoun of a sentence: its first word, or the first word after an
/// introductory phrase of at most 24 words that names no pronoun itself ("In 1905, he
/// published ..."), or the pronoun opening such a phrase before a pronoun subject ("When he
/// was young, he moved"). Pronoun forms are matched case-insensitively after the comma.
fn subject_pronoun<'a>(
    sentence: &str,
    ws: &'a [factually_analyze::words::Word<'a>],
) -> Option<&'a factually_analyze::words::Word<'a>> {
    let first = ws.first()?;
    if sentence[..first.start].trim() != "" {
        return None;
    }
    if is_pronoun(&first.lower) {
        return Some(first);
    }
    // A verb's "-ing" or "-ed" form opens a participial phrase ("Reaching 30 metres, it ...",
    // "Created by L. L. Zamenhof in 1887, it ...").
    let gerund =
        first.lower.len() > 5 && (first.lower.ends_with("ing") || first.lower.ends_with("ed"));
    if !INTRODUCERS.contains(&first.lower.as_str()) && !gerund {
        return None;
    }

    // A comma between digits groups them ("6,961"): it ends no phrase.
    let ends_phrase = |k: usize| {
        let gap = &sentence[ws[k - 1].end..ws[k].start];
        let grouping = gap == ","
            && ws[k - 1].lower.ends_with(|c: char| c.is_ascii_digit())
            && ws[k].lower.starts_with(|c: char| c.is_ascii_digit());
        gap.contains(',') && !grouping
    };
    let k = (1..ws.len().min(25)).find(|&k| ends_phrase(k))?;
    if !is_pronoun(&ws[k].lower) || ws[k].capitalised {
        return None;
    }
    // A pronoun opening the phrase ("When he was young, he moved", "After her election, she
    // ...") is the first mention, the one to name. Before a name it may stand for that name
    // ("Despite his age, Biden ran"), so only a pronoun subject after it lets it be named.
    if ws[1].end <= ws[k].start && is_pronoun(&ws[1].lower) && !gerund && k > 1 {
        return Some(&ws[1]);
    }
    let intro_has_pronoun = ws[..k].iter().any(|w| is_pronoun(&w.lower));
    (!intro_has_pronoun).then(|| &ws[k])
}

fn is_pronoun(lower: &str) -> bool {
    matches!(
        lower,
        "he" | "she" | "his" | "her" | "it" | "they" | "its" | "their"
    )
}

/// `sentence` made to stand alone: its subject pronoun ([`subject_pronoun`]: "He", "She",
/// "It" or "They", or "His", "Her", "Its", "Their", leading or after an introductory phrase)
/// becomes the name the nearest of the `earlier` sentences opens with. A person's pronoun only
/// takes a name without an article. Without such a pronoun, an opening description ("This
/// tower", "The city") becomes that name where the earlier sentence describes it so
/// (`described`). Unchanged when no earlier sentence opens with a name.
pub fn standalone(sentence: &str, earlier: &[&str]) -> String {
    standalone_or(sentence, earlier, None)
}

/// [`standalone`], with `subject` ("The blue whale") standing for a thing's pronoun when no
/// earlier sentence opens with a name: an article's subject that is no proper name.
pub fn standalone_or(sentence: &str, earlier: &[&str], subject: Option<&str>) -> String {
    let ws = words(sentence);
    let Some(first) = subject_pronoun(sentence, &ws) else {
        return described(sentence, &ws, earlier).unwrap_or_else(|| sentence.to_string());
    };
    let (person, possessive) = match first.lower.as_str() {
        "he" | "she" => (true, false),
        "his" | "her" => (true, true),
        "it" | "they" => (false, false),
        "its" | "their" => (false, true),
        _ => return sentence.to_string(),
    };
    let name = earlier
        .iter()
        .rev()
        .filter_map(|s| opening_name(s))
        .find(|(_, article)| !(person && *article))
        .map(|(name, _)| name)
        .or(subject.filter(|_| !person));
    let Some(name) = name else {
        return sentence.to_string();
    };
    // Inside the sentence an opening article is lower-case ("After the fair, the Eiffel ...").
    let lowered;
    let name = match name.strip_prefix("The ") {
        Some(rest) if first.start > 0 => {
            lowered = format!("the {rest}");
            lowered.as_str()
        }
        _ => name,
    };
    let replacement = match possessive {
        false => name.to_string(),
        true if name.ends_with('s') => format!("{name}'"),
        true => format!("{name}'s"),
    };
    format!(
        "{}{replacement}{}",
        &sentence[..first.start],
        &sentence[first.end..]
    )
}

/// `sentence` with an opening description ("This tower", "The city", "The city's") put back
/// as the name it describes: the name the nearest earlier sentence opens with, when that
/// sentence says its name is one ("The Eiffel Tower is a wrought-iron lattice tower"; "Paris
/// is the capital and largest city of France"). A demonstrative alone ("This led to ...")
/// stands for an event, not a name, and a capitalised noun is a name of its own ("The
/// Hague"): neither is replaced.
fn described(sentence: &str, ws: &[Word<'_>], earlier: &[&str]) -> Option<String> {
    let (determiner, noun) = (ws.first()?, ws.get(1)?);
    let is_determiner = matches!(
        determiner.lower.as_str(),
        "this" | "that" | "these" | "those" | "the"
    );
    if !is_determiner
        || noun.capitalised
        || sentence[..determiner.start].trim() != ""
        || sentence[determiner.end..noun.start].trim() != ""
    {
        return None;
    }
    let (noun_base, possessive) = match noun.lower.strip_suffix("'s") {
        Some(base) => (base, true),
        None => (
            noun.lower.trim_end_matches('\''),
            noun.lower.ends_with('\''),
        ),
    };
    // "The city of Lyon", "the one": a phrase of its own, not a description of a name.
    let next = ws.get(2).map(|w| w.lower.as_str());
    if noun_base.len() < 3 || next == Some("of") || NOT_NAMES.contains(&noun_base) {
        return None;
    }
    let (before, name) = earlier
        .iter()
        .rev()
        .find_map(|s| opening_name(s).map(|(name, _)| (*s, name)))?;
    // What the earlier sentence says its name *is*: the name's own words, and those after a
    // copula up to the first preposition or clause ("is the capital and largest city of
    // France"), not any noun it uses ("has a population of" gives no "the population").
    let before_words = words(before);
    // `name` is a slice of `before`: where it ends there.
    let name_end = name.as_ptr() as usize - before.as_ptr() as usize + name.len();
    let mut rest = before_words.iter().skip_while(|w| w.start < name_end);
    let mut what = before_words
        .iter()
        .take_while(|w| w.start < name_end)
        .collect::<Vec<_>>();
    if rest.next().is_some_and(|w| {
        matches!(
            w.lower.as_str(),
            "is" | "was" | "are" | "were" | "remains" | "became"
        )
    }) {
        what.extend(rest.take_while(|w| {
            !matches!(
                w.lower.as_str(),
                "of" | "in" | "on" | "at" | "with" | "that" | "which" | "who" | "from" | "by"
            ) && !before[..w.start].trim_end().ends_with(',')
        }));
    }
    let singular = |w: &str| w.strip_suffix('s').unwrap_or(w).to_string();
    let describes = what
        .iter()
        .any(|w| w.lower == noun_base || singular(&w.lower) == singular(noun_base));
    if !describes {
        return None;
    }
    let replacement = match possessive {
        false => name.to_string(),
        true if name.ends_with('s') => format!("{name}'"),
        true => format!("{name}'s"),
    };
    Some(format!(
        "{}{replacement}{}",
        &sentence[..determiner.start],
        &sentence[noun.end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sentence: &str, earlier: &[&str], want: &str) {
        assert_eq!(
            standalone(sentence, earlier),
            want,
            "{sentence:?} after {earlier:?}"
        );
    }

    #[test]
    fn a_leading_pronoun_becomes_the_name_it_stands_for() {
        let obama = "Barack Obama was elected in 2008.";
        let tower = "The Eiffel Tower was finished in 1889.";
        check(
            "He cut taxes for 95% of families.",
            &[obama],
            "Barack Obama cut taxes for 95% of families.",
        );
        check(
            "His plan cost $800 billion.",
            &[obama],
            "Barack Obama's plan cost $800 billion.",
        );
        check(
            "It is 330 metres tall.",
            &[tower],
            "The Eiffel Tower is 330 metres tall.",
        );
        check(
            "Its height grew by 6 metres.",
            &[tower],
            "The Eiffel Tower's height grew by 6 metres.",
        );
        // A person's pronoun skips a name with an article, and looks further back.
        check(
            "She won in 1990.",
            &[obama, tower],
            "Barack Obama won in 1990.",
        );
        // The nearest earlier name wins.
        check(
            "It rose.",
            &[tower, "The Bank of England raised rates."],
            "The Bank of England rose.",
        );
        // Nothing to stand for: unchanged.
        check(
            "He said so.",
            &["In 2008 the economy shrank."],
            "He said so.",
        );
        check("He said so.", &[], "He said so.");
        check("Taxes rose by 4%.", &[obama], "Taxes rose by 4%.");
        check("", &[obama], "");
        check("Heat rose.", &[obama], "Heat rose.");
        check(
            "The United States of America grew.",
            &[],
            "The United States of America grew.",
        );
        check(
            "It grew.",
            &["The United States of America grew."],
            "The United States of America grew.",
        );
        // After an introductory phrase.
        check(
            "In 2009, he was awarded the Nobel Peace Prize.",
            &[obama],
            "In 2009, Barack Obama was awarded the Nobel Peace Prize.",
        );
        check(
            "After the fair, its lights were turned off.",
            &[tower],
            "After the fair, the Eiffel Tower's lights were turned off.",
        );
        check(
            "With a summit elevation of 6,961 metres, it is the highest mountain in the Americas.",
            &["Aconcagua is a mountain in the Andes."],
            "With a summit elevation of 6,961 metres, Aconcagua is the highest mountain in the Americas.",
        );
        check(
            "Reaching a maximum length of 29.9–30.5 m (98–100 ft) and weighing up to 190–200 t, it is the largest animal known.",
            &["The Great Blue is a marine mammal."],
            "Reaching a maximum length of 29.9–30.5 m (98–100 ft) and weighing up to 190–200 t, the Great Blue is the largest animal known.",
        );
        check(
            "Created by L. L. Zamenhof in 1887, it is meant to be a universal second language.",
            &["Esperanto is the most widely spoken constructed language."],
            "Created by L. L. Zamenhof in 1887, Esperanto is meant to be a universal second language.",
        );
        // A subject that is no proper name, given by the caller, stands for a thing only.
        assert_eq!(
            standalone_or(
                "Reaching 30 m, it is the largest animal known.",
                &["The blue whale is a marine mammal."],
                Some("The blue whale"),
            ),
            "Reaching 30 m, the blue whale is the largest animal known."
        );
        assert_eq!(
            standalone_or("It is large.", &[], Some("The blue whale")),
            "The blue whale is large."
        );
        assert_eq!(
            standalone_or("He is large.", &[], Some("The blue whale")),
            "He is large."
        );
        // Not a subject pronoun after an introduction, or a pronoun inside it: unchanged.
        check(
            "Paris, it is said, is old.",
            &[tower],
            "Paris, it is said, is old.",
        );
        // A pronoun opening the introductory phrase is the first mention: it takes the name.
        check(
            "When he was young, he moved.",
            &[obama],
            "When Barack Obama was young, he moved.",
        );
        check(
            "After its opening, it drew crowds.",
            &[tower],
            "After the Eiffel Tower's opening, it drew crowds.",
        );
        check(
            "Despite his age, Biden ran.",
            &[obama],
            "Despite his age, Biden ran.",
        );
        check(
            "In 2009, the prize went to him.",
            &[obama],
            "In 2009, the prize went to him.",
        );
    }

    #[test]
    fn an_opening_description_becomes_the_name_it_describes() {
        let tower = "The Eiffel Tower is a wrought-iron lattice tower in Paris.";
        let paris = "Paris is the capital and largest city of France.";
        let bahamas = "The Bahamas is a country of some 700 islands.";
        check(
            "This tower was built in 1889.",
            &[tower],
            "The Eiffel Tower was built in 1889.",
        );
        check(
            "The city has 2.1 million residents.",
            &[paris],
            "Paris has 2.1 million residents.",
        );
        check(
            "The city's mayor is elected.",
            &[paris],
            "Paris' mayor is elected.",
        );
        check(
            "This country lies in the Atlantic.",
            &[bahamas],
            "The Bahamas lies in the Atlantic.",
        );
        // Only what the earlier sentence says its name is: not a noun after "of", not one
        // it merely uses.
        check(
            "These islands lie in the Atlantic.",
            &[bahamas],
            "These islands lie in the Atlantic.",
        );
        check(
            "The population is 2.1 million.",
            &["Paris has a population of 2.1 million."],
            "The population is 2.1 million.",
        );
        // The nearest earlier sentence opening with a name must use the noun.
        check(
            "The city has 2.1 million residents.",
            &[paris, tower],
            "The city has 2.1 million residents.",
        );
        check(
            "The company was founded in 1976.",
            &[paris],
            "The company was founded in 1976.",
        );
        // A demonstrative alone stands for an event; a capitalised noun is a name; "the city
        // of" names something else.
        check("This led to a war.", &[paris], "This led to a war.");
        check(
            "The Hague is a city too.",
            &[paris],
            "The Hague is a city too.",
        );
        check(
            "The city of Lyon is smaller.",
            &[paris],
            "The city of Lyon is smaller.",
        );
        check("The city grew.", &[], "The city grew.");
    }

    #[test]
    fn candidates_skip_headings_fragments_and_run_ons() {
        let long = format!("Word {}.", vec!["word"; 90].join(" "));
        let text = format!(
            "# Economy\n\nThank you. Unemployment fell to 4% last year. {long} Prices rose 3%."
        );
        let got: Vec<String> = candidates(&text).into_iter().map(|c| c.text).collect();
        assert_eq!(got, vec!["Unemployment fell to 4% last year.".to_string()]);
        for c in candidates(&text) {
            assert_eq!(&text[c.start..c.end], c.text);
        }
        assert!(candidates("").is_empty());
    }

    #[test]
    fn extract_ranks_merges_repeats_and_keeps_spans() {
        let text = "Barack Obama took office in 2009. He cut taxes for 95% of families. \
                    I think that is great. Obama cut taxes for 95% of families.";
        let cands = candidates(text);
        let texts: Vec<&str> = cands.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts.len(), 4, "{texts:?}");
        let scores = [0.7, 0.9, 0.1, 0.8];
        let claims = extract(text, &cands, &scores, 0.5);
        assert_eq!(claims.len(), 2, "{claims:?}");
        assert_eq!(claims[0].rank, 1);
        assert_eq!(
            claims[0].claim,
            "Barack Obama cut taxes for 95% of families."
        );
        assert_eq!(claims[0].sentence, "He cut taxes for 95% of families.");
        assert_eq!(&text[claims[0].start..claims[0].end], claims[0].sentence);
        let [s, e] = claims[0].also_at[0];
        assert_eq!(&text[s..e], "Obama cut taxes for 95% of families.");
        assert_eq!(claims[1].claim, "Barack Obama took office in 2009.");
        assert!(extract(text, &cands, &scores, 0.95).is_empty());
    }
}
