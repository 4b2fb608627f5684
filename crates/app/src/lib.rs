#![doc = include_str!("../README.md")]

pub mod audit;
pub mod auth;
mod auth_cache;
pub mod backup;
pub mod connections;
pub mod doctor;
pub mod drift;
mod error;
pub mod google_sync;
pub mod keys;
pub mod matching;
pub mod operator;
pub mod people_reads;
pub mod people_sync;
pub mod permissions;
mod read_audit;
pub mod secrets;
pub mod sync_runs;
pub mod user_mappings;
pub mod user_refresh;
pub mod users;
pub mod xero_payroll;

use std::sync::Arc;

use chrono::Duration;
use roster_domain::Clock;
use roster_store::Store;
use roster_vault::KeyRing;

pub use auth::{Caller, Can, Executive, ManagePeople, UpdatePeople, ViewPeople};
pub use error::{Error, Result};

/// Settings the operations need (the rest of the configuration belongs to the CLI).
#[derive(Debug, Clone)]
pub struct Settings {
    /// How old the last Productive sync may be before `stale` is true.
    pub people_ttl: Duration,
    /// The share of active people a sync may retire without `allow_mass_removal`.
    pub mass_removal_threshold: f64,
    /// The longest token `issue_token` will sign.
    pub max_token_ttl: Duration,
    /// Where each provider's API lives (`ROSTER_*_URL`; the real hosts by default).
    pub provider_urls: roster_providers::ProviderUrls,
    /// The externally visible base URL: OAuth redirect URIs are built on it.
    pub public_url: Option<url::Url>,
    /// The Xero app's registration (`ROSTER_XERO_CLIENT_ID`, `ROSTER_XERO_CLIENT_SECRET`).
    pub xero_client_id: Option<String>,
    pub xero_client_secret: Option<roster_vault::SecretString>,
    /// Hosts users may point outgoing calls at whatever their addresses
    /// (`ROSTER_OUTBOUND_ALLOW_HOSTS`; see `roster_providers::check_outbound_url`).
    pub outbound_allow_hosts: roster_domain::outbound::AllowList,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            people_ttl: Duration::hours(6),
            mass_removal_threshold: 0.3,
            max_token_ttl: Duration::days(90),
            provider_urls: roster_providers::ProviderUrls::default(),
            public_url: None,
            xero_client_id: None,
            xero_client_secret: None,
            outbound_allow_hosts: roster_domain::outbound::AllowList::default(),
        }
    }
}

/// Everything an operation needs: the store, the clock, the key ring and the token keys
/// derived from it, the providers' HTTP layer. Cheap to clone. The store and the ring are
/// private: every read and write goes through an operation of this crate, and only the vault
/// ever touches key bytes.
#[derive(Debug, Clone)]
pub struct App {
    store: Store,
    pub clock: Arc<dyn Clock>,
    keys: Arc<KeyRing>,
    token_keys: Arc<auth::TokenKeys>,
    http: Arc<roster_providers::Http>,
    /// Resolves the hosts of user-supplied URLs before Roster trusts them.
    resolver: Arc<dyn roster_providers::Resolve>,
    pub settings: Arc<Settings>,
    /// Background people refreshes this instance started (`people_sync.rs`).
    refreshes: people_sync::Refreshes,
    /// Authenticated callers, valid while the store shows no change (`auth_cache.rs`).
    callers: Arc<auth_cache::CallerCache>,
    /// Each organization's user listing, valid while the store shows no change.
    user_lists:
        Arc<auth_cache::Stamped<roster_domain::OrgId, Arc<Vec<roster_domain::model::OrgUser>>>>,
    /// Writes the audit events of sensitive reads in groups (`read_audit.rs`).
    read_audit: Arc<read_audit::ReadAudit>,
}

/// Whether the database can serve requests (`/readyz`).
#[derive(Debug)]
pub enum Readiness {
    Ready,
    /// Migrations this binary knows are not applied yet.
    MigrationsPending(usize),
    /// The schema is not one this binary can use (say, a newer one); the words say why.
    UnknownSchema(String),
    /// The database did not answer.
    Unreachable(roster_store::Error),
}

impl App {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        keys: KeyRing,
        http: Arc<roster_providers::Http>,
        settings: Settings,
    ) -> Self {
        let token_keys = Arc::new(auth::TokenKeys::derive(&keys));
        Self {
            store,
            clock,
            keys: Arc::new(keys),
            token_keys,
            http,
            resolver: Arc::new(roster_providers::SystemResolver),
            settings: Arc::new(settings),
            refreshes: people_sync::Refreshes::default(),
            callers: Arc::default(),
            user_lists: Arc::new(auth_cache::Stamped::new(64)),
            read_audit: Arc::default(),
        }
    }

    /// The same app with another resolver for user-supplied URLs (tests use a table).
    #[must_use]
    pub fn with_resolver(mut self, resolver: Arc<dyn roster_providers::Resolve>) -> Self {
        self.resolver = resolver;
        self
    }

    /// Whether the database is reachable and every migration is applied.
    pub async fn readiness(&self) -> Readiness {
        match self.store.migration_status().await {
            Ok(s) if s.is_current() => Readiness::Ready,
            Ok(s) => Readiness::MigrationsPending(s.pending.len()),
            Err(roster_store::Error::Schema(m)) => Readiness::UnknownSchema(m),
            Err(e) => Readiness::Unreachable(e),
        }
    }
}
