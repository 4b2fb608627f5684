//! The people directory as the read endpoints show it: a listed person, the list's freshness,
//! and squads with their members. Plain records and small pure rules; the store fills them
//! in one statement each.

use chrono::{DateTime, Duration, Utc};

use crate::{Email, PersonId, SquadId, UserId};

/// An active person as `GET /api/people` and the org chart list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: PersonId,
    pub productive_id: Option<String>,
    pub user: Option<UserId>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<Email>,
    pub title: Option<String>,
    pub avatar_url: Option<String>,
    /// Their manager when the manager is an active person; otherwise none.
    pub manager: Option<PersonId>,
    /// The squad's display name.
    pub squad: Option<String>,
    pub synced_at: Option<DateTime<Utc>>,
}

impl Listed {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }
}

/// Every active person, and when Productive was last synced successfully.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub last_sync: Option<DateTime<Utc>>,
    pub people: Vec<Listed>,
}

/// Whether the directory is stale: never synced, or the last successful sync is older
/// than `ttl`. Exactly `ttl` old is still fresh.
pub fn is_stale(last_sync: Option<DateTime<Utc>>, now: DateTime<Utc>, ttl: Duration) -> bool {
    last_sync.is_none_or(|at| now - at > ttl)
}

/// A member of a squad (an active person whose squad it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquadMember {
    pub person: PersonId,
    pub user: Option<UserId>,
    pub name: String,
    pub email: Option<Email>,
}

/// A squad with its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquadListing {
    pub id: SquadId,
    /// The stable slug (see [`crate::model::squad_key`]).
    pub key: String,
    pub name: String,
    pub members: Vec<SquadMember>,
}

/// Squads by name case-insensitively (then key), members by name (then id), so the answer
/// does not depend on the database's collation.
pub fn sort_squads(squads: &mut [SquadListing]) {
    squads.sort_by_cached_key(|s| (s.name.to_lowercase(), s.key.clone()));
    for s in squads {
        s.members
            .sort_by_cached_key(|m| (m.name.to_lowercase(), m.person));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_when_never_synced_or_older_than_the_ttl() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let ttl = Duration::hours(6);
        for (last, stale) in [
            (None, true),
            (Some(now), false),
            (Some(now - ttl), false),
            (Some(now - ttl - Duration::seconds(1)), true),
        ] {
            assert_eq!(is_stale(last, now, ttl), stale, "{last:?}");
        }
    }
}
