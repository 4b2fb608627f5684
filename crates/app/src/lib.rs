#![doc = include_str!("../README.md")]

pub mod audit;
pub mod auth;
mod error;
pub mod keys;
pub mod operator;
pub mod permissions;
pub mod secrets;
pub mod users;

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            people_ttl: Duration::hours(6),
            mass_removal_threshold: 0.3,
            max_token_ttl: Duration::days(90),
            provider_urls: roster_providers::ProviderUrls::default(),
        }
    }
}

/// Everything an operation needs: the store, the clock, the key ring and the token keys derived
/// from it. Cheap to clone. The store and the ring are private: every read and write goes
/// through an operation of this crate, and only the vault ever touches key bytes.
#[derive(Debug, Clone)]
pub struct App {
    store: Store,
    pub clock: Arc<dyn Clock>,
    keys: Arc<KeyRing>,
    token_keys: Arc<auth::TokenKeys>,
    pub settings: Arc<Settings>,
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
    pub fn new(store: Store, clock: Arc<dyn Clock>, keys: &KeyRing, settings: Settings) -> Self {
        let token_keys = Arc::new(auth::TokenKeys::derive(keys));
        Self {
            store,
            clock,
            keys: Arc::new(keys.clone()),
            token_keys,
            settings: Arc::new(settings),
        }
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
