use roster_testkit::spawn;
use serde_json::{Value, json};

fn row<'a>(matrix: &'a Value, tool: &str, level: &str) -> &'a Value {
    matrix["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tool"] == tool && r["access_level"] == level)
        .unwrap_or_else(|| panic!("row {tool}/{level}"))
}

#[tokio::test]
async fn the_default_matrix_is_listed_in_full() {
    let t = spawn().await;
    let a = t
        .get("/api/admin/permissions")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["permissions"].as_array().unwrap().len(), 10);
    assert_eq!(
        row(&a.body, "people", "head"),
        &json!({"tool": "people", "access_level": "head", "can_view": true, "can_update": true, "can_manage": false})
    );
    assert_eq!(
        row(&a.body, "integrations", "employee")["can_update"],
        false
    );
    assert_eq!(row(&a.body, "integrations", "lead")["can_update"], true);
}

#[tokio::test]
async fn stored_rows_override_defaults_for_that_organization_only() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let body = json!({"permissions": [
        {"tool": "people", "access_level": "manager", "can_view": true, "can_update": true, "can_manage": true},
        {"tool": "people", "access_level": "employee", "can_view": false, "can_update": false, "can_manage": false}
    ]});
    let a = t
        .put("/api/admin/permissions")
        .as_user(exec)
        .json(&body)
        .send()
        .await;
    assert_eq!(
        (a.status, &a.body),
        (200, &json!({"ok": true})),
        "{}",
        a.text
    );
    let m = t.get("/api/admin/permissions").as_user(exec).send().await;
    assert_eq!(row(&m.body, "people", "manager")["can_manage"], true);
    assert_eq!(row(&m.body, "people", "employee")["can_view"], false);
    let me = t.get("/api/me").as_user(t.world.at("manager")).send().await;
    assert!(
        me.body["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("manage:people"))
    );
    let me = t
        .get("/api/me")
        .as_user(t.world.at("employee"))
        .send()
        .await;
    assert!(
        !me.body["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("view:people"))
    );
    // Globex keeps the defaults.
    let g = t
        .get("/api/admin/permissions")
        .as_user(&t.world.globex_exec)
        .send()
        .await;
    assert_eq!(row(&g.body, "people", "manager")["can_manage"], false);
    let me = t
        .get("/api/me")
        .as_user(&t.world.globex_employee)
        .send()
        .await;
    assert!(
        me.body["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("view:people"))
    );
}

#[tokio::test]
async fn bad_rows_are_refused_whole() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let good = json!({"tool": "people", "access_level": "lead", "can_view": true, "can_update": true, "can_manage": false});
    for (bad, field) in [
        (
            json!({"tool": "payroll", "access_level": "lead", "can_view": true, "can_update": true, "can_manage": false}),
            "permissions[1].tool",
        ),
        (
            json!({"tool": "people", "access_level": "intern", "can_view": true, "can_update": true, "can_manage": false}),
            "permissions[1].access_level",
        ),
        (
            json!({"tool": "people", "access_level": "lead", "can_view": "yes", "can_update": true, "can_manage": false}),
            "permissions[1].can_view",
        ),
        (
            json!({"tool": "people", "access_level": "lead", "can_view": true}),
            "permissions[1]",
        ),
        (
            json!({"tool": "people", "access_level": "executive", "can_view": true, "can_update": true, "can_manage": false}),
            "permissions[1]",
        ),
    ] {
        let a = t
            .put("/api/admin/permissions")
            .as_user(exec)
            .json(&json!({"permissions": [good, bad]}))
            .send()
            .await;
        a.assert_problem(422, "validation_failed");
        assert!(
            a.error_fields()[0].starts_with(field),
            "{field}: {:?}",
            a.error_fields()
        );
    }
    t.put("/api/admin/permissions")
        .as_user(exec)
        .json(&json!({}))
        .send()
        .await
        .assert_problem(422, "validation_failed");
    t.put("/api/admin/permissions")
        .as_user(exec)
        .raw("{\"permissions\": [")
        .send()
        .await
        .assert_problem(400, "malformed_request");
    // Nothing was stored: lead keeps the default.
    let m = t.get("/api/admin/permissions").as_user(exec).send().await;
    assert_eq!(row(&m.body, "people", "lead")["can_update"], false);
}

#[tokio::test]
async fn permissions_are_executive_only() {
    let t = spawn().await;
    t.get("/api/admin/permissions")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    t.put("/api/admin/permissions")
        .json(&json!({"permissions": []}))
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    for level in ["head", "manager", "lead", "employee"] {
        t.get("/api/admin/permissions")
            .as_user(t.world.at(level))
            .send()
            .await
            .assert_problem(403, "forbidden");
        t.put("/api/admin/permissions")
            .as_user(t.world.at(level))
            .json(&json!({"permissions": []}))
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    // Globex's executive changing globex cannot reach acme's matrix, even naming acme.
    t.get("/api/admin/permissions")
        .as_user(&t.world.globex_exec)
        .header("x-active-org", "acme")
        .send()
        .await
        .assert_problem(403, "forbidden");
}
