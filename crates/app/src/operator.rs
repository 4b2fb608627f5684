//! Operations the operator runs from the machine itself (`roster admin …`, `roster demo`):
//! no bearer token, no `Caller`. Whoever can run the binary against the database already
//! holds its keys, so these need no proof; like every other write, each is audited, with
//! the system as the actor.

use chrono::Duration;
use roster_domain::model::{OrgUser, Organization, Person, Squad};
use roster_domain::{Email, OrgId, Slug};
use serde_json::json;

use crate::audit::{Actor, record};
use crate::auth::IssuedToken;
use crate::{App, Result};

/// A directory to import at once: squads, and people whose `manager` names another person
/// of the same import.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub squads: Vec<Squad>,
    pub people: Vec<Person>,
}

impl App {
    /// The organization `slug` names and its users, if it exists.
    pub async fn org_members(&self, slug: &Slug) -> Result<Option<(Organization, Vec<OrgUser>)>> {
        let mut tx = self.store.read().await?;
        let Some(org) = tx.find_org_by_slug(slug).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let users = tx.org(org.id).list_users().await?;
        tx.rollback().await?;
        Ok(Some((org, users)))
    }

    /// `roster admin issue-token`: a bearer token for the user with this email. Each
    /// organization the user belongs to records that a token was issued (never the token).
    pub async fn issue_token_for(&self, email: &Email, ttl: Duration) -> Result<IssuedToken> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let user = tx
            .find_user_by_email(email)
            .await?
            .ok_or(roster_store::Error::NotFound("user"))?;
        let token = self.issue_token(user.id, ttl)?;
        for (org, _) in tx.memberships_of(user.id).await? {
            record(
                &mut tx.org(org.id),
                now,
                Actor::SYSTEM,
                "token.issue",
                ("user", Some(user.id.to_string())),
                json!({ "via": "cli", "ttl_seconds": ttl.num_seconds(), "expires_at": token.expires_at }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(token)
    }

    /// Imports a directory into `org` in one transaction (a failure leaves nothing behind),
    /// audited with its counts. The demo seeds its sample company with it.
    pub async fn import_directory(&self, org: OrgId, dir: &Directory) -> Result<()> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        for squad in &dir.squads {
            scoped.create_squad(squad, now).await?;
        }
        // Everyone first, then the manager edges: a manager may come later in the list.
        for person in &dir.people {
            let unmanaged = Person {
                manager: None,
                ..person.clone()
            };
            scoped.create_person(&unmanaged, now).await?;
        }
        for person in &dir.people {
            if person.manager.is_some() {
                scoped.set_manager(person.id, person.manager, now).await?;
            }
        }
        record(
            &mut scoped,
            now,
            Actor::SYSTEM,
            "directory.import",
            ("organization", Some(org.to_string())),
            json!({ "via": "demo", "squads": dir.squads.len(), "people": dir.people.len() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
