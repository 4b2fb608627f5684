use std::collections::HashSet;

use proptest::prelude::*;

use super::*;

#[expect(clippy::unnecessary_wraps, reason = "the records' field is an Option")]
fn email(s: &str) -> Option<Email> {
    Some(Email::parse(s).expect("email"))
}

fn person(id: &str, name: &str, manager: Option<&str>, teams: &[&str]) -> Fetched {
    let (first, last) = name.split_once(' ').unwrap_or((name, ""));
    Fetched {
        productive_id: id.to_owned(),
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        email: email(&format!("{}@acme.test", first.to_lowercase())),
        title: Some("Engineer".to_owned()),
        avatar_url: None,
        manager_productive_id: manager.map(str::to_owned),
        team_ids: teams.iter().map(|t| (*t).to_owned()).collect(),
    }
}

fn team(id: &str, name: &str) -> FetchedTeam {
    FetchedTeam {
        productive_id: id.to_owned(),
        name: name.to_owned(),
    }
}

const STRICT: Options = Options {
    mass_removal_threshold: 0.3,
    allow_mass_removal: false,
};

fn counter() -> impl FnMut() -> Uuid {
    let mut n = 0u128;
    move || {
        n += 1;
        Uuid::from_u128(n)
    }
}

fn plan_of(input: &Input) -> Result<Plan, PlanError> {
    plan(input, STRICT, &mut counter())
}

/// What the store does with a plan, on the planner's own records: the next sync's input.
fn apply(input: &Input, plan: &Plan) -> Input {
    let mut next = input.clone();
    next.squads.extend(plan.new_squads.iter().cloned());
    for (id, name) in &plan.renamed_squads {
        if let Some(s) = next.squads.iter_mut().find(|s| s.id == *id) {
            s.name.clone_from(name);
        }
    }
    for (id, key) in &plan.rekeyed_squads {
        if let Some(s) = next.squads.iter_mut().find(|s| s.id == *id) {
            s.key.clone_from(key);
        }
    }
    for w in &plan.creates {
        next.people.push(Current {
            id: w.id,
            productive_id: None,
            user: None,
            first_name: w.first_name.clone(),
            last_name: w.last_name.clone(),
            email: w.email.clone(),
            title: w.title.clone(),
            avatar_url: w.avatar_url.clone(),
            manager: None,
            squad: w.squad,
            retired: false,
        });
    }
    let find = |people: &mut Vec<Current>, id: PersonId| -> usize {
        people
            .iter()
            .position(|p| p.id == id)
            .expect("planned person exists")
    };
    for w in &plan.updates {
        let i = find(&mut next.people, w.id);
        let p = &mut next.people[i];
        p.first_name.clone_from(&w.first_name);
        p.last_name.clone_from(&w.last_name);
        p.email.clone_from(&w.email);
        p.title.clone_from(&w.title);
        p.avatar_url.clone_from(&w.avatar_url);
        p.squad = w.squad;
    }
    for id in &plan.reactivate {
        let i = find(&mut next.people, *id);
        next.people[i].retired = false;
    }
    for id in &plan.retire {
        let i = find(&mut next.people, *id);
        next.people[i].retired = true;
    }
    for (id, m) in &plan.managers {
        let i = find(&mut next.people, *id);
        next.people[i].manager = *m;
    }
    for (id, u) in &plan.user_links {
        let i = find(&mut next.people, *id);
        next.people[i].user = Some(*u);
    }
    for (id, pid) in &plan.productive_ids {
        let i = find(&mut next.people, *id);
        next.people[i].productive_id = Some(pid.clone());
    }
    for w in &plan.user_updates {
        let u = next.users.iter_mut().find(|u| u.id == w.id).expect("user");
        u.job_title.clone_from(&w.job_title);
        u.picture_url.clone_from(&w.picture_url);
    }
    next
}

fn company() -> Input {
    Input {
        users: vec![CurrentUser {
            id: UserId::from_uuid(Uuid::from_u128(1000)),
            email: Email::parse("bo@acme.test").expect("email"),
            job_title: None,
            picture_url: None,
        }],
        fetched: vec![
            person("1", "Ann Boss", None, &["t1"]),
            person("2", "Bo Lead", Some("1"), &["t1", "t2"]),
            person("3", "Cy Dev", Some("2"), &["t2"]),
            person("4", "Di Dev", Some("2"), &[]),
        ],
        teams: vec![team("t1", "Platform"), team("t2", "Growth & Data")],
        ..Input::default()
    }
}

fn id_of(input: &Input, productive_id: &str) -> PersonId {
    input
        .people
        .iter()
        .find(|p| p.productive_id.as_deref() == Some(productive_id))
        .expect("synced person")
        .id
}

