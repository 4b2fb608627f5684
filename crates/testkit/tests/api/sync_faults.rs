//! The Productive sync meeting what the demo's control API makes happen: an outage armed
//! over HTTP, an empty answer, a leaver who returns, a new manager and a manager cycle. Each
//! failure leaves people, users, external ids and squads exactly as they were, row by row,
//! and the last successful run where it was. (A failing last page, a 429 past the retry
//! budget, a malformed record and competing runs are in `people_sync.rs`.)

use std::collections::BTreeMap;

use roster_domain::model::{Employment, Squad};
use roster_domain::people_sync::{Current, CurrentUser};
use roster_domain::{Clock, EmploymentBasis, EmploymentStatus, Gender, PersonId};
use roster_testkit::{Options, TestApp, spawn, spawn_with};
use serde_json::json;

/// Everything a sync may touch in acme, row by row, and the last successful run.
#[derive(Debug, PartialEq)]
struct Snapshot {
    people: Vec<Current>,
    users: Vec<CurrentUser>,
    squads: Vec<Squad>,
    /// Every provider's ids, per person.
    external_ids: BTreeMap<PersonId, Vec<(String, String)>>,
    last_success: Option<uuid::Uuid>,
}

async fn snapshot(t: &TestApp) -> Snapshot {
    let mut tx = t.store.begin().await.unwrap();
    let mut org = tx.org(t.world.acme.id);
    let mut people = org.sync_people().await.unwrap();
    people.sort_by_key(|p| p.id);
    let mut users = org.sync_users().await.unwrap();
    users.sort_by_key(|u| u.id);
    let mut squads = org.sync_squads().await.unwrap();
    squads.sort_by_key(|s| s.id);
    let mut external_ids = BTreeMap::new();
    for p in &people {
        external_ids.insert(p.id, org.external_ids_of(p.id).await.unwrap());
    }
    let last_success = org
        .last_successful_sync("productive")
        .await
        .unwrap()
        .map(|r| r.id);
    tx.rollback().await.unwrap();
    Snapshot {
        people,
        users,
        squads,
        external_ids,
        last_success,
    }
}

/// The synced person with Productive id `pid`.
fn by_pid<'a>(snap: &'a Snapshot, pid: &str) -> &'a Current {
    snap.people
        .iter()
        .find(|p| p.productive_id.as_deref() == Some(pid))
        .unwrap_or_else(|| panic!("no person with Productive id {pid}"))
}

/// Every active person's manager is another active person of the organization.
fn assert_org_consistent(snap: &Snapshot) {
    let active: BTreeMap<PersonId, &Current> = snap
        .people
        .iter()
        .filter(|p| !p.retired)
        .map(|p| (p.id, p))
        .collect();
    for p in active.values() {
        if let Some(m) = p.manager {
            assert_ne!(m, p.id, "{} manages themselves", p.id);
            assert!(
                active.contains_key(&m),
                "{}'s manager {m} is not an active person",
                p.id
            );
        }
    }
}

/// Active sample people Productive lists, with a work email.
fn listed(t: &TestApp) -> Vec<(String, String)> {
    t.fakes
        .company()
        .people
        .iter()
        .filter(|p| p.is_active && p.productive_id.is_some())
        .filter_map(|p| Some((p.productive_id.clone()?, p.email.clone()?)))
        .collect()
}

