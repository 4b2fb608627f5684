//! Calendar dates of HR records (start, end and birth dates).
//!
//! Any `YYYY-MM-DD` parses, including year 0 or -5000, but PostgreSQL's `DATE` ends at 4713
//! BC and no employment or birth date lies outside living memory. So a date is checked once,
//! at the edge, against a range every store holds: outside it is a 422 naming the field,
//! never a database error.

use chrono::NaiveDate;

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
        }
    }
}
