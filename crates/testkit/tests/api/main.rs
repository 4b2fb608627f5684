//! The HTTP integration suite: every endpoint against a running server, on SQLite or on
//! PostgreSQL (`ROSTER_TEST_DATABASE_URL`), with two organizations present.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed setup must stop the test"
)]

mod admin_audit;
mod admin_permissions;
mod admin_users;
mod auth_cache;
mod backup;
mod connections;
mod docs;
mod doctor;
mod errors;
mod hardening;
mod harness;
mod keys;
mod matching;
mod me;
mod meta;
mod openapi;
mod org_scoping;
mod people_reads;
mod people_sync;
mod productive_org;
mod store;
mod sync_faults;
mod user_mappings;
mod xero_payroll;
