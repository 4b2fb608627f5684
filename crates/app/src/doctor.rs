//! `roster doctor`: one line per check, ok or a problem with what to do. The judgements are
//! pure (`roster_domain::doctor`); this gathers what they judge. Provider checks run in
//! parallel, each with a timeout, and only read (a cheap authenticated call per connection).

use std::time::Duration;

use roster_domain::{OrgId, Provider};
use roster_providers::{ScrapinClient, SlackClient};
use roster_vault::SecretString;
use serde::Serialize;

use crate::App;
use crate::keys::Place;

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked: `database`, `migrations`, `keys`, `public_url`, `clock`,
    /// `provider acme/productive`.
    pub name: String,
    pub ok: bool,
    /// What was found, or the problem and what to do about it.
    pub detail: String,
}

impl Check {
    pub fn ok(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok: true,
            detail: detail.into(),
        }
    }

    pub fn problem(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok: false,
            detail: detail.into(),
        }
    }
}

/// The public URL check; needs no database.
pub fn public_url(url: Option<&url::Url>) -> Check {
    match url {
        None => Check::ok(
            "public_url",
            "not set (only needed for Xero and sign-in redirects)",
        ),
        Some(u) => match roster_domain::doctor::check_public_url(u) {
            Ok(()) => Check::ok("public_url", u.to_string()),
            Err(e) => Check::problem("public_url", e),
        },
    }
}

impl App {
    /// Every check that needs the database (which is reachable: the store connected), in
    /// order: migrations, keys, public URL, clock, then one line per connected provider.
    pub async fn doctor(&self, provider_timeout: Duration) -> Vec<Check> {
        let mut checks = Vec::new();
        match self.store.migration_status().await {
            Ok(s) if s.is_current() => {
                checks.push(Check::ok("database", "reachable"));
                checks.push(Check::ok(
                    "migrations",
                    format!("all {} applied", s.applied.len()),
                ));
            }
            Ok(s) => {
                checks.push(Check::ok("database", "reachable"));
                checks.push(Check::problem(
                    "migrations",
                    format!(
                        "{} pending ({:?}): run `roster migrate` (serve applies them unless auto_migrate = false)",
                        s.pending.len(),
                        s.pending
                    ),
                ));
                checks.push(public_url(self.settings.public_url.as_ref()));
                return checks;
            }
            Err(e) => {
                checks.push(Check::problem(
                    "database",
                    format!("{e}: check ROSTER_DATABASE_URL and that the database server is up"),
                ));
                checks.push(public_url(self.settings.public_url.as_ref()));
                return checks;
            }
        }
        checks.push(self.keys_check().await);
        checks.push(public_url(self.settings.public_url.as_ref()));
        checks.push(self.clock_check().await);
        checks.extend(self.provider_checks(provider_timeout).await);
        checks
    }

    /// Every key id in use is configured and opens its canary. Read only.
    async fn keys_check(&self) -> Check {
        let name = "keys";
        let status = match self.key_status().await {
            Ok(s) => s,
            Err(e) => return Check::problem(name, format!("cannot read the key ids in use: {e}")),
        };
        let missing = status.missing();
        if !missing.is_empty() {
            let ids: Vec<String> = missing.iter().map(|m| m.key_id.to_string()).collect();
            return Check::problem(
                name,
                format!(
                    "key id(s) {} in use but not in ROSTER_SECRET_KEY: add the missing key(s) after the newest (ROSTER_SECRET_KEY=NEW,OLD)",
                    ids.join(", ")
                ),
            );
        }
        let canaries = match self.store.read_one().await {
            Ok(mut tx) => tx.key_canaries().await,
            Err(e) => Err(e),
        };
        let canaries = match canaries {
            Ok(c) => c,
            Err(e) => return Check::problem(name, format!("cannot read the key canaries: {e}")),
        };
        for c in &canaries {
            if let Err(e) = self.open_canary(&c.key_id, &c.sealed) {
                return Check::problem(
                    name,
                    format!(
                        "{e}: ROSTER_SECRET_KEY holds a different key under that id's place; restore the right value"
                    ),
                );
            }
        }
        let in_use = status
            .counts
            .iter()
            .filter(|c| c.place != Place::Canaries || c.count > 0)
            .filter_map(|c| c.key_id)
            .collect::<std::collections::BTreeSet<_>>();
        Check::ok(
            name,
            format!(
                "{} key id(s) in use, all configured; {} canar{} opened",
                in_use.len(),
                canaries.len(),
                if canaries.len() == 1 { "y" } else { "ies" }
            ),
        )
    }

