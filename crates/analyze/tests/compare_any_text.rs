//! `contrast::compare` reads user claims and source sentences, hostile web pages included:
//! whatever the three texts are, it returns checks and never panics. The tokens below are
//! the shapes its checks slice and parse (decades, joined ordinals, "-born" words, rough
//! figures, parentheses, multi-byte letters), mixed with arbitrary text.

use factually_analyze::contrast::compare;
use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "Mogadishu",
    "is",
    "located",
    "in",
    "Italy",
    "Somalia",
    "the",
    "United",
    "Kingdom",
    "(",
    ")",
    "band",
    "Queen",
    "a",
    "Canadian",
    "British",
    "Australian-born",
    "German-born",
    "born",
    "1980's",
    "1960s",
    "1973",
    "13th",
    "16th-largest",
    "16th-most",
    "populous",
    "most",
    "largest",
    "11th-century",
    "century",
    "about",
    "800,000",
    "824,340",
    "0",
    "00",
    "-",
    "'s",
    "unofficially",
    "officially",
    "non-",
    "un",
    "May",
    "Perhaps",
    "Europe",
    "South",
    "America",
    "Asia",
    "was",
    "It",
    "è",
    "Simón",
    "ß",
    "—",
    ",",
    ".",
    "of",
    "by",
    "not",
    "Georgia",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(proptest::sample::select(TOKENS), 0..24)
            .prop_map(|words| words.join(" ")),
        proptest::collection::vec(proptest::sample::select(TOKENS), 0..24)
            .prop_map(|words| words.concat()),
        "\\PC{0,80}",
    ]
}

proptest! {
    #[test]
    fn any_three_texts_are_compared_without_panicking(
        claim in text(),
        sentence in text(),
        title in text(),
    ) {
        let checks = compare(&claim, &sentence, &title);
        prop_assert!((0.0..=1.0).contains(&checks.coverage));
        prop_assert!((0.0..=1.0).contains(&checks.coverage_beside_contrast));
    }
}
