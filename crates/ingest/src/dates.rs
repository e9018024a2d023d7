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
    use super::normalize_date;

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
}
