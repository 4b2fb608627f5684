//! Scrapin.io: LinkedIn profile enrichment.
//!
//! Owns Scrapin's wire format (docs/providers.md §6). Scrapin takes its key as the `apikey`
//! **query parameter** (<https://docs.scrapin.io/changes-alerts/person>), so this module's
//! URLs hold a secret: the HTTP layer prints them only through [`crate::redact_url`], and
//! errors never carry a URL. It does not manage change alerts yet.

use std::sync::Arc;

use http::header::ACCEPT;
use roster_domain::Provider;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::config::{ProviderUrls, endpoint};
use crate::error::{Error, ErrorKind};
use crate::http::{Http, Request, Response, Verdict, classify_common};
use crate::redact::fingerprint;
use crate::wire::opt_text;

const P: Provider = Provider::Scrapin;

#[derive(Debug, Clone, PartialEq)]
pub struct ScrapinProfile {
    pub public_identifier: Option<String>,
    pub linkedin_url: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub headline: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub country_code: Option<String>,
    pub photo_url: Option<String>,
    /// Credits left on the account after this lookup, when Scrapin says.
    pub credits_left: Option<f64>,
}

/// A client bound to one Scrapin API key.
#[derive(Debug, Clone)]
pub struct ScrapinClient {
    http: Arc<Http>,
    base: Url,
    api_key: SecretString,
}

impl ScrapinClient {
    pub fn new(http: Arc<Http>, urls: &ProviderUrls, api_key: SecretString) -> Self {
        Self {
            http,
            base: urls.scrapin_api_url.clone(),
            api_key,
        }
    }

    /// The profile behind a LinkedIn URL, or `None` when Scrapin has no result (404).
    pub async fn profile(&self, linkedin_url: &str) -> Result<Option<ScrapinProfile>, Error> {
        let req = Request::get(
            P,
            "scrapin.profile",
            endpoint(&self.base, "/v1/enrichment/profile"),
        )
        .budget_key(fingerprint(self.api_key.expose_secret()))
        .secret_query("apikey", &self.api_key)
        .query(&[("linkedInUrl", linkedin_url)])
        .header(ACCEPT, "application/json");
        let wire: ProfileAnswer = match self.http.send_json(&req, classify).await {
            Ok(w) => w,
            Err(e) if e.status == Some(404) => return Ok(None),
            Err(e) => return Err(e),
        };
        // The body's `success` flag is checked too (docs/providers.md, "check `success`").
        if !wire.success {
            return Err(Error::new(
                P,
                "scrapin.profile",
                ErrorKind::Upstream {
                    detail: "success: false".into(),
                },
            )
            .with_status(200));
        }
        let Some(p) = wire.person else {
            return Ok(None);
        };
        let location = p.location.unwrap_or_default();
        Ok(Some(ScrapinProfile {
            public_identifier: p.public_identifier,
            linkedin_url: p.linked_in_url,
            first_name: p.first_name,
            last_name: p.last_name,
            headline: p.headline,
            city: location.city,
            country: location.country,
            country_code: location.country_code,
            photo_url: p.photo_url,
            credits_left: wire.credits_left,
        }))
    }
}

impl ScrapinClient {
    /// The alert webhook URL Scrapin posts to, if one is set (`GET /v1/alerts/url`). It
    /// costs no credit, so it is also the cheap authenticated call that checks a key.
    pub async fn alert_url(&self) -> Result<Option<String>, Error> {
        let req = Request::get(
            P,
            "scrapin.alerts.get",
            endpoint(&self.base, "/v1/alerts/url"),
        )
        .budget_key(fingerprint(self.api_key.expose_secret()))
        .secret_query("apikey", &self.api_key)
        .header(ACCEPT, "application/json");
        let wire: AlertAnswer = self.http.send_json(&req, classify).await?;
        Self::check_success("scrapin.alerts.get", wire.success)?;
        Ok(wire.alert.and_then(|a| a.url))
    }

    /// Points Scrapin's alerts at `url` (`POST /v1/alerts/url`, status `active`). The URL
    /// must already have passed the outgoing-URL check.
    pub async fn set_alert_url(&self, url: &str) -> Result<(), Error> {
        let body = serde_json::json!({ "url": url, "status": "active" });
        let req = Request::post(
            P,
            "scrapin.alerts.set",
            endpoint(&self.base, "/v1/alerts/url"),
        )
        .budget_key(fingerprint(self.api_key.expose_secret()))
        .secret_query("apikey", &self.api_key)
        .header(ACCEPT, "application/json")
        .json(&body, "application/json");
        let wire: AlertAnswer = self.http.send_json(&req, classify).await?;
        Self::check_success("scrapin.alerts.set", wire.success)
    }

    /// Scrapin can answer 200 with `success: false` (docs/providers.md, "check `success`").
    fn check_success(operation: &'static str, success: bool) -> Result<(), Error> {
        if success {
            Ok(())
        } else {
            Err(Error::new(
                P,
                operation,
                ErrorKind::Upstream {
                    detail: "success: false".into(),
                },
            )
            .with_status(200))
        }
    }
}

#[derive(Deserialize)]
struct AlertAnswer {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    alert: Option<AlertWire>,
}

#[derive(Deserialize)]
struct AlertWire {
    #[serde(default)]
    url: Option<String>,
}

/// 401 bad key, **402 out of credits**, 404 no result, 429, 500 (docs/providers.md,
/// Scrapin "Status codes").
fn classify(resp: &Response) -> Verdict {
    match resp.status {
        402 => Verdict::Fail(ErrorKind::Upstream {
            detail: "out of credits".into(),
        }),
        _ => classify_common(resp, error_detail),
    }
}

/// The error body shape is not documented; `message` or `msg` when present.
fn error_detail(resp: &Response) -> String {
    resp.json()
        .and_then(|b| {
            b.get("message")
                .or_else(|| b.get("msg"))
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("HTTP {}", resp.status))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileAnswer {
    #[serde(default)]
    success: bool,
    #[serde(default, rename = "credits_left")]
    credits_left: Option<f64>,
    #[serde(default)]
    person: Option<PersonWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PersonWire {
    #[serde(default, deserialize_with = "opt_text")]
    public_identifier: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    linked_in_url: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    last_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    headline: Option<String>,
    #[serde(default)]
    location: Option<LocationWire>,
    #[serde(default, deserialize_with = "opt_text")]
    photo_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LocationWire {
    #[serde(default, deserialize_with = "opt_text")]
    city: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    country: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    country_code: Option<String>,
}
