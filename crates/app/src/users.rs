//! Users of an organization: listing, updating level and employment fields, removing, and
//! creating from the admin CLI.

use std::sync::Arc;

use roster_domain::model::{Membership, OrgUser, Organization, User};
use roster_domain::text::{MAX_TEXT_CHARS, required};
use roster_domain::users::{UserPatch, check_last_executive, stored_text};
use roster_domain::{AccessLevel, Email, FieldError, OrgId, Slug, UserId};
use serde_json::json;

use crate::audit::record;
use crate::{App, Caller, Can, Error, Executive, Result};

/// Takes the organization's membership lock, then checks that the caller is still one of its
/// executives. The right was checked when the request arrived; two executives demoting or
/// removing each other at the same moment must not both succeed and leave nobody in charge,
/// so the second one, once it holds the lock, finds it no longer has the right.
async fn still_executive_after_lock(
    org: &mut roster_store::OrgTx<'_>,
    caller: &Caller,
) -> Result<()> {
    org.lock_memberships().await?;
    match org.get_user(caller.user.id).await {
        Ok(me) if me.membership.access_level == AccessLevel::Executive => Ok(()),
        Ok(_) | Err(roster_store::Error::NotFound(_)) => Err(Error::Forbidden(
            "you are no longer an executive of this organization",
        )),
        Err(e) => Err(e.into()),
    }
}

impl App {
    /// Every member of the caller's organization: one statement, or the listing read
    /// under the store's current stamp (ADR 0022). While the stamp holds, every caller gets
    /// the same shared listing (the same `Arc`), so what is made of it can be kept with it.
    pub async fn list_users(&self, can: &Can<Executive>) -> Result<Arc<Vec<OrgUser>>> {
        let org = can.caller().org_id();
        let stamp = self.store.auth_stamp();
        if let Some(stamp) = &stamp {
            if let Some(users) = self.user_lists.get(&org, stamp) {
                return Ok(users);
            }
        }
        let mut tx = self.store.read_one().await?;
        let users = Arc::new(tx.org(org).list_users().await?);
        tx.rollback().await?;
        if let Some(stamp) = stamp {
            self.user_lists.put(org, stamp, users.clone());
        }
        Ok(users)
    }

