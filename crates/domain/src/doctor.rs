//! The rules `roster doctor` applies to what it found: pure judgements over values the
//! command gathered (a URL, two clock readings). Each answers `Ok` or the problem in words
//! that say what to do.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use url::Url;

/// How far the server's clock may be from the database's before tokens and sync times go
/// wrong (a token's expiry is checked against one, written against the other).
pub const MAX_CLOCK_SKEW: Duration = Duration::seconds(5);

/// Whether `host` is this machine: `localhost` (and its subdomains) or a loopback address.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// The public URL must be a base URL (no query or fragment) with a host, and https unless
/// it is loopback (browsers and OAuth providers refuse plain http elsewhere).
pub fn check_public_url(url: &Url) -> Result<(), String> {
    let Some(host) = url.host_str() else {
        return Err(format!(
            "{url} has no host: set ROSTER_PUBLIC_URL to https://HOST/"
        ));
    };
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{url} has a query or fragment: set ROSTER_PUBLIC_URL to the base URL alone"
        ));
    }
    if url.scheme() != "https" && !is_loopback_host(host) {
        return Err(format!(
            "{url} is plain http on a host that is not loopback: serve Roster behind TLS and set ROSTER_PUBLIC_URL to its https:// address"
        ));
    }
    Ok(())
}

/// The server's clock against the database's: a difference over [`MAX_CLOCK_SKEW`] is a
/// problem (one of the two machines does not keep time; run NTP on it).
pub fn check_clock(ours: DateTime<Utc>, database: DateTime<Utc>) -> Result<Duration, String> {
    let skew = ours - database;
    if skew.abs() > MAX_CLOCK_SKEW {
        let secs = skew.num_milliseconds() as f64 / 1000.0;
        return Err(format!(
            "this machine's clock is {secs:+.1}s from the database's (more than {}s): synchronise both with NTP (timedatectl set-ntp true)",
            MAX_CLOCK_SKEW.num_seconds()
        ));
    }
    Ok(skew)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_or_loopback_base_urls_pass() {
        for ok in [
            "https://roster.example.com/",
            "https://roster.example.com/hr/",
            "http://127.0.0.1:8080/",
            "http://localhost:8080/",
            "http://[::1]:8080/",
        ] {
            assert_eq!(check_public_url(&Url::parse(ok).unwrap()), Ok(()), "{ok}");
        }
    }

    #[test]
    fn plain_http_elsewhere_and_queries_fail_saying_what_to_do() {
        for (bad, needle) in [
            ("http://roster.example.com/", "https://"),
            ("http://10.0.0.5/", "TLS"),
            ("https://roster.example.com/?x=1", "base URL"),
            ("https://roster.example.com/#top", "base URL"),
        ] {
            let err = check_public_url(&Url::parse(bad).unwrap()).unwrap_err();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn a_clock_within_five_seconds_is_sane_and_beyond_is_named() {
        let db = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(check_clock(db + Duration::seconds(5), db).is_ok());
        assert!(check_clock(db - Duration::seconds(5), db).is_ok());
        let err = check_clock(db + Duration::seconds(90), db).unwrap_err();
        assert!(err.contains("+90.0s"), "{err}");
        assert!(check_clock(db - Duration::milliseconds(5_001), db).is_err());
    }
}
