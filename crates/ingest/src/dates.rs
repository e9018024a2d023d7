//! Publication dates as ISO 8601, whatever shape the source gave them in.

use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// Normalises a publication date to `YYYY-MM-DD` when it can be read as a calendar date.
/// A bare year (`2020`) or year-month (`2020-05`) is already ISO 8601 and is kept. Anything
/// else is `None`: a date we cannot read is not stored, rather than stored in a form the
/// rest of the system would misread.
pub(crate) fn normalize_date(raw: &str) -> Option<String> {
    let s = raw.trim();
    if let Some(date) = parse_date(s) {
        return Some(format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        ));
    }
    reduced_precision(s).then(|| s.to_string())
}

/// Words that introduce a page's own publication date in visible text. "Updated" and
/// "edited" are left out on purpose: they say when a page changed, not when it appeared.
const PUBLISHED_MARKERS: &[&str] = &["published", "posted", "released"];

const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
];

/// A publication date stated in a short visible text such as a byline or dateline: either
/// the whole text is a date ("February 12, 2024", "Tuesday, 4 June 2024") or a marker word
/// introduces one ("By Tom Ashby · Published March 3, 2024", "Posted on Thursday, August 14,
/// 2003 by Bob"). Only full calendar dates count: a bare year in visible text is far more
/// often a copyright notice than a publication date.
pub(crate) fn date_in_text(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if let Some((date, used)) = full_date_at(&words) {
        if used == words.len() {
            return Some(date);
        }
    }
    words.iter().enumerate().find_map(|(at, word)| {
        let marker = word.trim_end_matches(':').to_lowercase();
        if !PUBLISHED_MARKERS.contains(&marker.as_str()) {
            return None;
        }
        let mut rest = &words[at + 1..];
        if rest
            .first()
            .is_some_and(|w| w.trim_end_matches(':').eq_ignore_ascii_case("on"))
        {
            rest = &rest[1..];
        }
        full_date_at(rest).map(|(date, _)| date)
    })
}

/// A full date (`YYYY-MM-DD`) at the start of `words`, after an optional weekday, with the
/// number of words it took. Reads "March 3, 2024", "Feb. 8, 2021", "14 March 2023" and ISO
/// dates; punctuation that ends the phrase ("2024," "2024.") is ignored.
fn full_date_at(words: &[&str]) -> Option<(String, usize)> {
    let full = |s: &str| normalize_date(s).filter(|date| date.len() == 10);
    let end = |w: &str| w.trim_end_matches([',', '.', ';', ')']).to_string();
    let skip = usize::from(words.first().is_some_and(|w| {
        WEEKDAYS.contains(&w.trim_end_matches([',', '.']).to_lowercase().as_str())
    }));
    let rest = &words[skip..];
    if let [first, second, third, ..] = rest {
        let phrase = format!("{} {} {}", first.trim_end_matches('.'), second, end(third));
        if let Some(date) = full(&phrase) {
            return Some((date, skip + 3));
        }
    }
    let first = rest.first()?;
    full(&end(first)).map(|date| (date, skip + 1))
}

fn parse_date(s: &str) -> Option<Date> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.date());
    }
    // A timestamp without offset, or a date followed by a time we do not need.
    if let Some(prefix) = s.get(..10) {
        let rest = s.get(10..).unwrap_or_default();
        if rest.is_empty() || rest.starts_with(['T', 't', ' ']) {
            if let Ok(date) = Date::parse(prefix, format_description!("[year]-[month]-[day]")) {
                return Some(date);
            }
        }
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc2822) {
        return Some(t.date());
    }
    let formats = [
        format_description!("[year]/[month]/[day]"),
        format_description!("[month repr:long case_sensitive:false] [day padding:none], [year]"),
        format_description!("[month repr:short case_sensitive:false] [day padding:none], [year]"),
        format_description!("[day padding:none] [month repr:long case_sensitive:false] [year]"),
        format_description!("[day padding:none] [month repr:short case_sensitive:false] [year]"),
    ];
    formats
        .iter()
        .find_map(|format| Date::parse(s, format).ok())
}

/// `YYYY` or `YYYY-MM` with a real month.
fn reduced_precision(s: &str) -> bool {
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('-') {
        None => s.len() == 4 && all_digits(s),
        Some((year, month)) => {
            year.len() == 4
                && all_digits(year)
                && month.len() == 2
                && all_digits(month)
                && matches!(month.parse::<u8>(), Ok(1..=12))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{date_in_text, normalize_date};

    #[test]
    fn normalises_common_shapes() {
        let cases = [
            ("2020-05-01", Some("2020-05-01")),
            (" 2020-05-01T10:30:00Z ", Some("2020-05-01")),
            ("2020-05-01T23:30:00-05:00", Some("2020-05-01")),
            ("2020-05-01 10:30", Some("2020-05-01")),
            ("2020/5/1", None),
            ("2020/05/01", Some("2020-05-01")),
            ("Fri, 01 May 2020 10:30:00 +0000", Some("2020-05-01")),
            ("May 1, 2020", Some("2020-05-01")),
            ("march 12, 2021", Some("2021-03-12")),
            ("Sep 3, 2019", Some("2019-09-03")),
            ("1 May 2020", Some("2020-05-01")),
            ("2020", Some("2020")),
            ("2020-05", Some("2020-05")),
            ("2020-13", None),
            ("2020-02-30", None),
            ("2020-05-01junk", None),
            ("yesterday", None),
            ("", None),
            ("é", None),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_date(raw).as_deref(), want, "{raw:?}");
        }
    }

    #[test]
    fn dates_in_visible_text() {
        let cases = [
            ("February 12, 2024", Some("2024-02-12")),
            ("Tuesday, 4 June 2024", Some("2024-06-04")),
            ("2024-06-04", Some("2024-06-04")),
            ("By Tom Ashby · Published March 3, 2024", Some("2024-03-03")),
            (
                "Posted on Thursday, August 14, 2003 by Bob",
                Some("2003-08-14"),
            ),
            ("Posted 14 March 2023", Some("2023-03-14")),
            ("Published: Feb. 8, 2021.", Some("2021-02-08")),
            (
                "First published on 2022-05-19T10:00:00Z",
                Some("2022-05-19"),
            ),
            // A date that is not the page's publication.
            (
                "This page was last edited on 12 January 2024, at 09:41",
                None,
            ),
            ("Updated March 3, 2024", None),
            ("February 12, 2024 was a Monday", None),
            // Not full dates.
            ("© 2024 Ellery Water Authority", None),
            ("Published 2024", None),
            ("Posted on", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(date_in_text(text).as_deref(), want, "{text:?}");
        }
    }
}
