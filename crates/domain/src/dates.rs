//! Calendar dates of HR records (start, end and birth dates).
//!
//! Any `YYYY-MM-DD` parses, including year 0 or -5000, but PostgreSQL's `DATE` ends at 4713
//! BC and no employment or birth date lies outside living memory. So a date is checked once,
//! at the edge, against a range every store holds: outside it is a 422 naming the field,
//! never a database error.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};

use crate::FieldError;

/// The earliest date an HR record may carry.
pub const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The latest date an HR record may carry (planned end dates lie in the future).
pub const LATEST: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// Checks that `date` lies between [`EARLIEST`] and [`LATEST`].
pub fn check_hr_date(field: &str, date: NaiveDate) -> Result<NaiveDate, FieldError> {
    if (EARLIEST..=LATEST).contains(&date) {
        Ok(date)
    } else {
        Err(FieldError::new(
            field,
            format!("must be a date between {EARLIEST} and {LATEST}"),
        ))
    }
}

/// A date of an HR record, between [`EARLIEST`] and [`LATEST`]. It deserializes from
/// `YYYY-MM-DD` through [`check_hr_date`], so an out-of-range date never reaches a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct HrDate(NaiveDate);

impl HrDate {
    pub fn new(field: &str, date: NaiveDate) -> Result<Self, FieldError> {
        check_hr_date(field, date).map(Self)
    }

    /// Parses `YYYY-MM-DD` and checks the range.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .map_err(|_| FieldError::new(field, "must be a date as YYYY-MM-DD"))?;
        Self::new(field, date)
    }

    pub const fn date(self) -> NaiveDate {
        self.0
    }
}

impl From<HrDate> for NaiveDate {
    fn from(d: HrDate) -> Self {
        d.0
    }
}

impl fmt::Display for HrDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for HrDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse("", &raw).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hr_dates_stay_within_living_memory() {
        for (raw, ok) in [
            ("1900-01-01", true),
            ("2026-03-01", true),
            ("2199-12-31", true),
            ("1899-12-31", false),
            ("2200-01-01", false),
            ("-5000-01-01", false),
            ("0000-01-01", false),
            ("+10000-01-01", false),
        ] {
            let date: NaiveDate = raw.parse().unwrap();
            assert_eq!(check_hr_date("start_date", date).is_ok(), ok, "{raw}");
            let json = format!("\"{raw}\"");
            assert_eq!(
                serde_json::from_str::<HrDate>(&json).is_ok(),
                ok,
                "{raw} through serde"
            );
        }
    }

    #[test]
    fn hr_dates_refuse_what_is_not_a_date() {
        for raw in ["2026-02-30", "01/03/2026", "", "2026-03-01T00:00:00Z"] {
            assert!(HrDate::parse("start_date", raw).is_err(), "{raw:?}");
        }
        let d = HrDate::parse("start_date", "2026-03-01").unwrap();
        assert_eq!(d.to_string(), "2026-03-01");
        assert_eq!(
            NaiveDate::from(d),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-03-01\"");
    }
}
