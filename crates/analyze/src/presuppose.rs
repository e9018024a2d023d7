//! Questions turned into statements, and the presuppositions their wording carries.
//!
//! A question is not checkable, but what it asserts and takes for granted is. "Why did the UK ban
//! guns?" asks for a reason and presupposes "the UK banned guns"; "Who is the only Indian to win
//! the Oscar for music?" presupposes "there is only one Indian who won the Oscar for music". Each
//! rule below rewrites a trigger (see [`Trigger`]) into a declarative sentence that the verdict
//! pipeline can check like any claim.
//!
//! The rules work on words and closed word classes (see [`crate::words`]), not on a parse: a
//! wrong guess yields an awkward sentence, never a crash, and the evaluation on the (QA)²
//! adaptation set (`factually eval presuppositions`) keeps them honest.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::words::{
    inflections, is_aux, is_function_word, is_in, is_known_verb, is_number, is_past, is_year,
    looks_adjective, past_tense, third_person, verb_base, Word, BE, DETERMINERS, DO, HAVE, MODALS,
    NEGATED_AUX, PREPOSITIONS, PRONOUNS, RELATIVES,
};

/// What in the wording carries a presupposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// "who won X" presupposes someone won X; "what did X do" that X did something.
    WhQuestion,
    /// "why/how come X" presupposes X.
    WhyQuestion,
    /// "when/how/where did X happen" presupposes X happened.
    WhenHowQuestion,
    /// "the X" presupposes that there is a (unique) X.
    DefiniteDescription,
    /// "the only/first X to V" presupposes the uniqueness or ordering it states.
    Superlative,
    /// "realise/regret/know that P" presupposes P.
    Factive,
    /// "stop/start V-ing", "still", "no longer" presuppose the earlier state.
    ChangeOfState,
    /// "again" presupposes it happened before.
    Iterative,
    /// "fail/manage/forget to V" presuppose an attempt or an expectation.
    Implicative,
    /// "the N who V" presupposes that some N V.
    RelativeClause,
    /// "consequences of/for X" presupposes X happens.
    Consequence,
    /// "all/every N" presupposes there are N.
    Quantifier,
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).expect("a unit enum serialises");
        f.write_str(s.as_str().unwrap_or_default())
    }
}

/// Something the input takes for granted, as a checkable sentence.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Presupposition {
    pub text: String,
    pub trigger: Trigger,
}

/// The most presuppositions reported per input: each one is checked, and checking costs time.
pub const MAX_PRESUPPOSITIONS: usize = 5;

/// A sequence of output words being assembled into a sentence.
#[derive(Debug, Clone, Default)]
struct Phrase(Vec<String>);

