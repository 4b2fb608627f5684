//! The demo's Xero step, after the ready line: people are linked to Xero employees by the
//! matcher (a sync run of kind `xero`, the same operation as `POST
//! /api/admin/users/sync-xero`), then each linked person's payroll record is pulled (the
//! operation behind `POST /api/people/{id}/xero-sync`). Xero allows 60 calls a minute per
//! organisation and a first pull costs two (the employee, the super funds), so the personas
//! go first, at once, and their profiles fill within seconds; everyone else follows at one
//! pull every [`PACE`], a third of Xero's budget, so the user's own calls to Xero (a match,
//! a link, a pull, the drift report) still find the budget free instead of waiting behind
//! the demo. Progress shows in the sync runs and the audit log, and is logged.

use std::time::Duration;

use roster_app::audit::Actor;
use roster_app::{App, Can, Error, Executive};
use roster_domain::PersonId;

/// How often one pull is tried again after Xero's rate limit refused it.
const RATE_LIMIT_ATTEMPTS: u32 = 10;
/// The wait after a refusal that named no `Retry-After`.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// The gap between the pulls after the personas': 10 pulls, 20 calls a minute.
const PACE: Duration = Duration::from_secs(6);

/// Links, then pulls; `first` are pulled before everyone else. Never fails the demo: a
/// problem is logged, and the API can repeat any step.
pub async fn link_and_pull(app: App, can: Can<Executive>, first: Vec<PersonId>) {
    match app.sync_xero_links(&can).await {
        Ok(summary) => tracing::info!(
            linked = summary.linked,
            considered = summary.total,
            run_id = %summary.run_id,
            "demo people linked to Xero employees"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "the demo's Xero linking failed; POST /api/admin/users/sync-xero repeats it");
            return;
        }
    }
    let linked = match app.list_user_mappings(&can).await {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| e.xero_id.is_some())
            .map(|e| e.person)
            .collect::<Vec<_>>(),
        Err(e) => {
            tracing::warn!(error = %e, "the demo cannot list its Xero links");
            return;
        }
    };
    let org = can.caller().org_id();
    let (mut pulled, mut failed) = (0usize, 0usize);
    for (n, person) in pull_order(&first, &linked).into_iter().enumerate() {
        if n >= first.len() {
            tokio::time::sleep(PACE).await;
        }
        if pull_one(&app, org, person).await {
            pulled += 1;
        } else {
            failed += 1;
        }
    }
    tracing::info!(pulled, failed, "demo payroll pulled from Xero");
}

/// `first` (those of them that are linked), then the other linked people in their order.
fn pull_order(first: &[PersonId], linked: &[PersonId]) -> Vec<PersonId> {
    let leading = first.iter().filter(|p| linked.contains(p)).copied();
    let rest = linked.iter().filter(|p| !first.contains(p)).copied();
    leading.chain(rest).collect()
}

/// One person's pull, waiting out Xero's rate limit as often as it takes (within reason).
async fn pull_one(app: &App, org: roster_domain::OrgId, person: PersonId) -> bool {
    for _ in 0..RATE_LIMIT_ATTEMPTS {
        match app.pull_payroll(org, Actor::SYSTEM, person).await {
            Ok(_) => return true,
            Err(Error::Provider(e)) if e.is_rate_limited() => {
                tokio::time::sleep(e.retry_after().unwrap_or(DEFAULT_WAIT)).await;
            }
            Err(e) => {
                tracing::warn!(%person, error = %e, "the demo's payroll pull failed");
                return false;
            }
        }
    }
    tracing::warn!(%person, "Xero kept refusing the demo's payroll pull");
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_people_are_pulled_first_and_nobody_twice() {
        let p = |n| PersonId::from_uuid(uuid::Uuid::from_u128(n));
        let linked = [p(1), p(2), p(3), p(4)];
        assert_eq!(
            pull_order(&[p(3), p(9), p(1)], &linked),
            [p(3), p(1), p(2), p(4)],
            "unlinked firsts are skipped"
        );
        assert_eq!(pull_order(&[], &linked), linked);
    }
}