    async fn clock_check(&self) -> Check {
        let name = "clock";
        let ours_before = self.clock.now();
        match self.store.database_now().await {
            Ok(db) => {
                let ours_after = self.clock.now();
                // Judge against the middle of the round trip.
                let ours = ours_before + (ours_after - ours_before) / 2;
                match roster_domain::doctor::check_clock(ours, db) {
                    Ok(skew) => Check::ok(
                        name,
                        format!("{}ms from the database's", skew.num_milliseconds()),
                    ),
                    Err(e) => Check::problem(name, e),
                }
            }
            Err(e) => Check::problem(name, format!("cannot read the database's clock: {e}")),
        }
    }

    async fn provider_checks(&self, timeout: Duration) -> Vec<Check> {
        let connections = match self.store.connections_everywhere().await {
            Ok(c) => c,
            Err(e) => {
                return vec![Check::problem(
                    "providers",
                    format!("cannot list the connections: {e}"),
                )];
            }
        };
        let probes = connections.into_iter().map(|(slug, org, provider)| async move {
            let name = format!("provider {slug}/{provider}");
            match tokio::time::timeout(timeout, self.probe(org, provider)).await {
                Ok(Ok(detail)) => Check::ok(name, detail),
                Ok(Err(e)) => Check::problem(
                    name,
                    format!(
                        "{e}: reconnect it (PUT /api/admin/connections/{provider}) with a working credential"
                    ),
                ),
                Err(_) => Check::problem(
                    name,
                    format!(
                        "no answer within {}s: check this machine's outbound network and the provider's status page",
                        timeout.as_secs()
                    ),
                ),
            }
        });
        futures::future::join_all(probes).await
    }

    /// One cheap authenticated read with the stored credential.
    async fn probe(&self, org: OrgId, provider: Provider) -> crate::Result<String> {
        use crate::Error;
        let stored = self
            .stored(org, provider)
            .await?
            .ok_or(Error::NotConnected(provider))?;
        match provider {
            Provider::Productive => {
                let o = self
                    .productive_client(org)
                    .await?
                    .organization()
                    .await
                    .map_err(Error::Provider)?;
                Ok(format!("answers (organization {})", o.name))
            }
            Provider::Slack => {
                let secret = self.open_secret(org, &stored)?;
                let client = SlackClient::new(
                    self.http.clone(),
                    &self.settings.provider_urls,
                    SecretString::from(secret.token),
                );
                client.auth_test().await.map_err(Error::Provider)?;
                Ok("answers (auth.test)".to_owned())
            }
            Provider::GoogleWorkspace => {
                self.google_client(org)
                    .await?
                    .access_token(roster_providers::google::DIRECTORY_SCOPE)
                    .await
                    .map_err(Error::Provider)?;
                Ok("answers (a directory token was issued)".to_owned())
            }
            Provider::Remote => {
                let Some((client, _)) = self.remote_client(org).await? else {
                    return Err(Error::NotConnected(provider));
                };
                client.identity().await.map_err(Error::Provider)?;
                Ok("answers (identity)".to_owned())
            }
            Provider::Scrapin => {
                let secret = self.open_secret(org, &stored)?;
                let client = ScrapinClient::new(
                    self.http.clone(),
                    &self.settings.provider_urls,
                    SecretString::from(secret.token),
                );
                client.alert_url().await.map_err(Error::Provider)?;
                Ok("answers (alert settings)".to_owned())
            }
            Provider::Xero => {
                let access = self.xero_access(org).await?;
                self.xero_client()?
                    .connections(&access.access_token)
                    .await
                    .map_err(Error::Provider)?;
                Ok("answers (tenant connections)".to_owned())
            }
        }
    }
}
