//! Countries and regions with the adjectives of their people ("Germany" / "German").
//!
//! Encyclopedias say "a German-born physicist" and "a Swiss tennis player" where a claim says
//! "born in Germany" and "from Switzerland"; without this table those claims share no name with
//! the sentence that states them, and the judge reads the sentence as being about someone else.

/// (adjective, place) pairs, lower-case; a place of several words is matched as a phrase. An
/// adjective may belong to several places ("American": the United States, America).
pub const DEMONYMS: &[(&str, &str)] = &[
    ("afghan", "afghanistan"),
    ("albanian", "albania"),
    ("algerian", "algeria"),
    ("american", "united states"),
    ("american", "america"),
    ("angolan", "angola"),
    ("argentine", "argentina"),
    ("argentinian", "argentina"),
    ("armenian", "armenia"),
    ("australian", "australia"),
    ("austrian", "austria"),
    ("azerbaijani", "azerbaijan"),
    ("bangladeshi", "bangladesh"),
    ("belarusian", "belarus"),
    ("belgian", "belgium"),
    ("bolivian", "bolivia"),
    ("bosnian", "bosnia"),
    ("brazilian", "brazil"),
    ("british", "united kingdom"),
    ("british", "britain"),
    ("bulgarian", "bulgaria"),
    ("burmese", "burma"),
    ("cambodian", "cambodia"),
    ("cameroonian", "cameroon"),
    ("canadian", "canada"),
    ("chilean", "chile"),
    ("chinese", "china"),
    ("colombian", "colombia"),
    ("congolese", "congo"),
    ("croatian", "croatia"),
    ("cuban", "cuba"),
    ("cypriot", "cyprus"),
    ("czech", "czech republic"),
    ("czech", "czechia"),
    ("danish", "denmark"),
    ("dutch", "netherlands"),
    ("ecuadorian", "ecuador"),
    ("egyptian", "egypt"),
    ("english", "england"),
    ("estonian", "estonia"),
    ("ethiopian", "ethiopia"),
    ("european", "europe"),
    ("african", "africa"),
    ("asian", "asia"),
    ("filipino", "philippines"),
    ("finnish", "finland"),
    ("french", "france"),
    ("georgian", "georgia"),
    ("german", "germany"),
    ("ghanaian", "ghana"),
    ("greek", "greece"),
    ("guatemalan", "guatemala"),
    ("haitian", "haiti"),
    ("hungarian", "hungary"),
    ("icelandic", "iceland"),
    ("indian", "india"),
    ("indonesian", "indonesia"),
    ("iranian", "iran"),
    ("iraqi", "iraq"),
    ("irish", "ireland"),
    ("israeli", "israel"),
    ("italian", "italy"),
    ("jamaican", "jamaica"),
    ("japanese", "japan"),
    ("jordanian", "jordan"),
    ("kazakh", "kazakhstan"),
    ("kenyan", "kenya"),
    ("korean", "korea"),
    ("kuwaiti", "kuwait"),
    ("latvian", "latvia"),
    ("lebanese", "lebanon"),
    ("libyan", "libya"),
    ("lithuanian", "lithuania"),
    ("malaysian", "malaysia"),
    ("maltese", "malta"),
    ("mexican", "mexico"),
    ("mongolian", "mongolia"),
    ("moroccan", "morocco"),
    ("nepalese", "nepal"),
    ("nepali", "nepal"),
    ("nigerian", "nigeria"),
    ("norwegian", "norway"),
    ("pakistani", "pakistan"),
    ("palestinian", "palestine"),
    ("panamanian", "panama"),
    ("paraguayan", "paraguay"),
    ("persian", "persia"),
    ("peruvian", "peru"),
    ("polish", "poland"),
    ("portuguese", "portugal"),
    ("prussian", "prussia"),
    ("roman", "rome"),
    ("romanian", "romania"),
    ("russian", "russia"),
    ("rwandan", "rwanda"),
    ("saudi", "saudi arabia"),
    ("scottish", "scotland"),
    ("senegalese", "senegal"),
    ("serbian", "serbia"),
    ("singaporean", "singapore"),
    ("slovak", "slovakia"),
    ("slovenian", "slovenia"),
    ("somali", "somalia"),
    ("soviet", "soviet union"),
    ("spanish", "spain"),
    ("sudanese", "sudan"),
    ("swedish", "sweden"),
    ("swiss", "switzerland"),
    ("syrian", "syria"),
    ("taiwanese", "taiwan"),
    ("tanzanian", "tanzania"),
    ("thai", "thailand"),
    ("tibetan", "tibet"),
    ("tunisian", "tunisia"),
    ("turkish", "turkey"),
    ("ugandan", "uganda"),
    ("ukrainian", "ukraine"),
    ("uruguayan", "uruguay"),
    ("uzbek", "uzbekistan"),
    ("venezuelan", "venezuela"),
    ("vietnamese", "vietnam"),
    ("welsh", "wales"),
    ("yemeni", "yemen"),
    ("zambian", "zambia"),
    ("zimbabwean", "zimbabwe"),
    ("south african", "south africa"),
    ("north korean", "north korea"),
    ("south korean", "south korea"),
];