async fn control(
    t: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) {
    let mut request =
        reqwest::Client::new().request(method, format!("{}{path}", t.fakes.control_url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    assert_eq!(
        answer.status(),
        200,
        "{path}: {}",
        answer.text().await.unwrap()
    );
}

#[tokio::test]
async fn an_outage_armed_over_the_control_api_changes_nothing_until_cleared() {
    // 450 people: the people listing spans three pages of 200.
    let t = spawn_with(Options {
        company_size: Some(450),
        ..Options::default()
    })
    .await;
    t.connect_productive().await;
    t.sync_people("").await.assert_status(200);
    // Someone leaves, so a sync that stopped after page 1 would have something to retire.
    let (_, email) = listed(&t).pop().unwrap();
    t.fakes.leave(&email).unwrap();
    let before = snapshot(&t).await;
    control(
        &t,
        reqwest::Method::POST,
        "/faults",
        Some(json!({"provider": "productive", "operation": "people", "page": 2, "status": 500})),
    )
    .await;
    for _ in 0..2 {
        let failed = t.sync_people("").await;
        failed.assert_problem(502, "provider_error");
        assert!(!failed.text.contains("good-token"), "no secret");
        assert_eq!(snapshot(&t).await, before, "a failed sync changed nothing");
    }
    control(&t, reqwest::Method::DELETE, "/faults", None).await;
    let ok = t.sync_people("").await;
    ok.assert_status(200);
    assert_eq!(ok.body["counts"]["retired"], 1, "{}", ok.text);
    assert_ne!(snapshot(&t).await.last_success, before.last_success);
}

#[tokio::test]
async fn an_empty_answer_is_blocked_as_a_mass_removal_until_allowed() {
    let t = spawn().await;
    t.connect_productive().await;
    t.sync_people("").await.assert_status(200);
    let everyone = listed(&t);
    for (_, email) in &everyone {
        t.fakes.leave(email).unwrap();
    }
    assert!(listed(&t).is_empty(), "Productive now lists no one");
    let before = snapshot(&t).await;

    let blocked = t.sync_people("").await;
    blocked.assert_problem(409, "mass_removal_blocked");
    assert_eq!(snapshot(&t).await, before, "a blocked sync changed nothing");
    let blocked_false = t.sync_people("?allow_mass_removal=false").await;
    blocked_false.assert_problem(409, "mass_removal_blocked");
    assert_eq!(snapshot(&t).await, before);

    let allowed = t.sync_people("?allow_mass_removal=true").await;
    allowed.assert_status(200);
    assert_eq!(allowed.body["counts"]["retired"], everyone.len());
    let after = snapshot(&t).await;
    assert_eq!(
        after.people.len(),
        before.people.len(),
        "soft-deleted, not deleted"
    );
    for (pid, _) in &everyone {
        let p = by_pid(&after, pid);
        assert!(p.retired, "{pid} retired");
        assert_eq!(p.id, by_pid(&before, pid).id);
    }
    assert_eq!(
        after.external_ids, before.external_ids,
        "ids kept for a return"
    );
    assert_ne!(after.last_success, before.last_success);
}

#[tokio::test]
async fn a_leaver_is_retired_with_hr_data_kept_and_returns_with_the_same_id() {
    let t = spawn().await;
    t.connect_productive().await;
    t.sync_people("").await.assert_status(200);
    let (pid, email) = listed(&t)
        .into_iter()
        .find(|(pid, _)| {
            // Someone who manages no one, so only they change.
            let company = t.fakes.company();
            let me = company
                .people
                .iter()
                .position(|p| p.productive_id.as_deref() == Some(pid.as_str()))
                .unwrap();
            company.reports_of(me).next().is_none()
        })
        .unwrap();
    let id = by_pid(&snapshot(&t).await, &pid).id;
    // HR data Roster holds that Productive does not.
    let hr = Employment {
        start_date: chrono::NaiveDate::from_ymd_opt(2021, 3, 1),
        end_date: None,
        employment_status: Some(EmploymentStatus::Active),
        employment_basis: Some(EmploymentBasis::FullTime),
        location: Some("Sydney".to_owned()),
    };
    let mut tx = t.store.begin().await.unwrap();
    tx.org(t.world.acme.id)
        .save_employment(id, &hr, Some(Gender::Female), t.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let before = snapshot(&t).await;

    control(
        &t,
        reqwest::Method::POST,
        &format!("/people/{email}/leave"),
        None,
    )
    .await;
    let left = t.sync_people("").await;
    left.assert_status(200);
    assert_eq!(left.body["counts"]["retired"], 1, "{}", left.text);
    let after_leaving = snapshot(&t).await;
    assert_eq!(after_leaving.people.len(), before.people.len());
    let gone = by_pid(&after_leaving, &pid);
    assert!(gone.retired);
    assert_eq!(gone.id, id);
    assert_eq!(after_leaving.external_ids, before.external_ids);
    let others = |s: &Snapshot| -> Vec<Current> {
        s.people.iter().filter(|p| p.id != id).cloned().collect()
    };
    assert_eq!(
        others(&after_leaving),
        others(&before),
        "no one else changed"
    );

    control(
        &t,
        reqwest::Method::POST,
        &format!("/people/{email}/return"),
        None,
    )
    .await;
    let back = t.sync_people("").await;
    back.assert_status(200);
    assert_eq!(back.body["counts"]["reactivated"], 1, "{}", back.text);
    assert_eq!(back.body["counts"]["created"], 0, "never duplicated");
    let after_return = snapshot(&t).await;
    assert_eq!(
        after_return.people, before.people,
        "the same rows as before they left"
    );
    assert_eq!(after_return.external_ids, before.external_ids);
    let mut tx = t.store.begin().await.unwrap();
    let person = tx.org(t.world.acme.id).get_person(id).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        person.employment, hr,
        "HR data kept through leaving and returning"
    );
    assert_eq!(person.gender, Some(Gender::Female));
}

#[tokio::test]
async fn a_new_manager_and_a_cycle_are_applied_and_the_org_stays_consistent() {
    let t = spawn().await;
    t.connect_productive().await;
    t.sync_people("").await.assert_status(200);
    let people = listed(&t);
    let ((a_pid, a), (b_pid, b), (c_pid, c)) =
        (people[3].clone(), people[7].clone(), people[11].clone());
    let before = snapshot(&t).await;
    assert_org_consistent(&before);

    // a → b → c → a: a cycle, served as told.
    for (who, manager) in [(&a, &b), (&b, &c), (&c, &a)] {
        control(
            &t,
            reqwest::Method::PUT,
            &format!("/people/{who}/manager"),
            Some(json!({"manager_email": manager})),
        )
        .await;
    }
    let changed = t.sync_people("").await;
    changed.assert_status(200);
    let after = snapshot(&t).await;
    let (a_id, b_id, c_id) = (
        by_pid(&after, &a_pid).id,
        by_pid(&after, &b_pid).id,
        by_pid(&after, &c_pid).id,
    );
    assert_eq!(by_pid(&after, &a_pid).manager, Some(b_id));
    assert_eq!(by_pid(&after, &b_pid).manager, Some(c_id));
    assert_eq!(by_pid(&after, &c_pid).manager, Some(a_id));
    assert_eq!(
        after.people.len(),
        before.people.len(),
        "no one added or removed"
    );
    assert_org_consistent(&after);
    // Only the three changed.
    let untouched = |s: &Snapshot| -> Vec<Current> {
        s.people
            .iter()
            .filter(|p| ![a_id, b_id, c_id].contains(&p.id))
            .cloned()
            .collect()
    };
    assert_eq!(untouched(&after), untouched(&before));
    // The cycle is stable: a second sync changes nothing.
    let again = t.sync_people("").await;
    again.assert_status(200);
    assert_eq!(again.body["counts"]["updated"], 0, "{}", again.text);
    assert_eq!(snapshot(&t).await.people, after.people);

    // The cycle broken: a reports to the CEO.
    let ceo = t.fakes.company().ceo().email.clone().unwrap();
    control(
        &t,
        reqwest::Method::PUT,
        &format!("/people/{a}/manager"),
        Some(json!({"manager_email": ceo})),
    )
    .await;
    t.sync_people("").await.assert_status(200);
    let broken = snapshot(&t).await;
    let ceo_pid = t.fakes.company().ceo().productive_id.clone().unwrap();
    assert_eq!(
        by_pid(&broken, &a_pid).manager,
        Some(by_pid(&broken, &ceo_pid).id)
    );
    assert_eq!(by_pid(&broken, &c_pid).manager, Some(a_id));
    assert_org_consistent(&broken);
}
