//! The checks a small stance model gets wrong, as explicit comparisons of a claim with one
//! evidence sentence (and the title of the document it comes from).
//!
//! A cross-encoder of MiniLM's size reads "Paris is the capital and largest city of France" as
//! support for "Paris is the capital of Germany": almost every word matches. What decides such
//! pairs is one detail: a different name after the same words, a different year, an opposite
//! superlative, a negation. These are cheap to see mechanically, and they are what the judge
//! (`factually-verify`) combines with the model's probabilities in a small trained classifier.
//! Nothing here decides a verdict on its own.
//!
//! Each check is a plain function of the two texts so that it can be tested on a table of
//! cases; [`compare`] runs them all and also says, for a contradiction it can name, what the
//! source says instead ([`Contrast`]), which is how a report explains a refutation.

use std::cell::OnceCell;
use std::collections::HashSet;

use serde::Serialize;

use crate::demonyms::{
    aliases, continent, continents_in, countries, countries_overlap, CountryMention,
};
use crate::words::{is_function_word, is_number, is_year, words, Word};

/// What kind of detail differs between the claim and the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContrastKind {
    Name,
    Number,
    Year,
    Superlative,
    Ordinal,
    /// What the subject is: "composer" for "saxophonist".
    Category,
    /// Which country the subject is in or of: "Somalia" for "Italy", "British" for
    /// "Canadian".
    Country,
}

/// A detail the source states differently: "says Paris, not Berlin".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contrast {
    pub kind: ContrastKind,
    /// The claim's words.
    pub claim_says: String,
    /// The source's words in their place.
    pub source_says: String,
}

impl std::fmt::Display for Contrast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "says {}, not {}", self.source_says, self.claim_says)
    }
}

/// Every check of one (claim, sentence) pair.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PairChecks {
    /// Share of the claim's content words found in the sentence or the title.
    pub coverage: f32,
    /// Share of the claim's content words found in the sentence alone.
    pub sentence_coverage: f32,
    /// Share of the claim's content words found in the title.
    pub title_coverage: f32,
    /// Share of the claim's names (capitalised words) found in the sentence or the title;
    /// 1 when the claim names nothing.
    pub name_coverage: f32,
    /// One side is negated and the other is not.
    pub negation_mismatch: bool,
    /// A number or year of the claim appears in the sentence.
    pub number_match: bool,
    /// The claim has a number or year the sentence lacks, while the sentence has another one.
    pub number_mismatch: bool,
    /// A name of the claim is missing and the sentence has a different name after the same
    /// word ("capital of Germany" / "capital of France").
    pub name_swap: bool,
    /// A name of the claim is missing and the sentence has names the claim does not.
    pub novel_names: bool,
    /// The claim's superlative is reversed ("largest" / "smallest", "highest" /
    /// "second-highest").
    pub superlative_flip: bool,
    /// The claim's ordinal differs from the sentence's ("42nd" / "44th").
    pub ordinal_mismatch: bool,
    /// The claim's subject (its first name) is what the document is about: it is in the title,
    /// or the title is in the claim. "K2 is the second-highest mountain, after Mount Everest"
    /// mentions Everest but is about K2.
    pub subject_in_title: bool,
    /// The claim opens with the document's title ("The giant panda is ..." in the article "Giant
    /// panda"): the document is about the claim's subject even when the claim names nothing
    /// else, or only the detail it gets wrong ("... endemic to Japan").
    pub title_opens_claim: bool,
    /// The sentence's own subject (its first name) is one the claim names; a sentence without
    /// a name of its own takes the title's.
    pub sentence_subject_in_claim: bool,
    /// The sentence is about one of the claim's names: the word before its first verb is
    /// one of them (or of the title's), or a pronoun in a document whose title is the claim's
    /// subject; without such a word, [`Self::sentence_subject_in_claim`]. "K2 ... is the
    /// second-highest mountain, after Mount Everest" is not about Everest.
    pub subject_before_verb: bool,
    /// A name swap's two names depend on the same word ("capital of Germany" / "capital of
    /// France"); false without a swap, true when either has no such word.
    pub swap_same_governor: bool,
    /// The sentence or its document names what the claim is about: every word of the name
    /// that opens the claim ("Theodore Roosevelt", "the Qing dynasty": Qing; "the koala":
    /// koala) is in the sentence or the title. True when the claim opens with no such phrase.
    /// "Franklin Delano Roosevelt was the 32nd president" is not about Theodore Roosevelt,
    /// "Kangaroos are indigenous to Australia" not about the koala.
    pub subject_named: bool,
    /// The sentence or its title has a word of what the claim says about its subject (a
    /// content word after the claim's subject phrase: "railway station" in "Vatican City has
    /// its own railway station"); true when the claim has no plain subject or says nothing
    /// but numbers and degree words. "The Vatican Museums are the public museums of the
    /// Vatican City" does not address the railway station.
    pub predicate_addressed: bool,
    /// Share of the claim's content words other than the differing detail's that the
    /// sentence or the title has; 0 without a contrast. "The Nutcracker is an 1892 ballet by
    /// Tchaikovsky" repeats all the rest of "The Nutcracker is a ballet by Prokofiev", two
    /// thirds of "The Nutcracker is a ballet composed by Prokofiev".
    pub coverage_beside_contrast: f32,
    /// The sentence hedges ("may", "reportedly", "is thought to").
    pub hedged: bool,
    /// The sentence reports something in order to call it a myth, a misconception or false
    /// ("The story that Einstein failed mathematics at school is a myth"), and the claim does
    /// not: its words match the claim while it says the opposite.
    pub debunked: bool,
    /// The sentence passes the claim on as hearsay ("is often said to be", "according to
    /// legend", "some claim that"), and the claim does not: it reports a belief, not the fact.
    pub attributed: bool,
    /// The differing detail, when one can be named.
    pub contrast: Option<Contrast>,
}

