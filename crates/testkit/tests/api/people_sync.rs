//! The Productive sync end to end: `POST /api/people/sync`, `POST
//! /api/admin/users/sync-productive` and `GET /api/admin/sync-runs`, against the Productive
//! fake: what a first and a repeated sync write, who may run one, and that every failure
//! (a page, a rate limit, a malformed record, a competing run) changes nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use roster_app::audit::Actor;
use roster_domain::Clock;
use roster_domain::model::Squad;
use roster_domain::people_sync::{Current, CurrentUser};
use roster_fakes::faults::Fault;
use roster_testkit::{Options, TestApp, spawn, spawn_with};
use serde_json::json;

/// Active people the fake's Productive lists.
fn productive_active(t: &TestApp) -> usize {
    t.company
        .people
        .iter()
        .filter(|p| p.productive_id.is_some() && p.is_active)
        .count()
}

/// Everything a sync may touch in acme, row by row, and the last successful run.
#[derive(Debug, PartialEq)]
struct Snapshot {
    people: Vec<Current>,
    users: Vec<CurrentUser>,
    squads: Vec<Squad>,
    last_success: Option<uuid::Uuid>,
}

async fn snapshot(t: &TestApp) -> Snapshot {
    let mut tx = t.store.begin().await.unwrap();
    let mut org = tx.org(t.world.acme.id);
    let people = org.sync_people().await.unwrap();
    let mut users = org.sync_users().await.unwrap();
    users.sort_by_key(|u| u.id);
    let mut squads = org.sync_squads().await.unwrap();
    squads.sort_by_key(|s| s.id);
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
        last_success,
    }
}

#[tokio::test]
async fn a_first_sync_builds_the_directory_and_a_second_changes_nothing() {
    let t = spawn().await;
    t.connect_productive().await;
    let first = t.sync_people("").await;
    first.assert_status(200);
    let expected = productive_active(&t);
    assert_eq!(first.body["ok"], true);
    assert_eq!(first.body["synced"], expected);
    assert_eq!(first.body["counts"]["created"], expected);
    assert_eq!(first.body["counts"]["retired"], 0);

    let snap = snapshot(&t).await;
    let synced: Vec<&Current> = snap
        .people
        .iter()
        .filter(|p| p.productive_id.is_some())
        .collect();
    assert_eq!(synced.len(), expected);
    // Managers follow Productive: each synced person's manager is the person Productive names.
    let by_pid: BTreeMap<&str, &Current> = synced
        .iter()
        .map(|p| (p.productive_id.as_deref().unwrap(), *p))
        .collect();
    for sample in t.company.people.iter().filter(|p| p.is_active) {
        let Some(pid) = sample.productive_id.as_deref() else {
            continue;
        };
        let want = sample
            .manager
            .and_then(|m| t.company.people[m].productive_id.as_deref())
            .filter(|m| by_pid.contains_key(m) && *m != pid)
            .map(|m| by_pid[m].id);
        assert_eq!(by_pid[pid].manager, want, "manager of {pid}");
    }
    assert!(!snap.squads.is_empty(), "teams become squads");

    let second = t.sync_people("").await;
    second.assert_status(200);
    for count in ["created", "updated", "retired", "reactivated", "linked"] {
        assert_eq!(second.body["counts"][count], 0, "{count}: {}", second.text);
    }
    let again = snapshot(&t).await;
    assert_eq!(again.people, snap.people);
    assert_eq!(again.squads, snap.squads);

    let runs = t
        .get("/api/admin/sync-runs")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    runs.assert_status(200);
    let list = runs.body["runs"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], second.body["run_id"], "newest first");
    assert_eq!(list[0]["kind"], "productive");
    assert_eq!(list[0]["outcome"], "succeeded");
    assert_eq!(list[1]["counts"]["created"], expected);
    assert!(list[1]["coverage"]["email"].as_f64().unwrap() > 50.0);
}

