//! Reading a provider's "wait this long" headers.
//!
//! `Retry-After` is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3); Xero and Slack
//! send seconds (docs/providers.md, Xero "Rate limits", Slack "Rate limits"). Remote sends
//! `x-ratelimit-reset` in milliseconds (docs/providers.md, Remote "Rate limits"). Pure
//! functions: they read "now" from their argument, never from a clock of their own.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::budget::MAX_WAIT;

/// Parses a `Retry-After` value: whole seconds, or an HTTP-date relative to `now` (a date in
/// the past means "now"). Anything else is ignored (`None`), and the caller backs off.
/// Waits are capped at [`MAX_WAIT`]: the value comes from the network.
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    read_retry_after(value.trim(), now).map(|d| d.min(MAX_WAIT))
}

fn read_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // Some servers send fractional seconds; honour them rather than fall back to a guess.
    if let Ok(secs) = value.parse::<f64>() {
        if !(secs.is_finite() && secs >= 0.0) {
            return None;
        }
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(MAX_WAIT));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Remote's `x-ratelimit-reset` is documented in milliseconds without saying whether it is
/// an instant or a delay. Values beyond 10^12 (after September 2001 as epoch ms, or over 31
/// years as a delay) can only be an instant; smaller ones are a delay. Capped like
/// [`parse_retry_after`].
pub(crate) fn parse_reset_millis(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let ms = value.trim().parse::<i64>().ok()?;
    if ms < 0 {
        return None;
    }
    let wait = if ms > 1_000_000_000_000 {
        let at = DateTime::from_timestamp_millis(ms)?;
        (at - now).to_std().unwrap_or(Duration::ZERO)
    } else {
        Duration::from_millis(ms.unsigned_abs())
    };
    Some(wait.min(MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        for (raw, want) in [
            ("120", Some(Duration::from_secs(120))),
            (" 3 ", Some(Duration::from_secs(3))),
            ("0.5", Some(Duration::from_millis(500))),
            (
                "Wed, 21 Oct 2015 07:28:30 GMT",
                Some(Duration::from_secs(30)),
            ),
            ("Wed, 21 Oct 2015 07:00:00 GMT", Some(Duration::ZERO)),
            ("99999999999999999999", Some(MAX_WAIT)),
            ("1e300", Some(MAX_WAIT)),
            ("99999999999999", Some(MAX_WAIT)),
            ("soon", None),
            ("-1", None),
            ("", None),
        ] {
            assert_eq!(parse_retry_after(raw, now()), want, "{raw:?}");
        }
    }

    #[test]
    fn reset_millis_reads_delays_and_instants() {
        let instant = (now().timestamp_millis() + 2_500).to_string();
        for (raw, want) in [
            ("1500", Some(Duration::from_millis(1500))),
            (instant.as_str(), Some(Duration::from_millis(2500))),
            ("x", None),
            ("-5", None),
        ] {
            assert_eq!(parse_reset_millis(raw, now()), want, "{raw:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_header_value_parses_without_panicking(raw in ".{0,40}") {
            let _ = parse_retry_after(&raw, now());
            let _ = parse_reset_millis(&raw, now());
        }

        /// Huge numbers are the dangerous input: every wait is capped, so `now + wait` is safe.
        #[test]
        fn any_number_gives_a_wait_within_the_cap(secs in proptest::num::u64::ANY, frac in proptest::num::f64::ANY) {
            for raw in [secs.to_string(), frac.to_string(), format!("{secs}000")] {
                for wait in [parse_retry_after(&raw, now()), parse_reset_millis(&raw, now())].into_iter().flatten() {
                    proptest::prop_assert!(wait <= MAX_WAIT, "{raw}");
                    let _ = now() + super::super::budget::to_chrono(wait);
                }
            }
        }
    }
}