/// Runs every check on a claim and one evidence sentence from a document titled `title`.
pub fn compare(claim: &str, sentence: &str, title: &str) -> PairChecks {
    let cw = words(claim);
    let sw = words(sentence);
    let tw = words(title);
    // The other forms of each text's words, computed once and added to each set below.
    let (claim_aliases, sentence_aliases, title_aliases) =
        (text_aliases(&cw), text_aliases(&sw), text_aliases(&tw));
    let claim_terms = content_terms(&cw);
    let sentence_terms = with_aliases(content_terms(&sw), &sentence_aliases, stem);
    let title_terms = with_aliases(content_terms(&tw), &title_aliases, stem);
    let share = |set: &dyn Fn(&String) -> bool| {
        if claim_terms.is_empty() {
            0.0
        } else {
            claim_terms.iter().filter(|t| set(t)).count() as f32 / claim_terms.len() as f32
        }
    };
    let coverage = share(&|t| sentence_terms.contains(t) || title_terms.contains(t));
    let sentence_coverage = share(&|t| sentence_terms.contains(t));
    let title_coverage = share(&|t| title_terms.contains(t));

    let claim_names = names(claim, &cw);
    let sentence_names = names(sentence, &sw);
    let known = with_aliases(
        with_aliases(
            sw.iter().chain(&tw).map(key).collect(),
            &sentence_aliases,
            str::to_string,
        ),
        &title_aliases,
        str::to_string,
    );
    // A name the sentence gives in a shorter form ("the Mexican state of Baja California" for
    // "the Baja California Peninsula") or by the word it derives from ("Islam" for "Islamic")
    // is there, not missing.
    let derived_from_known = |w: &str| {
        ["ic", "ian", "ist", "ism", "ese", "ish"]
            .iter()
            .any(|suffix| {
                w.strip_suffix(suffix)
                    .is_some_and(|base| base.len() >= 4 && known.contains(base))
            })
    };
    let shortened = |n: &Name| {
        sentence_names.iter().any(|s| {
            s.words.len() >= 2 && s.words.len() < n.words.len() && n.words.starts_with(&s.words)
        })
    };
    let missing: Vec<&Name> = claim_names
        .iter()
        .filter(|n| {
            !shortened(n)
                && !n
                    .words
                    .iter()
                    .all(|w| known.contains(w) || derived_from_known(w))
        })
        .collect();
    let name_coverage = if claim_names.is_empty() {
        1.0
    } else {
        1.0 - missing.len() as f32 / claim_names.len() as f32
    };
    let claim_lower = with_aliases(cw.iter().map(key).collect(), &claim_aliases, str::to_string);
    let title_lower: HashSet<String> = tw.iter().map(key).collect();
    let novel: Vec<&Name> = sentence_names
        .iter()
        .filter(|n| {
            !n.words
                .iter()
                .any(|w| claim_lower.contains(w) || title_lower.contains(w))
        })
        .collect();
    // A name in the missing one's place needs only one word the claim lacks: "the Black Sea"
    // for "the Caspian Sea" shares "Sea".
    // "German-born" says where someone was born, not what the claim's "Swiss" says
    // (citizenship): unless the claim speaks of birth, it stands in no name's place.
    let claim_of_birth = cw
        .iter()
        .any(|w| w.lower == "born" || w.lower.ends_with("-born"));
    let only_birthplace = |lower: &str| !claim_of_birth && lower.ends_with("-born");
    let in_place: Vec<&Name> = sentence_names
        .iter()
        .filter(|n| {
            n.words
                .iter()
                .any(|w| !claim_lower.contains(w) && !title_lower.contains(w))
                && !only_birthplace(&n.text.to_lowercase())
        })
        .collect();
    // The sentence must say the same thing about its name: "born in Chicago" is not
    // contradicted by "headquartered in Burbank".
    // "By" names a maker whatever the verb ("painted by" / "a painting by"); a verb matches
    // in any of its forms ("gave" / "given", "painted" / "painting").
    let same_relation = |m: &Name| {
        m.before.as_deref() == Some("by")
            || m.governor.as_ref().is_none_or(|g| {
                let base = crate::words::verb_base(g);
                PLACE_VERBS.contains(&g.as_str())
                    || sentence_terms.contains(&stem(g))
                    || sw.iter().any(|w| {
                        crate::words::verb_base(&w.lower) == base
                            || (base.len() >= 4 && w.lower.starts_with(&base))
                    })
            })
    };
    // "its chemical symbol is Au" stands in the place of "the chemical symbol Ag": after a
    // copula the word the names depend on is their anchor.
    let same_place = |n: &Name, m: &Name| {
        (n.before.is_some() && n.before == m.before)
            || (n
                .before
                .as_deref()
                .is_some_and(|b| crate::words::is_in(crate::words::BE, b))
                && n.governor.is_some()
                && n.governor == m.governor)
    };
    // A claim placing its subject in a continent ("Liverpool is in Europe") is not
    // contradicted by a place the sentence names ("in Merseyside, England"), which the
    // continent may hold, unless the sentence names another continent ("in the Southern Cone
    // of South America" for "Chile is in Asia"); nor is one placing it in a country by a
    // sentence naming a country inside it ("in the United Kingdom" / "in Merseyside,
    // England").
    // Scanned once, and only for a pair that needs them (most have no missing name).
    let sentence_countries = OnceCell::new();
    let sentence_countries = || sentence_countries.get_or_init(|| countries(&lower(&sw)));
    let nested = |m: &Name| {
        let words: Vec<&str> = m.words.iter().map(String::as_str).collect();
        let in_continent = continent(&words)
            .is_some_and(|c| continents_in(&lower(&sw)).iter().all(|other| *other == c));
        in_continent
            || countries(&words).iter().any(|a| {
                sentence_countries()
                    .iter()
                    .any(|b| a.country != b.country && countries_overlap(a.country, b.country))
            })
    };
    let swapped = missing
        .iter()
        .filter(|m| same_relation(m))
        .filter(|m| !nested(m))
        .find_map(|m| in_place.iter().find(|n| same_place(n, m)).map(|n| (*m, *n)));
    // The two names depend on the same word ("capital of Germany" / "capital of France"),
    // not merely follow the same preposition ("author of The Hobbit" / "works of
    // Middle-earth").
    let swap_same_governor = swapped.is_some_and(|(m, n)| match (&m.governor, &n.governor) {
        (Some(a), Some(b)) => {
            stem(a) == stem(b) || crate::words::verb_base(a) == crate::words::verb_base(b)
        }
        _ => true,
    });
    let swap = swapped.map(|(m, n)| Contrast {
        kind: ContrastKind::Name,
        claim_says: m.text.clone(),
        source_says: n.text.clone(),
    });

    let (number_match, number_contrast) = numbers(
        &words(&without_digit_grouping(claim)),
        &words(&without_digit_grouping(sentence)),
    );
    let (century_match, century_contrast) = centuries(&cw, &sw);
    let (decade_match, decade_contrast) = decades(&cw, &sw);
    let number_match = number_match || century_match || decade_match;
    // A year of the claim inside a decade the sentence names is no contrast.
    let number_contrast = number_contrast
        .filter(|c| !(decade_match && c.kind == ContrastKind::Year))
        .or(century_contrast)
        .or(decade_contrast);
    let superlative = superlative_flip(&cw, &sw);
    let ordinal = ordinal_mismatch(&cw, &sw);
    let contrast = swap
        .clone()
        .or_else(|| number_contrast.clone())
        .or_else(|| superlative.clone())
        .or_else(|| ordinal.clone());

    let title_words: HashSet<String> = tw.iter().map(key).collect();
    let subject_in_title = claim_names
        .first()
        .is_some_and(|n| n.words.iter().all(|w| title_words.contains(w)))
        || (!tw.is_empty()
            && tw
                .iter()
                .all(|w| claim_lower.contains(&key(w)) || is_function_word(&w.lower)));
    // A sentence that opens with a pronoun ("It lies in the Himalayas") is about the
    // document's subject.
    let opens_with_pronoun = sw
        .first()
        .is_some_and(|w| crate::words::is_in(crate::words::PRONOUNS, &w.lower));
    let sentence_subject_in_claim = match sentence_names.first() {
        Some(n) if !opens_with_pronoun => n.words.iter().all(|w| claim_lower.contains(w)),
        _ => subject_in_title,
    };
    // The word before the sentence's first verb, when it is a pronoun or a name, is a surer
    // subject than its first name ("A member of the Congress, Singh was ...",
    // "Additionally, he is ...").
    // A verb form inside an introductory phrase ("Reaching a maximum confirmed length of 30
    // m, it is ...") is not the sentence's verb: after a comma, the first auxiliary is.
    let first_verb = sw
        .iter()
        .position(|w| crate::words::is_aux(&w.lower) || (!w.capitalised && is_verb_form(&w.lower)));
    let introduced = first_verb.and_then(|v| {
        let comma = sw
            .windows(2)
            .position(|p| text_between(sentence, &p[0], &p[1]).contains(','))?;
        (v <= comma && !crate::words::is_aux(&sw[v].lower))
            .then(|| {
                sw.iter()
                    .skip(comma + 1)
                    .position(|w| crate::words::is_aux(&w.lower))
                    .map(|i| i + comma + 1)
            })
            .flatten()
    });
    let verb_at = introduced.or(first_verb);
    let ours = |w: &Word<'_>| {
        claim_lower.contains(&key(w)) || (subject_in_title && title_words.contains(&key(w)))
    };
    let subject_before_verb = match verb_at.filter(|&v| v > 0) {
        Some(v) if crate::words::is_in(crate::words::PRONOUNS, &sw[v - 1].lower) => {
            subject_in_title
        }
        Some(v) if sw[v - 1].capitalised && !is_function_word(&sw[v - 1].lower) => {
            // The whole name before the verb ("Simón José ... Bolívar Palacios Ponte y
            // Blanco was"), or the name an appositive follows ("Hungarian, or Magyar, is").
            let mut start = v - 1;
            while start > 0
                && (sw[start - 1].capitalised
                    || matches!(
                        sw[start - 1].lower.as_str(),
                        "de" | "la" | "y" | "van" | "von"
                    ))
                && text_between(sentence, &sw[start - 1], &sw[start])
                    .trim()
                    .is_empty()
            {
                start -= 1;
            }
            let appositive_of_first = start > 0
                && sw[0].capitalised
                && text_between(sentence, &sw[0], &sw[1]).trim() == ","
                && ours(&sw[0]);
            sw[start..v].iter().any(ours) || appositive_of_first
        }
        // "The game was invented in China" in the article on Go: a definite noun of the
        // claim's or the title's, in the claim's subject's own article.
        Some(v)
            if v >= 2
                && subject_in_title
                && matches!(sw[v - 2].lower.as_str(), "the" | "this")
                && (claim_lower.contains(&key(&sw[v - 1]))
                    || title_words.contains(&key(&sw[v - 1]))) =>
        {
            true
        }
        _ => sentence_subject_in_claim,
    };
    // The plural strip leaves "-es" plurals with their "e" ("cockroaches" -> "cockroache").
    let named = |t: &String| {
        let singular = t.strip_suffix('e').map(str::to_string);
        [Some(t.clone()), singular]
            .into_iter()
            .flatten()
            .any(|t| sentence_terms.contains(&t) || title_terms.contains(&t))
    };
    let subject = claim_subject(claim, &cw);
    let subject_named = subject
        .as_ref()
        .is_none_or(|(terms, _)| terms.iter().all(named));
    // A verb counts in any of its forms ("seen" / "see", "created" / "creates"), a word in
    // its longer forms ("math" / "mathematics").
    let predicate_addressed = subject.as_ref().is_none_or(|(terms, end)| {
        if copular(&cw[*end..]) {
            return true;
        }
        let predicate = claim_predicate(&cw, terms, *end);
        predicate.is_empty()
            || predicate.iter().any(|t| {
                let base = crate::words::verb_base(t);
                named(t)
                    || sw.iter().any(|w| {
                        crate::words::verb_base(&w.lower) == base
                            || (t.len() >= 4 && w.lower.starts_with(t.as_str()))
                    })
            })
    });
    // What a copular claim says its subject is, against what a sentence about the subject
    // says it is: "Beethoven was a saxophonist" / "Beethoven was a German composer".
    // Only where the sentence has every name of the claim: "an English writer" says nothing
    // against "the author of The Hobbit".
    // And only in a document about the claim's subject itself: every word of the title
    // before a comma or a parenthesis is the claim's ("Saturn V" is not about Saturn, "House
    // of Romanov" not about House).
    let title_head = title.split(['(', ',']).next().unwrap_or("");
    let title_is_claims = words(title_head)
        .iter()
        .all(|w| is_function_word(&w.lower) || claim_lower.contains(&key(w)));
    let category = subject.as_ref().and_then(|(_, end)| {
        let verb = verb_at?;
        (subject_before_verb
            && missing.is_empty()
            && title_is_claims
            && crate::words::is_in(crate::words::BE, &sw[verb].lower))
        .then(|| {
            category_swap(
                (claim, &cw[*end..]),
                (sentence, &sw[verb..]),
                &sentence_terms,
                &title_terms,
            )
        })
        .flatten()
    });
    let country = subject.as_ref().and_then(|(_, end)| {
        (subject_before_verb && !title_is_namesake(title, &cw))
            .then(|| {
                let predicate: Vec<Word<'_>> = sw[verb_at?..]
                    .iter()
                    .filter(|w| !only_birthplace(&w.lower))
                    .cloned()
                    .collect();
                country_swap(
                    claim,
                    &cw[*end..],
                    sentence,
                    &predicate,
                    sentence_countries(),
                )
            })
            .flatten()
    });
    let contrast = contrast.or(category).or(country);
    // How much of the rest of the claim the sentence repeats around the differing detail.
    let coverage_beside_contrast = contrast.as_ref().map_or(0.0, |c| {
        let detail: HashSet<String> = words(&c.claim_says).iter().map(term).collect();
        // "located in Italy" is answered by "a city of Somalia" without the verb.
        let rest: Vec<&String> = claim_terms
            .iter()
            .filter(|t| !detail.contains(*t) && !PLACE_VERBS.contains(&t.as_str()))
            .collect();
        if rest.is_empty() {
            return 1.0;
        }
        let covered = rest
            .iter()
            .filter(|t| sentence_terms.contains(**t) || title_terms.contains(**t))
            .count();
        covered as f32 / rest.len() as f32
    });
    PairChecks {
        subject_named,
        subject_before_verb,
        swap_same_governor,
        predicate_addressed,
        coverage_beside_contrast,
        subject_in_title,
        title_opens_claim: title_opens_claim(&cw, title),
        sentence_subject_in_claim,
        coverage,
        sentence_coverage,
        title_coverage,
        name_coverage,
        negation_mismatch: negated(&cw, &sw) != negated(&sw, &cw)
            || prefix_negated(&cw, &sw)
            || prefix_negated(&sw, &cw),
        number_match,
        number_mismatch: number_contrast.is_some(),
        name_swap: swap.is_some(),
        novel_names: !missing.is_empty() && !novel.is_empty(),
        superlative_flip: superlative.is_some(),
        ordinal_mismatch: ordinal.is_some(),
        hedged: hedged(&sw),
        debunked: debunks(&sw) && !debunks(&cw),
        attributed: attributes(&sw) && !attributes(&cw),
        contrast,
    }
}

