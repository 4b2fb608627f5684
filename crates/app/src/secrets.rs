//! Where each sealed value lives, as the vault's `Context`: the one place that names them.
//! A value sealed under one of these contexts opens only under the same one, so a ciphertext
//! copied to another organization's, provider's or person's row fails to open. Key rotation
//! re-seals every column listed in [`SEALED_COLUMNS`] under these same contexts.

use roster_domain::{AccountId, OrgId, PersonId, Provider};
use roster_store::secrets::RowKey;
use roster_vault::{Context, KeyId};

/// An organization's credential for one provider (`connections.secret_sealed`).
pub fn connection(org: OrgId, provider: Provider) -> Context {
    Context::new("connection", org, provider.as_str())
}

/// The PKCE verifier of an OAuth authorization in flight (`oauth_states.verifier_sealed`),
/// bound to the hash of its `state`.
pub fn oauth_state(org: OrgId, state_hash: &str) -> Context {
    Context::new("oauth-state", org, state_hash)
}

/// A person's financial section (`people.financial_sealed`).
pub fn person_financial(org: OrgId, person: PersonId) -> Context {
    Context::new("person-financial", org, person)
}

/// A user's connected integration account tokens (`integration_accounts.tokens_sealed`).
pub fn integration_account(org: OrgId, account: AccountId) -> Context {
    Context::new("integration-account", org, account)
}

/// The PKCE verifier of a web sign-in in flight (`sign_in_requests.verifier_sealed`), which
/// belongs to no organization yet.
pub fn sign_in(state_hash: &str) -> Context {
    Context::new("sign-in", "-", state_hash)
}

/// The canary of one key (`key_canaries.sealed`): a fixed value sealed under that key, which
/// the start-up check opens to prove the key is the one that sealed this database's secrets.
pub fn key_canary(key: KeyId) -> Context {
    Context::new("key-canary", "-", key)
}

/// The context of a row that key rotation read back, by the same functions as above.
pub fn of_row(row: &RowKey) -> Context {
    match row {
        RowKey::Connection { org, provider } => connection(*org, *provider),
        RowKey::OauthState { org, state_hash } => oauth_state(*org, state_hash),
        RowKey::Person { org, person } => person_financial(*org, *person),
        RowKey::IntegrationAccount { org, account } => integration_account(*org, *account),
        RowKey::SignIn { state_hash } => sign_in(state_hash),
    }
}

/// Every column that holds sealed values: `(table, column)`.
pub const SEALED_COLUMNS: &[(&str, &str)] = &[
    ("connections", "secret_sealed"),
    ("oauth_states", "verifier_sealed"),
    ("people", "financial_sealed"),
    ("integration_accounts", "tokens_sealed"),
    ("sign_in_requests", "verifier_sealed"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_differ_by_every_part() {
        let org = OrgId::new();
        let other = OrgId::new();
        let all = [
            connection(org, Provider::Xero),
            connection(org, Provider::Slack),
            connection(other, Provider::Xero),
            oauth_state(org, "h1"),
            oauth_state(org, "h2"),
            person_financial(org, PersonId::new()),
            integration_account(org, AccountId::new()),
            sign_in("h1"),
            key_canary(roster_vault::SecretKey::generate().id()),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    /// Rotation re-seals the columns the store knows; they must be exactly these.
    #[test]
    fn the_store_rotates_exactly_the_sealed_columns() {
        let store: Vec<(&str, &str)> = roster_store::secrets::SealedColumn::ALL
            .iter()
            .map(|c| (c.table(), c.column()))
            .collect();
        assert_eq!(store, SEALED_COLUMNS);
    }
}
