//! Planning a Productive sync: what the directory holds now plus what Productive answered
//! gives every change to make, as data. No I/O: the app fetches every page first, this
//! decides, and the store applies the plan in one transaction.
//!
//! The rules, in the order the contract lists them:
//! - A fetched person is the directory's person with the same Productive id, whether active
//!   or retired (a returning person is reactivated with the same id and HR data). Failing
//!   that, the person with the same email who has no Productive id, or whose Productive id
//!   Productive no longer lists (someone re-created in Productive); an active one before a
//!   retired one. Failing that, a new person.
//! - A person is linked to the organization's user with the same email when neither is
//!   linked yet; linked users take the person's title and picture.
//! - Managers are resolved from Productive ids to people ids; a manager Productive does not
//!   list as active, or a person named as their own manager, leaves the person without one.
//!   Cycles are kept as Productive has them: the org chart breaks them when it draws.
//! - A person with a Productive id whom Productive no longer lists is retired (soft delete).
//!   People Productive never knew (added by hand, or by another sync) are left alone.
//! - Retiring more than the threshold's share of the active people, or all of them because
//!   Productive answered an empty list, is refused unless the caller allows it.
//! - A person in several Productive teams takes the team whose key sorts first, so the
//!   choice does not depend on the order Productive lists them in.

use std::collections::{BTreeMap, HashMap, HashSet};

use uuid::Uuid;

use crate::model::{Squad, squad_key};
use crate::text::MAX_TEXT_CHARS;
use crate::{Email, PersonId, SquadId, UserId};

/// One active person as Productive lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub productive_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<Email>,
    pub title: Option<String>,
    pub avatar_url: Option<String>,
    pub manager_productive_id: Option<String>,
    /// The Productive ids of the teams the person belongs to.
    pub team_ids: Vec<String>,
}

/// A Productive team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedTeam {
    pub productive_id: String,
    pub name: String,
}

/// A person of the directory as the sync sees them (retired ones included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub id: PersonId,
    pub productive_id: Option<String>,
    pub user: Option<UserId>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<Email>,
    pub title: Option<String>,
    pub avatar_url: Option<String>,
    pub manager: Option<PersonId>,
    pub squad: Option<SquadId>,
    pub retired: bool,
}

/// A user of the organization, with what the sync may update on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: Email,
    pub job_title: Option<String>,
    pub picture_url: Option<String>,
}

/// Everything the plan starts from.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub people: Vec<Current>,
    pub users: Vec<CurrentUser>,
    pub squads: Vec<Squad>,
    pub fetched: Vec<Fetched>,
    pub teams: Vec<FetchedTeam>,
}

/// How far the plan may go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// The share of active people a sync may retire (0.3 by default).
    pub mass_removal_threshold: f64,
    /// `?allow_mass_removal=true`.
    pub allow_mass_removal: bool,
}

/// A person's synced fields, as they will be after the sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonWrite {
    pub id: PersonId,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<Email>,
    pub title: Option<String>,
    pub avatar_url: Option<String>,
    pub squad: Option<SquadId>,
}

/// A user's fields the sync sets from their person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserWrite {
    pub id: UserId,
    pub job_title: Option<String>,
    pub picture_url: Option<String>,
}

/// How many records each kind of change touched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub fetched: usize,
    pub created: usize,
    pub updated: usize,
    pub retired: usize,
    pub reactivated: usize,
    /// People newly linked to a user.
    pub linked: usize,
    /// Active synced people linked to a user after the sync (the answer's `matched_users`).
    pub matched_users: usize,
}

/// The share (0–100, one decimal) of fetched people with each field.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    pub email: f64,
    pub title: f64,
    pub manager: f64,
    pub squad: f64,
}

