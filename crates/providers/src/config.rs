//! Where each provider lives.
//!
//! Owns [`ProviderUrls`], one field per `ROSTER_*_URL` setting of the contract, defaulting
//! to the real production hosts (docs/providers.md, "Hosts" of each section). Each value is
//! a base: clients append the documented paths, so a fake can serve every provider from
//! `http://127.0.0.1:PORT`. This module never reads the environment (the CLI does).

use url::Url;

/// Base URLs of every provider. `Default` is production.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderUrls {
    /// `ROSTER_XERO_LOGIN_URL`: serves `/identity/connect/authorize`.
    pub xero_login_url: Url,
    /// `ROSTER_XERO_IDENTITY_URL`: serves `/connect/token` and `/connect/revocation`.
    pub xero_identity_url: Url,
    /// `ROSTER_XERO_API_URL`: serves `/connections` and `/payroll.xro/1.0/...`.
    pub xero_api_url: Url,
    /// `ROSTER_PRODUCTIVE_API_URL`: the API root, `…/api/v2`; serves `/people`, `/teams`, ….
    pub productive_api_url: Url,
    /// `ROSTER_GOOGLE_TOKEN_URL`: the token endpoint itself (also the JWT `aud`).
    pub google_token_url: Url,
    /// `ROSTER_GOOGLE_DIRECTORY_URL`: the Directory API root, `…/admin/directory/v1`; serves `/users`.
    pub google_directory_url: Url,
    /// `ROSTER_GOOGLE_CALENDAR_URL`: the Calendar API root, `…/calendar/v3`; serves `/calendars/{id}`.
    pub google_calendar_url: Url,
    /// `ROSTER_SLACK_API_URL`: the Web API root, `…/api`; serves `/<method>`.
    pub slack_api_url: Url,
    /// `ROSTER_REMOTE_API_URL`: production, serves `/v1/...`.
    pub remote_api_url: Url,
    /// `ROSTER_REMOTE_SANDBOX_API_URL`: sandbox, serves `/v1/...`.
    pub remote_sandbox_api_url: Url,
    /// `ROSTER_SCRAPIN_API_URL`: serves `/v1/enrichment/profile`.
    pub scrapin_api_url: Url,
}

impl Default for ProviderUrls {
    fn default() -> Self {
        Self {
            xero_login_url: fixed("https://login.xero.com"),
            xero_identity_url: fixed("https://identity.xero.com"),
            xero_api_url: fixed("https://api.xero.com"),
            productive_api_url: fixed("https://api.productive.io/api/v2"),
            google_token_url: fixed("https://oauth2.googleapis.com/token"),
            google_directory_url: fixed("https://admin.googleapis.com/admin/directory/v1"),
            google_calendar_url: fixed("https://www.googleapis.com/calendar/v3"),
            slack_api_url: fixed("https://slack.com/api"),
            remote_api_url: fixed("https://gateway.remote.com"),
            remote_sandbox_api_url: fixed("https://gateway.remote-sandbox.com"),
            scrapin_api_url: fixed("https://api.scrapin.io"),
        }
    }
}

/// Parses a URL literal of this file; `defaults_are_the_production_hosts` checks each one.
#[expect(
    clippy::expect_used,
    reason = "the literals above are constants, checked by a test"
)]
fn fixed(raw: &str) -> Url {
    Url::parse(raw).expect("a valid URL literal")
}

/// `base` + `path`, keeping any path the base already has (`Url::join` would drop its last
/// segment). `path` starts with `/`.
pub(crate) fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url.set_query(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_production_hosts() {
        let urls = ProviderUrls::default();
        assert_eq!(urls.xero_login_url.as_str(), "https://login.xero.com/");
        assert_eq!(
            urls.google_token_url.as_str(),
            "https://oauth2.googleapis.com/token"
        );
        assert_eq!(
            urls.remote_sandbox_api_url.host_str(),
            Some("gateway.remote-sandbox.com")
        );
        assert_eq!(urls.scrapin_api_url.host_str(), Some("api.scrapin.io"));
    }

    #[test]
    fn endpoint_keeps_the_base_path() {
        for (base, path, want) in [
            (
                "https://slack.com/api",
                "/auth.test",
                "https://slack.com/api/auth.test",
            ),
            (
                "http://127.0.0.1:9/slack/",
                "/api/auth.test",
                "http://127.0.0.1:9/slack/api/auth.test",
            ),
            ("http://127.0.0.1:9/x", "/v1/a", "http://127.0.0.1:9/x/v1/a"),
        ] {
            assert_eq!(
                endpoint(&Url::parse(base).unwrap(), path).as_str(),
                want,
                "{base}"
            );
        }
    }
}