/// The other forms under which the words of a text also count: the parts of a hyphenated word
/// ("German-born": german, born), the place of a people's adjective and the adjective of a
/// place named in the text, each as lower-case words.
pub fn aliases(lower_words: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut forms: Vec<&str> = Vec::new();
    for w in lower_words {
        forms.push(w);
        if w.contains('-') {
            for part in w.split('-').filter(|p| !p.is_empty()) {
                out.push(part.to_string());
                forms.push(part);
            }
        }
    }
    let joined = format!(" {} ", forms.join(" "));
    for (adjective, place) in DEMONYMS {
        let plural = format!(" {adjective}s ");
        if joined.contains(&format!(" {adjective} ")) || joined.contains(&plural) {
            out.extend(place.split(' ').map(str::to_string));
        }
        if joined.contains(&format!(" {place} ")) {
            out.extend(adjective.split(' ').map(str::to_string));
        }
    }
    out
}

/// Places of [`DEMONYMS`] that are no single present-day country, or whose name is also
/// another's (Georgia the state, Jordan the surname): a claim placing something there is
/// not contradicted by a sentence naming a country.
const NOT_COUNTRIES: &[&str] = &[
    "europe",
    "africa",
    "asia",
    "america",
    "rome",
    "persia",
    "prussia",
    "soviet union",
    "tibet",
    "palestine",
    "georgia",
    "jordan",
];

/// Countries one of which holds the other (or part of it: Northern Ireland), or claims it.
/// States that were once one (India and Pakistan) are not here: "The Taj Mahal is in
/// Pakistan" is false.
const OVERLAPPING: &[(&str, &str)] = &[
    ("united kingdom", "england"),
    ("united kingdom", "scotland"),
    ("united kingdom", "wales"),
    ("united kingdom", "ireland"),
    ("korea", "north korea"),
    ("korea", "south korea"),
    ("china", "taiwan"),
];

/// A country named in a text: the index of its first word and the country it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryMention {
    pub at: usize,
    /// How many words name it (2 for "united kingdom", "south african").
    pub len: usize,
    pub country: &'static str,
}

