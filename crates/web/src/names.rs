//! Names derived from a question: the key that finds a repeated question, the topic and slug
//! of its permanent URL `/fact-checks/<topic>/<slug>-<id>`.
//!
//! The URL is given out before the check runs (the API returns it at once), so everything here
//! comes from the question's wording alone.

/// Words that start a sentence with a capital without naming anything.
const NOT_NAMES: &[&str] = &[
    "a", "an", "the", "is", "are", "was", "were", "do", "does", "did", "why", "what", "who",
    "whom", "when", "where", "which", "how", "can", "could", "will", "would", "should", "has",
    "have", "had", "it", "its", "i", "we", "you", "they", "he", "she", "there", "this", "that",
    "these", "those", "if", "in", "on", "of", "for", "and", "or", "but", "not", "no", "yes",
    "true", "false", "claim", "fact", "check", "please",
];
/// Small words that may sit inside a name ("Great Wall of China").
const CONNECTORS: &[&str] = &["of", "the", "de", "and"];

/// Lower-case ASCII words of `text`, in order (accents and other scripts dropped).
fn ascii_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The key two submissions of the same question share: case, punctuation and spacing ignored.
pub fn input_key(input: &str) -> String {
    input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The URL slug of a question: its first words, at most 60 characters; `check` when nothing
/// is left.
pub fn slug(input: &str) -> String {
    let mut out = String::new();
    for w in ascii_words(input) {
        if out.len() + w.len() + 1 > 60 {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&w);
    }
    if out.is_empty() {
        "check".into()
    } else {
        out
    }
}

/// The topic of a question: its longest run of capitalised words (a name such as "Eiffel
/// Tower" or "Great Wall of China"), else `general`.
pub fn topic(input: &str) -> String {
    let words: Vec<&str> = input
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let is_name = |w: &str| {
        w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '\'' || c == '-')
            && !NOT_NAMES.contains(&w.to_lowercase().as_str())
    };
    let mut best: &[&str] = &[];
    let mut i = 0;
    while i < words.len() {
        if !is_name(words[i]) {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        loop {
            if end < words.len() && is_name(words[end]) {
                end += 1;
            } else if end + 1 < words.len()
                && CONNECTORS.contains(&words[end].to_lowercase().as_str())
                && is_name(words[end + 1])
            {
                end += 2;
            } else {
                break;
            }
        }
        let run = &words[i..end];
        let len = |r: &[&str]| r.iter().map(|w| w.len()).sum::<usize>();
        if run.len() > best.len() || (run.len() == best.len() && len(run) > len(best)) {
            best = run;
        }
        i = end;
    }
    let topic = slug(&best.join(" "));
    if best.is_empty() || topic == "check" {
        "general".into()
    } else {
        topic
    }
}

/// The path of a check's page.
pub fn check_path(topic: &str, slug: &str, id: &str) -> String {
    format!("/fact-checks/{topic}/{slug}-{id}")
}

/// Splits the last path segment `<slug>-<id>` into its parts; `None` unless the id is six
/// lower-case hex digits.
pub fn split_slug_id(segment: &str) -> Option<(&str, &str)> {
    let (slug, id) = segment.rsplit_once('-')?;
    let valid = id.len() == 6 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    valid.then_some((slug, id))
}

/// A valid topic or slug: lower-case ASCII letters, digits and single hyphens.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 80
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, topic_want: &str, slug_want: &str) {
        assert_eq!(topic(input), topic_want, "topic of {input:?}");
        assert_eq!(slug(input), slug_want, "slug of {input:?}");
    }

    #[test]
    fn topics_and_slugs_come_from_the_question() {
        check(
            "Why did Einstein fail math?",
            "einstein",
            "why-did-einstein-fail-math",
        );
        check(
            "Is the Great Wall of China visible from the Moon?",
            "great-wall-of-china",
            "is-the-great-wall-of-china-visible-from-the-moon",
        );
        check(
            "What are the consequences for ICE agents who fail to meet deportation quotas?",
            "ice",
            "what-are-the-consequences-for-ice-agents-who-fail-to-meet",
        );
        check(
            "The Eiffel Tower is located in Berlin.",
            "eiffel-tower",
            "the-eiffel-tower-is-located-in-berlin",
        );
        check("is water wet", "general", "is-water-wet");
        check(
            "¿Qué? <script>alert(1)</script>",
            "general",
            "qu-script-alert-1-script",
        );
        check("日本の首都は？", "general", "check");
    }

    #[test]
    fn repeated_questions_share_a_key() {
        assert_eq!(
            input_key("  Why did Einstein FAIL math?? "),
            input_key("why did einstein fail math")
        );
        assert_ne!(input_key("Is it true?"), input_key("Is it false?"));
    }

    #[test]
    fn slug_ids_are_six_hex_digits() {
        assert_eq!(
            split_slug_id("why-did-einstein-0a1b2c"),
            Some(("why-did-einstein", "0a1b2c"))
        );
        for bad in [
            "nohyphen",
            "x-0A1B2C",
            "x-0a1b2",
            "x-0a1b2cd",
            "x-zzzzzz",
            "-",
        ] {
            assert_eq!(split_slug_id(bad), None, "{bad}");
        }
        assert!(is_name("great-wall-of-china"));
        assert!(!is_name("../etc") && !is_name("Upper") && !is_name(""));
    }
}
