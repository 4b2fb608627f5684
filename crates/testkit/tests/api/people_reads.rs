//! The directory's reads end to end: `GET /api/people`, `GET /api/people/org-chart`,
//! `GET /api/people/{id}/profile` and `GET /api/admin/squads`, for every persona, with the
//! wrong organization, bad ids, no credentials and a matrix that takes `view:people` away.
//!
//! The world's reporting line at acme: executive ← head ← manager ← lead ← employee.

use std::collections::BTreeSet;
use std::time::Duration;

use roster_domain::model::Financial;
use roster_domain::{Clock, PersonId};
use roster_testkit::{TestApp, spawn};
use serde_json::{Value, json};
use uuid::Uuid;

const LEVELS: [&str; 5] = ["executive", "head", "manager", "lead", "employee"];

fn person(t: &TestApp, level: &str) -> PersonId {
    t.world.at(level).person.unwrap()
}

/// Runs one statement on the test's database with a text and two ids bound (`$1`, `$2`,
/// `$3`): the few rows no endpoint writes yet (contact details, a retirement).
async fn sql(t: &TestApp, statement: &str, text: &str, a: Uuid, b: Uuid) {
    if t.database_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&t.database_url).await.unwrap();
        sqlx::query(statement)
            .bind(text)
            .bind(a)
            .bind(b)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(&t.database_url).await.unwrap();
        sqlx::query(statement)
            .bind(text)
            .bind(a)
            .bind(b)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}

async fn set_phone(t: &TestApp, who: PersonId, phone: &str) {
    sql(
        t,
        "UPDATE people SET phone = $1 WHERE org_id = $2 AND person_id = $3",
        phone,
        t.world.acme.id.as_uuid(),
        who.as_uuid(),
    )
    .await;
}