impl Coverage {
    /// The fields whose share fell by more than `points` since `previous`, as warnings.
    pub fn drops_since(&self, previous: &Coverage, points: f64) -> Vec<String> {
        [
            ("email", previous.email, self.email),
            ("title", previous.title, self.title),
            ("manager", previous.manager, self.manager),
            ("squad", previous.squad, self.squad),
        ]
        .into_iter()
        .filter(|(_, before, now)| before - now > points)
        .map(|(field, before, now)| {
            format!("{field} coverage fell from {before:.1}% to {now:.1}% since the last successful sync")
        })
        .collect()
    }
}

/// Every change a sync makes. Applying an empty plan writes nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub new_squads: Vec<Squad>,
    /// Squads whose display name changed (same key: only case or spacing differ).
    pub renamed_squads: Vec<(SquadId, String)>,
    /// Squads found by their Productive team whose key is no longer the one their name
    /// gives (the team was renamed, or keys were made another way before): the new key.
    pub rekeyed_squads: Vec<(SquadId, String)>,
    pub creates: Vec<PersonWrite>,
    /// Changed synced fields of existing people (reactivated ones included).
    pub updates: Vec<PersonWrite>,
    pub reactivate: Vec<PersonId>,
    pub retire: Vec<PersonId>,
    /// Manager edges to set, for new people and changed edges.
    pub managers: Vec<(PersonId, Option<PersonId>)>,
    pub user_links: Vec<(PersonId, UserId)>,
    pub user_updates: Vec<UserWrite>,
    /// Productive ids to record (new people, and people adopted by email).
    pub productive_ids: Vec<(PersonId, String)>,
    pub counts: Counts,
    pub coverage: Coverage,
}

impl Plan {
    /// Whether applying it would write nothing.
    pub fn is_empty(&self) -> bool {
        self.new_squads.is_empty()
            && self.renamed_squads.is_empty()
            && self.rekeyed_squads.is_empty()
            && self.creates.is_empty()
            && self.updates.is_empty()
            && self.reactivate.is_empty()
            && self.retire.is_empty()
            && self.managers.is_empty()
            && self.user_links.is_empty()
            && self.user_updates.is_empty()
            && self.productive_ids.is_empty()
    }
}

/// Why there is no plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The sync would retire too many people (or everyone, on an empty answer).
    #[error(
        "the sync would retire {retiring} of {active} active people; call it with allow_mass_removal=true if that is right"
    )]
    MassRemoval { retiring: usize, active: usize },
    /// A record Productive sent cannot be stored; nothing is written.
    #[error("Productive person {productive_id}: {message}")]
    InvalidRecord {
        productive_id: String,
        message: String,
    },
}