    pub async fn update_user(
        &self,
        can: &Can<Executive>,
        target: UserId,
        patch: UserPatch,
    ) -> Result<OrgUser> {
        let caller = can.caller();
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut org = tx.org(caller.org_id());
        let current = org.get_user(target).await?;
        if patch.field_names().is_empty() {
            // Nothing to change: nothing written, nothing audited.
            tx.rollback().await?;
            return Ok(current);
        }
        let mut membership = current.membership.clone();
        if let Some(level) = patch.access_level {
            still_executive_after_lock(&mut org, caller).await?;
            let executives = org.count_executives().await?;
            check_last_executive(caller.user.id, &membership, level, executives)?;
            membership.access_level = level;
        }
        if let Some(v) = patch.onboarding_template_id.clone() {
            membership.onboarding_template_id = stored_text(v);
        }
        if let Some(v) = patch.scorecard_template_id.clone() {
            membership.scorecard_template_id = stored_text(v);
        }
        if let Some(v) = patch.review_template_id.clone() {
            membership.review_template_id = stored_text(v);
        }
        org.save_membership(&membership, now).await?;
        if patch.touches_person() {
            let person_id = current
                .person_id
                .ok_or(roster_domain::Error::NoLinkedPerson)?;
            let person = org.get_person(person_id).await?;
            let mut employment = person.employment.clone();
            if let Some(v) = patch.employment_status {
                employment.employment_status = v;
            }
            if let Some(v) = patch.employment_basis {
                employment.employment_basis = v;
            }
            if let Some(v) = patch.location.clone() {
                employment.location = stored_text(v);
            }
            if let Some(v) = patch.start_date {
                employment.start_date = v.map(Into::into);
            }
            let gender = patch.gender.unwrap_or(person.gender);
            org.save_employment(person_id, &employment, gender, now)
                .await?;
        }
        let mut detail = json!({ "fields": patch.field_names() });
        if let Some(level) = patch.access_level {
            detail["access_level"] =
                json!({ "from": current.membership.access_level, "to": level });
        }
        record(
            &mut org,
            now,
            caller.actor(),
            "user.update",
            ("user", Some(target.to_string())),
            detail,
        )
        .await?;
        let updated = org.get_user(target).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Removes the user from the caller's organization. Their person stays, unlinked; a
    /// user left in no organization is deleted, so their tokens stop working.
    pub async fn delete_user(&self, can: &Can<Executive>, target: UserId) -> Result<()> {
        let caller = can.caller();
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut org = tx.org(caller.org_id());
        let existing = org.get_user(target).await?;
        if target == caller.user.id {
            return Err(roster_domain::Error::DeleteSelf.into());
        }
        still_executive_after_lock(&mut org, caller).await?;
        org.remove_member(target, now).await?;
        record(
            &mut org,
            now,
            caller.actor(),
            "user.delete",
            ("user", Some(target.to_string())),
            json!({ "person_unlinked": existing.person_id.map(|p| p.to_string()) }),
        )
        .await?;
        tx.delete_user_if_orphaned(target).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `roster admin create-user`: creates the user (or reuses one with that email) and
    /// makes them a member of the organization `org_slug` names — created on first use,
    /// named `org_name` (or its slug).
    /// Without a slug: the only organization, or a new `default` one when there is none.
    pub async fn create_user(
        &self,
        email: &Email,
        name: &str,
        level: AccessLevel,
        org_slug: Option<&Slug>,
        org_name: Option<&str>,
    ) -> Result<(User, Organization)> {
        let name = required("name", name, MAX_TEXT_CHARS)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let org = org_for_new_member(&mut tx, org_slug, org_name, now).await?;
        let user = if let Some(existing) = tx.find_user_by_email(email).await? {
            existing
        } else {
            let u = User {
                id: UserId::new(),
                email: email.clone(),
                name,
                picture_url: None,
                job_title: None,
                default_org: Some(org.id),
                created_at: now,
            };
            tx.create_user(&u).await?;
            u
        };
        let membership = Membership {
            org: org.id,
            user: user.id,
            access_level: level,
            onboarding_template_id: None,
            scorecard_template_id: None,
            review_template_id: None,
        };
        let mut scoped = tx.org(org.id);
        scoped.add_membership(&membership, now).await?;
        record(
            &mut scoped,
            now,
            crate::audit::Actor::SYSTEM,
            "user.create",
            ("user", Some(user.id.to_string())),
            json!({ "access_level": level, "via": "cli" }),
        )
        .await?;
        if user.default_org.is_none() {
            tx.set_default_org(user.id, org.id, now).await?;
        }
        tx.commit().await?;
        Ok((user, org))
    }
}

/// The organization `create_user` adds to: the one `slug` names (created on first use),
/// else the only one, else a new `default`; several and no slug is an error.
async fn org_for_new_member(
    tx: &mut roster_store::Tx,
    slug: Option<&Slug>,
    name: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Organization> {
    let slug = if let Some(slug) = slug {
        slug.clone()
    } else {
        match tx.list_orgs().await?.as_slice() {
            [] => Slug::parse("org", "default")?,
            [only] => return Ok(only.clone()),
            _ => {
                return Err(FieldError::new(
                    "org",
                    "several organizations exist: name one with --org",
                )
                .into());
            }
        }
    };
    if let Some(org) = tx.find_org_by_slug(&slug).await? {
        return Ok(org);
    }
    let name = match name {
        Some(name) => required("name", name, MAX_TEXT_CHARS)?,
        None if slug.as_str() == "default" => "Default".to_owned(),
        None => slug.to_string(),
    };
    let org = Organization {
        id: OrgId::new(),
        name,
        slug,
        created_at: now,
    };
    tx.create_org(&org).await?;
    Ok(org)
}
