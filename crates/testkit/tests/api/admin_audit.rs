use roster_testkit::spawn;
use serde_json::json;

#[tokio::test]
async fn writes_are_recorded_with_actor_and_time_and_listed_newest_first() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let target = t.world.at("lead");
    t.put(&format!("/api/admin/users/{}", target.user.id))
        .as_user(exec)
        .header("x-request-id", "audit-trace-42")
        .json(&json!({"access_level": "manager", "location": "Hobart"}))
        .send()
        .await;
    t.put("/api/admin/permissions")
        .as_user(exec)
        .json(&json!({"permissions": [{"tool": "people", "access_level": "lead", "can_view": true, "can_update": true, "can_manage": false}]}))
        .send()
        .await;
    t.delete(&format!(
        "/api/admin/users/{}",
        t.world.at("employee").user.id
    ))
    .as_user(exec)
    .send()
    .await;

    let a = t.get("/api/admin/audit").as_user(exec).send().await;
    assert_eq!(a.status, 200, "{}", a.text);
    let events = a.body["events"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        &actions[..3],
        ["user.delete", "permissions.update", "user.update"]
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "user.create").count(),
        5,
        "the CLI's creations"
    );
    let update = &events[2];
    assert_eq!(update["actor_user_id"], exec.user.id.to_string());
    assert_eq!(update["subject_type"], "user");
    assert_eq!(update["subject_id"], target.user.id.to_string());
    assert_eq!(
        update["detail"]["access_level"],
        json!({"from": "lead", "to": "manager"})
    );
    assert!(
        !update.to_string().contains("Hobart"),
        "values of HR fields are not logged: {update}"
    );
    assert!(update["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        update["request_id"], "audit-trace-42",
        "the event leads to the request's log lines"
    );
    assert!(a.body["next_cursor"].is_null());
    // Globex sees only its own.
    let g = t
        .get("/api/admin/audit")
        .as_user(&t.world.globex_exec)
        .send()
        .await;
    assert!(
        g.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "user.create")
    );
    assert_eq!(g.body["events"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn filters_and_cursor_paging() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    for level in ["lead", "manager", "head"] {
        t.clock.advance(chrono::Duration::seconds(1));
        t.put(&format!("/api/admin/users/{}", t.world.at(level).user.id))
            .as_user(exec)
            .json(&json!({"review_template_id": "r1"}))
            .send()
            .await;
    }
    let a = t
        .get("/api/admin/audit?action=user.update")
        .as_user(exec)
        .send()
        .await;
    assert_eq!(a.body["events"].as_array().unwrap().len(), 3);
    let subject = t.world.at("manager").user.id;
    let a = t
        .get(&format!("/api/admin/audit?subject={subject}"))
        .as_user(exec)
        .send()
        .await;
    let subjects: Vec<&str> = a.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["subject_id"].as_str().unwrap())
        .collect();
    assert!(subjects.iter().all(|s| *s == subject.to_string()) && !subjects.is_empty());
    let a = t
        .get(&format!("/api/admin/audit?actor={}", exec.user.id))
        .as_user(exec)
        .send()
        .await;
    assert_eq!(
        a.body["events"].as_array().unwrap().len(),
        3,
        "CLI events have no actor"
    );

    // Pages of 2 cover all 8 events once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/admin/audit?limit=2&cursor={c}"),
            None => "/api/admin/audit?limit=2".to_owned(),
        };
        let page = t.get(&path).as_user(exec).send().await;
        assert_eq!(page.status, 200, "{}", page.text);
        for e in page.body["events"].as_array().unwrap() {
            seen.push((
                e["at"].as_str().unwrap().to_owned(),
                e["id"].as_str().unwrap().to_owned(),
            ));
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, no repeats");

    // since/until bound by time.
    let newest = &seen[0].0;
    let a = t
        .get(&format!("/api/admin/audit?since={newest}"))
        .as_user(exec)
        .send()
        .await;
    assert_eq!(a.body["events"].as_array().unwrap().len(), 1, "{}", a.text);
    let a = t
        .get(&format!("/api/admin/audit?until={newest}"))
        .as_user(exec)
        .send()
        .await;
    assert_eq!(a.body["events"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn bad_filters_are_422_and_the_log_is_executive_only() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    for (q, field) in [
        ("since=yesterday", "since"),
        ("until=2026-13-01T00:00:00Z", "until"),
        ("actor=me", "actor"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
        (
            "since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z",
            "until",
        ),
    ] {
        let a = t
            .get(&format!("/api/admin/audit?{q}"))
            .as_user(exec)
            .send()
            .await;
        a.assert_problem(422, "validation_failed");
        assert_eq!(a.error_fields(), [field], "{q}");
    }
    t.get("/api/admin/audit")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    t.get("/api/admin/audit")
        .as_user(t.world.at("head"))
        .send()
        .await
        .assert_problem(403, "forbidden");
    // Another organization's subject id simply matches nothing here.
    let foreign = t.world.globex_employee.user.id;
    let a = t
        .get(&format!("/api/admin/audit?subject={foreign}"))
        .as_user(exec)
        .send()
        .await;
    assert_eq!(a.body["events"], json!([]));
}
