//! User mappings end to end: `GET /api/admin/connections/user-mappings`,
//! `PUT /api/admin/connections/user-mappings/{personId}` and
//! `POST /api/admin/connections/user-mappings/sync`.

use roster_domain::PersonId;
use roster_testkit::{Answer, TestApp, spawn};
use serde_json::{Value, json};

use super::matching::LEVELS_BELOW_EXECUTIVE;

async fn list(t: &TestApp) -> Vec<Value> {
    let a = t
        .get("/api/admin/connections/user-mappings")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    a.assert_status(200);
    a.body["users"].as_array().unwrap().clone()
}

fn row(rows: &[Value], person: PersonId) -> Value {
    rows.iter()
        .find(|u| u["person_id"] == person.to_string())
        .unwrap()
        .clone()
}

async fn put(t: &TestApp, person: &str, body: &Value) -> Answer {
    t.put(&format!("/api/admin/connections/user-mappings/{person}"))
        .as_user(t.world.at("executive"))
        .json(body)
        .send()
        .await
}

#[tokio::test]
async fn every_active_person_is_listed_with_their_ids() {
    let t = spawn().await;
    let rows = list(&t).await;
    assert_eq!(rows.len(), 5, "the world's five acme people");
    let exec = t.world.at("executive");
    let me = row(&rows, exec.person.unwrap());
    assert_eq!(me["name"], "Ava Executive");
    assert_eq!(me["email"], "executive@acme.test");
    assert_eq!(me["user_id"], exec.user.id.to_string());
    assert_eq!(me["google_id"], exec.user.id.to_string());
    for key in ["xero_id", "productive_id", "remote_id"] {
        assert_eq!(me[key], Value::Null, "{key}");
    }
    // globex sees its own (none), never acme's.
    let globex = t
        .get("/api/admin/connections/user-mappings")
        .as_user(&t.world.globex_exec)
        .send()
        .await;
    assert_eq!(globex.body["users"], json!([]));
    t.get("/api/admin/connections/user-mappings")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    for level in LEVELS_BELOW_EXECUTIVE {
        t.get("/api/admin/connections/user-mappings")
            .as_user(t.world.at(level))
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
}

#[tokio::test]
async fn one_id_is_set_per_person_and_provider_and_belongs_to_one_person() {
    let t = spawn().await;
    let head = t.world.at("head").person.unwrap();
    let manager = t.world.at("manager").person.unwrap();
    put(
        &t,
        &head.to_string(),
        &json!({"provider": "productive", "external_id": "p-1"}),
    )
    .await
    .assert_status(200);
    put(
        &t,
        &head.to_string(),
        &json!({"provider": "remote", "external_id": "r-1"}),
    )
    .await
    .assert_status(200);
    // Setting it again replaces it.
    put(
        &t,
        &head.to_string(),
        &json!({"provider": "productive", "external_id": "p-2"}),
    )
    .await
    .assert_status(200);
    let rows = list(&t).await;
    assert_eq!(row(&rows, head)["productive_id"], "p-2");
    assert_eq!(row(&rows, head)["remote_id"], "r-1");

    put(
        &t,
        &manager.to_string(),
        &json!({"provider": "productive", "external_id": "p-2"}),
    )
    .await
    .assert_problem(409, "conflict");
    assert_eq!(row(&list(&t).await, manager)["productive_id"], Value::Null);

    for (body, field) in [
        (
            json!({"provider": "google", "external_id": "x"}),
            "provider",
        ),
        (
            json!({"provider": "productive", "external_id": ""}),
            "external_id",
        ),
        (
            json!({"provider": "xero", "external_id": "not-a-uuid"}),
            "external_id",
        ),
        (
            json!({"provider": "productive", "external_id": "x".repeat(1001)}),
            "external_id",
        ),
        (json!({"provider": "productive"}), "external_id"),
        (
            json!({"provider": "productive", "external_id": "x", "more": 1}),
            "more",
        ),
    ] {
        let a = put(&t, &manager.to_string(), &body).await;
        a.assert_problem(422, "validation_failed");
        assert!(
            a.error_fields().iter().any(|f| f.contains(field)),
            "{body}: {}",
            a.text
        );
    }
    put(&t, &manager.to_string(), &json!(null))
        .await
        .assert_problem(422, "validation_failed");
    t.put(&format!("/api/admin/connections/user-mappings/{manager}"))
        .as_user(t.world.at("executive"))
        .raw("{")
        .send()
        .await
        .assert_problem(400, "malformed_request");
    for bad in ["nope".to_owned(), PersonId::new().to_string()] {
        put(
            &t,
            &bad,
            &json!({"provider": "remote", "external_id": "r-9"}),
        )
        .await
        .assert_problem(404, "not_found");
    }
    let body = json!({"provider": "remote", "external_id": "r-9"});
    let path = format!("/api/admin/connections/user-mappings/{manager}");
    t.put(&path)
        .json(&body)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    for level in LEVELS_BELOW_EXECUTIVE {
        t.put(&path)
            .as_user(t.world.at(level))
            .json(&body)
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    t.put(&path)
        .as_user(&t.world.globex_exec)
        .json(&body)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn a_bulk_sync_matches_emails_case_insensitively_all_or_nothing() {
    let t = spawn().await;
    let sync = |body: Value| {
        t.post("/api/admin/connections/user-mappings/sync")
            .as_user(t.world.at("executive"))
            .json(&body)
            .send()
    };
    let a = sync(json!({"provider": "remote", "mappings": [
        {"email": "EXECUTIVE@acme.test", "external_id": "r-1"},
        {"email": "head@ACME.test", "external_id": "r-2"},
        {"email": "nobody@elsewhere.test", "external_id": "r-3"},
    ]}))
    .await;
    a.assert_status(200);
    assert_eq!(
        (a.body["matched"].as_u64(), a.body["total"].as_u64()),
        (Some(2), Some(3))
    );
    let rows = list(&t).await;
    assert_eq!(
        row(&rows, t.world.at("executive").person.unwrap())["remote_id"],
        "r-1"
    );
    assert_eq!(
        row(&rows, t.world.at("head").person.unwrap())["remote_id"],
        "r-2"
    );

    // r-1 is the executive's: giving it to the manager fails the whole request.
    sync(json!({"provider": "remote", "mappings": [
        {"email": "lead@acme.test", "external_id": "r-4"},
        {"email": "manager@acme.test", "external_id": "r-1"},
    ]}))
    .await
    .assert_problem(409, "conflict");
    let rows = list(&t).await;
    assert_eq!(
        row(&rows, t.world.at("lead").person.unwrap())["remote_id"],
        Value::Null
    );

    for (body, field) in [
        (
            json!({"provider": "remote", "mappings": [
                {"email": "lead@acme.test", "external_id": "r-5"},
                {"email": "LEAD@acme.test", "external_id": "r-6"}]}),
            "mappings[1].email",
        ),
        (
            json!({"provider": "xero", "mappings": [{"email": "lead@acme.test", "external_id": "r-5"}]}),
            "mappings[0].external_id",
        ),
        (
            json!({"provider": "remote", "mappings": [{"email": "not an email", "external_id": "r-5"}]}),
            "email",
        ),
        (json!({"provider": "slack", "mappings": []}), "provider"),
    ] {
        let a = sync(body.clone()).await;
        a.assert_problem(422, "validation_failed");
        assert!(
            a.error_fields().iter().any(|f| f.contains(field)),
            "{body}: {}",
            a.text
        );
    }
    let body = json!({"provider": "remote", "mappings": []});
    t.post("/api/admin/connections/user-mappings/sync")
        .json(&body)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    for level in LEVELS_BELOW_EXECUTIVE {
        t.post("/api/admin/connections/user-mappings/sync")
            .as_user(t.world.at(level))
            .json(&body)
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    // globex's executive maps nobody of acme.
    let g = t
        .post("/api/admin/connections/user-mappings/sync")
        .as_user(&t.world.globex_exec)
        .json(&json!({"provider": "remote", "mappings": [{"email": "lead@acme.test", "external_id": "r-7"}]}))
        .send()
        .await;
    assert_eq!(g.body["matched"], 0, "{}", g.text);
    assert_eq!(
        row(&list(&t).await, t.world.at("lead").person.unwrap())["remote_id"],
        Value::Null
    );
}