#[test]
fn a_first_sync_creates_everyone_with_managers_squads_and_user_links() {
    let input = company();
    let plan = plan_of(&input).expect("plan");
    assert_eq!(plan.creates.len(), 4);
    assert_eq!(plan.new_squads.len(), 2);
    assert_eq!(
        plan.counts,
        Counts {
            fetched: 4,
            created: 4,
            linked: 1,
            matched_users: 1,
            ..Counts::default()
        }
    );
    let after = apply(&input, &plan);
    let (ann, bo, cy) = (id_of(&after, "1"), id_of(&after, "2"), id_of(&after, "3"));
    let get = |id| after.people.iter().find(|p| p.id == id).expect("person");
    assert_eq!(get(ann).manager, None);
    assert_eq!(get(bo).manager, Some(ann));
    assert_eq!(get(cy).manager, Some(bo));
    assert_eq!(get(bo).user, Some(input.users[0].id));
    // Bo is in both teams: the key that sorts first ("growth-data") wins.
    let growth = after
        .squads
        .iter()
        .find(|s| s.key == "growth-data")
        .expect("squad");
    assert_eq!(get(bo).squad, Some(growth.id));
    assert_eq!(after.users[0].job_title.as_deref(), Some("Engineer"));
    let c = plan.coverage;
    assert_eq!(
        format!("{} {} {}", c.manager, c.squad, c.email),
        "75 75 100"
    );
}

#[test]
fn a_second_sync_with_nothing_changed_plans_nothing() {
    let input = company();
    let after = apply(&input, &plan_of(&input).expect("plan"));
    let again = plan_of(&after).expect("plan");
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(
        again.counts.created + again.counts.updated + again.counts.retired,
        0
    );
    assert_eq!(again.counts.matched_users, 1);
}

#[test]
fn a_leaver_is_retired_and_returns_with_the_same_id() {
    let mut input = company();
    input
        .fetched
        .extend((5..=12).map(|i| person(&i.to_string(), &format!("P{i} X"), None, &[])));
    let synced = apply(&input, &plan_of(&input).expect("plan"));
    let cy = id_of(&synced, "3");

    let mut gone = synced.clone();
    gone.fetched.retain(|f| f.productive_id != "3");
    let plan = plan_of(&gone).expect("plan");
    assert_eq!(plan.retire, vec![cy]);
    assert_eq!(plan.counts.retired, 1);
    let left = apply(&gone, &plan);

    let mut back = left.clone();
    back.fetched = synced.fetched.clone();
    let plan = plan_of(&back).expect("plan");
    assert_eq!(plan.reactivate, vec![cy]);
    assert!(plan.creates.is_empty(), "never duplicated");
    assert_eq!((plan.counts.reactivated, plan.counts.updated), (1, 0));
}

#[test]
fn retiring_more_than_the_threshold_or_everyone_needs_permission() {
    let input = company();
    let synced = apply(&input, &plan_of(&input).expect("plan"));
    let mut half = synced.clone();
    half.fetched.truncate(2);
    assert_eq!(
        plan_of(&half),
        Err(PlanError::MassRemoval {
            retiring: 2,
            active: 4
        })
    );
    let mut empty = synced.clone();
    empty.fetched.clear();
    assert!(matches!(
        plan_of(&empty),
        Err(PlanError::MassRemoval { retiring: 4, .. })
    ));
    let allowed = plan(
        &empty,
        Options {
            allow_mass_removal: true,
            ..STRICT
        },
        &mut counter(),
    )
    .expect("allowed");
    assert_eq!(allowed.retire.len(), 4);
}

#[test]
fn an_empty_answer_is_refused_even_when_the_share_is_small() {
    // Nine people added by hand and one from Productive: losing the one is 10 %, but an
    // empty answer is never trusted without permission.
    let mut input = company();
    input.fetched.truncate(1);
    let mut synced = apply(&input, &plan_of(&input).expect("plan"));
    for i in 0..9 {
        synced.people.push(Current {
            id: PersonId::from_uuid(Uuid::from_u128(500 + i)),
            productive_id: None,
            user: None,
            first_name: format!("Hand{i}"),
            last_name: String::new(),
            email: None,
            title: None,
            avatar_url: None,
            manager: None,
            squad: None,
            retired: false,
        });
    }
    synced.fetched.clear();
    assert!(matches!(
        plan_of(&synced),
        Err(PlanError::MassRemoval {
            retiring: 1,
            active: 10
        })
    ));
}