/// Plans the sync. `new_id` makes the ids of new people and squads (`Uuid::now_v7` in the
/// app; a counter in tests, so plans are reproducible).
pub fn plan(
    input: &Input,
    options: Options,
    new_id: &mut dyn FnMut() -> Uuid,
) -> Result<Plan, PlanError> {
    validate(&input.fetched)?;
    let mut plan = Plan::default();
    let squad_of = plan_squads(input, &mut plan, new_id);
    let fetched_ids: HashSet<&str> = input
        .fetched
        .iter()
        .map(|f| f.productive_id.as_str())
        .collect();

    // Who each fetched person is in the directory.
    let matched = match_people(input, &fetched_ids);
    let mut taken_users: HashSet<UserId> = input.people.iter().filter_map(|p| p.user).collect();
    let users_by_email: HashMap<&Email, &CurrentUser> =
        input.users.iter().map(|u| (&u.email, u)).collect();
    let mut id_of: HashMap<&str, PersonId> = HashMap::new();
    // The user each synced person ends up with, for step 5.
    let mut synced_users: Vec<(UserId, &Fetched)> = Vec::new();

    for (f, current) in input.fetched.iter().zip(&matched) {
        let squad = squad_of(f);
        let id = current.map_or_else(|| PersonId::from_uuid(new_id()), |c| c.id);
        id_of.insert(&f.productive_id, id);
        let write = PersonWrite {
            id,
            first_name: f.first_name.clone(),
            last_name: f.last_name.clone(),
            email: f.email.clone(),
            title: f.title.clone(),
            avatar_url: f.avatar_url.clone(),
            squad,
        };
        let mut user = current.and_then(|c| c.user);
        match current {
            None => {
                plan.creates.push(write);
                plan.productive_ids.push((id, f.productive_id.clone()));
            }
            Some(c) => {
                if c.retired {
                    plan.reactivate.push(id);
                }
                if c.retired || !same_fields(c, &write) {
                    plan.updates.push(write);
                }
                if c.productive_id.as_deref() != Some(f.productive_id.as_str()) {
                    plan.productive_ids.push((id, f.productive_id.clone()));
                }
            }
        }
        if user.is_none()
            && let Some(u) = f.email.as_ref().and_then(|e| users_by_email.get(e))
            && taken_users.insert(u.id)
        {
            plan.user_links.push((id, u.id));
            user = Some(u.id);
        }
        if let Some(u) = user {
            synced_users.push((u, f));
        }
    }

    plan_managers(input, &matched, &id_of, &mut plan);
    plan_user_updates(input, &synced_users, &mut plan);

    let active = input.people.iter().filter(|p| !p.retired).count();
    plan.retire = input
        .people
        .iter()
        .filter(|p| !p.retired)
        .filter(|p| {
            p.productive_id
                .as_deref()
                .is_some_and(|id| !fetched_ids.contains(id))
        })
        // Adopted by email under a new Productive id: not a leaver.
        .filter(|p| !matched.iter().any(|m| m.is_some_and(|m| m.id == p.id)))
        .map(|p| p.id)
        .collect();
    check_mass_removal(plan.retire.len(), active, input.fetched.is_empty(), options)?;

    plan.counts = Counts {
        fetched: input.fetched.len(),
        created: plan.creates.len(),
        updated: plan.updates.len() - plan.reactivate.len(),
        retired: plan.retire.len(),
        reactivated: plan.reactivate.len(),
        linked: plan.user_links.len(),
        matched_users: synced_users.len(),
    };
    plan.coverage = coverage(&input.fetched, &id_of, &plan, input);
    Ok(plan)
}

/// Everything Productive sent must fit the directory's columns; one bad record stops the
/// sync before anything is written.
fn validate(fetched: &[Fetched]) -> Result<(), PlanError> {
    let mut ids = HashSet::new();
    let mut emails = HashMap::new();
    for f in fetched {
        let invalid = |message: String| PlanError::InvalidRecord {
            productive_id: f.productive_id.clone(),
            message,
        };
        if f.productive_id.is_empty() || f.productive_id.chars().count() > MAX_TEXT_CHARS {
            return Err(invalid("the id is empty or too long".to_owned()));
        }
        if !ids.insert(f.productive_id.as_str()) {
            return Err(invalid("listed twice".to_owned()));
        }
        if f.first_name.trim().is_empty() && f.last_name.trim().is_empty() {
            return Err(invalid("has no name".to_owned()));
        }
        for (field, value) in [
            ("first_name", Some(&f.first_name)),
            ("last_name", Some(&f.last_name)),
            ("title", f.title.as_ref()),
            ("avatar_url", f.avatar_url.as_ref()),
        ] {
            if value.is_some_and(|v| v.chars().count() > MAX_TEXT_CHARS) {
                return Err(invalid(format!(
                    "{field} is longer than {MAX_TEXT_CHARS} characters"
                )));
            }
        }
        if let Some(e) = &f.email
            && let Some(other) = emails.insert(e, &f.productive_id)
        {
            return Err(invalid(format!(
                "has the same email as Productive person {other}"
            )));
        }
    }
    Ok(())
}

