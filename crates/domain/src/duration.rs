//! Human durations in configuration and on the CLI: `90s`, `30m`, `8h`, `7d`, or a
//! combination such as `1h30m`. Parsed once into a `chrono::Duration`.

use chrono::Duration;

use crate::FieldError;

/// Parses `raw` for `field`. Zero and negative durations are refused.
pub fn parse(field: &str, raw: &str) -> Result<Duration, FieldError> {
    let bad = || {
        FieldError::new(
            field,
            format!("{raw:?} is not a duration like 90s, 30m, 8h or 7d"),
        )
    };
    let s = raw.trim();
    if s.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::zero();
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let part = match c {
            's' => Duration::try_seconds(n),
            'm' => Duration::try_minutes(n),
            'h' => Duration::try_hours(n),
            'd' => Duration::try_days(n),
            _ => None,
        }
        .ok_or_else(bad)?;
        total = total.checked_add(&part).ok_or_else(bad)?;
    }
    if !digits.is_empty() || total <= Duration::zero() {
        return Err(bad());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (raw, secs) in [
            ("1s", Some(1)),
            ("90s", Some(90)),
            ("30m", Some(1800)),
            ("8h", Some(28_800)),
            ("7d", Some(604_800)),
            ("1h30m", Some(5400)),
            ("", None),
            ("8", None),
            ("h", None),
            ("0s", None),
            ("5w", None),
            ("-1h", None),
            ("99999999999999999999d", None),
        ] {
            assert_eq!(
                parse("ttl", raw).ok().map(|d| d.num_seconds()),
                secs,
                "{raw:?}"
            );
        }
    }
}