#[test]
fn people_productive_never_knew_are_left_alone_or_adopted_by_email() {
    let mut input = company();
    let manual = PersonId::from_uuid(Uuid::from_u128(777));
    let stranger = PersonId::from_uuid(Uuid::from_u128(778));
    for (id, first) in [(manual, "Cy"), (stranger, "Zed")] {
        input.people.push(Current {
            id,
            productive_id: None,
            user: None,
            first_name: first.to_owned(),
            last_name: "Hand".to_owned(),
            email: email(&format!("{}@acme.test", first.to_lowercase())),
            title: None,
            avatar_url: None,
            manager: None,
            squad: None,
            retired: false,
        });
    }
    let plan = plan_of(&input).expect("plan");
    assert!(plan.productive_ids.contains(&(manual, "3".to_owned())));
    assert!(
        plan.updates
            .iter()
            .any(|w| w.id == manual && w.last_name == "Dev")
    );
    assert_eq!(plan.counts.created, 3);
    assert!(!plan.retire.contains(&stranger));
}

#[test]
fn managers_that_are_themselves_or_not_active_are_dropped_and_cycles_are_kept() {
    let mut input = company();
    input.fetched = vec![
        person("1", "Ann A", Some("1"), &[]),
        person("2", "Bo B", Some("99"), &[]),
        person("3", "Cy C", Some("4"), &[]),
        person("4", "Di D", Some("3"), &[]),
    ];
    let after = apply(&input, &plan_of(&input).expect("plan"));
    let get = |p: &str| {
        after
            .people
            .iter()
            .find(|c| c.id == id_of(&after, p))
            .expect("p")
            .manager
    };
    assert_eq!((get("1"), get("2")), (None, None));
    assert_eq!(get("3"), Some(id_of(&after, "4")));
    assert_eq!(get("4"), Some(id_of(&after, "3")));
}

/// The company after its first sync, and the id of its "Platform" squad (team t1).
fn synced_with_platform() -> (Input, Input, SquadId) {
    let input = company();
    let after = apply(&input, &plan_of(&input).expect("plan"));
    let platform = after
        .squads
        .iter()
        .find(|s| s.key == "platform")
        .expect("squad")
        .id;
    (input, after, platform)
}

#[test]
fn a_squad_renamed_in_case_or_spacing_keeps_its_id() {
    let (_, mut after, platform) = synced_with_platform();
    after.teams[0].name = "  PLATFORM ".to_owned();
    let plan = plan_of(&after).expect("plan");
    assert!(plan.new_squads.is_empty());
    assert_eq!(
        plan.renamed_squads,
        vec![(platform, "  PLATFORM ".to_owned())]
    );
    assert!(plan.updates.is_empty(), "nobody changes squad");
}

#[test]
fn a_team_renamed_keeps_its_squad_under_the_new_key() {
    let (_, mut after, platform) = synced_with_platform();
    // A squad keyed before accents were folded ("quipe"), and a real rename.
    after
        .squads
        .iter_mut()
        .find(|s| s.id == platform)
        .expect("squad")
        .key = "quipe".to_owned();
    after.teams[0].name = "Équipe".to_owned();
    let plan = plan_of(&after).expect("plan");
    assert!(plan.new_squads.is_empty(), "{:?}", plan.new_squads);
    assert_eq!(plan.rekeyed_squads, vec![(platform, "equipe".to_owned())]);
    assert_eq!(plan.renamed_squads, vec![(platform, "Équipe".to_owned())]);
    let next = apply(&after, &plan);
    let ann = id_of(&next, "1");
    assert_eq!(
        next.people.iter().find(|p| p.id == ann).expect("ann").squad,
        Some(platform),
        "the team's people stay in its squad"
    );
    assert!(
        plan_of(&next).expect("plan").is_empty(),
        "and then nothing to do"
    );
}

#[test]
fn a_key_given_up_by_a_renamed_team_goes_to_the_new_team_that_takes_the_name() {
    let (input, mut after, platform) = synced_with_platform();
    // t1 is renamed; a new team t3 is called what t1 was.
    after.teams[0].name = "Infrastructure".to_owned();
    after.teams.push(team("t3", "Platform"));
    let plan = plan_of(&after).expect("plan");
    assert_eq!(
        plan.rekeyed_squads,
        vec![(platform, "infrastructure".to_owned())]
    );
    assert_eq!(plan.new_squads.len(), 1);
    assert_eq!(plan.new_squads[0].key, "platform");

    // The other order: the new team sorts first and takes the squad by its key; the
    // renamed team then gets a squad of its own instead of taking that one away.
    let mut other = apply(&input, &plan_of(&input).expect("plan"));
    other.teams[0].name = "Infrastructure".to_owned();
    other.teams.push(team("t0", "Platform"));
    let plan = plan_of(&other).expect("plan");
    assert!(plan.rekeyed_squads.is_empty(), "{:?}", plan.rekeyed_squads);
    assert_eq!(plan.new_squads.len(), 1);
    assert_eq!(plan.new_squads[0].key, "infrastructure");
}

