//! A Productive connection saved without `organization_id`: the token finds its organization
//! through its memberships, the one listing Productive serves without `X-Organization-Id`.

use roster_testkit::spawn;
use serde_json::json;

const MEMBERSHIPS: &str = "productive.organization_memberships";

#[tokio::test]
async fn a_token_without_an_organization_id_finds_its_organization_and_syncs() {
    let t = spawn().await;
    // The fake holds Productive's rule: the organization listing needs the header, the
    // memberships listing does not.
    let http = reqwest::Client::new();
    let api = t.fakes.productive.api_url();
    for (path, status) in [("organizations", 403), ("organization_memberships", 200)] {
        let answer = http
            .get(format!("{api}/{path}"))
            .header("x-auth-token", "good-token")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), status, "{path}");
    }
    t.fakes.productive.calls().reset();

    let saved = t
        .put("/api/admin/connections/productive")
        .as_user(t.world.at("executive"))
        .json(&json!({"api_token": "good-token"}))
        .send()
        .await;
    saved.assert_status(200);
    assert_eq!(t.fakes.productive.calls().count(MEMBERSHIPS), 1);
    let list = t
        .get("/api/admin/connections")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    let productive = list.body["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["provider"] == "productive")
        .cloned()
        .unwrap();
    assert_eq!(productive["status"], "ok", "{productive}");
    assert!(
        !list.text.contains("good-token"),
        "the token is never returned"
    );
    // The found id is the one the sync then sends.
    let synced = t
        .post("/api/people/sync")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    synced.assert_status(200);
    assert!(
        synced.body["synced"].as_u64().unwrap() > 0,
        "{}",
        synced.text
    );

    // Given an id, the token is not asked for its memberships.
    t.connect_productive().await;
    assert_eq!(t.fakes.productive.calls().count(MEMBERSHIPS), 1);
}

#[tokio::test]
async fn a_token_in_two_organizations_must_say_which() {
    let t = spawn().await;
    let answer = t
        .put("/api/admin/connections/productive")
        .as_user(t.world.at("executive"))
        .json(&json!({"api_token": "good-two-orgs-token"}))
        .send()
        .await;
    answer.assert_problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["organization_id"]);
    assert!(answer.text.contains("2 organizations"), "{}", answer.text);
    assert!(!answer.text.contains("good-two-orgs-token"), "no secret");
    let list = t
        .get("/api/admin/connections")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    assert!(
        list.body["connections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["provider"] != "productive"),
        "nothing saved: {}",
        list.text
    );
    // Naming one of them works.
    t.put("/api/admin/connections/productive")
        .as_user(t.world.at("executive"))
        .json(&json!({"api_token": "good-two-orgs-token", "organization_id": t.fakes.productive.organization_id()}))
        .send()
        .await
        .assert_status(200);
}
