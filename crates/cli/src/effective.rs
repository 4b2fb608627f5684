//! The effective configuration `serve` logs once at start: every setting's value as parsed,
//! with every secret and password shown as `[redacted]`.

use std::fmt::Write as _;

use url::Url;

use crate::config::{Config, LogFormat};

pub const REDACTED: &str = "[redacted]";

/// Stands in for a password while the URL is rebuilt (brackets would be percent-encoded).
const MARK: &str = "ROSTERREDACTEDMARK";

/// A database URL with its password (in the authority or a `password=` parameter) replaced
/// by `[redacted]`.
pub fn redact_database_url(url: &str) -> String {
    let Ok(mut u) = Url::parse(url) else {
        // Not a URL we can take apart: show only its scheme.
        return url.split_once(':').map_or_else(
            || REDACTED.to_owned(),
            |(scheme, _)| format!("{scheme}:{REDACTED}"),
        );
    };
    if u.password().is_some() {
        let _ = u.set_password(Some(MARK));
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let secret = k.to_ascii_lowercase().contains("password")
                    || k.to_ascii_lowercase().contains("secret");
                (
                    k.into_owned(),
                    if secret {
                        MARK.to_owned()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string().replace(MARK, REDACTED)
}

/// `name=value` pairs, one per setting, in the configuration's order.
pub fn dump(config: &Config) -> String {
    let urls = &config.provider_urls;
    let mut out = String::new();
    let mut add = |k: &str, v: &dyn std::fmt::Display| {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{k}={v}");
    };
    add("listen", &config.listen);
    add("data_dir", &config.data_dir.display());
    add("database_url", &redact_database_url(&config.database_url));
    add(
        "secret_key",
        &format!("{REDACTED}({} key(s))", config.secret_keys.len()),
    );
    add(
        "public_url",
        &config
            .public_url
            .as_ref()
            .map_or_else(|| "-".to_owned(), ToString::to_string),
    );
    for (k, u) in [
        ("xero_login_url", &urls.xero_login_url),
        ("xero_identity_url", &urls.xero_identity_url),
        ("xero_api_url", &urls.xero_api_url),
        ("productive_api_url", &urls.productive_api_url),
        ("google_token_url", &urls.google_token_url),
        ("google_directory_url", &urls.google_directory_url),
        ("google_calendar_url", &urls.google_calendar_url),
        ("slack_api_url", &urls.slack_api_url),
        ("remote_api_url", &urls.remote_api_url),
        ("remote_sandbox_api_url", &urls.remote_sandbox_api_url),
        ("scrapin_api_url", &urls.scrapin_api_url),
    ] {
        add(k, u);
    }
    add(
        "xero_client_id",
        &config.xero_client_id.as_deref().unwrap_or("-"),
    );
    add(
        "xero_client_secret",
        &config.xero_client_secret.as_ref().map_or("-", |_| REDACTED),
    );
    add(
        "people_ttl",
        &format!("{}s", config.people_ttl.num_seconds()),
    );
    add("mass_removal_threshold", &config.mass_removal_threshold);
    add(
        "outbound_allow_hosts",
        &config
            .outbound_allow_hosts
            .hosts()
            .collect::<Vec<_>>()
            .join(","),
    );
    add("auto_migrate", &config.auto_migrate);
    add("log", &config.log);
    add(
        "log_format",
        &match config.log_format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_a_database_url_are_redacted_wherever_they_are() {
        assert_eq!(
            redact_database_url("postgres://roster:s3cret@db:5432/roster"),
            "postgres://roster:[redacted]@db:5432/roster"
        );
        let q = redact_database_url("postgres://db/roster?user=r&password=s3cret&sslmode=require");
        assert!(
            !q.contains("s3cret") && q.contains("sslmode=require"),
            "{q}"
        );
        assert_eq!(
            redact_database_url("sqlite://data/roster.db"),
            "sqlite://data/roster.db"
        );
    }
}