/// The countries a text names, by name or by its people's adjective ("a Canadian rock band",
/// "located in Italy", "Australian-born"), in order. `lower_words` are the text's words in
/// lower case.
pub fn countries(lower_words: &[&str]) -> Vec<CountryMention> {
    let canonical = |place: &'static str| match place {
        "britain" => "united kingdom",
        "czechia" => "czech republic",
        p => p,
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < lower_words.len() {
        // Two-word forms first ("united kingdom", "south africans"), then each part of a
        // hyphenated word ("australian-born"); no allocation per table entry, as this runs
        // on every sentence a claim is judged against.
        let two = lower_words
            .get(i + 1)
            .map(|next| format!("{} {next}", lower_words[i]));
        let found = two.as_deref().and_then(|t| {
            let singular = t.strip_suffix('s');
            DEMONYMS.iter().find_map(|&(adjective, place)| {
                let hit = |form: &str| form.contains(' ') && (t == form || singular == Some(form));
                (hit(adjective) || hit(place)).then_some((place, 2))
            })
        });
        let found = found.or_else(|| {
            lower_words[i].split('-').find_map(|part| {
                let singular = part.strip_suffix('s');
                DEMONYMS.iter().find_map(|&(adjective, place)| {
                    (!adjective.contains(' ')
                        && (part == adjective || singular == Some(adjective) || part == place))
                        .then_some((place, 1))
                })
            })
        });
        match found {
            Some((place, len)) => {
                if !NOT_COUNTRIES.contains(&place) {
                    out.push(CountryMention {
                        at: i,
                        len,
                        country: canonical(place),
                    });
                }
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

/// Continents by their names, the Americas as one; Australia is its continent's too.
const CONTINENTS: &[(&str, &str)] = &[
    ("europe", "europe"),
    ("asia", "asia"),
    ("africa", "africa"),
    ("america", "americas"),
    ("americas", "americas"),
    ("south america", "americas"),
    ("north america", "americas"),
    ("central america", "americas"),
    ("latin america", "americas"),
    ("oceania", "oceania"),
    ("australia", "oceania"),
    ("antarctica", "antarctica"),
];

/// The continent the words name as a whole ("Europe", "South America"), if any.
pub fn continent(lower_words: &[&str]) -> Option<&'static str> {
    CONTINENTS
        .iter()
        .find(|(name, _)| name.split(' ').eq(lower_words.iter().copied()))
        .map(|(_, continent)| *continent)
}

/// The continents a text names anywhere ("southwestern South America": the Americas).
pub fn continents_in(lower_words: &[&str]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (i, w) in lower_words.iter().enumerate() {
        let two = lower_words.get(i + 1).map(|next| [*w, *next]);
        let found = two
            .and_then(|pair| continent(&pair))
            .or_else(|| continent(&[*w]));
        out.extend(found);
    }
    out
}

/// Whether two countries are one, or one lies inside the other.
pub fn countries_overlap(a: &str, b: &str) -> bool {
    a == b
        || OVERLAPPING
            .iter()
            .any(|&(x, y)| (x == a && y == b) || (x == b && y == a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_by_name_and_by_adjective() {
        for (text, want) in [
            ("mogadishu is located in italy", vec![(4, "italy")]),
            ("queen are a british rock band", vec![(3, "united kingdom")]),
            (
                "an australian-born american media mogul",
                vec![(1, "australia"), (2, "united states")],
            ),
            (
                "prime minister of the united kingdom",
                vec![(4, "united kingdom")],
            ),
            ("the capital of south africa", vec![(3, "south africa")]),
            ("a city in europe near georgia", vec![]),
            (
                "the germans and the french",
                vec![(1, "germany"), (4, "france")],
            ),
            ("a large sandstone monolith", vec![]),
        ] {
            let words: Vec<&str> = text.split(' ').collect();
            let got: Vec<(usize, &str)> = countries(&words)
                .into_iter()
                .map(|c| (c.at, c.country))
                .collect();
            assert_eq!(got, want, "{text}");
        }
        assert_eq!(continent(&["europe"]), Some("europe"));
        assert_eq!(continent(&["merseyside"]), None);
        assert_eq!(
            continents_in(&["in", "southwestern", "south", "america"]),
            vec!["americas", "americas"]
        );
        assert!(countries_overlap("united kingdom", "scotland"));
        assert!(countries_overlap("italy", "italy"));
        assert!(!countries_overlap("italy", "somalia"));
    }

    #[test]
    fn places_and_their_peoples_adjectives() {
        for (text, want) in [
            ("german-born physicist", "german born germany"),
            ("a swiss former tennis player", "switzerland"),
            ("born in switzerland", "swiss"),
            ("the united states of america", "american american"),
            ("an american singer", "united states america"),
            ("the germans", "germany"),
            ("a large sandstone monolith", ""),
        ] {
            let words: Vec<&str> = text.split(' ').collect();
            assert_eq!(aliases(&words).join(" "), want, "{text}");
        }
    }
}
