//! Keeping secrets out of text: errors, spans and log lines.
//!
//! Owns the three tools every client uses: `scrub` removes a call's credentials from a
//! provider's message before it becomes an error detail, [`redact_url`] prints a URL with
//! every query value hidden (Scrapin puts its API key in the query string), and
//! `fingerprint` names a credential (for a rate-budget key) without revealing it.
//! Nothing here may ever return the secret it was given.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use url::Url;

const REDACTED: &str = "[redacted]";
/// Provider messages become error details; a short cap keeps a hostile or verbose body from
/// flooding logs.
const MAX_DETAIL_CHARS: usize = 300;

/// Replaces every occurrence of each secret in `text`, then caps its length. Secrets shorter
/// than four characters are not scrubbed: they cannot be told apart from ordinary words.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if secret.len() >= 4 {
            out = out.replace(secret, REDACTED);
        }
    }
    if out.chars().count() > MAX_DETAIL_CHARS {
        out = out.chars().take(MAX_DETAIL_CHARS).collect::<String>() + "…";
    }
    out
}

/// `scheme://host[:port]/path`, with each query value replaced: names stay (they help when
/// reading a trace), values go (they may be keys, codes or personal data).
pub fn redact_url(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push(':');
        shown.push_str(&port.to_string());
    }
    shown.push_str(url.path());
    let names: Vec<String> = url
        .query_pairs()
        .map(|(k, _)| format!("{k}={REDACTED}"))
        .collect();
    if !names.is_empty() {
        shown.push('?');
        shown.push_str(&names.join("&"));
    }
    shown
}

/// A short, stable name for a credential: the first 8 bytes of its SHA-256, in hex. Used to
/// key per-credential rate budgets when the provider has no tenant id to key them by.
pub(crate) fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest
        .iter()
        .take(8)
        .fold(String::with_capacity(16), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_every_secret_and_caps_length() {
        let text = "bad key CANARY-123 (CANARY-123) for tok-9";
        assert_eq!(
            scrub(text, &["CANARY-123", "tok-9"]),
            "bad key [redacted] ([redacted]) for [redacted]"
        );
        assert_eq!(
            scrub(&"x".repeat(400), &[]).chars().count(),
            MAX_DETAIL_CHARS + 1
        );
    }

    #[test]
    fn redacted_urls_keep_names_and_hide_values() {
        let url = Url::parse(
            "https://api.scrapin.io:8443/v1/enrichment/profile?apikey=CANARY&linkedInUrl=x",
        )
        .unwrap();
        assert_eq!(
            redact_url(&url),
            "https://api.scrapin.io:8443/v1/enrichment/profile?apikey=[redacted]&linkedInUrl=[redacted]"
        );
    }

    #[test]
    fn fingerprints_are_stable_and_hide_the_secret() {
        let fp = fingerprint("CANARY-secret");
        assert_eq!(fp.len(), 16);
        assert_eq!(fp, fingerprint("CANARY-secret"));
        assert!(!fp.contains("CANARY"));
    }
}