#[tokio::test]
async fn the_admin_route_runs_the_same_sync_and_only_executives_and_managers_of_people_may_sync() {
    let t = spawn().await;
    t.connect_productive().await;
    t.post("/api/people/sync")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    for level in ["head", "manager", "lead", "employee"] {
        let p = t.world.at(level);
        t.post("/api/people/sync")
            .as_user(p)
            .send()
            .await
            .assert_problem(403, "forbidden");
        t.post("/api/admin/users/sync-productive")
            .as_user(p)
            .send()
            .await
            .assert_problem(403, "forbidden");
        t.get("/api/admin/sync-runs")
            .as_user(p)
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    let admin = t
        .post("/api/admin/users/sync-productive")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    admin.assert_status(200);
    assert_eq!(admin.body["synced"], productive_active(&t));
    t.sync_people("?allow_mass_removal=perhaps")
        .await
        .assert_problem(422, "validation_failed");
    t.get("/api/admin/sync-runs?cursor=nope")
        .as_user(t.world.at("executive"))
        .send()
        .await
        .assert_problem(422, "validation_failed");
    // globex has no Productive connection, and sees none of acme's runs.
    t.post("/api/people/sync")
        .as_user(&t.world.globex_exec)
        .send()
        .await
        .assert_problem(409, "not_connected");
    let theirs = t
        .get("/api/admin/sync-runs")
        .as_user(&t.world.globex_exec)
        .send()
        .await;
    assert_eq!(theirs.body["runs"], json!([]));
}

/// A sync that fails anywhere leaves everything as it was and says why.
async fn assert_failure_changes_nothing(
    t: &TestApp,
    fault: Fault,
    status: u16,
    code: &str,
    words: &str,
) {
    let before = snapshot(t).await;
    t.fakes.productive.inject(fault);
    let answer = t.sync_people("").await;
    t.fakes.productive.clear_faults();
    answer.assert_problem(status, code);
    let detail = answer.body["detail"].as_str().unwrap();
    assert!(detail.contains(words), "{detail}");
    assert!(!detail.contains("good-token"), "no secret in {detail}");
    assert_eq!(snapshot(t).await, before, "a failed sync changed nothing");
    let runs = t
        .get("/api/admin/sync-runs")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    assert_eq!(runs.body["runs"][0]["outcome"], "failed");
    assert!(
        runs.body["runs"][0]["detail"]
            .as_str()
            .unwrap()
            .contains(words)
    );
}

#[tokio::test]
async fn a_failing_last_page_a_rate_limit_or_a_malformed_record_changes_nothing() {
    // 450 people: the people listing spans three pages of 200.
    let t = spawn_with(Options {
        company_size: Some(450),
        ..Options::default()
    })
    .await;
    t.connect_productive().await;
    let pages = productive_active(&t).div_ceil(200);
    assert!(pages >= 2, "the listing must span pages");
    // Once on an empty directory, once on a synced one (where a failure could retire people).
    for round in 0..2 {
        assert_failure_changes_nothing(
            &t,
            Fault::FailPage {
                operation: "productive.people".into(),
                page: u32::try_from(pages).unwrap(),
                status: 500,
            },
            502,
            "provider_error",
            "productive",
        )
        .await;
        assert_failure_changes_nothing(
            &t,
            Fault::RateLimitBurst {
                operation: "productive.people".into(),
                times: 100,
                retry_after_secs: 100_000,
            },
            429,
            "rate_limited",
            "productive",
        )
        .await;
        assert_failure_changes_nothing(
            &t,
            Fault::MalformedBody {
                operation: "productive.team_memberships".into(),
                times: 1,
            },
            502,
            "provider_error",
            "productive",
        )
        .await;
        if round == 0 {
            t.sync_people("").await.assert_status(200);
        }
    }
}

#[tokio::test]
async fn one_sync_at_a_time_across_instances_and_a_crashed_claim_lapses() {
    let t = spawn().await;
    t.connect_productive().await;
    let other = t.another_instance().await;
    // Hold the first run's fetch long enough for the others to try.
    t.fakes.productive.inject(Fault::Slow {
        operation: "productive.people".into(),
        delay: Duration::from_millis(400),
        times: 8,
    });
    let org = t.world.acme.id;
    let runs = (0..8).map(|i| {
        let app = if i % 2 == 0 {
            t.app.clone()
        } else {
            other.clone()
        };
        async move { app.sync_productive(org, Actor::SYSTEM, false).await }
    });
    let results = futures::future::join_all(runs).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let busy = results
        .iter()
        .filter(|r| matches!(r, Err(roster_app::Error::SyncInProgress(_))))
        .count();
    assert_eq!((ok, busy), (1, 7), "{results:?}");
    t.fakes.productive.clear_faults();
    let snap = snapshot(&t).await;
    assert_eq!(
        snap.people
            .iter()
            .filter(|p| p.productive_id.is_some())
            .count(),
        productive_active(&t),
        "no duplicate rows"
    );

    // An instance that died holding the claim: refused until the lease lapses.
    let now = t.clock.now();
    let mut tx = t.store.begin().await.unwrap();
    assert!(
        tx.org(org)
            .acquire_lease(
                "sync:productive",
                "crashed-instance",
                now,
                chrono::Duration::minutes(15)
            )
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    t.sync_people("")
        .await
        .assert_problem(409, "sync_in_progress");
    t.clock.advance(chrono::Duration::minutes(16));
    let after = t.sync_people("").await;
    after.assert_status(200);
    assert_eq!(after.body["counts"]["created"], 0);
}

#[tokio::test]
async fn sync_metrics_count_runs_by_kind_and_outcome() {
    let t = spawn().await;
    t.connect_productive().await;
    t.sync_people("").await.assert_status(200);
    let text = t.get("/metrics").send().await.text;
    assert!(
        text.lines().any(|l| l.starts_with("roster_sync_runs_total")
            && l.contains("kind=\"productive\"")
            && l.contains("outcome=\"succeeded\"")),
        "{text}"
    );
    assert!(text.contains("roster_sync_run_duration_seconds"));
}

async fn connect_google(t: &TestApp) {
    t.put("/api/admin/connections/google-workspace")
        .as_user(t.world.at("executive"))
        .json(&json!({
            "service_account_key": t.fakes.google.service_account_key_json(),
            "calendar_id": t.fakes.google.leave_calendar_id(),
            "admin_email": t.company.google_admin().email,
        }))
        .send()
        .await
        .assert_status(200);
}

async fn sync_google(t: &TestApp) -> roster_testkit::Answer {
    t.post("/api/admin/users/sync-google")
        .as_user(t.world.at("executive"))
        .send()
        .await
}

#[tokio::test]
async fn the_google_sync_creates_users_links_people_by_email_and_repeats_as_a_no_op() {
    let t = spawn().await;
    t.connect_productive().await;
    connect_google(&t).await;
    t.sync_people("").await.assert_status(200);
    let first = sync_google(&t).await;
    first.assert_status(200);
    let total = first.body["total"].as_u64().unwrap();
    assert!(total > 0);
    assert_eq!(
        first.body["created"], total,
        "nobody in the directory was a user yet"
    );
    // Every active person whose email Google lists as an active user is now that user.
    let google_emails: std::collections::BTreeSet<String> = t
        .company
        .people
        .iter()
        .filter(|p| p.google_id.is_some() && !p.is_leaver)
        .filter_map(|p| p.email.clone())
        .collect();
    let snap = snapshot(&t).await;
    let should_link: Vec<&Current> = snap
        .people
        .iter()
        .filter(|p| {
            !p.retired
                && p.email
                    .as_ref()
                    .is_some_and(|e| google_emails.contains(e.as_str()))
        })
        .collect();
    assert!(!should_link.is_empty());
    assert!(should_link.iter().all(|p| p.user.is_some()));
    assert_eq!(first.body["linked"], should_link.len());
    // New users are employees of acme, visible in the Admin API.
    let users = t
        .get("/api/admin/users")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    let listed = users.body["users"].as_array().unwrap();
    assert_eq!(listed.len() as u64, 5 + total);
    assert!(
        listed
            .iter()
            .filter(|u| u["email"] != "executive@acme.test")
            .any(|u| u["access_level"] == "employee")
    );

    let second = sync_google(&t).await;
    second.assert_status(200);
    assert_eq!(
        (
            &second.body["created"],
            &second.body["updated"],
            &second.body["linked"]
        ),
        (&json!(0), &json!(0), &json!(0)),
        "{}",
        second.text
    );

    // A failing directory page changes nothing.
    let before = snapshot(&t).await;
    t.fakes.google.inject(Fault::Status {
        operation: "google.users".into(),
        status: 403,
        times: 1,
    });
    sync_google(&t).await.assert_problem(502, "provider_error");
    t.fakes.google.clear_faults();
    assert_eq!(snapshot(&t).await.people, before.people);

    for level in ["head", "employee"] {
        t.post("/api/admin/users/sync-google")
            .as_user(t.world.at(level))
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    t.post("/api/admin/users/sync-google")
        .as_user(&t.world.globex_exec)
        .send()
        .await
        .assert_problem(409, "not_connected");
}

#[tokio::test]
async fn drift_reports_who_is_active_in_one_source_and_missing_or_inactive_in_another() {
    let t = spawn().await;
    t.connect_productive().await;
    connect_google(&t).await;
    let answer = t
        .get("/api/admin/drift")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    answer.assert_status(200);
    assert_eq!(
        answer.body["sources"],
        json!(["productive", "google-workspace"])
    );
    let kind = |name: &str| -> std::collections::BTreeSet<String> {
        let k = answer.body["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kind"] == name)
            .unwrap_or_else(|| panic!("{name} in {}", answer.text));
        assert_eq!(
            k["count"].as_u64().unwrap() as usize,
            k["people"].as_array().unwrap().len()
        );
        k["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let emails = |pred: &dyn Fn(&roster_company::SamplePerson) -> bool| -> std::collections::BTreeSet<String> {
        t.company.people.iter().filter(|p| pred(p)).filter_map(|p| p.email.clone()).collect()
    };
    let in_productive = emails(&|p| p.productive_id.is_some() && p.is_active);
    let in_google = emails(&|p| p.google_id.is_some() && !p.is_leaver);
    let known = emails(&|_| true);
    let google_only: std::collections::BTreeSet<String> =
        kind("active_in_google_workspace_missing_in_productive")
            .into_iter()
            .filter(|e| known.contains(e))
            .collect();
    assert_eq!(google_only, &in_google - &in_productive);
    let productive_only = kind("active_in_productive_missing_in_google_workspace");
    let productive_only_suspended = kind("active_in_productive_inactive_in_google_workspace");
    let both: std::collections::BTreeSet<String> = productive_only
        .union(&productive_only_suspended)
        .cloned()
        .collect();
    assert_eq!(both, &in_productive - &in_google);

    t.get("/api/admin/drift")
        .as_user(t.world.at("head"))
        .send()
        .await
        .assert_problem(403, "forbidden");
    let none = t
        .get("/api/admin/drift")
        .as_user(&t.world.globex_exec)
        .send()
        .await;
    assert_eq!(none.body["sources"], json!([]));
    t.fakes.productive.inject(Fault::Status {
        operation: "productive.people".into(),
        status: 500,
        times: 20,
    });
    t.get("/api/admin/drift")
        .as_user(t.world.at("executive"))
        .send()
        .await
        .assert_problem(502, "provider_error");
}

#[tokio::test]
async fn a_squad_key_can_pass_from_a_renamed_squad_to_a_new_one_in_one_sync() {
    use roster_domain::SquadId;
    use roster_domain::people_sync::Plan;

    let t = spawn().await;
    t.connect_productive().await;
    t.sync_people("").await.assert_status(200);
    let org = t.world.acme.id;
    let before = snapshot(&t).await.squads;
    let (a, b) = (&before[0], &before[1]);
    // `a` takes `b`'s key, `b` takes a fresh one and a new squad takes `a`'s: every key
    // changes hands in one plan, as a rename plus a new team can make happen.
    let new = Squad {
        id: SquadId::new(),
        key: a.key.clone(),
        name: "Newcomers".to_owned(),
        productive_team_id: None,
    };
    let plan = Plan {
        rekeyed_squads: vec![(a.id, b.key.clone()), (b.id, "fresh-key".to_owned())],
        new_squads: vec![new.clone()],
        ..Plan::default()
    };
    let mut tx = t.store.begin().await.unwrap();
    tx.org(org)
        .apply_sync_plan(&plan, t.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let keys: BTreeMap<SquadId, String> = snapshot(&t)
        .await
        .squads
        .into_iter()
        .map(|s| (s.id, s.key))
        .collect();
    assert_eq!(keys[&a.id], b.key);
    assert_eq!(keys[&b.id], "fresh-key");
    assert_eq!(keys[&new.id], a.key);
}