#[tokio::test]
async fn every_persona_lists_the_active_people_and_a_never_synced_directory_is_stale() {
    let t = spawn().await;
    for level in LEVELS {
        let a = t.get("/api/people").as_user(t.world.at(level)).send().await;
        a.assert_status(200);
        let people = a.body["people"].as_array().unwrap();
        assert_eq!(people.len(), 5, "{level}: {}", a.text);
        assert_eq!(a.body["stale"], true, "never synced");
        assert_eq!(a.body["synced_at"], Value::Null);
        let lead = people
            .iter()
            .find(|p| p["id"] == person(&t, "lead").to_string())
            .unwrap();
        assert_eq!(lead["manager_id"], person(&t, "manager").to_string());
        assert_eq!(lead["first_name"], "Leo");
        assert_eq!(lead["user_id"], t.world.at("lead").user.id.to_string());
        for field in [
            "productive_id",
            "email",
            "title",
            "avatar_url",
            "squad",
            "synced_at",
        ] {
            assert!(lead.get(field).is_some(), "{field} present");
        }
    }
    // globex sees its own (empty) directory, never acme's.
    let g = t
        .get("/api/people")
        .as_user(&t.world.globex_exec)
        .send()
        .await;
    g.assert_status(200);
    assert_eq!(g.body["people"], json!([]));
    t.get("/api/people")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn a_stale_read_answers_at_once_and_a_background_sync_follows() {
    let t = spawn().await;
    t.connect_productive().await;
    let first = t
        .get("/api/people")
        .as_user(t.world.at("employee"))
        .send()
        .await;
    first.assert_status(200);
    assert_eq!(first.body["stale"], true);
    // The answer did not wait for the sync: it holds the directory as it was (the world's
    // five people), not Productive's.
    assert_eq!(first.body["people"].as_array().unwrap().len(), 5);

    let exec = t.world.at("executive");
    let mut run = Value::Null;
    for _ in 0..1000 {
        let runs = t.get("/api/admin/sync-runs").as_user(exec).send().await;
        if let Some(r) = runs.body["runs"].as_array().and_then(|r| r.first())
            && r["outcome"] != "running"
        {
            run = r.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(run["kind"], "productive", "a background run appeared");
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert_eq!(run["actor_user_id"], Value::Null, "started by the server");

    let after = t.get("/api/people").as_user(exec).send().await;
    assert_eq!(after.body["stale"], false);
    assert!(after.body["synced_at"].is_string());
    assert!(after.body["people"].as_array().unwrap().len() > 5);
    assert!(
        after.body["people"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["productive_id"].is_string() && p["squad"].is_string())
    );

    // Past the TTL (6 h by default) the same directory is stale again.
    t.clock
        .advance(chrono::Duration::hours(6) + chrono::Duration::seconds(1));
    let later = t.get("/api/people").as_user(exec).send().await;
    assert_eq!(later.body["stale"], true);
    assert_eq!(later.body["synced_at"], after.body["synced_at"]);
}

/// The chart's nodes in drawing order: (first name, depth, report_count, subtree_count).
fn walk(nodes: &Value, depth: usize, out: &mut Vec<(String, usize, u64, u64)>) {
    for n in nodes.as_array().unwrap() {
        out.push((
            n["first_name"].as_str().unwrap().to_owned(),
            depth,
            n["report_count"].as_u64().unwrap(),
            n["subtree_count"].as_u64().unwrap(),
        ));
        walk(&n["children"], depth + 1, out);
    }
}

#[tokio::test]
async fn the_org_chart_is_the_reporting_line_and_a_cycle_is_cut_with_everyone_once() {
    let t = spawn().await;
    for level in LEVELS {
        let a = t
            .get("/api/people/org-chart")
            .as_user(t.world.at(level))
            .send()
            .await;
        a.assert_status(200);
        assert_eq!(a.header("content-type"), Some("application/json"));
        let mut nodes = Vec::new();
        walk(&a.body["roots"], 0, &mut nodes);
        let s = |n: &str| n.to_owned();
        assert_eq!(
            nodes,
            [
                (s("Ava"), 0, 1, 4),
                (s("Hugo"), 1, 1, 3),
                (s("Mia"), 2, 1, 2),
                (s("Leo"), 3, 1, 1),
                (s("Eve"), 4, 0, 0),
            ],
            "{level}"
        );
        assert_eq!(a.body["stale"], true);
        assert!(a.body.get("synced_at").is_some());
        assert_eq!(
            a.body["roots"][0]["id"],
            person(&t, "executive").to_string()
        );
    }

    // The lead now reports to the employee, who reports to the lead: a cycle. It is cut at
    // the member whose name sorts first (Eve), who becomes a root; nobody is lost.
    let mut tx = t.store.begin().await.unwrap();
    tx.org(t.world.acme.id)
        .set_manager(
            person(&t, "lead"),
            Some(person(&t, "employee")),
            t.clock.now(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let a = t
        .get("/api/people/org-chart")
        .as_user(t.world.at("employee"))
        .send()
        .await;
    a.assert_status(200);
    let mut nodes = Vec::new();
    walk(&a.body["roots"], 0, &mut nodes);
    let s = |n: &str| n.to_owned();
    assert_eq!(
        nodes,
        [
            (s("Ava"), 0, 1, 2),
            (s("Hugo"), 1, 1, 1),
            (s("Mia"), 2, 0, 0),
            (s("Eve"), 0, 1, 1),
            (s("Leo"), 1, 0, 0),
        ]
    );

    let g = t
        .get("/api/people/org-chart")
        .as_user(&t.world.globex_employee)
        .send()
        .await;
    assert_eq!(g.body["roots"], json!([]));
    t.get("/api/people/org-chart")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

/// The sections of a profile answer, as letters: E C D F X.
fn sections(body: &Value) -> String {
    let p = &body["profile"];
    [
        ("employment", "E"),
        ("contact", "C"),
        ("demographics", "D"),
        ("financial", "F"),
        ("xero_mapping", "X"),
    ]
    .iter()
    .filter(|(k, _)| {
        let present = p.get(*k).is_some();
        assert!(
            !p.get(*k).is_some_and(Value::is_null),
            "{k} absent, not null"
        );
        present
    })
    .map(|(_, l)| *l)
    .collect()
}

#[tokio::test]
async fn each_persona_sees_the_sections_the_rules_give_them_with_the_reason() {
    let t = spawn().await;
    // viewer → [executive, head, manager, lead, employee] as subjects.
    let table = [
        ("executive", ["ECDFX"; 5]),
        ("head", ["E", "ECD", "ECD", "ECD", "ECD"]),
        ("manager", ["E", "E", "ECD", "ECD", "E"]),
        ("lead", ["E", "E", "E", "ECD", "E"]),
        ("employee", ["E", "E", "E", "E", "ECD"]),
    ];
    for (viewer, row) in table {
        for (subject, want) in LEVELS.iter().zip(row) {
            let a = t
                .get(&format!("/api/people/{}/profile", person(&t, subject)))
                .as_user(t.world.at(viewer))
                .send()
                .await;
            a.assert_status(200);
            assert_eq!(sections(&a.body), want, "{viewer} viewing {subject}");
            for (_, section) in a.body["profile"].as_object().unwrap() {
                assert!(
                    section["visible_because"]
                        .as_str()
                        .is_some_and(|w| !w.is_empty())
                );
            }
        }
    }
    let a = t
        .get(&format!("/api/people/{}/profile", person(&t, "lead")))
        .as_user(t.world.at("manager"))
        .send()
        .await;
    assert_eq!(
        a.body["profile"]["contact"]["visible_because"],
        "you are their manager"
    );
}

#[tokio::test]
async fn reading_contact_or_financial_details_is_audited_without_the_values() {
    let t = spawn().await;
    let subject = person(&t, "employee");
    set_phone(&t, subject, "+61 400 111 222").await;
    let financial = Financial {
        bank_account_number: Some("99887766".to_owned()),
        ..Financial::default()
    };
    let sealed = t
        .keys
        .encrypt(
            &serde_json::to_vec(&financial).unwrap(),
            &roster_app::secrets::person_financial(t.world.acme.id, subject),
        )
        .into_bytes();
    let db = roster_testkit::sealed::SealedTables::connect(&t.database_url)
        .await
        .unwrap();
    db.put_person_financial(t.world.acme.id, subject, &sealed)
        .await
        .unwrap();

    let path = format!("/api/people/{subject}/profile");
    let head = t.get(&path).as_user(t.world.at("head")).send().await;
    assert_eq!(head.body["profile"]["contact"]["phone"], "+61 400 111 222");
    let exec = t.get(&path).as_user(t.world.at("executive")).send().await;
    assert_eq!(
        exec.body["profile"]["financial"]["bank_account_number"],
        "99887766"
    );
    assert_eq!(exec.body["profile"]["xero_mapping"]["linked"], false);
    // Employment only: nothing to audit.
    t.get(&path)
        .as_user(t.world.at("manager"))
        .send()
        .await
        .assert_status(200);

    let audit = t
        .get("/api/admin/audit?action=people.profile.read")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    audit.assert_status(200);
    let events = audit.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{}", audit.text);
    let by = |level: &str| {
        events
            .iter()
            .find(|e| e["actor_user_id"] == t.world.at(level).user.id.to_string())
            .unwrap()
    };
    assert_eq!(by("head")["subject_id"], subject.to_string());
    assert_eq!(by("head")["subject_type"], "person");
    assert_eq!(
        by("head")["detail"]["sections"],
        json!(["contact", "demographics"])
    );
    assert_eq!(
        by("executive")["detail"]["sections"],
        json!(["contact", "demographics", "financial"])
    );
    assert!(!audit.text.contains("111 222"), "no value read in the log");
    assert!(!audit.text.contains("99887766"), "no value read in the log");
}

#[tokio::test]
async fn concurrent_audited_reads_each_answer_after_their_own_event_is_committed() {
    let t = spawn().await;
    let subject = person(&t, "employee");
    let path = format!("/api/people/{subject}/profile");
    // 24 readers at once: their events are written in groups, none may be lost or doubled,
    // and each answer comes after its own event is in the log.
    let reads = (0..24).map(|i| {
        let level = ["executive", "head"][i % 2];
        let path = path.clone();
        let t = &t;
        async move {
            let answer = t.get(&path).as_user(t.world.at(level)).send().await;
            answer.assert_status(200);
            let id = answer.headers["x-request-id"].to_str().unwrap().to_owned();
            let logged = t
                .get("/api/admin/audit?action=people.profile.read&limit=500")
                .as_user(t.world.at("executive"))
                .send()
                .await;
            assert!(
                logged.text.contains(&id),
                "the answer to {id} came before its event was committed"
            );
            id
        }
    });
    let ids = futures::future::join_all(reads).await;
    let audit = t
        .get("/api/admin/audit?action=people.profile.read&limit=500")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    let logged: Vec<&str> = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(logged.len(), ids.len(), "one event a read: {}", audit.text);
    for id in &ids {
        assert!(logged.contains(&id.as_str()), "{id} missing");
    }
}

#[tokio::test]
async fn a_profile_of_a_retired_another_organizations_or_no_person_is_not_found() {
    let t = spawn().await;
    let subject = person(&t, "employee");
    sql(
        &t,
        "UPDATE people SET removed_at = created_at, title = $1 WHERE org_id = $2 AND person_id = $3",
        "gone",
        t.world.acme.id.as_uuid(),
        subject.as_uuid(),
    )
    .await;
    for level in LEVELS {
        let p = t.world.at(level);
        for path in [
            format!("/api/people/{subject}/profile"),
            format!("/api/people/{}/profile", PersonId::new()),
            "/api/people/not-an-id/profile".to_owned(),
            "/api/people/0190F3A27C4E7D2A9B1E3F5A6C7D8E9F/profile".to_owned(),
        ] {
            t.get(&path)
                .as_user(p)
                .send()
                .await
                .assert_problem(404, "not_found");
        }
    }
    // The retired person is gone from the list and the chart too.
    let list = t
        .get("/api/people")
        .as_user(t.world.at("head"))
        .send()
        .await;
    assert_eq!(list.body["people"].as_array().unwrap().len(), 4);
    // acme's people do not exist for globex, whatever their level.
    let acme_person = person(&t, "lead");
    for g in [&t.world.globex_exec, &t.world.globex_employee] {
        t.get(&format!("/api/people/{acme_person}/profile"))
            .as_user(g)
            .send()
            .await
            .assert_problem(404, "not_found");
    }
    t.get(&format!("/api/people/{acme_person}/profile"))
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn a_level_whose_view_people_is_taken_away_gets_403_on_every_read() {
    let t = spawn().await;
    t.put("/api/admin/permissions")
        .as_user(t.world.at("executive"))
        .json(
            &json!({"permissions": [{"tool": "people", "access_level": "employee",
            "can_view": false, "can_update": false, "can_manage": false}]}),
        )
        .send()
        .await
        .assert_status(200);
    let own = person(&t, "employee");
    for path in [
        "/api/people".to_owned(),
        "/api/people/org-chart".to_owned(),
        format!("/api/people/{own}/profile"),
        "/api/people/not-an-id/profile".to_owned(),
    ] {
        t.get(&path)
            .as_user(t.world.at("employee"))
            .send()
            .await
            .assert_problem(403, "forbidden");
        t.get(&path)
            .as_user(t.world.at("lead"))
            .send()
            .await
            .assert_status(if path.contains("not-an-id") { 404 } else { 200 });
    }
}

#[tokio::test]
async fn executives_list_squads_with_their_members_and_keys_from_the_synced_data() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let empty = t.get("/api/admin/squads").as_user(exec).send().await;
    empty.assert_status(200);
    assert_eq!(empty.body["squads"], json!([]));

    t.connect_productive().await;
    t.post("/api/people/sync")
        .as_user(exec)
        .send()
        .await
        .assert_status(200);
    let a = t.get("/api/admin/squads").as_user(exec).send().await;
    a.assert_status(200);
    let squads = a.body["squads"].as_array().unwrap();
    assert!(squads.len() >= 2, "{}", a.text);
    let names: Vec<String> = squads
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted by name");
    let mut members = BTreeSet::new();
    let mut keys = BTreeSet::new();
    for s in squads {
        let key = s["key"].as_str().unwrap();
        assert_eq!(
            key,
            roster_domain::model::squad_key(s["name"].as_str().unwrap())
        );
        assert!(keys.insert(key.to_owned()), "keys are unique");
        for m in s["members"].as_array().unwrap() {
            assert_eq!(m["squad_name"], s["name"]);
            assert!(m["name"].is_string() && m["person_id"].is_string());
            assert!(members.insert(m["person_id"].as_str().unwrap().to_owned()));
        }
    }
    // Every listed person with a squad is a member of exactly that squad.
    let people = t.get("/api/people").as_user(exec).send().await;
    let with_squad = people.body["people"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["squad"].is_string())
        .count();
    assert_eq!(members.len(), with_squad);

    for level in ["head", "manager", "lead", "employee"] {
        t.get("/api/admin/squads")
            .as_user(t.world.at(level))
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    let g = t
        .get("/api/admin/squads")
        .as_user(&t.world.globex_exec)
        .send()
        .await;
    assert_eq!(
        g.body["squads"],
        json!([]),
        "acme's squads are not globex's"
    );
    t.get("/api/admin/squads")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}
