//! Planning a Google directory sync (`POST /api/admin/users/sync-google`): the directory's
//! users plus the organization's users and people give the users to create or add to the
//! organization, the names, pictures and titles to update, and the people to link by email.
//! No I/O.
//!
//! Suspended and archived directory users are left out: they cannot sign in, so Roster
//! neither creates them nor refreshes them; Roster never removes a user because Google
//! suspended them (an executive does that, and the audit log says who).

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::people_sync::Current;
use crate::text::MAX_TEXT_CHARS;
use crate::{Email, PersonId, UserId};

/// A directory user, as the sync needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    pub email: Email,
    pub name: String,
    pub picture_url: Option<String>,
    pub job_title: Option<String>,
    pub active: bool,
}

/// A Roster user with this email, and whether they belong to the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownUser {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub picture_url: Option<String>,
    pub job_title: Option<String>,
    pub member: bool,
}

/// A user to create, or whose fields to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFields {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub picture_url: Option<String>,
    pub job_title: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// New users (they also join the organization).
    pub create: Vec<UserFields>,
    /// Existing users who join the organization as employees.
    pub join: Vec<UserId>,
    pub update: Vec<UserFields>,
    pub links: Vec<(PersonId, UserId)>,
    /// Active directory users considered.
    pub total: usize,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.join.is_empty()
            && self.update.is_empty()
            && self.links.is_empty()
    }
}

/// The display name Roster keeps for a directory user: the full name, else given and
/// family names, else the email's local part; at most 1,000 characters.
pub fn display_name(
    full: Option<&str>,
    given: Option<&str>,
    family: Option<&str>,
    email: &Email,
) -> String {
    let joined = [given, family]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let name = full
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or_else(|| (!joined.is_empty()).then_some(joined))
        .unwrap_or_else(|| {
            email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned()
        });
    name.chars().take(MAX_TEXT_CHARS).collect()
}

/// Plans the sync. `known` holds every Roster user whose email the directory lists
/// (members of the organization or not); `people` the organization's people.
pub fn plan(
    directory: &[DirectoryUser],
    known: &[KnownUser],
    people: &[Current],
    new_id: &mut dyn FnMut() -> Uuid,
) -> Plan {
    let known_by_email: HashMap<&Email, &KnownUser> = known.iter().map(|u| (&u.email, u)).collect();
    let mut plan = Plan::default();
    let mut seen = HashSet::new();
    // The user each active directory email ends up as.
    let mut user_of: HashMap<&Email, UserId> = HashMap::new();
    for d in directory.iter().filter(|d| d.active) {
        if !seen.insert(&d.email) {
            continue;
        }
        plan.total += 1;
        let clip = |s: &Option<String>| {
            s.as_ref()
                .map(|v| v.chars().take(MAX_TEXT_CHARS).collect::<String>())
        };
        let fields = |id| UserFields {
            id,
            email: d.email.clone(),
            name: d.name.clone(),
            picture_url: clip(&d.picture_url),
            job_title: clip(&d.job_title),
        };
        match known_by_email.get(&d.email) {
            None => {
                let f = fields(UserId::from_uuid(new_id()));
                user_of.insert(&d.email, f.id);
                plan.create.push(f);
            }
            Some(u) => {
                user_of.insert(&d.email, u.id);
                if !u.member {
                    plan.join.push(u.id);
                }
                let f = fields(u.id);
                if (u.name.as_str(), &u.picture_url, &u.job_title)
                    != (f.name.as_str(), &f.picture_url, &f.job_title)
                {
                    plan.update.push(f);
                }
            }
        }
    }
    let mut linked: HashSet<UserId> = people.iter().filter_map(|p| p.user).collect();
    for p in people.iter().filter(|p| !p.retired && p.user.is_none()) {
        if let Some(u) = p.email.as_ref().and_then(|e| user_of.get(e))
            && linked.insert(*u)
        {
            plan.links.push((p.id, *u));
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).expect("email")
    }

    fn dir(e: &str, name: &str, active: bool) -> DirectoryUser {
        DirectoryUser {
            email: email(e),
            name: name.to_owned(),
            picture_url: None,
            job_title: Some("Engineer".to_owned()),
            active,
        }
    }

    fn person(n: u128, e: &str, user: Option<UserId>, retired: bool) -> Current {
        Current {
            id: PersonId::from_uuid(Uuid::from_u128(n)),
            productive_id: None,
            user,
            first_name: "A".to_owned(),
            last_name: "B".to_owned(),
            email: Some(email(e)),
            title: None,
            avatar_url: None,
            manager: None,
            squad: None,
            retired,
        }
    }

    #[test]
    fn creates_joins_updates_and_links_by_email_and_a_second_run_plans_nothing() {
        let mut n = 100;
        let mut ids = move || {
            n += 1;
            Uuid::from_u128(n)
        };
        let member = KnownUser {
            id: UserId::from_uuid(Uuid::from_u128(1)),
            email: email("ann@x.test"),
            name: "Ann Old".to_owned(),
            picture_url: None,
            job_title: Some("Engineer".to_owned()),
            member: true,
        };
        let outsider = KnownUser {
            id: UserId::from_uuid(Uuid::from_u128(2)),
            email: email("bo@x.test"),
            name: "Bo".to_owned(),
            picture_url: None,
            job_title: Some("Engineer".to_owned()),
            member: false,
        };
        let directory = vec![
            dir("ann@x.test", "Ann New", true),
            dir("bo@x.test", "Bo", true),
            dir("cy@x.test", "Cy", true),
            dir("gone@x.test", "Gone", false),
        ];
        let people = vec![
            person(10, "cy@x.test", None, false),
            person(11, "gone@x.test", None, false),
            person(12, "bo@x.test", None, true),
        ];
        let plan = plan(
            &directory,
            &[member.clone(), outsider.clone()],
            &people,
            &mut ids,
        );
        assert_eq!(plan.total, 3);
        assert_eq!(plan.create.len(), 1);
        let cy = plan.create[0].id;
        assert_eq!(plan.join, vec![outsider.id]);
        assert_eq!(plan.update.len(), 1);
        assert_eq!(plan.update[0].name, "Ann New");
        assert_eq!(
            plan.links,
            vec![(people[0].id, cy)],
            "retired and suspended people are not linked"
        );

        let known = vec![
            KnownUser {
                name: "Ann New".to_owned(),
                ..member
            },
            KnownUser {
                member: true,
                ..outsider
            },
            KnownUser {
                id: cy,
                email: email("cy@x.test"),
                name: "Cy".to_owned(),
                picture_url: None,
                job_title: Some("Engineer".to_owned()),
                member: true,
            },
        ];
        let linked = vec![person(10, "cy@x.test", Some(cy), false)];
        assert!(super::plan(&directory, &known, &linked, &mut ids).is_empty());
    }

    #[test]
    fn display_names_fall_back_to_given_and_family_then_the_email() {
        let e = email("jo.smith@x.test");
        assert_eq!(display_name(Some(" Jo Smith "), None, None, &e), "Jo Smith");
        assert_eq!(
            display_name(Some(""), Some("Jo"), Some("Smith"), &e),
            "Jo Smith"
        );
        assert_eq!(display_name(None, None, None, &e), "jo.smith");
    }
}
