//! Xero's Microsoft JSON dates: `/Date(1573621523465+0000)/`.
//!
//! docs/providers.md, Xero "Dates" (`x-is-msdate` in xero/xero-payroll-au.yaml): epoch
//! milliseconds (UTC), then an optional `±hhmm` naming the zone the value was recorded in;
//! the envelope's `DateTimeUTC` has no offset. Date-only fields are midnight, so the local
//! date is the instant shifted by the offset (the same as the UTC date when it is `+0000`).
//! Dates before 1970 have negative milliseconds (`/Date(-157766400000+0000)/`).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};

/// The instant and its recorded offset, or `None` when `raw` is not an MS date.
pub(crate) fn parse_ms_date(raw: &str) -> Option<(DateTime<Utc>, FixedOffset)> {
    let inner = raw.trim().strip_prefix("/Date(")?.strip_suffix(")/")?;
    // The sign of the offset is the first '+' or '-' after the (possibly negative) number.
    let split = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map(|(i, _)| i);
    let (millis, offset) = match split {
        Some(i) => (&inner[..i], Some(&inner[i..])),
        None => (inner, None),
    };
    let millis: i64 = millis.parse().ok()?;
    let offset = match offset {
        None => FixedOffset::east_opt(0)?,
        Some(o) => parse_offset(o)?,
    };
    Some((DateTime::from_timestamp_millis(millis)?, offset))
}

/// `+hhmm` / `-hhmm`.
fn parse_offset(raw: &str) -> Option<FixedOffset> {
    let (sign, digits) = raw.split_at(1);
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    let secs = (hours * 60 + minutes) * 60;
    match sign {
        "+" => FixedOffset::east_opt(secs),
        "-" => FixedOffset::west_opt(secs),
        _ => None,
    }
}

/// The calendar date a date-only field means.
pub(crate) fn parse_ms_day(raw: &str) -> Option<NaiveDate> {
    let (at, offset) = parse_ms_date(raw)?;
    Some(at.with_timezone(&offset).date_naive())
}

const EXPECTED: &str = "expected a Microsoft JSON date like /Date(1573621523465+0000)/";

pub(crate) fn opt_day<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => parse_ms_day(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(EXPECTED)),
    }
}

pub(crate) fn opt_instant<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => parse_ms_date(&s)
            .map(|(at, _)| Some(at))
            .ok_or_else(|| serde::de::Error::custom(EXPECTED)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ms_dates() {
        for (raw, want) in [
            (
                "/Date(1573621523465+0000)/",
                Some("2019-11-13T05:05:23.465+00:00"),
            ),
            (
                "/Date(1573621523465)/",
                Some("2019-11-13T05:05:23.465+00:00"),
            ),
            (
                "/Date(572313600000+0000)/",
                Some("1988-02-20T00:00:00+00:00"),
            ),
            (
                "/Date(-157766400000+0000)/",
                Some("1965-01-01T00:00:00+00:00"),
            ),
            (
                "/Date(1573621523465+1000)/",
                Some("2019-11-13T05:05:23.465+00:00"),
            ),
            (
                "/Date(1573621523465-0530)/",
                Some("2019-11-13T05:05:23.465+00:00"),
            ),
            ("2019-11-13", None),
            ("/Date(abc)/", None),
            ("/Date(1573621523465+00)/", None),
            ("/Date()/", None),
        ] {
            let got = parse_ms_date(raw).map(|(at, _)| at.to_rfc3339());
            assert_eq!(got.as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn date_only_fields_use_the_recorded_zone() {
        // Midnight UTC on 20 Feb 1988: spec example DateOfBirth.
        assert_eq!(
            parse_ms_day("/Date(572313600000+0000)/"),
            NaiveDate::from_ymd_opt(1988, 2, 20)
        );
        // Midnight in Sydney (+1000) is 14:00 UTC the day before; the date is the local one.
        assert_eq!(
            parse_ms_day("/Date(572277600000+1000)/"),
            NaiveDate::from_ymd_opt(1988, 2, 20)
        );
    }

    proptest! {
        #[test]
        fn printing_then_parsing_gives_the_instant_back(ms in -2_000_000_000_000i64..4_000_000_000_000) {
            let (at, _) = parse_ms_date(&format!("/Date({ms}+0000)/")).unwrap();
            prop_assert_eq!(at.timestamp_millis(), ms);
        }

        #[test]
        fn arbitrary_text_never_panics(raw in ".{0,40}") {
            let _ = parse_ms_date(&raw);
            let _ = parse_ms_date(&format!("/Date({raw})/"));
        }
    }
}
