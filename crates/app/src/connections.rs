//! An organization's connections to the tools it pays for: saving a credential (verified with
//! the provider first, then sealed under the connection's own context), listing their health,
//! disconnecting, Xero's OAuth2 flow, and [`App::xero_access`], the one function every use of
//! a Xero token goes through.
//!
//! Never holds a transaction across a provider call: verify first, then write in one short
//! transaction with its audit event. Never lets a secret out: credentials arrive as
//! [`Credential`], leave only sealed, and audit details name fields, never values.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use roster_domain::patch::present_fields;
use roster_domain::text::BoundedText;
use roster_domain::{ConnectionStatus, Credential, Email, OrgId, Provider, UserId};
pub use roster_providers::Environment;
use roster_providers::{
    GoogleWorkspaceClient, Pkce, ProductiveClient, ProductiveCredentials, RemoteClient,
    ScrapinClient, ServiceAccountKey, SlackClient, XeroApp, XeroClient, random_token,
};
use roster_store::connections::{ConnectionRecord, OAuthState};
use roster_vault::{ExposeSecret, Sealed, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;

use crate::audit::{Actor, record};
use crate::{App, Can, Error, Executive, Result, secrets};

/// How long an authorization started with `auth-url` may take to come back.
const OAUTH_STATE_TTL: Duration = Duration::minutes(10);
/// A token is refreshed this long before it expires, so a call never starts with a token
/// that dies on the way (Xero's access tokens live 30 minutes).
const REFRESH_AHEAD: Duration = Duration::minutes(2);
/// How long one refresh may hold the connection's lease; a crashed holder's claim lapses.
const REFRESH_LEASE: Duration = Duration::seconds(60);
/// How long a caller waits for another instance's refresh before giving up.
const REFRESH_WAIT: StdDuration = StdDuration::from_secs(20);
const REFRESH_POLL: StdDuration = StdDuration::from_millis(25);
/// The OAuth purpose Xero's authorizations are stored under.
const XERO_PURPOSE: &str = "connection:xero";

/// A connection as `GET /api/admin/connections` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionView {
    pub provider: Provider,
    pub org_name: Option<String>,
    pub connected_by: Option<UserId>,
    pub connected_at: DateTime<Utc>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub status: ConnectionStatus,
    /// The last failure in plain words (no secret), when the status is not `ok`.
    pub last_error: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ConnectionRecord> for ConnectionView {
    fn from(r: ConnectionRecord) -> Self {
        Self {
            provider: r.provider,
            org_name: r.org_name,
            connected_by: r.connected_by,
            connected_at: r.connected_at,
            token_expires_at: r.token_expires_at,
            status: r.status,
            last_error: r.status_detail,
            last_used_at: r.last_used_at,
        }
    }
}

/// A Xero access token ready for a payroll call, and the tenant it acts in.
#[derive(Debug, Clone)]
pub struct XeroAccess {
    pub access_token: SecretString,
    pub tenant_id: Uuid,
}

/// `PUT /api/admin/connections/slack`: the channel is a Slack conversation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackChannelId(String);

impl SlackChannelId {
    /// Public channels start with `C`, private ones with `G` (older) or `C`; the rest are
    /// upper-case letters and digits (<https://api.slack.com/docs/conversations-api>).
    pub fn parse(field: &str, raw: &str) -> Result<Self, roster_domain::FieldError> {
        let s = raw.trim();
        let ok = (2..=32).contains(&s.len())
            && (s.starts_with('C') || s.starts_with('G'))
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(roster_domain::FieldError::new(
                field,
                "must be a Slack channel id such as C0123456789",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the Remote status endpoint reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteStatus {
    pub company_name: String,
    pub company_status: String,
    pub environment: Environment,
}

/// The sealed part of a connection: the provider's secret(s), never anything else.
#[derive(Serialize, Deserialize)]
pub(crate) struct SealedSecret {
    pub(crate) token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

/// Where a credential came from, for the save: a new one, or the stored one kept.
enum Secret {
    New(Credential),
    Kept(SecretString),
}

impl Secret {
    fn expose(&self) -> &str {
        match self {
            Self::New(c) => c.expose(),
            Self::Kept(s) => s.expose_secret(),
        }
    }
}

/// A verified connection, ready to be sealed and saved.
struct Verified {
    provider: Provider,
    org_name: Option<String>,
    secret: SealedSecret,
    token_expires_at: Option<DateTime<Utc>>,
    settings: Value,
    /// The request's fields that changed, for the audit log (names only).
    fields: Vec<&'static str>,
}

/// Appends a connection's audit event: the provider is the subject, `detail` names what
/// happened (fields, counts, reasons), never a value of a credential.
async fn audit_connection(
    tx: &mut roster_store::OrgTx<'_>,
    now: DateTime<Utc>,
    actor: Actor<'_>,
    action: &str,
    provider: Provider,
    mut detail: Value,
) -> Result<()> {
    detail["provider"] = json!(provider);
    record(
        tx,
        now,
        actor,
        action,
        ("connection", Some(provider.as_str().to_owned())),
        detail,
    )
    .await
}

fn hash_state(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            use std::fmt::Write;
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

impl App {
    /// Every configured connection with its health.
    pub async fn list_connections(&self, can: &Can<Executive>) -> Result<Vec<ConnectionView>> {
        let mut tx = self.store.read_one().await?;
        let rows = tx.org(can.caller().org_id()).list_connections().await?;
        tx.rollback().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn stored(
        &self,
        org: OrgId,
        provider: Provider,
    ) -> Result<Option<ConnectionRecord>> {
        Ok(self.store.read_connection(org, provider).await?)
    }

    pub(crate) fn open_secret(
        &self,
        org: OrgId,
        record: &ConnectionRecord,
    ) -> Result<SealedSecret> {
        let sealed = Sealed::from_bytes(&record.secret).map_err(Error::Vault)?;
        let plain = self
            .keys
            .decrypt(&sealed, &secrets::connection(org, record.provider))
            .map_err(Error::Vault)?;
        serde_json::from_slice(plain.expose_secret())
            .map_err(|_| Error::Vault(roster_vault::Error::Malformed))
    }

    fn seal_secret(
        &self,
        org: OrgId,
        provider: Provider,
        secret: &SealedSecret,
    ) -> Result<Vec<u8>> {
        let plain = SecretString::from(
            serde_json::to_string(secret)
                .map_err(|_| Error::Vault(roster_vault::Error::Malformed))?,
        );
        Ok(self
            .keys
            .encrypt_str(&plain, &secrets::connection(org, provider))
            .as_bytes()
            .to_vec())
    }

    /// The credential to verify: the new one, or the stored one when the body left it out
    /// (only an existing connection may be updated without it).
    fn secret_or_stored(
        &self,
        org: OrgId,
        new: Option<Credential>,
        stored: Option<&ConnectionRecord>,
        field: &'static str,
    ) -> Result<Secret> {
        match (new, stored) {
            (Some(c), _) => Ok(Secret::New(c)),
            (None, Some(r)) => Ok(Secret::Kept(SecretString::from(
                self.open_secret(org, r)?.token,
            ))),
            (None, None) => Err(Error::Invalid(vec![roster_domain::FieldError::new(
                field,
                "is required to connect",
            )])),
        }
    }

    /// Seals and saves a verified connection with its audit event, in one transaction.
    async fn save_verified(&self, can: &Can<Executive>, v: Verified) -> Result<()> {
        let caller = can.caller();
        let org = caller.org_id();
        let now = self.clock.now();
        let sealed = self.seal_secret(org, v.provider, &v.secret)?;
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        let existing = scoped.get_connection(v.provider).await?;
        scoped
            .save_connection(&ConnectionRecord {
                provider: v.provider,
                org_name: v.org_name,
                connected_by: Some(caller.user.id),
                connected_at: existing.as_ref().map_or(now, |e| e.connected_at),
                token_expires_at: v.token_expires_at,
                status: ConnectionStatus::Ok,
                status_detail: None,
                secret: sealed,
                settings: v.settings,
                updated_at: now,
                last_used_at: Some(now),
            })
            .await?;
        audit_connection(
            &mut scoped,
            now,
            caller.actor(),
            if existing.is_some() {
                "connection.update"
            } else {
                "connection.create"
            },
            v.provider,
            json!({ "fields": v.fields }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A provider refused what the caller sent: audited (field and reason, never the value)
    /// in a transaction of its own, since nothing else is written; the stored credential
    /// stays in force.
    async fn refuse(
        &self,
        can: &Can<Executive>,
        provider: Provider,
        field: &'static str,
        reason: String,
    ) -> Error {
        let caller = can.caller();
        let now = self.clock.now();
        let audited = async {
            let mut tx = self.store.begin().await?;
            audit_connection(
                &mut tx.org(caller.org_id()),
                now,
                caller.actor(),
                "connection.verify_failed",
                provider,
                json!({ "field": field, "reason": reason }),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, Error>(())
        };
        if let Err(e) = audited.await {
            return e;
        }
        Error::Invalid(vec![roster_domain::FieldError::new(field, reason)])
    }

    /// Turns a verification failure into the caller's answer: a credential the provider
    /// rejects is a 422 naming `field`; an outage or a rate limit stays a provider error.
    async fn verification_failed(
        &self,
        can: &Can<Executive>,
        field: &'static str,
        e: roster_providers::Error,
    ) -> Error {
        if e.is_needs_reauth() {
            let reason = format!("{} rejected it", provider_name(e.provider));
            return self.refuse(can, e.provider, field, reason).await;
        }
        Error::Provider(e)
    }

    /// `PUT /api/admin/connections/productive`.
    pub async fn connect_productive(
        &self,
        can: &Can<Executive>,
        api_token: Credential,
        organization_id: Option<BoundedText>,
    ) -> Result<String> {
        let client = |organization_id: Option<String>| {
            ProductiveClient::new(
                self.http.clone(),
                &self.settings.provider_urls,
                ProductiveCredentials {
                    api_token: SecretString::from(api_token.expose().to_owned()),
                    organization_id,
                },
            )
        };
        let given = organization_id
            .clone()
            .and_then(BoundedText::non_empty)
            .map(BoundedText::into_string);
        // Without an id, the token finds its organization the way Productive's own apps do:
        // its memberships, the one listing that needs no `X-Organization-Id` (ADR 0020).
        let organization_id = match given {
            Some(id) => id,
            None => match client(None).organization_ids().await {
                Ok(ids) if ids.len() == 1 => ids.into_iter().next().unwrap_or_default(),
                Ok(ids) => {
                    let reason = if ids.is_empty() {
                        "could not be found: this token belongs to no organization".to_owned()
                    } else {
                        format!(
                            "is required: this token reaches {} organizations ({})",
                            ids.len(),
                            ids.join(", ")
                        )
                    };
                    return Err(self
                        .refuse(can, Provider::Productive, "organization_id", reason)
                        .await);
                }
                Err(e) => return Err(self.verification_failed(can, "api_token", e).await),
            },
        };
        let org = match client(Some(organization_id)).organization().await {
            Ok(o) => o,
            // Productive answers 403 to a request without the organization's id in
            // `X-Organization-Id`, or with one the token cannot reach: "add your organization
            // ID to the X-Organization-Id header for every request"
            // (<https://developer.productive.io/guides/authorization>).
            Err(e) if e.status == Some(403) => {
                return Err(self
                    .refuse(
                        can,
                        Provider::Productive,
                        "organization_id",
                        "is not an organization this token can reach".to_owned(),
                    )
                    .await);
            }
            Err(e) => return Err(self.verification_failed(can, "api_token", e).await),
        };
        self.save_verified(
            can,
            Verified {
                provider: Provider::Productive,
                org_name: Some(org.name.clone()),
                secret: SealedSecret {
                    token: api_token.expose().to_owned(),
                    refresh_token: None,
                },
                token_expires_at: None,
                settings: json!({ "organization_id": org.id }),
                fields: vec!["api_token", "organization_id"],
            },
        )
        .await?;
        Ok(org.name)
    }

    /// `PUT /api/admin/connections/slack`: the bot token must work and reach the channel.
    pub async fn connect_slack(
        &self,
        can: &Can<Executive>,
        bot_token: Credential,
        channel: SlackChannelId,
    ) -> Result<()> {
        if !bot_token.expose().starts_with("xoxb-") {
            return Err(Error::Invalid(vec![roster_domain::FieldError::new(
                "bot_token",
                "must be a bot token (xoxb-…)",
            )]));
        }
        let client = SlackClient::new(
            self.http.clone(),
            &self.settings.provider_urls,
            SecretString::from(bot_token.expose().to_owned()),
        );
        let identity = match client.auth_test().await {
            Ok(i) => i,
            Err(e) => return Err(self.verification_failed(can, "bot_token", e).await),
        };
        let found = match client.conversation_info(channel.as_str()).await {
            Ok(c) => c,
            Err(e) if e.status == Some(200) || !e.is_transient() && !e.is_needs_reauth() => {
                let reason = "is not a channel this bot can see".to_owned();
                return Err(self
                    .refuse(can, Provider::Slack, "channel_id", reason)
                    .await);
            }
            Err(e) => return Err(self.verification_failed(can, "bot_token", e).await),
        };
        self.save_verified(
            can,
            Verified {
                provider: Provider::Slack,
                org_name: identity.team.clone(),
                secret: SealedSecret {
                    token: bot_token.expose().to_owned(),
                    refresh_token: None,
                },
                token_expires_at: None,
                settings: json!({
                    "channel_id": found.id,
                    "channel_name": found.name,
                    "team_id": identity.team_id,
                }),
                fields: vec!["bot_token", "channel_id"],
            },
        )
        .await
    }

    /// `PUT /api/admin/connections/google-workspace`: the key must parse (RSA included) and
    /// obtain a token, and the calendar must be readable with it.
    pub async fn connect_google(
        &self,
        can: &Can<Executive>,
        key: Option<Credential>,
        calendar_id: BoundedText,
        admin_email: Option<Email>,
    ) -> Result<()> {
        let org = can.caller().org_id();
        let stored = self.stored(org, Provider::GoogleWorkspace).await?;
        let fields_changed = present_fields([
            ("service_account_key", key.is_some()),
            ("calendar_id", true),
            ("admin_email", admin_email.is_some()),
        ]);
        let secret = self.secret_or_stored(org, key, stored.as_ref(), "service_account_key")?;
        let parsed = match ServiceAccountKey::parse(secret.expose()) {
            Ok(k) => k,
            Err(e) => {
                let reason = match e.kind {
                    roster_providers::ErrorKind::Invalid { message, .. } => message,
                    _ => "is not a service-account key".to_owned(),
                };
                return Err(self
                    .refuse(
                        can,
                        Provider::GoogleWorkspace,
                        "service_account_key",
                        reason,
                    )
                    .await);
            }
        };
        let client_email = parsed.client_email().to_owned();
        let client = GoogleWorkspaceClient::new(
            self.http.clone(),
            &self.settings.provider_urls,
            parsed,
            admin_email.clone(),
        );
        let calendar = match client.calendar(calendar_id.as_str()).await {
            Ok(c) => c,
            Err(e) if e.status == Some(404) => {
                let reason = "is not a calendar shared with this service account".to_owned();
                return Err(self
                    .refuse(can, Provider::GoogleWorkspace, "calendar_id", reason)
                    .await);
            }
            Err(e) => {
                return Err(self
                    .verification_failed(can, "service_account_key", e)
                    .await);
            }
        };
        self.save_verified(
            can,
            Verified {
                provider: Provider::GoogleWorkspace,
                org_name: calendar.summary.clone(),
                secret: SealedSecret {
                    token: secret.expose().to_owned(),
                    refresh_token: None,
                },
                token_expires_at: None,
                settings: json!({
                    "calendar_id": calendar.id,
                    "admin_email": admin_email,
                    "client_email": client_email,
                }),
                fields: fields_changed,
            },
        )
        .await
    }

    /// `GET /api/admin/connections/google-workspace/status`: the calendar id when configured.
    pub async fn google_status(&self, can: &Can<Executive>) -> Result<Option<String>> {
        let stored = self
            .stored(can.caller().org_id(), Provider::GoogleWorkspace)
            .await?;
        Ok(stored.map(|r| {
            r.settings["calendar_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }))
    }

    /// `PUT /api/admin/connections/remote`.
    pub async fn connect_remote(
        &self,
        can: &Can<Executive>,
        api_token: Option<Credential>,
        company_id: Option<BoundedText>,
        environment: Option<Environment>,
        org_name: Option<BoundedText>,
    ) -> Result<()> {
        let org = can.caller().org_id();
        let stored = self.stored(org, Provider::Remote).await?;
        let fields_changed = present_fields([
            ("api_token", api_token.is_some()),
            ("company_id", company_id.is_some()),
            ("environment", environment.is_some()),
            ("org_name", org_name.is_some()),
        ]);
        let environment = environment
            .or_else(|| {
                stored
                    .as_ref()
                    .and_then(|r| r.settings["environment"].as_str())
                    .map(|e| {
                        if e == "sandbox" {
                            Environment::Sandbox
                        } else {
                            Environment::Production
                        }
                    })
            })
            .unwrap_or_default();
        let secret = self.secret_or_stored(org, api_token, stored.as_ref(), "api_token")?;
        let client = RemoteClient::new(
            self.http.clone(),
            &self.settings.provider_urls,
            environment,
            SecretString::from(secret.expose().to_owned()),
        );
        let identity = match client.identity().await {
            Ok(i) => i,
            Err(e) => return Err(self.verification_failed(can, "api_token", e).await),
        };
        let company_id = company_id
            .and_then(BoundedText::non_empty)
            .map_or(identity.company_id.clone(), BoundedText::into_string);
        if company_id != identity.company_id {
            let reason = "is not the company this token acts for".to_owned();
            return Err(self
                .refuse(can, Provider::Remote, "company_id", reason)
                .await);
        }
        let name = org_name
            .and_then(BoundedText::non_empty)
            .map_or(identity.company_name.clone(), BoundedText::into_string);
        self.save_verified(
            can,
            Verified {
                provider: Provider::Remote,
                org_name: Some(name),
                secret: SealedSecret {
                    token: secret.expose().to_owned(),
                    refresh_token: None,
                },
                token_expires_at: None,
                settings: json!({ "company_id": company_id, "environment": environment.as_str() }),
                fields: fields_changed,
            },
        )
        .await
    }

    /// `GET /api/admin/connections/remote/status`: asks Remote; a rejected token is a
    /// provider error (502) and marks the connection.
    pub async fn remote_status(&self, can: &Can<Executive>) -> Result<Option<RemoteStatus>> {
        let org = can.caller().org_id();
        let Some(stored) = self.stored(org, Provider::Remote).await? else {
            return Ok(None);
        };
        let secret = self.open_secret(org, &stored)?;
        let environment = if stored.settings["environment"] == "sandbox" {
            Environment::Sandbox
        } else {
            Environment::Production
        };
        let client = RemoteClient::new(
            self.http.clone(),
            &self.settings.provider_urls,
            environment,
            SecretString::from(secret.token),
        );
        let company_id = stored.settings["company_id"].as_str().unwrap_or_default();
        match client.company(company_id).await {
            Ok(company) => {
                self.mark(org, Provider::Remote, ConnectionStatus::Ok, None)
                    .await?;
                Ok(Some(RemoteStatus {
                    company_name: company.name,
                    company_status: company.status.unwrap_or_else(|| "unknown".to_owned()),
                    environment,
                }))
            }
            Err(e) => {
                let status = if e.is_needs_reauth() {
                    ConnectionStatus::NeedsReauth
                } else {
                    ConnectionStatus::Error
                };
                self.mark(org, Provider::Remote, status, Some(&describe(&e)))
                    .await?;
                Err(Error::Provider(e))
            }
        }
    }

    /// `PUT /api/admin/connections/scrapin`: the key must answer a cheap authenticated call
    /// (reading the alert configuration costs no credit).
    pub async fn connect_scrapin(
        &self,
        can: &Can<Executive>,
        api_key: Option<Credential>,
        org_name: Option<BoundedText>,
    ) -> Result<()> {
        let org = can.caller().org_id();
        let stored = self.stored(org, Provider::Scrapin).await?;
        let fields_changed = present_fields([
            ("api_key", api_key.is_some()),
            ("org_name", org_name.is_some()),
        ]);
        let secret = self.secret_or_stored(org, api_key, stored.as_ref(), "api_key")?;
        let client = ScrapinClient::new(
            self.http.clone(),
            &self.settings.provider_urls,
            SecretString::from(secret.expose().to_owned()),
        );
        let alert = match client.alert_url().await {
            Ok(a) => a,
            Err(e) => return Err(self.verification_failed(can, "api_key", e).await),
        };
        let name = org_name
            .and_then(BoundedText::non_empty)
            .map(BoundedText::into_string)
            .or_else(|| stored.as_ref().and_then(|r| r.org_name.clone()));
        self.save_verified(
            can,
            Verified {
                provider: Provider::Scrapin,
                org_name: name,
                secret: SealedSecret {
                    token: secret.expose().to_owned(),
                    refresh_token: None,
                },
                token_expires_at: None,
                settings: json!({ "webhook_url": alert }),
                fields: fields_changed,
            },
        )
        .await
    }

    /// `GET /api/admin/connections/scrapin/alerts-config`: `None` when Scrapin is not
    /// connected, else the webhook URL configured (if any).
    pub async fn scrapin_alerts(&self, can: &Can<Executive>) -> Result<Option<Option<String>>> {
        let stored = self
            .stored(can.caller().org_id(), Provider::Scrapin)
            .await?;
        Ok(stored.map(|r| r.settings["webhook_url"].as_str().map(str::to_owned)))
    }

    /// `POST /api/admin/connections/scrapin/alerts-config`: the URL must be `https` and every
    /// address its host resolves to public (or the host allow-listed by the operator). Scrapin
    /// is told first; the validated URL is what is stored and returned.
    pub async fn set_scrapin_alerts(&self, can: &Can<Executive>, raw_url: &str) -> Result<String> {
        let caller = can.caller();
        let org = caller.org_id();
        let checked = roster_providers::check_outbound_url(
            raw_url,
            "webhook_url",
            &self.settings.outbound_allow_hosts,
            self.resolver.as_ref(),
        )
        .await
        .map_err(|e| Error::Invalid(vec![e]))?;
        let url = checked.url().as_str().to_owned();
        let stored = self
            .stored(org, Provider::Scrapin)
            .await?
            .ok_or(Error::NotConnected(Provider::Scrapin))?;
        let secret = self.open_secret(org, &stored)?;
        let client = ScrapinClient::new(
            self.http.clone(),
            &self.settings.provider_urls,
            SecretString::from(secret.token),
        );
        client.set_alert_url(&url).await.map_err(Error::Provider)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        let mut settings = stored.settings.clone();
        settings["webhook_url"] = json!(url);
        scoped
            .save_connection(&ConnectionRecord {
                settings,
                updated_at: now,
                last_used_at: Some(now),
                ..stored
            })
            .await?;
        audit_connection(
            &mut scoped,
            now,
            caller.actor(),
            "connection.update",
            Provider::Scrapin,
            json!({ "fields": ["webhook_url"] }),
        )
        .await?;
        tx.commit().await?;
        Ok(url)
    }

    /// Records a connection's health after a use.
    pub(crate) async fn mark(
        &self,
        org: OrgId,
        provider: Provider,
        status: ConnectionStatus,
        detail: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.org(org)
            .set_connection_status(provider, status, detail, self.clock.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `DELETE /api/admin/connections/{provider}`. Xero's refresh token is revoked first,
    /// best effort (the connection goes whatever Xero answers); Remote's employment ids are
    /// cleared in the same transaction as the connection.
    pub async fn disconnect(&self, can: &Can<Executive>, provider: Provider) -> Result<()> {
        let caller = can.caller();
        let org = caller.org_id();
        let mut revoked = None;
        if provider == Provider::Xero {
            if let (Some(stored), Ok(client)) =
                (self.stored(org, Provider::Xero).await?, self.xero_client())
            {
                if let Some(refresh) = self.open_secret(org, &stored)?.refresh_token {
                    let outcome = client.revoke(&SecretString::from(refresh)).await;
                    if let Err(e) = &outcome {
                        tracing::warn!(error = %describe(e), "revoking the Xero grant failed; disconnecting anyway");
                    }
                    revoked = Some(outcome.is_ok());
                }
            }
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        if !scoped.delete_connection(provider).await? {
            return Err(roster_store::Error::NotFound("connection").into());
        }
        let unlinked = if provider == Provider::Remote {
            Some(scoped.clear_external_ids("remote").await?)
        } else {
            None
        };
        audit_connection(
            &mut scoped,
            now,
            caller.actor(),
            "connection.delete",
            provider,
            json!({ "revoked": revoked, "unlinked_people": unlinked }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A client for the organization's Productive connection, with its stored token and
    /// organization id.
    pub(crate) async fn productive_client(&self, org: OrgId) -> Result<ProductiveClient> {
        let record = self
            .stored(org, Provider::Productive)
            .await?
            .ok_or(Error::NotConnected(Provider::Productive))?;
        let secret = self.open_secret(org, &record)?;
        let organization_id = record
            .settings
            .get("organization_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(ProductiveClient::new(
            self.http.clone(),
            &self.settings.provider_urls,
            ProductiveCredentials {
                api_token: SecretString::from(secret.token),
                organization_id,
            },
        ))
    }

    /// A client for the organization's Google Workspace connection, acting as its admin.
    pub(crate) async fn google_client(&self, org: OrgId) -> Result<GoogleWorkspaceClient> {
        let record = self
            .stored(org, Provider::GoogleWorkspace)
            .await?
            .ok_or(Error::NotConnected(Provider::GoogleWorkspace))?;
        let secret = self.open_secret(org, &record)?;
        let key = ServiceAccountKey::parse(&secret.token)
            .map_err(|_| Error::Vault(roster_vault::Error::Malformed))?;
        let admin_email = record
            .settings
            .get("admin_email")
            .and_then(Value::as_str)
            .and_then(|e| Email::parse(e).ok());
        Ok(GoogleWorkspaceClient::new(
            self.http.clone(),
            &self.settings.provider_urls,
            key,
            admin_email,
        ))
    }

    /// A client for the organization's Remote connection and its company id, when connected.
    pub(crate) async fn remote_client(
        &self,
        org: OrgId,
    ) -> Result<Option<(RemoteClient, Option<String>)>> {
        let Some(stored) = self.stored(org, Provider::Remote).await? else {
            return Ok(None);
        };
        let secret = self.open_secret(org, &stored)?;
        let environment = if stored.settings["environment"] == "sandbox" {
            Environment::Sandbox
        } else {
            Environment::Production
        };
        let client = RemoteClient::new(
            self.http.clone(),
            &self.settings.provider_urls,
            environment,
            SecretString::from(secret.token),
        );
        let company_id = stored.settings["company_id"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        Ok(Some((client, company_id)))
    }

    pub(crate) fn xero_client(&self) -> Result<XeroClient> {
        let s = &self.settings;
        let (Some(client_id), Some(public_url)) = (&s.xero_client_id, &s.public_url) else {
            return Err(Error::NotConfigured(
                "Xero needs ROSTER_XERO_CLIENT_ID and ROSTER_PUBLIC_URL",
            ));
        };
        let redirect_uri = public_url
            .join("connections/xero/callback")
            .map_err(|_| Error::NotConfigured("ROSTER_PUBLIC_URL is not a base URL"))?;
        Ok(XeroClient::new(
            self.http.clone(),
            &s.provider_urls,
            XeroApp {
                client_id: client_id.clone(),
                client_secret: s.xero_client_secret.clone(),
                redirect_uri,
                scopes: Vec::new(),
            },
        ))
    }

    /// `GET /api/admin/connections/xero/auth-url`: a random `state` (stored hashed, single
    /// use, ten minutes, bound to this executive and organization) and a PKCE challenge.
    pub async fn xero_auth_url(&self, can: &Can<Executive>) -> Result<Url> {
        let caller = can.caller();
        let client = self.xero_client()?;
        let org = caller.org_id();
        let now = self.clock.now();
        let state = random_token();
        let pkce = Pkce::generate();
        let state_hash = hash_state(&state);
        let verifier = self
            .keys
            .encrypt_str(pkce.verifier(), &secrets::oauth_state(org, &state_hash));
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        scoped.purge_oauth_states(now).await?;
        scoped
            .create_oauth_state(&OAuthState {
                state_hash,
                user: caller.user.id,
                purpose: XERO_PURPOSE.to_owned(),
                verifier: verifier.as_bytes().to_vec(),
                extra: "{}".to_owned(),
                created_at: now,
                expires_at: now + OAUTH_STATE_TTL,
            })
            .await?;
        tx.commit().await?;
        Ok(client.authorize_url(&state, &pkce))
    }

    /// `POST /api/admin/connections/xero/callback`: exchanges the code, reads the tenants,
    /// seals the tokens. Returns the connected organisation's name.
    pub async fn xero_callback(
        &self,
        can: &Can<Executive>,
        code: &Credential,
        state: &str,
    ) -> Result<String> {
        let caller = can.caller();
        let org = caller.org_id();
        let client = self.xero_client()?;
        let now = self.clock.now();
        let state_hash = hash_state(state);
        let mut tx = self.store.begin().await?;
        let taken = tx
            .org(org)
            .take_oauth_state(&state_hash, XERO_PURPOSE, caller.user.id, now)
            .await?;
        tx.commit().await?;
        let Some(taken) = taken else {
            return Err(Error::InvalidState);
        };
        let sealed = Sealed::from_bytes(&taken.verifier).map_err(Error::Vault)?;
        let verifier = self
            .keys
            .decrypt_str(&sealed, &secrets::oauth_state(org, &state_hash))
            .map_err(Error::Vault)?;
        let tokens = match client.exchange_code(code.expose(), &verifier).await {
            Ok(t) => t,
            Err(e) => return Err(self.verification_failed(can, "code", e).await),
        };
        let tenants = client
            .connections(&tokens.access_token)
            .await
            .map_err(Error::Provider)?;
        // Several tenants: the first organisation (not a practice) is the payroll the grant
        // was made for; the audit records how many there were (ADR 0016).
        let Some(tenant) = tenants
            .iter()
            .find(|t| t.tenant_type == "ORGANISATION")
            .or_else(|| tenants.first())
            .cloned()
        else {
            let reason = "reaches no Xero organisation".to_owned();
            return Err(self.refuse(can, Provider::Xero, "code", reason).await);
        };
        let refresh_token = tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned());
        self.save_verified(
            can,
            Verified {
                provider: Provider::Xero,
                org_name: Some(tenant.tenant_name.clone()),
                secret: SealedSecret {
                    token: tokens.access_token.expose_secret().to_owned(),
                    refresh_token,
                },
                token_expires_at: Some(tokens.expires_at),
                settings: json!({
                    "tenant_id": tenant.tenant_id,
                    "tenant_name": tenant.tenant_name,
                    "connection_id": tenant.connection_id,
                    "tenants": tenants.len(),
                }),
                fields: vec!["code"],
            },
        )
        .await?;
        Ok(tenant.tenant_name)
    }

    /// A Xero access token for `org`, refreshed ahead of expiry. Every use of a Xero token
    /// goes through here. At most one refresh per connection is in flight across every
    /// instance on the database (a lease); an instance that waited re-reads and reuses the
    /// token the other stored. The rotated refresh token is stored in the same transaction
    /// that retires the old one (compare-and-swap on the sealed bytes). `invalid_grant` marks
    /// the connection `needs_reauth` (kept, never deleted).
    pub async fn xero_access(&self, org: OrgId) -> Result<XeroAccess> {
        let started = std::time::Instant::now();
        loop {
            let stored = self
                .stored(org, Provider::Xero)
                .await?
                .ok_or(Error::NotConnected(Provider::Xero))?;
            if stored.status == ConnectionStatus::NeedsReauth {
                return Err(Error::NeedsReauth(Provider::Xero));
            }
            let tenant_id = stored.settings["tenant_id"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .ok_or(Error::Vault(roster_vault::Error::Malformed))?;
            let secret = self.open_secret(org, &stored)?;
            let now = self.clock.now();
            if stored
                .token_expires_at
                .is_some_and(|at| at - REFRESH_AHEAD > now)
            {
                return Ok(XeroAccess {
                    access_token: SecretString::from(secret.token),
                    tenant_id,
                });
            }
            if let Some(access) = self.refresh_xero(org, &stored, secret, tenant_id).await? {
                return Ok(access);
            }
            // Another instance holds the refresh: wait for the token it will store.
            if started.elapsed() > REFRESH_WAIT {
                return Err(Error::RefreshInProgress);
            }
            // Real time on purpose: the other holder's progress is measured in wall time.
            tokio::time::sleep(REFRESH_POLL).await;
        }
    }

    /// Refreshes under the connection's lease. `Ok(None)`: another instance holds the lease
    /// or already refreshed (the caller re-reads).
    async fn refresh_xero(
        &self,
        org: OrgId,
        read: &ConnectionRecord,
        secret: SealedSecret,
        tenant_id: Uuid,
    ) -> Result<Option<XeroAccess>> {
        const LEASE: &str = "refresh:xero";
        // Everything that can fail before the provider call is checked before the lease is
        // taken, so an early return never leaves the lease to lapse on its own.
        let client = self.xero_client()?;
        let Some(refresh_token) = secret.refresh_token else {
            return Err(Error::NeedsReauth(Provider::Xero));
        };
        let holder = Uuid::new_v4().to_string();
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let won = tx
            .org(org)
            .acquire_lease(LEASE, &holder, now, REFRESH_LEASE)
            .await?;
        tx.commit().await?;
        if !won {
            return Ok(None);
        }
        let count_refresh = |outcome: &'static str| {
            metrics::counter!("roster_token_refreshes_total", "provider" => "xero", "outcome" => outcome)
                .increment(1);
        };
        // Between our read and the lease, another instance may have finished a refresh.
        let current = self.stored(org, Provider::Xero).await?;
        if current.as_ref().is_none_or(|c| c.secret != read.secret) {
            let mut tx = self.store.begin().await?;
            tx.org(org).release_lease(LEASE, &holder).await?;
            tx.commit().await?;
            return Ok(None);
        }
        let outcome = client.refresh(&SecretString::from(refresh_token)).await;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        let result = match outcome {
            Ok(tokens) => {
                let new = SealedSecret {
                    token: tokens.access_token.expose_secret().to_owned(),
                    refresh_token: tokens
                        .refresh_token
                        .as_ref()
                        .map(|t| t.expose_secret().to_owned()),
                };
                let sealed = self.seal_secret(org, Provider::Xero, &new)?;
                let swapped = scoped
                    .replace_connection_secret(
                        Provider::Xero,
                        &read.secret,
                        &sealed,
                        Some(tokens.expires_at),
                        now,
                    )
                    .await?;
                audit_connection(
                    &mut scoped,
                    now,
                    Actor::SYSTEM,
                    "connection.refresh",
                    Provider::Xero,
                    json!({ "stored": swapped }),
                )
                .await?;
                count_refresh("ok");
                Ok(Some(XeroAccess {
                    access_token: tokens.access_token,
                    tenant_id,
                }))
            }
            Err(e) if e.is_needs_reauth() => {
                scoped
                    .set_connection_status(
                        Provider::Xero,
                        ConnectionStatus::NeedsReauth,
                        Some(&describe(&e)),
                        now,
                    )
                    .await?;
                audit_connection(
                    &mut scoped,
                    now,
                    Actor::SYSTEM,
                    "connection.needs_reauth",
                    Provider::Xero,
                    json!({ "reason": describe(&e) }),
                )
                .await?;
                count_refresh("needs_reauth");
                Err(Error::Provider(e))
            }
            Err(e) => {
                scoped
                    .set_connection_status(
                        Provider::Xero,
                        ConnectionStatus::Error,
                        Some(&describe(&e)),
                        now,
                    )
                    .await?;
                count_refresh("error");
                Err(Error::Provider(e))
            }
        };
        scoped.release_lease(LEASE, &holder).await?;
        tx.commit().await?;
        result
    }
}

/// A provider failure in plain words for the connections list: which call, what happened.
/// Provider errors hold no secret (they are scrubbed where they are made).
fn describe(e: &roster_providers::Error) -> String {
    e.to_string()
}

fn provider_name(p: Provider) -> &'static str {
    match p {
        Provider::Xero => "Xero",
        Provider::Productive => "Productive",
        Provider::GoogleWorkspace => "Google Workspace",
        Provider::Slack => "Slack",
        Provider::Remote => "Remote",
        Provider::Scrapin => "Scrapin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_channel_ids() {
        for (raw, ok) in [
            ("C0123456789", true),
            ("G01ABCDEF", true),
            ("c0123", false),
            ("D0123456", false),
            ("C", false),
            ("C01 23", false),
        ] {
            assert_eq!(
                SlackChannelId::parse("channel_id", raw).is_ok(),
                ok,
                "{raw}"
            );
        }
    }

    #[test]
    fn state_hashes_are_hex_sha256() {
        let h = hash_state("abc");
        assert_eq!(h.len(), 64);
        assert_ne!(h, hash_state("abd"));
        assert!(!h.contains("abc"));
    }
}