/// Squads by key: a team whose key is a squad's is that squad (a changed display name
/// renames it); otherwise a team that made a squad before is that squad, re-keyed; otherwise
/// it makes a new squad. Returns the squad each fetched person belongs to.
fn plan_squads<'a>(
    input: &'a Input,
    plan: &mut Plan,
    new_id: &mut dyn FnMut() -> Uuid,
) -> impl Fn(&Fetched) -> Option<SquadId> + 'a {
    let mut by_key: BTreeMap<String, SquadId> =
        input.squads.iter().map(|s| (s.key.clone(), s.id)).collect();
    let existing: HashMap<SquadId, &Squad> = input.squads.iter().map(|s| (s.id, s)).collect();
    let by_team: HashMap<&str, &Squad> = input
        .squads
        .iter()
        .filter_map(|s| s.productive_team_id.as_deref().map(|t| (t, s)))
        .collect();
    // Team id → (key, squad id).
    let mut team_key: HashMap<&str, (String, SquadId)> = HashMap::new();
    let mut renamed = HashSet::new();
    // Teams whose names differ only in case or spacing are one squad, named after the team
    // with the smallest Productive id, so the name does not flip between syncs.
    let mut teams: Vec<&FetchedTeam> = input.teams.iter().collect();
    teams.sort_by(|a, b| a.productive_id.cmp(&b.productive_id));
    for t in teams {
        let key = team_squad_key(t);
        let id = if let Some(id) = by_key.get(&key) {
            if let Some(s) = existing.get(id)
                && s.name != t.name
                && renamed.insert(*id)
            {
                plan.renamed_squads.push((*id, t.name.clone()));
            }
            renamed.insert(*id);
            *id
        } else if let Some(s) = by_team.get(t.productive_id.as_str())
            && !renamed.contains(&s.id)
        {
            // The team's squad, under a key its name no longer gives: the key follows the
            // name (the new key is free: no squad has it).
            by_key.remove(&s.key);
            by_key.insert(key.clone(), s.id);
            plan.rekeyed_squads.push((s.id, key.clone()));
            if s.name != t.name && renamed.insert(s.id) {
                plan.renamed_squads.push((s.id, t.name.clone()));
            }
            renamed.insert(s.id);
            s.id
        } else {
            let id = SquadId::from_uuid(new_id());
            by_key.insert(key.clone(), id);
            renamed.insert(id);
            plan.new_squads.push(Squad {
                id,
                key: key.clone(),
                name: t.name.clone(),
                productive_team_id: Some(t.productive_id.clone()),
            });
            id
        };
        team_key.insert(&t.productive_id, (key, id));
    }
    move |f: &Fetched| {
        f.team_ids
            .iter()
            .filter_map(|t| team_key.get(t.as_str()))
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, id)| *id)
    }
}

/// A team's squad key; a name with no letters or digits falls back to its Productive id.
fn team_squad_key(t: &FetchedTeam) -> String {
    let key = squad_key(&t.name);
    if key.is_empty() {
        format!("team-{}", squad_key(&t.productive_id))
    } else {
        key.chars().take(100).collect()
    }
}

/// For each fetched person, the directory person they are (see the module's rules).
fn match_people<'a>(input: &'a Input, fetched_ids: &HashSet<&str>) -> Vec<Option<&'a Current>> {
    let by_productive: HashMap<&str, &Current> = input
        .people
        .iter()
        .filter_map(|p| p.productive_id.as_deref().map(|id| (id, p)))
        .collect();
    // Email candidates: no Productive id, or one Productive no longer lists; active first.
    let mut by_email: HashMap<&Email, &Current> = HashMap::new();
    for p in &input.people {
        let free = p
            .productive_id
            .as_deref()
            .is_none_or(|id| !fetched_ids.contains(id));
        if let (true, Some(e)) = (free, &p.email) {
            let keep = by_email.get(e).is_some_and(|q| !q.retired || p.retired);
            if !keep {
                by_email.insert(e, p);
            }
        }
    }
    let mut used: HashSet<PersonId> = HashSet::new();
    input
        .fetched
        .iter()
        .map(|f| {
            by_productive
                .get(f.productive_id.as_str())
                .copied()
                .or_else(|| f.email.as_ref().and_then(|e| by_email.get(e).copied()))
                .filter(|c| used.insert(c.id))
        })
        .collect()
}

