//! Matching and linking end to end: `GET /api/admin/users/{id}/productive-matches`,
//! `POST /api/admin/users/{id}/productive-link`, `GET /api/people/{id}/xero-matches`,
//! `POST /api/people/{id}/xero-link`, `POST /api/admin/users/sync-xero` and
//! `POST /api/admin/users/{id}/sync`, against the Xero and Productive fakes.

use roster_domain::model::{Employment, Person};
use roster_domain::{AccessLevel, Clock, Email, PersonId, Slug, UserId};
use roster_fakes::faults::Fault;
use roster_testkit::{Answer, Persona, TestApp, spawn};
use serde_json::{Value, json};

pub(crate) const LEVELS_BELOW_EXECUTIVE: [&str; 4] = ["head", "manager", "lead", "employee"];

/// Runs Xero's flow as an executive would: authorize URL, the fake's consent, the callback.
pub(crate) async fn connect_xero(t: &TestApp) {
    let auth = t
        .get("/api/admin/connections/xero/auth-url")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    auth.assert_status(200);
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(auth.body["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let get = |k: &str| {
        location
            .query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    t.post("/api/admin/connections/xero/callback")
        .as_user(t.world.at("executive"))
        .json(&json!({"code": get("code"), "state": get("state")}))
        .send()
        .await
        .assert_status(200);
}

/// Adds an unlinked person to acme.
pub(crate) async fn add_person(
    t: &TestApp,
    first: &str,
    last: &str,
    email: Option<&str>,
) -> PersonId {
    let person = Person {
        id: PersonId::new(),
        org: t.world.acme.id,
        user: None,
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        email: email.map(|e| Email::parse(e).unwrap()),
        title: None,
        avatar_url: None,
        manager: None,
        squad: None,
        employment: Employment::default(),
        gender: None,
        synced_at: None,
    };
    let mut tx = t.store.begin().await.unwrap();
    tx.org(t.world.acme.id)
        .create_person(&person, t.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    person.id
}

/// Adds a user (an employee, no person) to acme.
async fn add_user(t: &TestApp, email: &str, name: &str) -> UserId {
    let (user, _) = t
        .app
        .create_user(
            &Email::parse(email).unwrap(),
            name,
            AccessLevel::Employee,
            Some(&Slug::parse("org", "acme").unwrap()),
            None,
        )
        .await
        .unwrap();
    user.id
}

async fn user_row(t: &TestApp, user: UserId) -> Value {
    let list = t
        .get("/api/admin/users")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    list.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user.to_string())
        .unwrap()
        .clone()
}

fn match_of<'a>(answer: &'a Answer, key: &str, id: &str) -> Option<&'a Value> {
    answer.body["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m[key] == id)
}

/// 401 without a token, 403 for every level below `allowed`, 404 for globex's executive
/// asking about acme's ids.
async fn assert_access(t: &TestApp, method: &str, path: &str, body: &Value, denied: &[&str]) {
    let call = |p: Option<&Persona>| {
        let mut c = t.call(method.parse().unwrap(), path);
        if let Some(p) = p {
            c = c.as_user(p);
        }
        c.json(body).send()
    };
    call(None).await.assert_problem(401, "unauthenticated");
    for level in denied {
        call(Some(t.world.at(level)))
            .await
            .assert_problem(403, "forbidden");
    }
    call(Some(&t.world.globex_employee))
        .await
        .assert_problem(403, "forbidden");
    call(Some(&t.world.globex_exec))
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn productive_matches_score_unlinked_people_and_link_the_one_sure_candidate() {
    let t = spawn().await;
    let grace = add_user(&t, "grace@acme.test", "Grace Hopper").await;
    let exact = add_person(&t, "Gráce", "HOPPER", None).await;
    let partial = add_person(&t, "Grace", "Kelly", None).await;
    add_person(&t, "Alan", "Turing", None).await;
    let path = format!("/api/admin/users/{grace}/productive-matches");

    let first = t.get(&path).as_user(t.world.at("executive")).send().await;
    first.assert_status(200);
    let scores: Vec<(String, u64, String)> = first.body["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["person_id"].as_str().unwrap().to_owned(),
                m["score"].as_u64().unwrap(),
                m["confidence"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        scores,
        [
            (exact.to_string(), 80, "exact_name".to_owned()),
            (partial.to_string(), 40, "partial_name".to_owned()),
        ],
        "{}",
        first.text
    );
    assert_eq!(first.body["auto_linked"], true);
    assert_eq!(first.body["person_id"], exact.to_string());
    assert_eq!(user_row(&t, grace).await["person_id"], exact.to_string());

    // Linked now: a repeat links nothing, and the linked person is no candidate any more.
    let again = t.get(&path).as_user(t.world.at("executive")).send().await;
    assert_eq!(again.body["auto_linked"], false);
    assert_eq!(again.body["person_id"], exact.to_string());
    assert!(match_of(&again, "person_id", &exact.to_string()).is_none());

    // Two people with the same name: a human decides.
    let sam = add_user(&t, "sam@acme.test", "Lee, Sam").await;
    add_person(&t, "Sam", "Lee", None).await;
    add_person(&t, "SAM", "LEE", Some("sam.lee@elsewhere.test")).await;
    let two = t
        .get(&format!("/api/admin/users/{sam}/productive-matches"))
        .as_user(t.world.at("executive"))
        .send()
        .await;
    assert_eq!(
        two.body["matches"].as_array().unwrap().len(),
        2,
        "{}",
        two.text
    );
    assert_eq!(two.body["auto_linked"], false);
    assert_eq!(two.body["person_id"], Value::Null);

    assert_access(&t, "GET", &path, &json!({}), &LEVELS_BELOW_EXECUTIVE).await;
    for bad in ["not-a-uuid", &PersonId::new().to_string()] {
        t.get(&format!("/api/admin/users/{bad}/productive-matches"))
            .as_user(t.world.at("executive"))
            .send()
            .await
            .assert_problem(404, "not_found");
    }
    // globex's user seen from acme does not exist.
    t.get(&format!(
        "/api/admin/users/{}/productive-matches",
        t.world.globex_exec.user.id
    ))
    .as_user(t.world.at("executive"))
    .send()
    .await
    .assert_problem(404, "not_found");
}

#[tokio::test]
async fn productive_link_links_a_person_and_refuses_one_linked_to_another_user() {
    let t = spawn().await;
    let grace = add_user(&t, "grace@acme.test", "Grace Hopper").await;
    let person = add_person(&t, "Grace", "Hopper", None).await;
    let path = format!("/api/admin/users/{grace}/productive-link");
    let exec = t.world.at("executive");

    t.post(&path)
        .as_user(exec)
        .json(&json!({"person_id": person.to_string()}))
        .send()
        .await
        .assert_status(200);
    assert_eq!(user_row(&t, grace).await["person_id"], person.to_string());
    // The same link again is fine; the head's person belongs to the head.
    t.post(&path)
        .as_user(exec)
        .json(&json!({"person_id": person.to_string()}))
        .send()
        .await
        .assert_status(200);
    let head_person = t.world.at("head").person.unwrap();
    t.post(&path)
        .as_user(exec)
        .json(&json!({"person_id": head_person.to_string()}))
        .send()
        .await
        .assert_problem(409, "conflict");
    assert_eq!(user_row(&t, grace).await["person_id"], person.to_string());

    for (body, field) in [
        (json!({"person_id": "nope"}), "person_id"),
        (
            json!({"person_id": person.to_string(), "extra": 1}),
            "extra",
        ),
        (json!({}), "person_id"),
    ] {
        let a = t.post(&path).as_user(exec).json(&body).send().await;
        a.assert_problem(422, "validation_failed");
        assert!(
            a.error_fields().iter().any(|f| f.contains(field)),
            "{}",
            a.text
        );
    }
    t.post(&path)
        .as_user(exec)
        .raw("{not json")
        .send()
        .await
        .assert_problem(400, "malformed_request");
    t.post(&path)
        .as_user(exec)
        .json(&json!({"person_id": PersonId::new().to_string()}))
        .send()
        .await
        .assert_problem(404, "not_found");
    assert_access(
        &t,
        "POST",
        &path,
        &json!({"person_id": person.to_string()}),
        &LEVELS_BELOW_EXECUTIVE,
    )
    .await;
}

/// Sample employees on the payroll (not leavers), with an email.
fn employees(t: &TestApp) -> Vec<&roster_company::SamplePerson> {
    t.company
        .people
        .iter()
        .filter(|p| p.xero_employee_id.is_some() && p.email.is_some() && !p.is_leaver)
        .collect()
}

#[tokio::test]
async fn xero_matches_find_employees_by_email_and_name_and_link_the_one_sure_candidate() {
    let t = spawn().await;
    connect_xero(&t).await;
    let exec = t.world.at("executive");
    let list = employees(&t);
    let (by_email, by_name) = (list[0], list[1]);
    let email_person = add_person(&t, "Someone", "Else", by_email.email.as_deref()).await;
    // "Last, First" in one field, upper case: still the same name.
    let name_person = add_person(
        &t,
        &format!(
            "{}, {}",
            by_name.last_name.to_uppercase(),
            by_name.first_name
        ),
        "",
        None,
    )
    .await;

    let a = t
        .get(&format!("/api/people/{email_person}/xero-matches"))
        .as_user(exec)
        .send()
        .await;
    a.assert_status(200);
    let id = by_email.xero_employee_id.unwrap().to_string();
    let top = &a.body["matches"][0];
    assert_eq!(
        (
            top["employee_id"].as_str(),
            top["confidence"].as_str(),
            top["score"].as_u64()
        ),
        (Some(id.as_str()), Some("exact_email"), Some(100)),
        "{}",
        a.text
    );
    assert_eq!(top["status"], "active");
    assert_eq!(a.body["auto_linked"], true);
    assert_eq!(a.body["xero_employee_id"], id);

    let b = t
        .get(&format!("/api/people/{name_person}/xero-matches"))
        .as_user(exec)
        .send()
        .await;
    let name_id = by_name.xero_employee_id.unwrap().to_string();
    assert_eq!(
        b.body["matches"][0]["confidence"], "exact_name",
        "{}",
        b.text
    );
    assert_eq!(b.body["xero_employee_id"], name_id);
    // The first person's employee is taken: no candidate for anyone else.
    assert!(match_of(&b, "employee_id", &id).is_none());

    let path = format!("/api/people/{email_person}/xero-matches");
    for level in ["head", "manager", "lead", "employee"] {
        t.get(&path)
            .as_user(t.world.at(level))
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    assert_access(&t, "GET", &path, &json!({}), &[]).await;
    t.get(&format!("/api/people/{}/xero-matches", PersonId::new()))
        .as_user(exec)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn xero_link_checks_the_employee_exists_and_is_nobody_elses() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let list = employees(&t);
    let first = add_person(&t, "First", "Person", None).await;
    let second = add_person(&t, "Second", "Person", None).await;
    let link = |p: PersonId, id: String| {
        t.post(&format!("/api/people/{p}/xero-link"))
            .as_user(exec)
            .json(&json!({"xero_employee_id": id}))
            .send()
    };
    let e0 = list[0].xero_employee_id.unwrap().to_string();
    link(first, e0.clone())
        .await
        .assert_problem(409, "not_connected");
    connect_xero(&t).await;
    link(first, e0.clone()).await.assert_status(200);
    link(first, e0.clone()).await.assert_status(200);
    link(second, e0.clone())
        .await
        .assert_problem(409, "conflict");
    let unknown = link(second, uuid::Uuid::new_v4().to_string()).await;
    unknown.assert_problem(422, "validation_failed");
    assert_eq!(unknown.error_fields(), ["xero_employee_id"]);
    let bad = link(second, "12345".to_owned()).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["xero_employee_id"]);

    let mappings = t
        .get("/api/admin/connections/user-mappings")
        .as_user(exec)
        .send()
        .await;
    let row = |p: PersonId| {
        mappings.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["person_id"] == p.to_string())
            .unwrap()
            .clone()
    };
    assert_eq!(row(first)["xero_id"], e0);
    assert_eq!(row(second)["xero_id"], Value::Null);

    let path = format!("/api/people/{second}/xero-link");
    let body = json!({"xero_employee_id": list[1].xero_employee_id.unwrap().to_string()});
    assert_access(
        &t,
        "POST",
        &path,
        &body,
        &["head", "manager", "lead", "employee"],
    )
    .await;
    t.post(&path)
        .as_user(exec)
        .raw("[")
        .send()
        .await
        .assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn sync_xero_links_unique_sure_matches_as_a_run_and_a_failed_run_changes_nothing() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    connect_xero(&t).await;
    let list = employees(&t);
    // Three people Xero knows by email, one by name, and two who share a name with one
    // employee (neither is linked).
    let mut expected = Vec::new();
    for e in &list[0..3] {
        let p = add_person(
            &t,
            "Nick",
            &format!("Name{}", expected.len()),
            e.email.as_deref(),
        )
        .await;
        expected.push((p, e.xero_employee_id.unwrap().to_string()));
    }
    let named = add_person(&t, &list[3].first_name, &list[3].last_name, None).await;
    expected.push((named, list[3].xero_employee_id.unwrap().to_string()));
    let twin_a = add_person(&t, &list[4].first_name, &list[4].last_name, None).await;
    let twin_b = add_person(
        &t,
        &format!("{}, {}", list[4].last_name, list[4].first_name),
        "",
        None,
    )
    .await;

    let before = mappings(&t).await;
    t.fakes.xero.inject(Fault::Status {
        operation: "xero.employees".into(),
        status: 500,
        times: 20,
    });
    t.post("/api/admin/users/sync-xero")
        .as_user(exec)
        .send()
        .await
        .assert_problem(502, "provider_error");
    t.fakes.xero.clear_faults();
    assert_eq!(mappings(&t).await, before, "a failed run changes nothing");

    let run = t
        .post("/api/admin/users/sync-xero")
        .as_user(exec)
        .send()
        .await;
    run.assert_status(200);
    // The world's five personas, the six added here: none had a Xero link.
    assert_eq!(run.body["total"], 11, "{}", run.text);
    assert_eq!(run.body["linked"], 4, "{}", run.text);
    let after = mappings(&t).await;
    for (p, id) in &expected {
        assert_eq!(after[&p.to_string()], *id, "{p}");
    }
    assert_eq!(after[&twin_a.to_string()], Value::Null);
    assert_eq!(after[&twin_b.to_string()], Value::Null);

    let again = t
        .post("/api/admin/users/sync-xero")
        .as_user(exec)
        .send()
        .await;
    assert_eq!(
        (again.body["linked"].as_u64(), again.body["total"].as_u64()),
        (Some(0), Some(7))
    );
    let runs = t.get("/api/admin/sync-runs").as_user(exec).send().await;
    let xero_runs: Vec<(String, Value)> = runs.body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "xero")
        .map(|r| {
            (
                r["outcome"].as_str().unwrap().to_owned(),
                r["counts"]["linked"].clone(),
            )
        })
        .collect();
    assert_eq!(
        xero_runs,
        [
            ("succeeded".to_owned(), json!(0)),
            ("succeeded".to_owned(), json!(4)),
            ("failed".to_owned(), Value::Null),
        ]
    );

    for level in LEVELS_BELOW_EXECUTIVE {
        t.post("/api/admin/users/sync-xero")
            .as_user(t.world.at(level))
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    t.post("/api/admin/users/sync-xero")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    t.post("/api/admin/users/sync-xero")
        .as_user(&t.world.globex_exec)
        .send()
        .await
        .assert_problem(409, "not_connected");
}

/// person id → xero id (or null), for every active acme person.
async fn mappings(t: &TestApp) -> std::collections::BTreeMap<String, Value> {
    let a = t
        .get("/api/admin/connections/user-mappings")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    a.assert_status(200);
    a.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["person_id"].as_str().unwrap().to_owned(),
                u["xero_id"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_user_refresh_updates_from_productive_and_queues_the_xero_pull() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    // A sample employee who is in Productive and on the payroll.
    let sample = t
        .company
        .people
        .iter()
        .find(|p| {
            p.productive_id.is_some()
                && p.xero_employee_id.is_some()
                && p.google_id.is_some()
                && p.is_active
                && !p.is_leaver
                && p.email.is_some()
        })
        .unwrap();
    let user = add_user(&t, sample.email.as_deref().unwrap(), "Placeholder Name").await;
    let path = format!("/api/admin/users/{user}/sync");

    // Linked to nothing yet: nothing to refresh.
    let none = t.post(&path).as_user(exec).send().await;
    none.assert_status(200);
    assert_eq!(none.body["synced"], json!([]));

    t.connect_productive().await;
    t.post("/api/people/sync")
        .as_user(exec)
        .send()
        .await
        .assert_status(200);
    connect_xero(&t).await;
    t.put("/api/admin/connections/google-workspace")
        .as_user(exec)
        .json(&json!({
            "service_account_key": t.fakes.google.service_account_key_json(),
            "calendar_id": t.fakes.google.leave_calendar_id(),
            "admin_email": t.company.google_admin().email,
        }))
        .send()
        .await
        .assert_status(200);
    let person = user_row(&t, user).await["person_id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.put(&format!("/api/admin/connections/user-mappings/{person}"))
        .as_user(exec)
        .json(&json!({"provider": "xero", "external_id": sample.xero_employee_id.unwrap().to_string()}))
        .send()
        .await
        .assert_status(200);
    let details_before = t.fakes.xero.calls().count("xero.employee");
    let refreshed = t.post(&path).as_user(exec).send().await;
    refreshed.assert_status(200);
    assert_eq!(
        refreshed.body["synced"],
        json!(["google", "productive", "xero"]),
        "{}",
        refreshed.text
    );
    // The Google profile replaced the name the user was created with.
    let name = user_row(&t, user).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        name == sample.full_name() || name == sample.display_name(),
        "{name}"
    );
    // The queued pull runs in the background; wait for its one detail read.
    for _ in 0..200 {
        if t.fakes.xero.calls().count("xero.employee") > details_before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        t.fakes.xero.calls().count("xero.employee"),
        details_before + 1
    );

    t.fakes.productive.inject(Fault::Status {
        operation: "productive.people".into(),
        status: 500,
        times: 20,
    });
    t.post(&path)
        .as_user(exec)
        .send()
        .await
        .assert_problem(502, "provider_error");
    t.fakes.productive.clear_faults();

    assert_access(&t, "POST", &path, &json!({}), &LEVELS_BELOW_EXECUTIVE).await;
    t.post(&format!(
        "/api/admin/users/{}/sync",
        t.world.globex_exec.user.id
    ))
    .as_user(exec)
    .send()
    .await
    .assert_problem(404, "not_found");
}

#[tokio::test]
async fn one_xero_link_run_at_a_time_and_a_crashed_claim_lapses() {
    let t = spawn().await;
    connect_xero(&t).await;
    let exec = t.world.at("executive");
    let e = employees(&t)[0];
    let person = add_person(&t, "By", "Email", e.email.as_deref()).await;
    let now = t.clock.now();
    let mut tx = t.store.begin().await.unwrap();
    assert!(
        tx.org(t.world.acme.id)
            .acquire_lease(
                "sync:xero",
                "crashed-instance",
                now,
                chrono::Duration::minutes(15)
            )
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    t.post("/api/admin/users/sync-xero")
        .as_user(exec)
        .send()
        .await
        .assert_problem(409, "sync_in_progress");
    assert_eq!(mappings(&t).await[&person.to_string()], Value::Null);
    t.clock.advance(chrono::Duration::minutes(16));
    let after = t
        .post("/api/admin/users/sync-xero")
        .as_user(exec)
        .send()
        .await;
    after.assert_status(200);
    assert_eq!(
        mappings(&t).await[&person.to_string()],
        e.xero_employee_id.unwrap().to_string()
    );
}
