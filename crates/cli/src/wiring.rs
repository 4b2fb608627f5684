//! Builds the application from the configuration: logging, the store, the key ring.

use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use roster_app::{App, Settings};
use roster_domain::{Clock, SystemClock};
use roster_server::ServerLimits;
use roster_store::Store;
use roster_vault::KeyRing;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat, redact_url};

/// Logs go to stderr (stdout is for command output such as tokens and the demo's JSON).
pub fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(use_colour(config.no_color, std::io::stderr().is_terminal()))
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Colour codes only for a person at a terminal who has not opted out: in a file or a pipe
/// they are noise (and break `grep`).
const fn use_colour(no_color: bool, stderr_is_terminal: bool) -> bool {
    stderr_is_terminal && !no_color
}

/// For `serve` and `demo`: raises the soft open-file limit to the hard one and sizes the
/// server's connection cap from the result (ADR 0012).
pub fn server_limits() -> ServerLimits {
    let defaults = ServerLimits::default();
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(descriptors) => {
            let limits = defaults.with_descriptor_limit(descriptors);
            tracing::info!(
                descriptors,
                max_connections = limits.max_connections,
                "open-file limit"
            );
            limits
        }
        Err(e) => {
            tracing::warn!(
                error = %e,
                max_connections = defaults.max_connections,
                "cannot raise the open-file limit; assuming 1,024"
            );
            defaults
        }
    }
}

pub async fn connect(config: &Config) -> Result<Store> {
    if let Some(path) = config.database_url.strip_prefix("sqlite://") {
        if let Some(parent) = std::path::Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
    }
    Store::connect(&config.database_url).await.with_context(|| {
        format!(
            "cannot open the database {}",
            redact_url(&config.database_url)
        )
    })
}

/// `roster migrate`.
pub async fn migrate(config: &Config) -> Result<()> {
    let store = connect(config).await?;
    let applied = store.migrate(SystemClock.now()).await?;
    if applied.is_empty() {
        tracing::info!("the database schema is up to date");
    } else {
        tracing::info!(?applied, "migrations applied");
    }
    Ok(())
}

/// Applies pending migrations when the configuration allows it; answers the versions that
/// are still pending (none when the schema is current).
async fn apply_pending(store: &Store, config: &Config) -> Result<Vec<i64>> {
    let status = store.migration_status().await?;
    if status.is_current() {
        return Ok(Vec::new());
    }
    if config.auto_migrate {
        let applied = store.migrate(SystemClock.now()).await?;
        tracing::info!(?applied, "migrations applied");
        return Ok(Vec::new());
    }
    Ok(status.pending)
}

/// For `serve`: applies pending migrations when allowed; otherwise says what is pending and
/// starts anyway, not ready.
pub async fn ensure_schema(store: &Store, config: &Config) -> Result<()> {
    let pending = apply_pending(store, config).await?;
    if !pending.is_empty() {
        tracing::warn!(
            ?pending,
            "migrations are pending and auto_migrate = false: run `roster migrate`; /readyz answers 503 until then"
        );
    }
    Ok(())
}

/// For commands that read or write data (`admin …`): like [`ensure_schema`], but pending
/// migrations that may not be applied are an error that says what to run, not a database
/// error about a missing table.
pub async fn require_schema(store: &Store, config: &Config) -> Result<()> {
    let pending = apply_pending(store, config).await?;
    if !pending.is_empty() {
        return Err(anyhow!(
            "{} migration(s) pending and auto_migrate = false: run `roster migrate` first",
            pending.len()
        ));
    }
    Ok(())
}

pub fn key_ring(config: &Config) -> Result<KeyRing> {
    if config.secret_keys.is_empty() {
        return Err(anyhow!(
            "no secret key: set ROSTER_SECRET_KEY (or secret_key in the config file) to base64 of 32 random bytes.\n\
             Make one with `roster keys generate` (or `roster admin generate-key`, or `openssl rand -base64 32`)."
        ));
    }
    KeyRing::parse_list(&config.secret_keys).map_err(|e| anyhow!("ROSTER_SECRET_KEY: {e}"))
}

pub fn app(store: Store, keys: KeyRing, config: &Config) -> Result<App> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let settings = Settings {
        people_ttl: config.people_ttl,
        mass_removal_threshold: config.mass_removal_threshold,
        provider_urls: config.provider_urls.clone(),
        outbound_allow_hosts: config.outbound_allow_hosts.clone(),
        public_url: config.public_url.clone(),
        xero_client_id: config.xero_client_id.clone(),
        xero_client_secret: config
            .xero_client_secret
            .clone()
            .map(roster_vault::SecretString::from),
        ..Settings::default()
    };
    let http = roster_providers::Http::new(
        roster_providers::HttpConfig::default(),
        clock.clone(),
        Arc::new(roster_providers::TokioSleeper),
    )
    .map_err(|e| anyhow!("cannot build the providers' HTTP client: {e}"))?;
    Ok(App::new(store, clock, keys, Arc::new(http), settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_coloured_only_on_a_terminal_without_no_color() {
        for (no_color, terminal, colour) in [
            (false, true, true),
            (true, true, false),
            (false, false, false),
            (true, false, false),
        ] {
            assert_eq!(
                use_colour(no_color, terminal),
                colour,
                "NO_COLOR {no_color}, terminal {terminal}"
            );
        }
    }
}