#[test]
fn invalid_records_stop_the_plan() {
    type Break = Box<dyn Fn(&mut Vec<Fetched>)>;
    let cases: Vec<(&str, Break)> = vec![
        (
            "has no name",
            Box::new(|f| {
                f[1].first_name.clear();
                f[1].last_name = " ".to_owned();
            }),
        ),
        (
            "listed twice",
            Box::new(|f| f[1].productive_id = "1".to_owned()),
        ),
        (
            "title is longer",
            Box::new(|f| f[1].title = Some("x".repeat(1001))),
        ),
        ("same email", Box::new(|f| f[1].email = f[0].email.clone())),
    ];
    for (words, break_it) in cases {
        let mut input = company();
        break_it(&mut input.fetched);
        match plan_of(&input) {
            Err(PlanError::InvalidRecord { message, .. }) => {
                assert!(message.contains(words), "{words}: {message}");
            }
            other => panic!("{words}: {other:?}"),
        }
    }
}

#[test]
fn coverage_drops_of_more_than_ten_points_warn() {
    let before = Coverage {
        email: 100.0,
        title: 90.0,
        manager: 80.0,
        squad: 50.0,
    };
    let now = Coverage {
        email: 89.0,
        title: 80.0,
        manager: 80.0,
        squad: 10.0,
    };
    let warnings = now.drops_since(&before, 10.0);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("email coverage fell from 100.0% to 89.0%"));
    assert!(warnings[1].starts_with("squad"));
}

fn arb_fetched() -> impl Strategy<Value = Vec<Fetched>> {
    // Up to 12 people with ids from a pool of 16, random managers (self, dangling, cycles),
    // emails from a pool of 8 (dropped when taken, to stay valid), teams from a pool of 3.
    prop::collection::vec(
        (
            0u8..16,
            prop::option::of(0u8..18),
            prop::option::of(0u8..8),
            prop::collection::vec(0u8..3, 0..3),
        ),
        0..12,
    )
    .prop_map(|rows| {
        let mut seen = HashSet::new();
        let mut emails = HashSet::new();
        rows.into_iter()
            .filter(|(id, ..)| seen.insert(*id))
            .map(|(id, manager, mail, teams)| Fetched {
                productive_id: id.to_string(),
                first_name: format!("N{id}"),
                last_name: "Q".to_owned(),
                email: mail
                    .filter(|m| emails.insert(*m))
                    .and_then(|m| email(&format!("m{m}@x.test"))),
                title: None,
                avatar_url: None,
                manager_productive_id: manager.map(|m| m.to_string()),
                team_ids: teams.iter().map(|t| format!("t{t}")).collect(),
            })
            .collect()
    })
}

fn teams() -> Vec<FetchedTeam> {
    vec![team("t0", "Alpha"), team("t1", "Beta"), team("t2", "alpha")]
}

proptest! {
    /// Any sequence of answers: each plan applies cleanly, the same answer twice plans
    /// nothing the second time, every listed person is active with their Productive id and
    /// nobody is duplicated.
    #[test]
    fn syncs_converge_and_never_duplicate(answers in prop::collection::vec(arb_fetched(), 1..4)) {
        let lenient = Options { mass_removal_threshold: 1.0, allow_mass_removal: true };
        let mut ids = counter();
        let mut state = Input {
            users: (0..8u128).map(|m| CurrentUser {
                id: UserId::from_uuid(Uuid::from_u128(10_000 + m)),
                email: Email::parse(&format!("m{m}@x.test")).expect("email"),
                job_title: None,
                picture_url: None,
            }).collect(),
            teams: teams(),
            ..Input::default()
        };
        for fetched in answers {
            state.fetched = fetched;
            let p = plan(&state, lenient, &mut ids).expect("plan");
            state = apply(&state, &p);
            let again = plan(&state, lenient, &mut ids).expect("plan");
            prop_assert!(again.is_empty(), "{:?}", again);
            let mut pids = HashSet::new();
            for p in &state.people {
                if let Some(pid) = &p.productive_id {
                    prop_assert!(pids.insert(pid.clone()), "productive id {} twice", pid);
                }
                prop_assert!(p.manager != Some(p.id));
            }
            for f in &state.fetched {
                let p = state.people.iter().find(|p| p.productive_id.as_deref() == Some(&f.productive_id));
                prop_assert!(p.is_some_and(|p| !p.retired));
            }
            let active_emails: Vec<_> = state.people.iter().filter(|p| !p.retired).filter_map(|p| p.email.clone()).collect();
            let unique: HashSet<_> = active_emails.iter().collect();
            prop_assert_eq!(unique.len(), active_emails.len());
            let users: Vec<_> = state.people.iter().filter_map(|p| p.user).collect();
            prop_assert_eq!(users.iter().collect::<HashSet<_>>().len(), users.len());
        }
    }
}