fn same_fields(c: &Current, w: &PersonWrite) -> bool {
    c.first_name == w.first_name
        && c.last_name == w.last_name
        && c.email == w.email
        && c.title == w.title
        && c.avatar_url == w.avatar_url
        && c.squad == w.squad
}

fn plan_managers(
    input: &Input,
    matched: &[Option<&Current>],
    id_of: &HashMap<&str, PersonId>,
    plan: &mut Plan,
) {
    for (f, current) in input.fetched.iter().zip(matched) {
        let id = id_of[f.productive_id.as_str()];
        let manager = f
            .manager_productive_id
            .as_deref()
            .and_then(|m| id_of.get(m).copied())
            .filter(|m| *m != id);
        let before = current.and_then(|c| c.manager);
        if current.is_none() && manager.is_none() {
            continue;
        }
        if current.is_none() || before != manager {
            plan.managers.push((id, manager));
        }
    }
}

fn plan_user_updates(input: &Input, synced: &[(UserId, &Fetched)], plan: &mut Plan) {
    let users: HashMap<UserId, &CurrentUser> = input.users.iter().map(|u| (u.id, u)).collect();
    for (user, f) in synced {
        let Some(u) = users.get(user) else { continue };
        if u.job_title != f.title || u.picture_url != f.avatar_url {
            plan.user_updates.push(UserWrite {
                id: *user,
                job_title: f.title.clone(),
                picture_url: f.avatar_url.clone(),
            });
        }
    }
}

fn check_mass_removal(
    retiring: usize,
    active: usize,
    empty_answer: bool,
    options: Options,
) -> Result<(), PlanError> {
    if options.allow_mass_removal || retiring == 0 {
        return Ok(());
    }
    #[expect(clippy::cast_precision_loss, reason = "head counts are far below 2^52")]
    let share = retiring as f64 / active.max(1) as f64;
    if empty_answer || share > options.mass_removal_threshold {
        return Err(PlanError::MassRemoval { retiring, active });
    }
    Ok(())
}

fn coverage(
    fetched: &[Fetched],
    id_of: &HashMap<&str, PersonId>,
    plan: &Plan,
    input: &Input,
) -> Coverage {
    // The manager and squad each person ends up with.
    let mut manager: HashMap<PersonId, Option<PersonId>> =
        input.people.iter().map(|p| (p.id, p.manager)).collect();
    for (id, m) in &plan.managers {
        manager.insert(*id, *m);
    }
    let squad: HashMap<PersonId, Option<SquadId>> = plan
        .creates
        .iter()
        .chain(&plan.updates)
        .map(|w| (w.id, w.squad))
        .chain(input.people.iter().map(|p| (p.id, p.squad)))
        .fold(HashMap::new(), |mut m, (id, s)| {
            m.entry(id).or_insert(s);
            m
        });
    let n = fetched.len();
    let share = |count: usize| -> f64 {
        if n == 0 {
            return 0.0;
        }
        #[expect(clippy::cast_precision_loss, reason = "head counts are far below 2^52")]
        let pct = count as f64 * 100.0 / n as f64;
        (pct * 10.0).round() / 10.0
    };
    let ids: Vec<PersonId> = fetched
        .iter()
        .map(|f| id_of[f.productive_id.as_str()])
        .collect();
    Coverage {
        email: share(fetched.iter().filter(|f| f.email.is_some()).count()),
        title: share(
            fetched
                .iter()
                .filter(|f| f.title.as_deref().is_some_and(|t| !t.trim().is_empty()))
                .count(),
        ),
        manager: share(
            ids.iter()
                .filter(|id| manager.get(id).copied().flatten().is_some())
                .count(),
        ),
        squad: share(
            ids.iter()
                .filter(|id| squad.get(id).copied().flatten().is_some())
                .count(),
        ),
    }
}

#[cfg(test)]
mod tests;