impl Phrase {
    fn from_words(ws: &[Word<'_>]) -> Self {
        Self(ws.iter().map(|w| w.text.to_string()).collect())
    }
    fn push(&mut self, s: impl Into<String>) -> &mut Self {
        let s = s.into();
        if !s.is_empty() {
            self.0.extend(s.split(' ').map(str::to_string));
        }
        self
    }
    fn extend(&mut self, ws: &[Word<'_>]) -> &mut Self {
        self.0.extend(ws.iter().map(|w| w.text.to_string()));
        self
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    /// The phrase as a sentence: first letter upper-cased, one final full stop.
    fn sentence(&self) -> String {
        let joined = self.0.join(" ");
        let mut chars = joined.chars();
        match chars.next() {
            Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
            None => String::new(),
        }
    }
}

/// The kind of question, decided by its first words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WhKind {
    /// who/whom: the gap is a person.
    Person,
    /// what: the gap is a thing.
    Thing,
    /// which N / what N / what kind of N / how many N: the gap is "some N".
    Some,
    /// where: the gap is a place.
    Place,
    /// when/what year: the gap is a time, dropped in the statement.
    Time,
    /// why / how come: the statement is presupposed as a whole.
    Reason,
    /// how: manner, dropped.
    Manner,
    /// how old/long/far...: a degree, dropped.
    Degree,
}

/// The result of reading one sentence.
#[derive(Debug, Default)]
pub(crate) struct Reading {
    /// The checkable statement behind the sentence (the sentence itself for a claim).
    pub statement: Option<String>,
    pub presuppositions: Vec<Presupposition>,
}

/// Reads one sentence (question or claim) into its statement and presuppositions.
pub(crate) fn read_sentence(ws: &[Word<'_>], is_question: bool) -> Reading {
    let mut ws = ws;
    while ws.len() > 1
        && matches!(
            ws[0].lower.as_str(),
            "so" | "and" | "but" | "well" | "ok" | "okay" | "please" | "hey"
        )
    {
        ws = &ws[1..];
    }
    let mut reading = Reading::default();
    if ws.is_empty() {
        return reading;
    }
    let first = ws[0].lower.as_str();
    if is_question && is_in(crate::words::WH_WORDS, first) {
        wh_question(ws, &mut reading);
        role_question(ws, &mut reading.presuppositions);
        clause_triggers(ws, &mut reading.presuppositions);
    } else if is_question && is_aux(first) {
        if let Some(s) = yes_no_statement(ws) {
            let text = s.sentence();
            // Presuppositions are read off the statement: "did X win again" -> "X won again".
            clause_triggers(&crate::words::words(&text), &mut reading.presuppositions);
            reading.statement = Some(text);
        }
    } else {
        reading.statement = Some(Phrase::from_words(ws).sentence());
        clause_triggers(ws, &mut reading.presuppositions);
    }
    reading
}

fn lower<'a>(ws: &'a [Word<'_>], i: usize) -> &'a str {
    ws.get(i).map(|w| w.lower.as_str()).unwrap_or("")
}

/// The aux at `i`, with negation expanded: "didn't" -> ("did", true).
fn aux_at(ws: &[Word<'_>], i: usize) -> Option<(String, bool)> {
    let w = lower(ws, i);
    if let Some((_, plain)) = NEGATED_AUX.iter().find(|(n, _)| *n == w) {
        return Some(((*plain).to_string(), true));
    }
    (is_in(BE, w) || is_in(DO, w) || is_in(MODALS, w) || is_in(HAVE, w))
        .then(|| (w.to_string(), false))
}

/// The fewest words a subject can have (`Ok`), or the split itself when the first word settles
/// it (`Err`): nothing for no words, one word for a pronoun, two after a determiner.
fn subject_floor(ws: &[Word<'_>]) -> Result<usize, usize> {
    match ws.first() {
        None => Err(0),
        Some(w) if is_in(PRONOUNS, &w.lower) => Err(1),
        Some(w) if is_in(DETERMINERS, &w.lower) => Ok(2),
        Some(_) => Ok(1),
    }
}

/// Where the predicate starts in "SUBJECT VERB ..." after a do/modal/have auxiliary.
fn split_before_verb(ws: &[Word<'_>], participle: bool) -> usize {
    let min = match subject_floor(ws) {
        Ok(min) => min,
        Err(done) => return done,
    };
    let mut in_relative = false;
    for (i, word) in ws.iter().enumerate().skip(min) {
        let w = word.lower.as_str();
        if is_in(RELATIVES, w) {
            in_relative = true;
            continue;
        }
        let verbish = is_known_verb(w)
            || participle && (w.ends_with("ed") || w.ends_with("en"))
            || is_known_verb(&verb_base(w)) && participle;
        if verbish && !word.capitalised {
            if in_relative {
                in_relative = false;
                continue;
            }
            return i;
        }
    }
    // No known verb: the last word before the first function word or number.
    let cue = (min..ws.len())
        .find(|&i| is_function_word(&ws[i].lower) || is_number(&ws[i].lower))
        .unwrap_or(ws.len());
    (cue.saturating_sub(1)).max(min.min(ws.len() - 1))
}

/// Where the predicate starts in "SUBJECT PREDICATE" after a form of "be".
fn split_after_be(ws: &[Word<'_>]) -> usize {
    let min = match subject_floor(ws) {
        Ok(min) => min,
        Err(done) => return done,
    };
    for (i, word) in ws.iter().enumerate().skip(min) {
        let w = word.lower.as_str();
        if word.capitalised {
            continue;
        }
        let cue = (is_in(DETERMINERS, w) && w != "that")
            || (is_in(PREPOSITIONS, w) && w != "of")
            || matches!(
                w,
                "not" | "never" | "only" | "really" | "more" | "less" | "still" | "always"
            )
            || w.ends_with("ing")
            || (w.ends_with("ed") && w.len() > 4)
            || is_participle(w)
            || looks_adjective(w)
            || is_number(w);
        if cue {
            return i;
        }
    }
    // No cue: the last word is the predicate ("is the earth flat"), unless it ends a name.
    if ws.len() > min && !ws[ws.len() - 1].capitalised {
        ws.len() - 1
    } else {
        ws.len()
    }
}

fn is_participle(w: &str) -> bool {
    matches!(
        w,
        "born"
            | "made"
            | "built"
            | "written"
            | "known"
            | "called"
            | "named"
            | "based"
            | "located"
            | "found"
            | "given"
            | "taken"
            | "shown"
            | "done"
            | "seen"
            | "held"
            | "sold"
            | "killed"
            | "banned"
            | "used"
            | "invented"
            | "discovered"
            | "founded"
            | "set"
    )
}

/// "is the earth flat" -> "the earth is flat"; "did einstein fail math" -> "einstein failed math".
fn yes_no_statement(ws: &[Word<'_>]) -> Option<Phrase> {
    let (aux, negated) = aux_at(ws, 0)?;
    let rest = &ws[1..];
    if rest.is_empty() {
        return None;
    }
    let mut p = Phrase::default();
    if is_in(BE, &aux) {
        let k = split_after_be(rest);
        p.extend(&rest[..k]).push(aux.as_str());
        if negated {
            p.push("not");
        }
        p.extend(&rest[k..]);
    } else if is_in(DO, &aux) {
        let k = split_before_verb(rest, false);
        p.extend(&rest[..k]);
        if let Some(verb) = rest.get(k) {
            if negated {
                p.push(format!("{aux} not {}", verb.lower));
            } else {
                p.push(inflect_after_do(&aux, &verb.lower));
            }
            p.extend(&rest[k + 1..]);
        }
    } else {
        let k = split_before_verb(rest, true);
        p.extend(&rest[..k]).push(aux.as_str());
        if negated {
            p.push("not");
        }
        p.extend(&rest[k..]);
    }
    (p.len() >= 2).then_some(p)
}

/// The verb form a do-auxiliary stands for: did + kill = killed, does + kill = kills.
fn inflect_after_do(aux: &str, verb: &str) -> String {
    match aux {
        "did" => past_tense(verb),
        "does" => third_person(verb),
        _ => verb.to_string(),
    }
}

const TIME_NOUNS: &[&str] = &[
    "year", "day", "date", "month", "time", "century", "decade", "age", "season", "era",
];

/// Reads a wh-question: the gap statement (also a presupposition) and definite subjects.
fn wh_question(ws: &[Word<'_>], reading: &mut Reading) {
    let wh = lower(ws, 0);
    // The wh-phrase: its kind, the noun it carries ("which country") and where it ends.
    let (kind, noun_end, mut j) = match wh {
        "who" | "whom" => (WhKind::Person, 1, 1),
        "why" => (WhKind::Reason, 1, 1),
        "where" => (WhKind::Place, 1, 1),
        "when" => (WhKind::Time, 1, 1),
        "how" if lower(ws, 1) == "come" => (WhKind::Reason, 2, 2),
        "how" if matches!(lower(ws, 1), "many" | "much") => {
            let end = (2..ws.len())
                .find(|&i| is_aux(&ws[i].lower))
                .unwrap_or(ws.len());
            (WhKind::Some, end, end)
        }
        "how" if !lower(ws, 1).is_empty() && !is_aux(lower(ws, 1)) => (WhKind::Degree, 2, 2),
        "how" => (WhKind::Manner, 1, 1),
        "what" | "which" | "whose" => {
            let end = (1..ws.len())
                .find(|&i| is_aux(&ws[i].lower) || is_known_verb(&ws[i].lower) && i > 1)
                .unwrap_or(ws.len());
            if end > 1 {
                let time = TIME_NOUNS.contains(&lower(ws, end - 1));
                (if time { WhKind::Time } else { WhKind::Some }, end, end)
            } else {
                (WhKind::Thing, 1, 1)
            }
        }
        _ => return,
    };
    // "what kind of books" -> "some kind of books"; "how many zeros" -> "some zeros".
    let some_noun: Vec<&str> = match wh {
        "how" => ws[2.min(noun_end)..noun_end]
            .iter()
            .map(|w| w.text)
            .collect(),
        _ => ws[1.min(noun_end)..noun_end]
            .iter()
            .map(|w| w.text)
            .collect(),
    };
    let filler = match kind {
        WhKind::Person => "someone".to_string(),
        WhKind::Thing => "something".to_string(),
        WhKind::Some => format!("some {}", some_noun.join(" ")),
        WhKind::Place => "somewhere".to_string(),
        WhKind::Time if wh != "when" => format!("in some {}", some_noun.join(" ")),
        WhKind::Time | WhKind::Reason | WhKind::Manner | WhKind::Degree => String::new(),
    };
    let trigger = match kind {
        WhKind::Reason => Trigger::WhyQuestion,
        WhKind::Time | WhKind::Manner | WhKind::Degree => Trigger::WhenHowQuestion,
        _ => Trigger::WhQuestion,
    };

    let statement = match aux_at(ws, j) {
        // "who is X", "why is X P", "who is X based on".
        Some((aux, negated)) if is_in(BE, &aux) => {
            j += 1;
            be_question(ws, j, &aux, negated, kind, &filler, reading)
        }
        Some((aux, negated)) => {
            j += 1;
            let rest = &ws[j..];
            let participle = !is_in(DO, &aux);
            let k = split_before_verb(rest, participle);
            if k >= rest.len() {
                None
            } else {
                let subject = &rest[..k];
                definite_subject(subject, &mut reading.presuppositions);
                let mut after = k + 1;
                let mut negated = negated;
                if lower(rest, k) == "not" {
                    negated = true;
                    after += 1;
                }
                let verb_index = if lower(rest, k) == "not" { k + 1 } else { k };
                let Some(verb) = rest.get(verb_index) else {
                    return;
                };
                let mut p = Phrase::default();
                p.extend(subject);
                if is_in(DO, &aux) {
                    if negated {
                        p.push(format!("{aux} not {}", verb.lower));
                    } else {
                        p.push(inflect_after_do(&aux, &verb.lower));
                    }
                } else {
                    p.push(aux.as_str());
                    if negated {
                        p.push("not");
                    }
                    p.push(verb.text);
                }
                place_gap(&mut p, &rest[after.min(rest.len())..], kind, &filler);
                Some(p)
            }
        }
        // No auxiliary: the wh-phrase is the subject ("who won X", "which team has Y").
        None => {
            let rest = &ws[j..];
            if rest.is_empty() {
                None
            } else {
                let mut p = Phrase::default();
                p.push(filler.as_str()).extend(rest);
                Some(p)
            }
        }
    };
    if let Some(p) = statement.filter(|p| p.len() >= 2) {
        let text = p.sentence();
        reading.statement = Some(text.clone());
        reading
            .presuppositions
            .insert(0, Presupposition { text, trigger });
    }
}

/// Puts the wh-gap filler where the question's gap is, and moves a trailing year into an
/// "in YEAR" phrase: "play for 2021" -> "plays for someone in 2021".
fn place_gap(p: &mut Phrase, rest: &[Word<'_>], kind: WhKind, filler: &str) {
    let (rest, year) = match rest.split_last() {
        Some((last, init))
            if is_year(&last.lower)
                && !init.last().is_some_and(|w| {
                    matches!(
                        w.lower.as_str(),
                        "in" | "since" | "until" | "by" | "before" | "after" | "of" | "from" | "to"
                    )
                }) =>
        {
            (init, Some(last.text))
        }
        _ => (rest, None),
    };
    // A gap before an infinitive or at a stranded preposition goes at the end.
    let stranded = rest.last().is_some_and(|w| is_in(PREPOSITIONS, &w.lower))
        || rest.first().is_some_and(|w| w.lower == "to");
    match kind {
        WhKind::Person | WhKind::Thing | WhKind::Some if !stranded => {
            p.push(filler).extend(rest);
        }
        WhKind::Person | WhKind::Thing | WhKind::Some | WhKind::Place => {
            p.extend(rest).push(filler);
        }
        WhKind::Time if !filler.is_empty() => {
            p.extend(rest).push(filler);
        }
        _ => {
            p.extend(rest);
        }
    }
    if let Some(year) = year {
        p.push(format!("in {year}"));
    }
}

/// "why is there no gravity in space", "who is the movie jersey based on", "what are the X".
fn be_question(
    ws: &[Word<'_>],
    j: usize,
    aux: &str,
    negated: bool,
    kind: WhKind,
    filler: &str,
    reading: &mut Reading,
) -> Option<Phrase> {
    let rest = &ws[j.min(ws.len())..];
    if rest.is_empty() {
        return None;
    }
    let passive = rest
        .iter()
        .position(|w| is_participle(&w.lower) && !w.capitalised);
    let identity =
        matches!(kind, WhKind::Person | WhKind::Thing | WhKind::Some) && passive.is_none();
    if identity {
        // "what is the unesco world heritage site in thailand": nothing to assert beyond the
        // existence (and uniqueness) of what is asked about.
        if kind == WhKind::Some && !filler.is_empty() {
            // "how many books are there of goosebumps" / "which country is largest".
            let mut p = Phrase::default();
            if lower(rest, 0) == "there" {
                p.push("there")
                    .push(aux)
                    .push(filler.trim_start_matches("some "));
                p.extend(&rest[1..]);
            } else {
                p.push(filler).push(aux).extend(rest);
            }
            return Some(p);
        }
        existence(
            rest,
            Trigger::DefiniteDescription,
            &mut reading.presuppositions,
        );
        return None;
    }
    let k = match passive {
        Some(k) if k > 0 => k,
        _ => split_after_be(rest),
    };
    let subject = &rest[..k];
    definite_subject(subject, &mut reading.presuppositions);
    let predicate = &rest[k..];
    let mut p = Phrase::default();
    p.extend(subject).push(aux);
    if negated {
        p.push("not");
    }
    match kind {
        WhKind::Reason | WhKind::Manner | WhKind::Degree => {
            p.extend(predicate);
        }
        WhKind::Place | WhKind::Time if predicate.is_empty() => return None,
        _ => place_gap(&mut p, predicate, kind, filler),
    }
    Some(p)
}

/// "there is a unique X" for a singular definite "the X", "there are X" for a plural one.
fn existence(np: &[Word<'_>], trigger: Trigger, out: &mut Vec<Presupposition>) {
    let Some(first) = np.first() else { return };
    if first.lower != "the" || np.len() < 2 {
        return;
    }
    // "the sky", "the moon": a single common noun is not in question.
    if np.len() < 3 && trigger == Trigger::DefiniteDescription {
        return;
    }
    let body = &np[1..];
    // A name in title case ("the Eiffel Tower") is not in question.
    if body
        .iter()
        .all(|w| w.capitalised || is_function_word(&w.lower))
    {
        return;
    }
    let head = body
        .iter()
        .take_while(|w| !is_in(PREPOSITIONS, &w.lower) && !is_in(RELATIVES, &w.lower))
        .last()
        .unwrap_or(&body[0]);
    // "the planet mars", "the movie jersey": a category noun before a name heads a singular.
    const CATEGORY_NOUNS: &[&str] = &[
        "movie",
        "film",
        "song",
        "book",
        "novel",
        "number",
        "planet",
        "city",
        "country",
        "show",
        "band",
        "album",
        "game",
        "word",
        "name",
        "team",
        "company",
        "river",
        "state",
        "character",
        "series",
        "word",
        "term",
        "town",
        "island",
        "play",
        "poem",
        "painting",
        "ship",
    ];
    let appositive = body.len() >= 2 && CATEGORY_NOUNS.contains(&body[0].lower.as_str());
    let plural = !appositive
        && head.lower.ends_with('s')
        && !head.lower.ends_with("ss")
        && !head.lower.ends_with("us")
        && !head.lower.ends_with("is");
    let mut p = Phrase::default();
    let only = lower(body, 0) == "only";
    if only {
        // "the only indian to win the oscar" -> "there is only one indian who won the oscar".
        if let Some(to) = body.iter().position(|w| w.lower == "to") {
            if let Some(verb) = body.get(to + 1) {
                p.push("there is only one").extend(&body[1..to]).push("who");
                p.push(past_tense(&verb.lower)).extend(&body[to + 2..]);
                out.push(Presupposition {
                    text: p.sentence(),
                    trigger: Trigger::Superlative,
                });
                return;
            }
        }
    }
    if plural {
        p.push("there are");
    } else {
        p.push("there is a unique");
    }
    p.extend(body);
    out.push(Presupposition {
        text: p.sentence(),
        trigger,
    });
}

/// A definite subject of a wh-question ("how many zeros does the number zillion have").
fn definite_subject(subject: &[Word<'_>], out: &mut Vec<Presupposition>) {
    if lower(subject, 0) == "the" {
        existence(subject, Trigger::DefiniteDescription, out);
    }
}

/// Role questions, one of the commonest search templates: "who plays X in Y" presupposes a
/// character X in Y; "who did X play in Y" presupposes that X was in Y.
fn role_question(ws: &[Word<'_>], out: &mut Vec<Presupposition>) {
    if !matches!(lower(ws, 0), "who" | "whom") {
        return;
    }
    let is_play = |w: &str| {
        matches!(
            w,
            "play" | "plays" | "played" | "portray" | "portrays" | "portrayed"
        )
    };
    let last_in = |from: usize| {
        (from..ws.len())
            .rev()
            .find(|&k| matches!(ws[k].lower.as_str(), "in" | "on"))
    };
    if is_play(lower(ws, 1)) {
        if let Some(k) = last_in(3) {
            let mut p = Phrase::default();
            p.push("there is a character called")
                .extend(&ws[2..k])
                .extend(&ws[k..]);
            out.push(Presupposition {
                text: p.sentence(),
                trigger: Trigger::DefiniteDescription,
            });
        }
    } else if matches!(lower(ws, 1), "did" | "does" | "do") {
        if let Some(v) = (3..ws.len()).find(|&k| is_play(&ws[k].lower)) {
            if let Some(k) = last_in(v + 1) {
                let mut p = Phrase::default();
                let be = if lower(ws, 1) == "did" { "was" } else { "is" };
                p.extend(&ws[2..v]).push(be).extend(&ws[k..]);
                out.push(Presupposition {
                    text: p.sentence(),
                    trigger: Trigger::WhQuestion,
                });
            }
        }
    }
}

/// Triggers that work the same in questions and claims.
fn clause_triggers(ws: &[Word<'_>], out: &mut Vec<Presupposition>) {
    for i in 0..ws.len() {
        let w = ws[i].lower.as_str();
        // Numbered parts: "season 2 of X" presupposes there is a season 2 of X.
        if matches!(
            w,
            "season" | "series" | "episode" | "part" | "chapter" | "volume" | "book" | "game"
        ) && is_number(lower(ws, i + 1))
            && lower(ws, i + 2) == "of"
        {
            let end = (i + 3..ws.len())
                .find(|&k| {
                    is_aux(&ws[k].lower)
                        || is_in(&["in", "on", "at", "for"], &ws[k].lower) && k > i + 3
                })
                .unwrap_or(ws.len());
            let mut p = Phrase::default();
            p.push("there is a").extend(&ws[i..end]);
            out.push(Presupposition {
                text: p.sentence(),
                trigger: Trigger::DefiniteDescription,
            });
        }
        // Superlatives and ordinals: "the only/first/last N to V".
        if w == "the" && matches!(lower(ws, i + 1), "only" | "first" | "last") {
            let end = clause_end(ws, i + 1);
            existence(&ws[i..end], Trigger::Superlative, out);
        }
        // "the N who V", "ICE agents who fail to meet quotas": some N V.
        let after_verb = i > 0 && {
            let prev = &ws[i - 1].lower;
            is_known_verb(&verb_base(prev)) || is_factive(prev) || prev.ends_with("ed")
        };
        if is_in(&["who", "that"], w) && i > 0 && !is_function_word(&ws[i - 1].lower) && !after_verb
        {
            let verb = lower(ws, i + 1);
            let head_start = noun_phrase_start(ws, i);
            // The relative clause ends where the main clause's verb starts ("people who smoke
            // live longer"); a verb after "to" belongs to the clause ("fail to meet").
            let end = (i + 2..clause_end(ws, i + 1))
                .find(|&k| is_known_verb(&ws[k].lower) && ws[k - 1].lower != "to")
                .unwrap_or_else(|| clause_end(ws, i + 1));
            if head_start < i && end > i + 1 && !is_aux(verb) && !is_function_word(verb) {
                let mut p = Phrase::default();
                p.push("some")
                    .extend(&ws[head_start..i])
                    .extend(&ws[i + 1..end]);
                out.push(Presupposition {
                    text: p.sentence(),
                    trigger: Trigger::RelativeClause,
                });
            }
        }
        // Implicatives: "X fail(s/ed) to V" -> X was expected to V.
        let base = verb_base(w);
        if matches!(base.as_str(), "fail" | "manage" | "forget") && lower(ws, i + 1) == "to" {
            let (subject_start, subject_end) = subject_range(ws, i);
            let end = clause_end(ws, i + 2);
            if subject_start < subject_end && end > i + 2 {
                let plural = ws[i].lower == "fail" || ws[i].lower == "manage";
                let phrase = match base.as_str() {
                    "fail" if plural => "are expected to",
                    "fail" => "was expected to",
                    "manage" => "tried to",
                    _ => "was supposed to",
                };
                let mut p = Phrase::default();
                p.extend(&ws[subject_start..subject_end])
                    .push(phrase)
                    .extend(&ws[i + 2..end]);
                out.push(Presupposition {
                    text: p.sentence(),
                    trigger: Trigger::Implicative,
                });
            }
        }
        // Consequences of/for X: X happens.
        if matches!(
            w,
            "consequences"
                | "consequence"
                | "effects"
                | "effect"
                | "impact"
                | "dangers"
                | "benefits"
                | "penalties"
                | "punishment"
        ) && matches!(lower(ws, i + 1), "of" | "for")
        {
            let end = clause_end(ws, i + 2);
            let object = &ws[i + 2..end];
            let has_relative = object.iter().any(|w| is_in(RELATIVES, &w.lower));
            if !object.is_empty() && !has_relative {
                let mut p = Phrase::default();
                p.extend(object).push("has").push(w);
                out.push(Presupposition {
                    text: p.sentence(),
                    trigger: Trigger::Consequence,
                });
            }
        }
        // Factives: "realise that P" presupposes P.
        if is_factive(w) {
            let mut k = i + 1;
            if lower(ws, k) == "that" {
                k += 1;
            }
            let end = clause_end(ws, k);
            if end >= k + 2 && !is_in(crate::words::WH_WORDS, lower(ws, k)) {
                out.push(Presupposition {
                    text: Phrase::from_words(&ws[k..end]).sentence(),
                    trigger: Trigger::Factive,
                });
            }
        }
        // Change of state: "stopped V-ing" -> used to V; "started V-ing" -> did not V before.
        let base_cs = verb_base(w);
        if matches!(base_cs.as_str(), "stop" | "quit" | "start" | "begin")
            && lower(ws, i + 1).ends_with("ing")
        {
            let (s, e) = subject_range(ws, i);
            if s < e {
                let gerund = base_of_gerund(lower(ws, i + 1));
                let end = clause_end(ws, i + 2);
                let mut p = Phrase::default();
                p.extend(&ws[s..e]);
                if matches!(base_cs.as_str(), "stop" | "quit") {
                    p.push("used to").push(gerund);
                } else {
                    p.push("did not").push(gerund);
                }
                p.extend(&ws[i + 2..end]);
                if !matches!(base_cs.as_str(), "stop" | "quit") {
                    p.push("before");
                }
                out.push(Presupposition {
                    text: p.sentence(),
                    trigger: Trigger::ChangeOfState,
                });
            }
        }
        // Iteratives: "X won again" -> X won before.
        if w == "again" && i >= 2 {
            let s = (0..i)
                .rev()
                .find(|&k| is_in(crate::words::CONJUNCTIONS, &ws[k].lower))
                .map_or(0, |k| k + 1);
            let mut p = Phrase::default();
            for word in &ws[s..i] {
                let l = word.lower.as_str();
                if is_in(DO, l) || is_in(MODALS, l) {
                    continue;
                }
                let base = verb_base(l);
                if is_known_verb(&base) && !is_past(l) && !word.capitalised && base != "be" {
                    p.push(past_tense(&base));
                } else {
                    p.push(word.text);
                }
            }
            p.push("before");
            if p.len() >= 3 {
                out.push(Presupposition {
                    text: p.sentence(),
                    trigger: Trigger::Iterative,
                });
            }
        }
        // Universal quantifiers: "all N" presupposes there are N.
        if matches!(w, "all" | "every")
            && ws.get(i + 1).is_some_and(|n| !is_function_word(&n.lower))
        {
            let end = (i + 1..ws.len())
                .find(|&k| is_function_word(&ws[k].lower) || is_known_verb(&ws[k].lower))
                .unwrap_or(ws.len());
            if end > i + 1 {
                let mut p = Phrase::default();
                p.push("there are").extend(&ws[i + 1..end]);
                out.push(Presupposition {
                    text: p.sentence(),
                    trigger: Trigger::Quantifier,
                });
            }
        }
    }
}

fn is_factive(w: &str) -> bool {
    const FACTIVES: &[&str] = &[
        "know", "realize", "regret", "discover", "notice", "reveal", "remember", "resent", "learn",
        "recall",
    ];
    FACTIVES
        .iter()
        .any(|f| inflections(f).iter().any(|i| i == w))
}

/// "smoking" -> "smoke", "running" -> "run", "playing" -> "play".
fn base_of_gerund(g: &str) -> String {
    let stem = g.strip_suffix("ing").unwrap_or(g);
    for candidate in [stem.to_string(), format!("{stem}e")] {
        if is_known_verb(&candidate) {
            return candidate;
        }
    }
    let b = stem.as_bytes();
    if b.len() >= 2 && b[b.len() - 1] == b[b.len() - 2] {
        return stem[..stem.len() - 1].to_string();
    }
    stem.to_string()
}

/// Where the clause that starts at `from` ends: the next conjunction, wh-word or the end.
fn clause_end(ws: &[Word<'_>], from: usize) -> usize {
    (from..ws.len())
        .find(|&k| {
            matches!(
                ws[k].lower.as_str(),
                "and" | "but" | "because" | "while" | "although" | "if" | "whether" | "so"
            ) || (k > from && is_in(crate::words::WH_WORDS, &ws[k].lower) && ws[k].lower != "who")
        })
        .unwrap_or(ws.len())
}

/// The start of the noun phrase that ends just before `end` (content words, back to the
/// first function word).
fn noun_phrase_start(ws: &[Word<'_>], end: usize) -> usize {
    let mut s = end;
    while s > 0 && !is_function_word(&ws[s - 1].lower) && !is_known_verb(&ws[s - 1].lower) {
        s -= 1;
    }
    s
}

/// The subject before a verb at `verb`, as a range: back over content words to a determiner
/// or pronoun; a relative clause ("agents who fail") yields the noun phrase before "who".
fn subject_range(ws: &[Word<'_>], verb: usize) -> (usize, usize) {
    let mut s = verb;
    while s > 0 {
        let w = ws[s - 1].lower.as_str();
        if is_in(RELATIVES, w) {
            return (noun_phrase_start(ws, s - 1), s - 1);
        }
        if (is_function_word(w) && !is_in(DETERMINERS, w) && !is_in(PRONOUNS, w))
            || is_in(crate::words::WH_WORDS, w)
        {
            break;
        }
        s -= 1;
        if is_in(DETERMINERS, w) || is_in(PRONOUNS, w) {
            break;
        }
    }
    (s, verb)
}

/// Drops near-duplicates (token F1 >= 0.9 with an earlier one) and keeps the first few.
pub(crate) fn dedupe(list: Vec<Presupposition>) -> Vec<Presupposition> {
    let mut out: Vec<Presupposition> = Vec::new();
    for p in list {
        if p.text.split_whitespace().count() < 2 {
            continue;
        }
        if out
            .iter()
            .any(|q| crate::words::token_f1(&q.text, &p.text) >= 0.9)
        {
            continue;
        }
        out.push(p);
    }
    out.truncate(MAX_PRESUPPOSITIONS);
    out
}