fn lower<'w>(ws: &'w [Word<'_>]) -> Vec<&'w str> {
    ws.iter().map(|w| w.lower.as_str()).collect()
}

/// A title that names a country the claim does not ("Valencia, Venezuela" for a claim about
/// Valencia in Spain) is about a namesake: its sentences say nothing of the claim's country.
fn title_is_namesake(title: &str, cw: &[Word<'_>]) -> bool {
    let claims = countries(&lower(cw));
    countries(&lower(&words(title))).iter().any(|t| {
        !claims
            .iter()
            .any(|c| countries_overlap(c.country, t.country))
    })
}

/// The claim puts its subject in, or of, one country ("is located in Italy", "a Canadian
/// rock band": `claim_predicate`, the words after its subject), and a sentence about that
/// subject names another in what it says of it (`sentence_predicate`, from its verb on) and
/// none that is or holds the claim's anywhere (`sentence_countries`, all it names).
fn country_swap(
    claim: &str,
    claim_predicate: &[Word<'_>],
    sentence: &str,
    sentence_predicate: &[Word<'_>],
    sentence_countries: &[CountryMention],
) -> Option<Contrast> {
    let claimed = countries(&lower(claim_predicate));
    let first = claimed.first()?;
    if claimed
        .iter()
        .any(|c| !countries_overlap(c.country, first.country))
    {
        return None;
    }
    if sentence_countries
        .iter()
        .any(|c| countries_overlap(c.country, first.country))
    {
        return None;
    }
    let other = countries(&lower(sentence_predicate)).into_iter().next()?;
    let text = |text: &str, ws: &[Word<'_>], at: usize, len: usize| {
        text.get(ws[at].start..ws[at + len - 1].end)
            .unwrap_or("")
            .to_string()
    };
    Some(Contrast {
        kind: ContrastKind::Country,
        claim_says: text(claim, claim_predicate, first.at, first.len),
        source_says: text(sentence, sentence_predicate, other.at, other.len),
    })
}

/// The text between two words of `text` (`a` before `b`).
fn text_between<'t>(text: &'t str, a: &Word<'_>, b: &Word<'_>) -> &'t str {
    text.get(a.end..b.start).unwrap_or("")
}

/// Lower-cased content words with a crude plural strip ("mountains" = "mountain").
fn content_terms(ws: &[Word<'_>]) -> HashSet<String> {
    ws.iter()
        .filter(|w| !is_function_word(&w.lower) && !NEGATORS.contains(&w.lower.as_str()))
        .map(term)
        .collect()
}

/// How a content word is compared across texts: acronyms as written, other words lower-cased
/// with a crude plural strip.
fn term(w: &Word<'_>) -> String {
    if is_acronym(w.text) {
        w.text.to_string()
    } else {
        stem(&w.lower)
    }
}

/// The terms naming what a claim is about, when it opens with a plain subject: a short noun
/// phrase directly followed by its verb ("of" before a name stays inside it). Its names when
/// it has any ("Theodore Roosevelt was ...", "The Qing dynasty was ..." -> qing), those
/// before "of" first ("The Great Wall of China is ..." -> great, wall; "The capital of Sicily
/// is ..." -> sicily); else, after an article and before "is" or "has", its words ("The
/// koala is ..." -> koala). A claim's first word is capitalised whatever it is, so alone it
/// counts as a name only when it is the whole phrase ("Gold has ...").
///
/// Empty, so that nothing is required, whenever the guess would be unsafe: a claim opening
/// otherwise ("Is ...", "Wearing masks ...", "Genetically, ..."), one reporting it
/// ("Scientists have found that ..."), a phrase not followed by a verb ("Individuals with
/// antibodies ..."), one of more than five words, or a generic one before a modal ("A sick
/// person will ...").
fn claim_subject(text: &str, cw: &[Word<'_>]) -> Option<(Vec<String>, usize)> {
    use crate::words::{is_aux, is_in, BE, DETERMINERS, HAVE};
    let start = cw
        .iter()
        .position(|w| !is_in(DETERMINERS, &w.lower))
        .unwrap_or(cw.len());
    let mut end = start;
    while let Some(w) = cw.get(end) {
        // "Queen (band) is ...": a disambiguating parenthesis stays inside the phrase.
        let gap =
            end > start && !matches!(text[cw[end - 1].end..w.start].trim(), "" | "." | "(" | ")");
        if gap {
            break;
        }
        let name_joiner =
            w.lower == "of" && end > start && cw.get(end + 1).is_some_and(|n| n.capitalised);
        if name_joiner {
            end += 1;
            continue;
        }
        if is_function_word(&w.lower) || NEGATORS.contains(&w.lower.as_str()) {
            break;
        }
        if end > start && !w.capitalised && is_verb_form(&w.lower) {
            break;
        }
        end += 1;
    }
    let next = cw.get(end)?;
    let followed_by_verb = is_aux(&next.lower) || (!next.capitalised && is_verb_form(&next.lower));
    let phrase = &cw[start..end];
    // "Wearing masks ...", "Smoking causes ...": a verb, not a name, opens the claim.
    let opens_with_gerund = start == 0 && phrase.first().is_some_and(|w| w.lower.ends_with("ing"));
    // "Scientists have found that ...", "Studies show that ...": the phrase is who reports
    // the claim, not what it is about.
    let reports = cw[end..].iter().take(4).any(|w| w.lower == "that");
    if !followed_by_verb || phrase.is_empty() || phrase.len() > 5 || opens_with_gerund || reports {
        return None;
    }
    let is_name = |i: usize| {
        let w = &phrase[i];
        let first_word = start + i == 0;
        w.capitalised
            && w.lower != "of"
            && (!first_word || phrase.len() == 1 || phrase[1].capitalised)
    };
    // The names before "of" are the head ("The Great Wall of China" is named by "Great
    // Wall"); those after it only when there are none before ("The capital of Sicily").
    let of = phrase
        .iter()
        .position(|w| w.lower == "of")
        .unwrap_or(phrase.len());
    let names_in = |range: std::ops::Range<usize>| -> Vec<String> {
        range
            .filter(|&i| is_name(i) && phrase[i].lower.chars().count() > 1)
            .map(|i| term(&phrase[i]))
            .collect()
    };
    let mut names = names_in(0..of);
    if names.is_empty() {
        names = names_in(of..phrase.len());
    }
    if !names.is_empty() {
        return Some((names, end));
    }
    let generic_ok = start > 0
        && phrase.len() <= 2
        && phrase.iter().all(|w| !w.capitalised)
        && (is_in(BE, &next.lower) || is_in(HAVE, &next.lower));
    if generic_ok {
        Some((phrase.iter().map(term).collect(), end))
    } else {
        Some((Vec::new(), end))
    }
}

/// Words that say how much or how surely, not what: a sentence need not repeat them to
/// address the claim ("can only be seen", "completely white", "its own").
const DEGREE_WORDS: &[&str] = &[
    "only",
    "just",
    "also",
    "even",
    "ever",
    "own",
    "completely",
    "entirely",
    "fully",
    "always",
    "still",
    "very",
    "more",
    "less",
    "most",
    "least",
    "all",
    "several",
    "many",
    "few",
];

/// The terms of what the claim says about its subject: the content words after the subject
/// phrase of [`claim_subject`], less numbers (the number check compares those), degree words
/// and the subject's own terms. Empty when the claim has no plain subject.
fn claim_predicate(cw: &[Word<'_>], subject: &[String], end: usize) -> Vec<String> {
    cw[end..]
        .iter()
        .filter(|w| {
            !is_function_word(&w.lower)
                && !NEGATORS.contains(&w.lower.as_str())
                && !is_number(&w.lower)
                && !DEGREE_WORDS.contains(&w.lower.as_str())
                && !NUMBER_WORDS.contains(&w.lower.as_str())
        })
        .map(term)
        .filter(|t| !subject.contains(t))
        .collect()
}

/// Whether a predicate says what its subject is ("is a mollusc", "was not a politician", "is
/// still alive") rather than what it does or has ("has three hearts", "can be seen", "is
/// played on"): a sentence that says what the subject is answers a copular claim without
/// repeating its words ("served as Prime Minister" refutes "was not a politician").
fn copular(predicate: &[Word<'_>]) -> bool {
    use crate::words::{is_in, is_participle, BE};
    let Some(verb) = predicate.first() else {
        return false;
    };
    if !is_in(BE, &verb.lower) {
        return false;
    }
    let complement = predicate[1..].iter().find(|w| {
        !NEGATORS.contains(&w.lower.as_str())
            && !DEGREE_WORDS.contains(&w.lower.as_str())
            && !w.lower.ends_with("ly")
    });
    !complement.is_some_and(|w| is_participle(&w.lower))
}

/// The heads of the noun phrases after a copula: the phrase's last word and, after "of",
/// the next phrase's ("is a series of spacecraft" -> series, spacecraft; "is a German
/// composer, conductor, and pianist" -> composer). Empty unless the predicate is a plain
/// copula with a noun phrase: negated and verb-like complements are left alone.
fn complement_heads(text: &str, predicate: &[Word<'_>]) -> Vec<String> {
    use crate::words::{is_in, DETERMINERS};
    if !copular(predicate) {
        return Vec::new();
    }
    let mut heads = Vec::new();
    let mut i = 1;
    let mut determined = false;
    while i < predicate.len() && heads.len() < 2 {
        let w = &predicate[i];
        if NEGATORS.contains(&w.lower.as_str()) {
            return Vec::new();
        }
        if is_in(DETERMINERS, &w.lower) {
            determined = true;
            i += 1;
            continue;
        }
        if DEGREE_WORDS.contains(&w.lower.as_str()) || w.lower.ends_with("ly") {
            i += 1;
            continue;
        }
        // "is hideous", "is lawless": an adjective, not a category.
        if !determined {
            return Vec::new();
        }
        // The phrase: words up to a function word or punctuation.
        let mut last = None;
        while let Some(w) = predicate.get(i) {
            // "the planet closest to the Sun": the head comes before the superlative.
            let superlative = SUPERLATIVES
                .iter()
                .any(|(a, b)| w.lower == *a || w.lower == *b);
            // ... and before a verb form after it ("a launch vehicle developed by NASA", not
            // "a distilled drink").
            let verb = last.is_some()
                && !w.capitalised
                && (is_verb_form(&w.lower) || crate::words::is_participle(&w.lower));
            if is_function_word(&w.lower) || is_number(&w.lower) || superlative || verb {
                break;
            }
            // An ordinal ranks, it does not name a kind ("the 13th largest").
            if !is_ordinal(&w.lower) {
                last = Some(w);
            }
            i += 1;
            let punctuated = predicate
                .get(i)
                .is_some_and(|n| !text[w.end..n.start].trim().is_empty());
            if punctuated {
                break;
            }
        }
        match last {
            Some(h) if !h.capitalised => heads.push(term(h)),
            _ => break,
        }
        if predicate.get(i).is_some_and(|w| w.lower == "of") {
            i += 1;
        } else {
            break;
        }
    }
    heads
}

/// A copular claim's category missing from a copular sentence that gives another in its
/// place ("says composer, not saxophonist"). The claim's head (or its "of" phrase's) must be
/// absent from the sentence and the title, and the sentence must have a head of its own.
fn category_swap(
    (claim, claim_predicate): (&str, &[Word<'_>]),
    (sentence, sentence_predicate): (&str, &[Word<'_>]),
    sentence_terms: &HashSet<String>,
    title_terms: &HashSet<String>,
) -> Option<Contrast> {
    let claim = complement_heads(claim, claim_predicate);
    let sentence = complement_heads(sentence, sentence_predicate);
    let (i, missing) = claim
        .iter()
        .enumerate()
        .find(|(_, h)| !sentence_terms.contains(*h) && !title_terms.contains(*h))?;
    let source = sentence.get(i).or(sentence.first())?;
    (source != missing).then(|| Contrast {
        kind: ContrastKind::Category,
        claim_says: missing.clone(),
        source_says: source.clone(),
    })
}

/// Spelled-out numbers, compared (like digits) by nothing but the number check.
const NUMBER_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "hundred", "thousand", "million", "billion", "dozen",
];

/// A lower-case word that reads as a finite verb: a past form ("dropped", "spent") or a
/// known verb with a third-person "-s" ("flows", "computes").
fn is_verb_form(w: &str) -> bool {
    use crate::words::{is_known_verb, is_past, verb_base};
    (is_past(w) && !w.ends_with("ing"))
        || (w.ends_with('s') && !w.ends_with("ss") && is_known_verb(&verb_base(w)))
}

/// The other forms of the words of `ws` that count as theirs ([`aliases`]: the parts of
/// "German-born", "Germany" for "German" and back), function words left out.
fn text_aliases(ws: &[Word<'_>]) -> Vec<String> {
    let lower: Vec<&str> = ws.iter().map(|w| w.lower.as_str()).collect();
    aliases(&lower)
        .into_iter()
        .filter(|a| !is_function_word(a))
        .collect()
}

/// `set` with `aliases`, each normalised by `norm` as the set's own words were.
fn with_aliases(
    mut set: HashSet<String>,
    aliases: &[String],
    norm: impl Fn(&str) -> String,
) -> HashSet<String> {
    set.extend(aliases.iter().map(|a| norm(a)));
    set
}

/// Whether the claim opens (after an article) with the words of the title, leaving out a
/// title's qualifier ("Mercury (planet)", "Kingston, Jamaica").
fn title_opens_claim(cw: &[Word<'_>], title: &str) -> bool {
    let head = title.split(['(', ',']).next().unwrap_or_default();
    let tw: Vec<String> = words(head).iter().map(|w| stem(&key(w))).collect();
    let start = cw
        .iter()
        .position(|w| !matches!(w.lower.as_str(), "the" | "a" | "an"))
        .unwrap_or(cw.len());
    !tw.is_empty()
        && cw.len() >= start + tw.len()
        && cw[start..start + tw.len()]
            .iter()
            .map(|w| stem(&key(w)))
            .eq(tw.iter().cloned())
}

/// An all-capitals word of two or more letters ("ICE", "NASA"): it matches only itself, not
/// the ordinary word ("ice").
fn is_acronym(text: &str) -> bool {
    text.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && text.chars().all(|c| !c.is_alphabetic() || c.is_uppercase())
}

/// How a word is compared: lower-cased, except acronyms.
fn key(w: &Word<'_>) -> String {
    if is_acronym(w.text) {
        w.text.to_string()
    } else {
        w.lower.clone()
    }
}

fn stem(w: &str) -> String {
    let w = w.trim_end_matches("'s");
    match w.strip_suffix('s') {
        Some(s) if s.len() > 3 && !s.ends_with('s') => s.to_string(),
        _ => w.to_string(),
    }
}

/// A run of capitalised words: its text, its lower-cased words, and the lower-cased word
/// before it (the anchor that a swapped name shares with the original).
#[derive(Debug)]
struct Name {
    text: String,
    words: Vec<String>,
    before: Option<String>,
    /// The content word the name depends on: "born" in "born in Chicago", "capital" in
    /// "the capital of Germany" (the nearest word before the anchor that is not a
    /// closed-class word).
    governor: Option<String>,
}

/// The nearest word before the name at `start` that is not a closed-class word, the name's
/// own run excluded (see [`Name::governor`]).
fn governor(ws: &[Word<'_>], start: usize) -> Option<String> {
    ws[..start]
        .iter()
        .rev()
        .find(|w| !is_function_word(&w.lower) && !w.capitalised)
        .map(|w| w.lower.clone())
}

/// Verbs of place that any "in X" may follow: "located in Berlin" is answered by "a tower
/// in Paris" without the verb.
const PLACE_VERBS: &[&str] = &[
    "located", "situated", "based", "lie", "lies", "found", "set",
];

/// The word a name follows, skipping articles and up to two lower-case modifiers ("in
/// northern Tanzania" and "in South Africa" both follow "in"; "an American" and "a Canadian"
/// both follow the verb before the article).
fn anchor(ws: &[Word<'_>], start: usize) -> Option<String> {
    let mut j = start;
    let mut skipped_modifiers = 0;
    while j > 0 {
        j -= 1;
        let w = &ws[j];
        if matches!(w.lower.as_str(), "a" | "an" | "the") {
            continue;
        }
        if is_function_word(&w.lower) || w.capitalised || skipped_modifiers == 2 {
            return Some(w.lower.clone());
        }
        skipped_modifiers += 1;
    }
    None
}

/// Capitalised words that are not function words, in runs ("Mount Everest", "New York"); a
/// run ends at punctuation ("Paris, France" is two names).
fn names(text: &str, ws: &[Word<'_>]) -> Vec<Name> {
    let is_name =
        |w: &Word<'_>| w.capitalised && !is_function_word(&w.lower) && !is_number(&w.lower);
    let mut out = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        if !is_name(&ws[i]) {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < ws.len() && is_name(&ws[i]) && text[ws[i - 1].end..ws[i].start].trim().is_empty()
        {
            i += 1;
        }
        out.push(Name {
            text: ws[start..i]
                .iter()
                .map(|w| w.text)
                .collect::<Vec<_>>()
                .join(" "),
            words: ws[start..i].iter().map(key).collect(),
            before: anchor(ws, start),
            governor: governor(ws, start),
        });
    }
    out
}

const NEGATORS: &[&str] = &[
    "not", "no", "never", "neither", "nor", "none", "nobody", "nothing", "cannot", "without",
];

/// Whether the text has a negation. Presence, not parity: "does not cause autism; studies
/// found no link" is negated once, in two clauses, not twice. A "without" counts only where
/// what it leaves out is something the `other` text speaks of: "divides them both without a
/// remainder" negates nothing of "computes the greatest common divisor", while "made without
/// juniper" does negate "flavoured with juniper berries".
fn negated(ws: &[Word<'_>], other: &[Word<'_>]) -> bool {
    ws.iter().enumerate().any(|(i, w)| {
        if w.lower == "without" {
            return ws[i + 1..]
                .iter()
                .filter(|n| !is_function_word(&n.lower))
                .take(2)
                .any(|n| other.iter().any(|o| stem(&o.lower) == stem(&n.lower)));
        }
        NEGATORS.contains(&w.lower.as_str()) || w.lower.ends_with("n't")
    })
}

/// Whether a word of `a` is a word of `b` with a negating prefix and `b` lacks it:
/// "unofficially" / "officially", "unknown" / "known", "non-violent" / "violent".
fn prefix_negated(a: &[Word<'_>], b: &[Word<'_>]) -> bool {
    let b_words: HashSet<&str> = b.iter().map(|w| w.lower.as_str()).collect();
    a.iter().any(|w| {
        !b_words.contains(w.lower.as_str())
            && ["non-", "non", "un"].iter().any(|prefix| {
                w.lower
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.len() >= 4 && b_words.contains(rest))
            })
    })
}

const HEDGES: &[&str] = &[
    "may",
    "might",
    "could",
    "possibly",
    "perhaps",
    "probably",
    "likely",
    "unlikely",
    "reportedly",
    "allegedly",
    "alleged",
    "suggests",
    "suggest",
    "suggested",
    "believed",
    "thought",
    "uncertain",
    "unclear",
    "disputed",
    "speculated",
    "rumoured",
    "rumored",
    "purportedly",
    "apparently",
    "supposedly",
    "said",
    "claimed",
    "popularly",
];

/// Whether the words hedge; a capitalised hedge word after the first is a name ("Brian
/// May").
fn hedged(ws: &[Word<'_>]) -> bool {
    ws.iter()
        .enumerate()
        .any(|(i, w)| HEDGES.contains(&w.lower.as_str()) && (i == 0 || !w.capitalised))
}

/// Words by which a sentence says that what it reports is not so.
const DEBUNKERS: &[&str] = &[
    "myth",
    "myths",
    "misconception",
    "misconceptions",
    "hoax",
    "debunked",
    "apocryphal",
    "falsely",
    "mistakenly",
    "erroneously",
    "wrongly",
    "untrue",
];

/// Whether the words call what they report a myth or false ("... is a myth", "a common
/// misconception is that ...", "an urban legend", "... is false").
fn debunks(ws: &[Word<'_>]) -> bool {
    ws.iter().any(|w| DEBUNKERS.contains(&w.lower.as_str()))
        || ws.windows(2).any(|p| {
            matches!(
                (p[0].lower.as_str(), p[1].lower.as_str()),
                ("urban", "legend") | ("is", "false") | ("was", "false") | ("are", "false")
            )
        })
}

/// Phrases by which a sentence passes something on as what people say rather than as fact.
const HEARSAY: &[&[&str]] = &[
    &["often", "said"],
    &["is", "said", "to"],
    &["are", "said", "to"],
    &["was", "said", "to"],
    &["were", "said", "to"],
    &["commonly", "said"],
    &["widely", "said"],
    &["popularly", "said"],
    &["often", "claimed"],
    &["some", "claim"],
    &["some", "say"],
    &["it", "is", "claimed"],
    &["popular", "belief"],
    &["widely", "believed"],
    &["commonly", "believed"],
    &["popularly", "believed"],
    &["often", "believed"],
    &["legend", "has", "it"],
    &["according", "to", "legend"],
    &["according", "to", "popular"],
    &["according", "to", "folklore"],
    &["is", "rumoured"],
    &["is", "rumored"],
];

/// Whether the words pass something on as hearsay ([`HEARSAY`]).
fn attributes(ws: &[Word<'_>]) -> bool {
    HEARSAY.iter().any(|phrase| {
        ws.windows(phrase.len())
            .any(|w| w.iter().zip(phrase.iter()).all(|(w, p)| w.lower == *p))
    })
}

/// The text with commas between digit groups removed ("10,000" -> "10000"), so that a number
/// is one word.
fn without_digit_grouping(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let grouping = c == ','
            && i > 0
            && chars[i - 1].is_ascii_digit()
            && chars
                .get(i + 1..i + 4)
                .is_some_and(|g| g.iter().all(char::is_ascii_digit))
            && !chars.get(i + 4).is_some_and(char::is_ascii_digit);
        if !grouping {
            out.push(c);
        }
    }
    out
}

/// Numbers as written, without a trailing dot; "two" to "twelve" as digits ("one" is as
/// often a pronoun as a number).
fn number_value(w: &Word<'_>) -> Option<String> {
    // NUMBER_WORDS[1..12] is "two" to "twelve".
    let spelled = &NUMBER_WORDS[1..12];
    if let Some(i) = spelled.iter().position(|s| *s == w.lower) {
        return Some((i + 2).to_string());
    }
    is_number(&w.lower).then(|| w.lower.replace(',', "").trim_end_matches('.').to_string())
}

/// Words by which a claim gives a number as a rough figure.
const APPROXIMATORS: &[&str] = &[
    "about",
    "around",
    "approximately",
    "roughly",
    "nearly",
    "almost",
    "some",
    "over",
    "under",
    "circa",
    "c.",
    "than",
];

/// Whether the claim's number `claimed` states the sentence's `stated` as a rough figure: a
/// number ending in two zeros or more within half its last unit ("800,000" for 824,340; the
/// unit is the last non-zero digit's place: "820" is no rough figure), or, after "about",
/// "nearly", "over" and the like, within a tenth as well.
fn close(claimed: &str, stated: &str, before: Option<&str>) -> bool {
    let (Ok(c), Ok(s)) = (claimed.parse::<f64>(), stated.parse::<f64>()) else {
        return false;
    };
    let trailing_zeros = claimed
        .split('.')
        .next()
        .unwrap_or("")
        .bytes()
        .rev()
        .take_while(|b| *b == b'0')
        .count();
    let unit = if claimed.contains('.') || trailing_zeros < 2 {
        0.0
    } else {
        10f64.powi(trailing_zeros as i32)
    };
    let mut tolerance = unit / 2.0;
    if before.is_some_and(|b| APPROXIMATORS.contains(&b)) {
        tolerance = tolerance.max(c.abs() / 10.0);
    }
    c != 0.0 && (c - s).abs() <= tolerance
}

/// Whether a number of the claim is in the sentence, and the contrast when the claim has a
/// number (or year) that the sentence lacks while the sentence has another of the same kind.
fn numbers(cw: &[Word<'_>], sw: &[Word<'_>]) -> (bool, Option<Contrast>) {
    let sentence: Vec<(usize, String)> = sw
        .iter()
        .enumerate()
        .filter_map(|(i, w)| number_value(w).map(|v| (i, v)))
        .collect();
    let values: HashSet<&str> = sentence.iter().map(|(_, v)| v.as_str()).collect();
    let mut matched = false;
    let mut contrast = None;
    for (i, w) in cw.iter().enumerate() {
        let Some(v) = number_value(w) else { continue };
        let before = i.checked_sub(1).map(|j| cw[j].lower.as_str());
        let approximately = |s: &str| !is_year(&v) && !is_year(s) && close(&v, s, before);
        if values.contains(v.as_str()) || values.iter().any(|s| approximately(s)) {
            matched = true;
            continue;
        }
        if contrast.is_some() {
            continue;
        }
        let year = is_year(&v);
        let same_kind: Vec<&(usize, String)> = sentence
            .iter()
            .filter(|(_, s)| is_year(s) == year)
            .collect();
        // Prefer the number after the same word ("in 1889" / "in 1887").
        let anchored = same_kind.iter().find(|(j, _)| {
            before.is_some() && j.checked_sub(1).map(|k| sw[k].lower.as_str()) == before
        });
        if let Some((j, _)) = anchored.or(same_kind.first()) {
            contrast = Some(Contrast {
                kind: if year {
                    ContrastKind::Year
                } else {
                    ContrastKind::Number
                },
                claim_says: w.text.to_string(),
                source_says: sw[*j].text.to_string(),
            });
        }
    }
    (matched, contrast)
}

/// The claim's century ("in the 14th century", "the nineteenth century") against the
/// sentence's years: a year inside it matches, and years that are all outside it are the
/// contrast ("ended in 1066" for "took place in the 14th century"). Centuries before the
/// common era are left alone.
fn centuries(cw: &[Word<'_>], sw: &[Word<'_>]) -> (bool, Option<Contrast>) {
    let century = (1..cw.len()).find_map(|i| {
        let era_before = cw
            .get(i + 1)
            .is_some_and(|w| matches!(w.lower.as_str(), "bc" | "bce" | "b.c."));
        (cw[i].lower == "century" && !era_before)
            .then(|| ordinal_value(&cw[i - 1].lower).map(|n| (n, &cw[i - 1])))
            .flatten()
    });
    let Some((n, word)) = century else {
        return (false, None);
    };
    // The sentence's centuries: its own ("an 11th-century invasion", "the 11th century") and
    // those of its years.
    let mut stated: Vec<(String, u32)> = Vec::new();
    for (i, w) in sw.iter().enumerate() {
        let own = match w.lower.strip_suffix("-century") {
            Some(ordinal) => ordinal_value(ordinal),
            None if sw.get(i + 1).is_some_and(|n| n.lower == "century") => ordinal_value(&w.lower),
            None => None,
        };
        if let Some(c) = own {
            let text = w.text.trim_end_matches("-century");
            stated.push((format!("{text} century"), c));
        } else if is_year(&w.lower) {
            if let Ok(y) = w.lower.parse::<u32>() {
                stated.push((w.text.to_string(), y.div_ceil(100)));
            }
        }
    }
    if stated.iter().any(|(_, c)| *c == n) {
        return (true, None);
    }
    let contrast = stated.into_iter().next().map(|(text, _)| Contrast {
        kind: ContrastKind::Year,
        claim_says: format!("{} century", word.text),
        source_says: text,
    });
    (false, contrast)
}

/// The first year of a decade written "1960s" or "1980's".
fn decade(w: &str) -> Option<u32> {
    let digits = w.strip_suffix("'s").or_else(|| w.strip_suffix('s'))?;
    (is_year(digits) && digits.ends_with('0'))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The claim's decade ("in the early 1980's") against the sentence's decades and years: one
/// inside it matches, and decades or years all outside it are the contrast ("developed in the
/// late 1960s and early 1970s"). A year of the claim inside a decade of the sentence ("founded
/// in 1965" / "in the 1960s") matches too.
fn decades(cw: &[Word<'_>], sw: &[Word<'_>]) -> (bool, Option<Contrast>) {
    let sentence_decades: Vec<(&Word<'_>, u32)> = sw
        .iter()
        .filter_map(|w| decade(&w.lower).map(|d| (w, d)))
        .collect();
    let year_in_decade = cw.iter().any(|w| {
        is_year(&w.lower)
            && w.lower.parse::<u32>().is_ok_and(|y| {
                sentence_decades
                    .iter()
                    .any(|(_, d)| (*d..*d + 10).contains(&y))
            })
    });
    let Some((word, d)) = cw.iter().find_map(|w| decade(&w.lower).map(|d| (w, d))) else {
        return (year_in_decade, None);
    };
    let stated: Vec<(&Word<'_>, u32, u32)> = sentence_decades
        .iter()
        .map(|&(w, d)| (w, d, d + 10))
        .chain(sw.iter().filter(|w| is_year(&w.lower)).filter_map(|w| {
            let y = w.lower.parse::<u32>().ok()?;
            Some((w, y, y + 1))
        }))
        .collect();
    if stated.iter().any(|&(_, from, to)| from < d + 10 && d < to) {
        return (true, None);
    }
    let contrast = stated.first().map(|(w, _, _)| Contrast {
        kind: ContrastKind::Year,
        claim_says: word.text.to_string(),
        source_says: w.text.to_string(),
    });
    (year_in_decade, contrast)
}

/// The value of an ordinal ("14th" -> 14, "nineteenth" -> 19), for centuries.
fn ordinal_value(w: &str) -> Option<u32> {
    // After ORDINAL_WORDS' twelve: the centuries a claim names in words.
    const LATER: &[&str] = &[
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
        "twentieth",
        "twenty-first",
    ];
    if let Some(i) = ORDINAL_WORDS.iter().chain(LATER).position(|x| *x == w) {
        return Some(i as u32 + 1);
    }
    let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    (is_ordinal(w) && !digits.is_empty())
        .then(|| digits.parse().ok())
        .flatten()
}

const SUPERLATIVES: &[(&str, &str)] = &[
    ("highest", "lowest"),
    ("largest", "smallest"),
    ("biggest", "smallest"),
    ("tallest", "shortest"),
    ("longest", "shortest"),
    ("oldest", "youngest"),
    ("oldest", "newest"),
    ("most", "least"),
    ("deepest", "shallowest"),
    ("hottest", "coldest"),
    ("fastest", "slowest"),
    ("heaviest", "lightest"),
    ("richest", "poorest"),
    ("best", "worst"),
    ("earliest", "latest"),
    ("northernmost", "southernmost"),
    ("easternmost", "westernmost"),
    ("closest", "farthest"),
    ("closest", "furthest"),
    ("nearest", "farthest"),
    ("nearest", "furthest"),
    ("first", "last"),
];

const ORDINAL_WORDS: &[&str] = &[
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth",
];

/// The claim's superlative is reversed in the sentence: its opposite stands there and it does
/// not, or the sentence ranks it ("second-highest", "second largest") where the claim has it
/// plain.
fn superlative_flip(cw: &[Word<'_>], sw: &[Word<'_>]) -> Option<Contrast> {
    let has = |ws: &[Word<'_>], s: &str| ws.iter().any(|w| w.lower == s);
    for (i, w) in cw.iter().enumerate() {
        let opposite = SUPERLATIVES.iter().find_map(|&(a, b)| {
            if w.lower == a {
                Some(b)
            } else if w.lower == b {
                Some(a)
            } else {
                None
            }
        });
        let Some(opposite) = opposite else { continue };
        if w.lower == "first" || w.lower == "last" {
            continue; // ordinals, checked by `ordinal_mismatch`
        }
        // "at least one", "at most ten": a bound, not a superlative.
        if i > 0 && cw[i - 1].lower == "at" {
            continue;
        }
        let claim_ranked = i > 0 && is_ordinal(&cw[i - 1].lower);
        // "second-highest" is one word to the splitter.
        let ranked_in_source = sw.iter().find(|s| {
            s.lower
                .split_once('-')
                .is_some_and(|(o, rest)| is_ordinal(o) && rest == w.lower)
        });
        let ranked_in_source = ranked_in_source.map(|s| s.text.to_string()).or_else(|| {
            sw.windows(2)
                .find(|p| is_ordinal(&p[0].lower) && p[1].lower == w.lower)
                .map(|p| format!("{} {}", p[0].text, p[1].text))
        });
        if !claim_ranked {
            if let Some(ranked) = ranked_in_source {
                return Some(Contrast {
                    kind: ContrastKind::Superlative,
                    claim_says: w.text.to_string(),
                    source_says: ranked,
                });
            }
        }
        let as_superlative = |s: &str| {
            sw.iter()
                .enumerate()
                .any(|(j, x)| x.lower == s && !(j > 0 && sw[j - 1].lower == "at"))
        };
        if as_superlative(opposite) && !has(sw, &w.lower) {
            return Some(Contrast {
                kind: ContrastKind::Superlative,
                claim_says: w.text.to_string(),
                source_says: opposite.to_string(),
            });
        }
    }
    None
}

fn is_ordinal(w: &str) -> bool {
    if ORDINAL_WORDS.contains(&w) {
        return true;
    }
    let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &w[digits.len()..];
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && matches!(suffix, "st" | "nd" | "rd" | "th")
}

/// The claim has an ordinal ("the 42nd president") and the sentence has ordinals, none of
/// them the claim's.
fn ordinal_mismatch(cw: &[Word<'_>], sw: &[Word<'_>]) -> Option<Contrast> {
    // An ordinal joined to what it ranks ("16th-largest", "16th-most populous") counts as
    // the ordinal, ranking that word; "an 11th-century invasion" is a date, which
    // `centuries` compares.
    let ordinal = |w: &Word<'_>| {
        let (first, ranked) = w.lower.split_once('-').unwrap_or((&w.lower, ""));
        (is_ordinal(first) && ranked != "century").then(|| (first.to_string(), ranked.to_string()))
    };
    // What an ordinal ranks by: the word after it, both words of "most populous".
    let rank_at = |ws: &[Word<'_>], j: usize, joined: &str| {
        let mut after = (!joined.is_empty())
            .then_some(joined)
            .into_iter()
            .chain(ws.iter().skip(j).map(|w| w.lower.as_str()));
        let first = after.next().unwrap_or("");
        match (first, after.next()) {
            ("most" | "least", Some(next)) => format!("{first} {next}"),
            _ => first.to_string(),
        }
    };
    let (i, (claimed, joined)) = cw
        .iter()
        .enumerate()
        .find_map(|(i, w)| Some((i, ordinal(w)?)))?;
    let claim_ranks = rank_at(cw, i + 1, &joined);
    // "The 13th largest" and "the 16th-most populous" rank by different measures.
    let superlative_rank = claim_ranks.ends_with("est")
        || claim_ranks.starts_with("most ")
        || claim_ranks.starts_with("least ");
    let claim_after: HashSet<&str> = cw
        .iter()
        .skip(i + 1)
        .take(5)
        .map(|w| w.lower.as_str())
        .collect();
    let sentence: Vec<(&Word<'_>, String, String, usize)> = sw
        .iter()
        .enumerate()
        .filter_map(|(j, w)| {
            let (value, joined) = ordinal(w)?;
            let ranked = rank_at(sw, j + 1, &joined);
            let shared = sw
                .iter()
                .skip(j + 1)
                .take(4)
                .filter(|n| claim_after.contains(n.lower.as_str()))
                .count();
            Some((w, value, ranked, shared))
        })
        .collect();
    if sentence.is_empty() || sentence.iter().any(|(_, value, _, _)| *value == claimed) {
        return None;
    }
    // Prefer the ordinal ranking the same thing ("13th largest" / "16th-largest"), then the
    // one followed by more of the claim's words ("... in the world").
    let same_rank = sentence
        .iter()
        .filter(|(_, _, ranked, _)| *ranked == claim_ranks)
        .max_by_key(|(_, _, _, shared)| *shared);
    let (word, value, _, _) = match same_rank {
        Some(found) => found,
        None if superlative_rank => return None,
        None => &sentence[0],
    };
    let shown = if word.lower.contains('-') {
        value.as_str()
    } else {
        word.text
    };
    Some(Contrast {
        kind: ContrastKind::Ordinal,
        claim_says: cw[i]
            .text
            .split_once('-')
            .map_or(cw[i].text, |(first, _)| first)
            .to_string(),
        source_says: shown.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row: claim, sentence, title, and what the named check must say.
    fn check(
        claim: &str,
        sentence: &str,
        title: &str,
        want: &str,
        got: impl Fn(&PairChecks) -> String,
    ) {
        let c = compare(claim, sentence, title);
        assert_eq!(got(&c), want, "{claim:?} vs {sentence:?}: {c:?}");
    }

    #[test]
    fn names_swapped_after_the_same_word_are_contrasted() {
        let contrast = |c: &PairChecks| {
            c.contrast
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default()
        };
        for (claim, sentence, title, want) in [
            (
                "Paris is the capital of Germany.",
                "Paris is the capital and largest city of France.",
                "Paris",
                "says France, not Germany",
            ),
            (
                "The Eiffel Tower is located in Berlin.",
                "The Eiffel Tower is a wrought-iron lattice tower in Paris, France.",
                "Eiffel Tower",
                "says Paris, not Berlin",
            ),
            (
                "Mount Everest is the highest mountain on Earth.",
                "Mount Everest is Earth's highest mountain above sea level.",
                "Mount Everest",
                "",
            ),
            (
                "Albert Einstein was born in Germany.",
                "Albert Einstein was a German-born theoretical physicist.",
                "Albert Einstein",
                "",
            ),
            (
                "Charles Darwin was a French naturalist.",
                "Charles Darwin was an English naturalist and biologist.",
                "Charles Darwin",
                "says English, not French",
            ),
            (
                "The Serengeti is located in South Africa.",
                "The Serengeti is a national park in northern Tanzania.",
                "Serengeti",
                "says Tanzania, not South Africa",
            ),
            (
                "The Danube flows into the Caspian Sea.",
                "It flows through Central Europe into the Black Sea.",
                "Danube",
                "says Black Sea, not Caspian Sea",
            ),
            // Only a name in the same relation: "born in" is not "headquartered in".
            (
                "Walt Disney was born in Chicago.",
                "The Walt Disney Company is a conglomerate headquartered in Burbank.",
                "The Walt Disney Company",
                "",
            ),
            (
                "God gave the Ten Commandments to Abraham.",
                "The Ten Commandments were given to Moses on Mount Sinai.",
                "Ten Commandments",
                "says Moses, not Abraham",
            ),
            (
                "The board game Go was invented in Japan.",
                "The game was invented in China more than 2,500 years ago and is believed to be the oldest board game.",
                "Go (game)",
                "says China, not Japan",
            ),
            // After a copula the names' own word anchors them.
            (
                "Gold has the chemical symbol Ag.",
                "Gold is a chemical element; its chemical symbol is Au and atomic number 79.",
                "Gold",
                "says Au, not Ag",
            ),
            (
                "The Divine Comedy was written by Petrarch.",
                "The Divine Comedy is an Italian narrative poem by Dante Alighieri.",
                "Divine Comedy",
                "says Dante Alighieri, not Petrarch",
            ),
            // A name the sentence gives shorter, by the word it derives from, or with its
            // accents, is there: nothing stands in its place.
            (
                "Tijuana is on the Baja California Peninsula.",
                "Tijuana is the most populous city of the Mexican state of Baja California, located on the northwestern Pacific Coast of Mexico.",
                "Tijuana",
                "",
            ),
            (
                "The Quran is an Islamic text.",
                "Islam is an Abrahamic religion based on the Quran.",
                "Islam",
                "",
            ),
            (
                "The Quran is believed to be a revelation from Allah.",
                "The Quran is believed by Muslims to be a revelation directly from God (Allāh).",
                "Quran",
                "",
            ),
            // A shorter name that is not the claim's own beginning still stands in its place.
            (
                "Tijuana is on the Baja California Peninsula.",
                "Tijuana is located on the Pacific Coast.",
                "Tijuana",
                "says Pacific Coast, not Baja California Peninsula",
            ),
            // A region holding the sentence's place, or a country holding its country, is
            // no contradiction.
            (
                "Liverpool is in Europe.",
                "Liverpool is a port city and metropolitan borough in Merseyside, England.",
                "Liverpool",
                "",
            ),
            (
                "Liverpool is in the United Kingdom.",
                "Liverpool is a port city in England.",
                "Liverpool",
                "",
            ),
            (
                "Chile is in Asia.",
                "Chile is a country in the Southern Cone of southwestern South America.",
                "Chile",
                "says Southern Cone, not Asia",
            ),
            (
                "The platypus is a mammal endemic to South America.",
                "The platypus is a semiaquatic, egg-laying mammal endemic to eastern Australia.",
                "Platypus",
                "says Australia, not South America",
            ),
            // Countries that were once one are two.
            (
                "The Taj Mahal is in Pakistan.",
                "The Taj Mahal is a marble mausoleum on the bank of the Yamuna in Agra, India.",
                "Taj Mahal",
                "says Agra, not Pakistan",
            ),
            (
                "The Eiffel Tower is located in Germany.",
                "The Eiffel Tower is a wrought-iron lattice tower in France.",
                "Eiffel Tower",
                "says France, not Germany",
            ),
        ] {
            check(claim, sentence, title, want, contrast);
        }
    }

    #[test]
    fn numbers_and_years_that_differ() {
        let row = |c: &PairChecks| {
            format!(
                "{} {} {}",
                c.number_match,
                c.number_mismatch,
                c.contrast
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            )
        };
        for (claim, sentence, want) in [
            (
                "The tower was completed in 1887.",
                "The tower was completed in 1889 for the fair.",
                "false true says 1889, not 1887",
            ),
            (
                "The tower was completed in 1889.",
                "The tower was completed in 1889 for the fair.",
                "true false ",
            ),
            (
                "The city has 3,000 bridges.",
                "The city has 3000 bridges.",
                "true false ",
            ),
            (
                "The city has 300 bridges.",
                "It was founded in 1200 and has 450 bridges.",
                "false true says 450, not 300",
            ),
            (
                "The city has 300 bridges.",
                "The city has many bridges.",
                "false false ",
            ),
            // A rough figure of the sentence's number.
            (
                "Valencia has about 800,000 inhabitants.",
                "With a population of 824,340, it is the third-largest city in Spain.",
                "true false ",
            ),
            (
                "Valencia has 800,000 inhabitants.",
                "With a population of 824,340, it is the third-largest city in Spain.",
                "true false ",
            ),
            (
                "Valencia has about 100,000 inhabitants.",
                "With a population of 824,340, it is the third-largest city in Spain.",
                "false true says 824340, not 100000",
            ),
            (
                "The city has 820 bridges.",
                "The city has 824 bridges.",
                "false true says 824, not 820",
            ),
            (
                "The city has nearly 90 bridges.",
                "The city has 84 bridges.",
                "true false ",
            ),
            (
                "The tower was completed in 1890.",
                "The tower was completed in 1889 for the fair.",
                "false true says 1889, not 1890",
            ),
            // Spelled numbers ("one" aside).
            (
                "Medusa was one of the seven Gorgons.",
                "Medusa was one of the three Gorgons.",
                "false true says three, not seven",
            ),
            (
                "A spider has eight legs.",
                "Spiders have eight legs.",
                "true false ",
            ),
            // A century against the sentence's years and centuries.
            (
                "The Norman Conquest took place in the 14th century.",
                "The Anglo-Saxon period ended in 1066, with the Norman Conquest.",
                "false true says 1066, not 14th century",
            ),
            (
                "The Norman Conquest took place in the 14th century.",
                "The Norman Conquest was an 11th-century invasion.",
                "false true says 11th century, not 14th century",
            ),
            (
                "The Norman Conquest took place in the eleventh century.",
                "The Norman Conquest of 1066 changed England.",
                "true false ",
            ),
            (
                "The Norman Conquest took place in the 11th century.",
                "It began in the 11th century and ended in 1071.",
                "true false ",
            ),
            (
                "Rome was founded in the 8th century BC.",
                "Rome grew after 1100.",
                "false false ",
            ),
            // A decade against the sentence's decades and years.
            (
                "Heavy metal was developed in the early 1980's.",
                "Heavy metal developed in the late 1960s and early 1970s.",
                "false true says 1960s, not 1980's",
            ),
            (
                "Heavy metal was developed in the 1960s.",
                "Heavy metal developed in the late 1960s and early 1970s.",
                "true false ",
            ),
            (
                "The band was formed in the 1970s.",
                "The band was formed in London in 1970.",
                "true false ",
            ),
            (
                "The band was formed in 1973.",
                "The band was formed in the early 1970s.",
                "true false ",
            ),
            (
                "The band was formed in the 1990s.",
                "The band was formed in London in 1970.",
                "false true says 1970, not 1990s",
            ),
        ] {
            check(claim, sentence, "", want, row);
        }
    }

    #[test]
    fn superlatives_and_ordinals() {
        let row = |c: &PairChecks| {
            format!(
                "{} {} {}",
                c.superlative_flip,
                c.ordinal_mismatch,
                c.contrast
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            )
        };
        for (claim, sentence, want) in [
            (
                "The Pacific is the smallest ocean.",
                "The Pacific Ocean is the largest and deepest ocean.",
                "true false says largest, not smallest",
            ),
            (
                "K2 is the highest mountain.",
                "K2 is the second-highest mountain on Earth.",
                "true false says second-highest, not highest",
            ),
            (
                "K2 is the second highest mountain.",
                "K2 is the second-highest mountain on Earth.",
                "false false ",
            ),
            (
                "Everest is the highest mountain.",
                "Everest is Earth's highest mountain.",
                "false false ",
            ),
            (
                "Neptune is the planet closest to the Sun.",
                "Neptune is the eighth and farthest known planet orbiting the Sun.",
                "true false says farthest, not closest",
            ),
            // "At least" and "at most" are bounds.
            (
                "Tijuana is part of at least one metropolitan area.",
                "It is the hub of the metropolitan area and the most populous city in the north.",
                "false false ",
            ),
            (
                "Tijuana is the most populous city in the north.",
                "It has at least 1.9 million people.",
                "false false ",
            ),
            (
                "Obama was the 42nd president.",
                "Obama was the 44th president of the United States.",
                "false true says 44th, not 42nd",
            ),
            (
                "Obama was the 44th president.",
                "Obama was the 44th president of the United States.",
                "false false ",
            ),
            // An ordinal joined to what it ranks; a ranking by another measure is no
            // contrast; nor is a century.
            (
                "Libya is the 13th largest country in the world.",
                "Libya is the fourth-largest country in Africa and the 16th-largest in the world.",
                "false true says 16th, not 13th",
            ),
            (
                "Vietnam is the ninth most populous country.",
                "It is the world's 16th-most populous country.",
                "false true says 16th, not ninth",
            ),
            (
                "Vietnam is the 14th most famous country in the world.",
                "It is the world's 16th-most populous country.",
                "false false ",
            ),
            (
                "Vietnam is the 16th most populous country.",
                "It is the world's 16th-most populous country.",
                "false false ",
            ),
            (
                "The conquest took place in the 14th century.",
                "The conquest was an 11th-century invasion.",
                "false false says 11th century, not 14th century",
            ),
        ] {
            check(claim, sentence, "", want, row);
        }
    }

    #[test]
    fn a_sentence_calling_the_claim_a_myth_debunks_it() {
        let row = |c: &PairChecks| c.debunked.to_string();
        for (claim, sentence, want) in [
            (
                "Albert Einstein failed mathematics at school.",
                "The story that Einstein failed mathematics at school is a myth.",
                "true",
            ),
            (
                "Bulls are angered by the colour red.",
                "A common misconception is that bulls are angered by the colour red.",
                "true",
            ),
            (
                "Alligators live in the sewers of New York.",
                "Alligators in the sewers of New York are an urban legend.",
                "true",
            ),
            (
                "The report about the moon landing was false.",
                "The report about the moon landing was false.",
                "false",
            ),
            (
                "The story that Einstein failed mathematics is a myth.",
                "The story that Einstein failed mathematics at school is a myth.",
                "false",
            ),
            (
                "The Eiffel Tower is in Paris.",
                "The Eiffel Tower stands on the Champ de Mars in Paris.",
                "false",
            ),
            (
                "False Bay lies near Cape Town.",
                "False Bay is a body of water near Cape Town.",
                "false",
            ),
        ] {
            check(claim, sentence, "", want, row);
        }
    }

    #[test]
    fn a_sentence_passing_the_claim_on_as_hearsay_attributes_it() {
        let row = |c: &PairChecks| c.attributed.to_string();
        for (claim, sentence, want) in [
            (
                "The Great Wall of China is visible from the Moon.",
                "The Great Wall of China is often said to be visible from the Moon.",
                "true",
            ),
            (
                "Vikings wore horned helmets.",
                "According to popular belief, Vikings wore horned helmets.",
                "true",
            ),
            (
                "Some claim that the Great Wall is visible from the Moon.",
                "Some claim that the Great Wall is visible from the Moon.",
                "false",
            ),
            (
                "Mount Everest is the highest mountain on Earth.",
                "Mount Everest is Earth's highest mountain above sea level.",
                "false",
            ),
            (
                "Einstein said that God does not play dice.",
                "Einstein said that God does not play dice with the universe.",
                "false",
            ),
        ] {
            check(claim, sentence, "", want, row);
        }
    }

    #[test]
    fn negation_and_hedges() {
        let row = |c: &PairChecks| format!("{} {}", c.negation_mismatch, c.hedged);
        for (claim, sentence, want) in [
            (
                "The Great Wall is visible from the Moon.",
                "The Great Wall is not visible from the Moon.",
                "true false",
            ),
            (
                "The Great Wall isn't visible from the Moon.",
                "The Great Wall is not visible from the Moon.",
                "false false",
            ),
            (
                "Coffee causes cancer.",
                "Coffee may cause cancer.",
                "false true",
            ),
            (
                "Coffee causes cancer.",
                "No study found that coffee causes cancer.",
                "true false",
            ),
            (
                "The vaccine causes autism.",
                "The vaccine does not cause autism; studies found no link.",
                "true false",
            ),
            // A negating prefix on a word of the other text.
            (
                "The Bahamas is known unofficially as the Commonwealth of The Bahamas.",
                "The Bahamas, officially the Commonwealth of The Bahamas, is a country.",
                "true false",
            ),
            (
                "The protest was non-violent.",
                "The protest was violent.",
                "true false",
            ),
            (
                "The author is unknown.",
                "The author is unknown to historians.",
                "false false",
            ),
            // "Without" negates what it leaves out, only when the other text speaks of it.
            (
                "The Euclidean algorithm computes the greatest common divisor of two integers.",
                "It computes the greatest common divisor, the largest number that divides them both without a remainder.",
                "false false",
            ),
            (
                "Gin is made without juniper berries.",
                "Gin is a drink flavoured with juniper berries.",
                "true false",
            ),
            (
                "Gin is flavoured with juniper.",
                "Gin is a spirit made without juniper.",
                "true false",
            ),
            (
                "The union was formed in 1707.",
                "The union was formed in 1707.",
                "false false",
            ),
            // A capitalised hedge word inside the sentence is a name.
            (
                "Queen is a rock band.",
                "Queen are a British rock band formed by Freddie Mercury, Brian May, and Roger Taylor.",
                "false false",
            ),
            (
                "Coffee causes cancer.",
                "Perhaps coffee causes cancer.",
                "false true",
            ),
        ] {
            check(claim, sentence, "", want, row);
        }
    }

    #[test]
    fn the_subject_of_the_sentence_and_the_document() {
        let row =
            |c: &PairChecks| format!("{} {}", c.subject_in_title, c.sentence_subject_in_claim);
        for (claim, sentence, title, want) in [
            (
                "Mount Everest is the highest mountain on Earth.",
                "Mount Everest is Earth's highest mountain above sea level.",
                "Mount Everest",
                "true true",
            ),
            (
                "Mount Everest is the highest mountain on Earth.",
                "K2 is the second-highest mountain on Earth, after Mount Everest.",
                "K2",
                "false false",
            ),
            (
                "Mount Everest is the highest mountain on Earth.",
                "It lies in the Himalayas.",
                "Mount Everest",
                "true true",
            ),
            (
                "Paris is the capital of Germany.",
                "Berlin is the capital and largest city of Germany.",
                "Berlin",
                "false false",
            ),
            (
                "Masks reduce transmission.",
                "Face masks reduced transmission in the study.",
                "Face masks and transmission",
                "true false",
            ),
        ] {
            check(claim, sentence, title, want, row);
        }
    }

    #[test]
    fn a_swap_s_names_depend_on_the_same_word() {
        let row = |c: &PairChecks| format!("{} {}", c.name_swap, c.swap_same_governor);
        for (claim, sentence, title, want) in [
            (
                "Paris is the capital of Germany.",
                "Paris is the capital of France.",
                "Paris",
                "true true",
            ),
            (
                "The Moon is one of two natural satellites of Earth.",
                "Ganymede is a natural satellite of Jupiter.",
                "Ganymede (moon)",
                "true true",
            ),
            (
                "J. R. R. Tolkien was the author of The Hobbit.",
                "He was the author of the high fantasy works of Middle-earth.",
                "J. R. R. Tolkien",
                "true false",
            ),
            (
                "Paris is in France.",
                "Paris is old.",
                "Paris",
                "false false",
            ),
        ] {
            check(claim, sentence, title, want, row);
        }
    }

    #[test]
    fn a_copular_claim_s_category_against_the_sentence_s() {
        let row = |c: &PairChecks| match &c.contrast {
            Some(c) if c.kind == ContrastKind::Category => c.to_string(),
            _ => String::new(),
        };
        for (claim, sentence, title, want) in [
            (
                "Ludwig van Beethoven was a saxophonist.",
                "Ludwig van Beethoven was a German composer, conductor, and pianist.",
                "Ludwig van Beethoven",
                "says composer, not saxophonist",
            ),
            (
                "Soyuz is a series of watercraft.",
                "Soyuz is a series of spacecraft which has been in service since the 1960s.",
                "Soyuz (spacecraft)",
                "says spacecraft, not watercraft",
            ),
            (
                "Gin is a name.",
                "Gin is a distilled alcoholic drink flavoured with juniper berries.",
                "Gin",
                "says drink, not name",
            ),
            (
                "The Saturn V is a rocket.",
                "The Saturn V is a retired American launch vehicle developed by NASA.",
                "Saturn V",
                "says vehicle, not rocket",
            ),
            // The claim's kind is there; a name of the claim is missing; an adjective.
            (
                "Ludwig van Beethoven was a composer.",
                "Ludwig van Beethoven was a German composer, conductor, and pianist.",
                "Ludwig van Beethoven",
                "",
            ),
            (
                "Mercury is the planet closest to the Sun.",
                "Mercury is the first planet from the Sun and the smallest in the Solar System.",
                "Mercury (planet)",
                "",
            ),
            (
                "J. R. R. Tolkien was the author of The Hobbit.",
                "John Ronald Reuel Tolkien was an English writer and philologist.",
                "J. R. R. Tolkien",
                "",
            ),
            (
                "A monster is often hideous.",
                "A monster is a type of imaginary creature found in folklore.",
                "Monster",
                "",
            ),
            // Only in the subject's own document.
            (
                "Saturn is a god.",
                "The Saturn V is a retired American launch vehicle developed by NASA.",
                "Saturn V",
                "",
            ),
            (
                "House is a sitcom.",
                "The House of Romanov was a royal house.",
                "House of Romanov",
                "",
            ),
            // Only against a sentence saying what the subject is.
            (
                "Valencia is a village.",
                "It lies in the north of Venezuela.",
                "Valencia, Venezuela",
                "",
            ),
            (
                "Valencia is a village.",
                "Caracas is a city in Venezuela.",
                "Caracas",
                "",
            ),
        ] {
            check(claim, sentence, title, want, row);
        }
    }

    #[test]
    fn a_claim_placing_its_subject_in_another_country() {
        let row = |c: &PairChecks| match &c.contrast {
            Some(c) if c.kind == ContrastKind::Country => c.to_string(),
            _ => String::new(),
        };
        for (claim, sentence, title, want) in [
            (
                "Mogadishu is located in Italy.",
                "Mogadishu, locally known as Xamar or Hamar, is the capital and most populous city of Somalia.",
                "Mogadishu",
                "says Somalia, not Italy",
            ),
            (
                "Queen (band) is a Canadian rock band.",
                "Queen are a British rock band formed in London in 1970.",
                "Queen (band)",
                "says British, not Canadian",
            ),
            (
                "Margaret Thatcher was a prime minister in Canada.",
                "Margaret Thatcher was a British stateswoman who served as Prime Minister of the United Kingdom.",
                "Margaret Thatcher",
                "says British, not Canada",
            ),
            // The claim's country, under another name or inside the sentence's: no contrast.
            (
                "Mogadishu is located in Somalia.",
                "Mogadishu is the capital and most populous city of Somalia.",
                "Mogadishu",
                "",
            ),
            (
                "Justin Bieber is a singer from Canada.",
                "Justin Bieber is a Canadian singer.",
                "Justin Bieber",
                "",
            ),
            (
                "Robert Burns was a British poet.",
                "Robert Burns was a Scottish poet and lyricist.",
                "Robert Burns",
                "",
            ),
            (
                "Rupert Murdoch is an Australian businessman.",
                "Keith Rupert Murdoch is an Australian-born American media mogul.",
                "Rupert Murdoch",
                "",
            ),
            // Where someone was born is not their citizenship, unless the claim says born.
            (
                "Albert Einstein was a Swiss physicist.",
                "Albert Einstein was a German-born theoretical physicist.",
                "Albert Einstein",
                "",
            ),
            (
                "Albert Einstein was born in Switzerland.",
                "Albert Einstein was a German-born theoretical physicist.",
                "Albert Einstein",
                "says German-born, not Switzerland",
            ),
            // A namesake's article ("Valencia, Venezuela"), a sentence about someone else, a
            // country outside what the sentence says of its subject, or none in the claim's
            // predicate.
            (
                "Valencia is a city in Spain.",
                "Valencia is the capital city of Carabobo State and the third-largest city in Venezuela.",
                "Valencia, Venezuela",
                "",
            ),
            (
                "Mogadishu is located in Italy.",
                "Somalia has its capital and largest city, Mogadishu, on the coast.",
                "Somalia",
                "",
            ),
            (
                "Mogadishu is located in Italy.",
                "Traders from India visited Mogadishu for centuries.",
                "Mogadishu",
                "",
            ),
            (
                "The Italian explorer visited Mogadishu.",
                "Mogadishu is the capital of Somalia.",
                "Mogadishu",
                "",
            ),
            (
                "Atlanta is in Georgia.",
                "Atlanta is the capital of the U.S. state of Georgia in the United States.",
                "Atlanta",
                "",
            ),
        ] {
            check(claim, sentence, title, want, row);
        }
    }

    #[test]
    fn the_word_before_the_sentence_s_verb_is_its_subject() {
        let row = |c: &PairChecks| c.subject_before_verb.to_string();
        for (claim, sentence, title, want) in [
            (
                "Manmohan Singh was the third Sikh in office.",
                "A member of the Indian National Congress, Singh was the first Sikh prime minister.",
                "Manmohan Singh",
                "true",
            ),
            (
                "Osamu Tezuka is considered the equivalent to Time Warner.",
                "Additionally, he is often considered the Japanese equivalent to Walt Disney.",
                "Osamu Tezuka",
                "true",
            ),
            (
                "Mount Everest is the highest mountain on Earth.",
                "K2, at 8,611 metres above sea level, is the second-highest mountain on Earth, after Mount Everest.",
                "K2",
                "false",
            ),
            (
                "Paris is the capital of Germany.",
                "Berlin is the capital and largest city of Germany.",
                "Berlin",
                "false",
            ),
            // A long name ending before the verb; a name with an appositive.
            (
                "Simón Bolívar was a Venezuelan officer.",
                "Simón José Antonio de la Santísima Trinidad Bolívar Palacios Ponte y Blanco was a Venezuelan military officer.",
                "Simón Bolívar",
                "true",
            ),
            (
                "Hungarian is a Slavic language.",
                "Hungarian, or Magyar, is a Ugric language of the Uralic language family.",
                "Hungarian language",
                "true",
            ),
            // The verb after an introductory phrase with a verb form of its own.
            (
                "The blue whale is the largest animal known to have ever existed.",
                "Reaching a maximum confirmed length of 30 m, it is the largest animal known.",
                "Blue whale",
                "true",
            ),
            // "The game" in the claim's subject's own article.
            (
                "The board game Go was invented in Japan.",
                "The game was invented in China more than 2,500 years ago.",
                "Go (game)",
                "true",
            ),
            (
                "Paris is a city in Germany.",
                "The city was founded in 1237.",
                "Berlin",
                "false",
            ),
            // No name or pronoun before the verb: the sentence's first name decides.
            (
                "The Crimean War ended in 1876.",
                "The Crimean War was fought from 1853 to 1856.",
                "Crimean War",
                "true",
            ),
        ] {
            check(claim, sentence, title, want, row);
        }
    }

    #[test]
    fn the_rest_of_the_claim_around_a_differing_detail() {
        let row = |c: &PairChecks| format!("{:.2}", c.coverage_beside_contrast);
        for (claim, sentence, title, want) in [
            (
                "The Nutcracker is a ballet composed by Sergei Prokofiev.",
                "The Nutcracker is an 1892 ballet by Pyotr Ilyich Tchaikovsky.",
                "The Nutcracker",
                "0.67",
            ),
            (
                "Paris is the capital of Germany.",
                "Berlin is the capital and largest city of Germany.",
                "Berlin",
                "0.00",
            ),
            (
                "Gold has the chemical symbol Ag.",
                "Gold is a chemical element; its chemical symbol is Au.",
                "Gold",
                "1.00",
            ),
        ] {
            check(claim, sentence, title, want, row);
        }
    }

    #[test]
    fn the_claim_s_subject_must_be_named_by_the_sentence_or_its_document() {
        let row = |c: &PairChecks| c.subject_named.to_string();
        for (claim, sentence, title, want) in [
            // Another of the same kind: not about the claim's subject.
            (
                "Theodore Roosevelt was the 32nd president of the United States.",
                "Franklin Delano Roosevelt was the 32nd president of the United States.",
                "Franklin D. Roosevelt",
                "false",
            ),
            (
                "The koala is a marsupial native to Australia.",
                "Kangaroos are indigenous to Australia and New Guinea.",
                "Kangaroo",
                "false",
            ),
            (
                "Gold has the chemical symbol Ag.",
                "Silver is a chemical element; it has symbol Ag and atomic number 47.",
                "Silver",
                "false",
            ),
            (
                "The Qing dynasty was the first imperial dynasty of China.",
                "The Qin dynasty was the first imperial dynasty of China.",
                "Qin dynasty",
                "false",
            ),
            (
                "The capital city of Sicily is Naples.",
                "Naples is the regional capital of Campania.",
                "Naples",
                "false",
            ),
            (
                "Bill Gates dropped out of Harvard University.",
                "Harvard University is a private Ivy League research university.",
                "Harvard University",
                "false",
            ),
            // Named by the sentence, by the title, or in the plural; the head of "X of Y".
            (
                "The Great Wall of China is visible from the Moon.",
                "Astronauts report that no man-made structure can be seen from the Moon.",
                "The Great Wall and the Moon",
                "true",
            ),
            (
                "The koala is a marsupial native to Australia.",
                "It is an arboreal herbivorous marsupial.",
                "Koala",
                "true",
            ),
            (
                "Theodore Roosevelt was the 26th president.",
                "He was the 26th president of the United States.",
                "Theodore Roosevelt",
                "true",
            ),
            (
                "Cockroaches can survive without their heads.",
                "A cockroach can live for a week without its head.",
                "Insect",
                "true",
            ),
            (
                "The Statue of Liberty was a gift from Spain.",
                "The statue was a gift to the United States from the people of France.",
                "Statue of Liberty",
                "true",
            ),
            // No plain subject to require: nothing is.
            (
                "Is Mount Everest the highest mountain?",
                "K2 is the second-highest mountain.",
                "K2",
                "true",
            ),
            (
                "Wearing masks reduces transmission.",
                "Face coverings reduced transmission in the study.",
                "Face coverings",
                "true",
            ),
            (
                "Scientists have found that PCR detects virus RNA.",
                "Virus RNA was detectable for weeks by PCR.",
                "Virus culture",
                "true",
            ),
            (
                "Individuals with antibodies present a greater risk.",
                "The share of the population at risk was highest in older populations.",
                "Risk estimates",
                "true",
            ),
            (
                "A sick person will infect half of their household.",
                "We estimated the household attack rate to be 13.8%.",
                "Household attack rate",
                "true",
            ),
        ] {
            check(claim, sentence, title, want, row);
        }
    }

    #[test]
    fn a_sentence_must_address_what_the_claim_says_of_its_subject() {
        let row = |c: &PairChecks| c.predicate_addressed.to_string();
        for (claim, sentence, title, want) in [
            // About the subject, silent on the claim's point.
            (
                "Vatican City has its own railway station.",
                "The Vatican Museums are the public museums of the Vatican City.",
                "Vatican Museums",
                "false",
            ),
            (
                "An octopus has only one heart.",
                "An octopus is a soft-bodied, eight-limbed mollusc of the order Octopoda.",
                "Octopus",
                "false",
            ),
            (
                "The Andromeda Galaxy can only be seen through a telescope.",
                "The Andromeda Galaxy is a barred spiral galaxy.",
                "Andromeda Galaxy",
                "false",
            ),
            (
                "Chess is played on a board of 64 squares.",
                "The players each control sixteen pieces.",
                "Chess",
                "false",
            ),
            // A word of the predicate, in any form of a verb, or in the title.
            (
                "Cockroaches can survive without their heads.",
                "A cockroach can live for a week without its head.",
                "Insect",
                "true",
            ),
            (
                "The Andromeda Galaxy can only be seen through a telescope.",
                "It is visible to the naked eye and was seen by Persian astronomers.",
                "Andromeda Galaxy",
                "true",
            ),
            (
                "Einstein failed math.",
                "He excelled at mathematics from an early age.",
                "Albert Einstein",
                "true",
            ),
            (
                "Vatican City has its own railway station.",
                "The Vatican has one short line.",
                "Vatican railway station",
                "true",
            ),
            // What the subject is: a sentence saying what it is answers without the words.
            (
                "Margaret Thatcher was not a politician.",
                "Margaret Thatcher served as Prime Minister of the United Kingdom.",
                "Margaret Thatcher",
                "true",
            ),
            (
                "Saturn is only an asteroid.",
                "Saturn is the sixth planet from the Sun.",
                "Saturn",
                "true",
            ),
            // Numbers and degree words need not be repeated: "heart" is the point.
            (
                "An octopus has only one heart.",
                "An octopus has three hearts.",
                "Octopus",
                "true",
            ),
            (
                "The Empire State Building has 102 floors.",
                "The Empire State Building is a skyscraper in Manhattan.",
                "Empire State Building",
                "false",
            ),
            // No plain subject to read a predicate after.
            (
                "Wearing masks reduces transmission.",
                "Face coverings were common in the study.",
                "Face coverings",
                "true",
            ),
        ] {
            check(claim, sentence, title, want, row);
        }
    }

    #[test]
    fn a_claim_opening_with_the_title_is_about_the_document() {
        let row = |c: &PairChecks| c.title_opens_claim.to_string();
        for (claim, title, want) in [
            (
                "The giant panda is endemic to Japan.",
                "Giant panda",
                "true",
            ),
            ("Giant pandas are bears.", "Giant panda", "true"),
            ("The Danube flows into the Caspian Sea.", "Danube", "true"),
            (
                "Mercury is the closest planet to the Sun.",
                "Mercury (planet)",
                "true",
            ),
            (
                "Kingston is the capital of Jamaica.",
                "Kingston, Jamaica",
                "true",
            ),
            ("Paris is the capital of Germany.", "Germany", "false"),
            ("The tiger is a large cat.", "Tiger shark", "false"),
            ("The tiger is a large cat.", "", "false"),
        ] {
            check(claim, "It is a sentence.", title, want, row);
        }
    }

    #[test]
    fn a_people_s_adjective_names_its_country() {
        let row = |c: &PairChecks| {
            format!(
                "{:.2} {:.2} {}",
                c.coverage,
                c.name_coverage,
                c.contrast
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            )
        };
        for (claim, sentence, title, want) in [
            // content words: albert, einstein, born, germany ("sprinter" is not in the
            // third row's sentence)
            (
                "Albert Einstein was born in Germany.",
                "Albert Einstein was a German-born theoretical physicist.",
                "Albert Einstein",
                "1.00 1.00 ",
            ),
            (
                "Roger Federer is a tennis player from Switzerland.",
                "Roger Federer is a Swiss former professional tennis player.",
                "Roger Federer",
                "1.00 1.00 ",
            ),
            (
                "Usain Bolt is a Jamaican sprinter.",
                "He was born in Jamaica and ran for its team.",
                "Usain Bolt",
                "0.75 1.00 ",
            ),
            (
                "Elvis Presley was a Canadian singer.",
                "Elvis Presley was an American singer and actor.",
                "Elvis Presley",
                "0.75 0.50 says American, not Canadian",
            ),
        ] {
            check(claim, sentence, title, want, row);
        }
    }

    #[test]
    fn coverage_counts_content_words_in_sentence_and_title() {
        let row = |c: &PairChecks| {
            format!(
                "{:.2} {:.2} {:.2} {:.2} {}",
                c.coverage, c.sentence_coverage, c.title_coverage, c.name_coverage, c.novel_names
            )
        };
        for (claim, sentence, title, want) in [
            // content words: mount, everest, highest, mountain, earth
            (
                "Mount Everest is the highest mountain on Earth.",
                "It is the highest mountain on Earth.",
                "Mount Everest",
                "1.00 0.60 0.40 1.00 false",
            ),
            (
                "Mount Everest is the highest mountain on Earth.",
                "The Soviet Union moved whole populations.",
                "Population transfer in the Soviet Union",
                "0.00 0.00 0.00 0.00 false",
            ),
            // "reduce" / "reduced": no stemming beyond plurals, 2 of 3 words.
            (
                "Masks reduce transmission.",
                "Face masks reduced transmission in the study.",
                "",
                "0.67 0.67 0.00 1.00 false",
            ),
            // An acronym is not the ordinary word: ICE (the agency) is not sea ice.
            (
                "ICE agents fail to meet quotas.",
                "Sea ice forms as seawater freezes.",
                "Sea ice",
                "0.00 0.00 0.00 0.00 false",
            ),
        ] {
            check(claim, sentence, title, want, row);
        }
    }
}
