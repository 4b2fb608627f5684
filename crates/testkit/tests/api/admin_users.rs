use roster_testkit::spawn;
use serde_json::json;

#[tokio::test]
async fn executives_list_only_their_organizations_users() {
    let t = spawn().await;
    let a = t
        .get("/api/admin/users")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let users = a.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 5);
    let emails: Vec<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert!(
        emails.iter().all(|e| e.ends_with("@acme.test")),
        "{emails:?}"
    );
    let head = users
        .iter()
        .find(|u| u["email"] == "head@acme.test")
        .unwrap();
    assert_eq!(head["access_level"], "head");
    assert_eq!(
        head["person_id"],
        t.world.at("head").person.unwrap().to_string()
    );
    for key in ["id", "name", "productive_id", "xero_employee_id"] {
        assert!(head.get(key).is_some(), "{key} present");
    }
    let g = t
        .get("/api/admin/users")
        .as_user(&t.world.globex_exec)
        .send()
        .await;
    assert_eq!(g.body["users"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn admin_users_requires_a_token_and_the_executive_level() {
    let t = spawn().await;
    let id = t.world.at("employee").user.id.to_string();
    t.get("/api/admin/users")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    t.put(&format!("/api/admin/users/{id}"))
        .json(&json!({}))
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    t.delete(&format!("/api/admin/users/{id}"))
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    for level in ["head", "manager", "lead", "employee"] {
        let p = t.world.at(level);
        t.get("/api/admin/users")
            .as_user(p)
            .send()
            .await
            .assert_problem(403, "forbidden");
        t.put(&format!("/api/admin/users/{id}"))
            .as_user(p)
            .json(&json!({"access_level": "executive"}))
            .send()
            .await
            .assert_problem(403, "forbidden");
        t.delete(&format!("/api/admin/users/{id}"))
            .as_user(p)
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    // Nothing changed.
    let me = t
        .get("/api/me")
        .as_user(t.world.at("employee"))
        .send()
        .await;
    assert_eq!(me.body["access_level"], "employee");
}

#[tokio::test]
async fn updating_a_user_changes_level_templates_and_the_linked_persons_employment() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let target = t.world.at("lead");
    let a = t
        .put(&format!("/api/admin/users/{}", target.user.id))
        .as_user(exec)
        .json(&json!({
            "access_level": "manager",
            "onboarding_template_id": "tpl-1",
            "employment_status": "on_leave",
            "employment_basis": "part_time",
            "location": "Melbourne",
            "start_date": "2023-01-15",
            "gender": "non-binary"
        }))
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["user"]["access_level"], "manager");
    assert_eq!(a.body["user"]["onboarding_template_id"], "tpl-1");
    let me = t.get("/api/me").as_user(target).send().await;
    assert_eq!(
        me.body["access_level"], "manager",
        "the level applies to the user's next request"
    );

    let mut tx = t.store.read().await.unwrap();
    let person = tx
        .org(t.world.acme.id)
        .get_person(target.person.unwrap())
        .await
        .unwrap();
    assert_eq!(person.employment.location.as_deref(), Some("Melbourne"));
    assert_eq!(
        person.employment.start_date.unwrap().to_string(),
        "2023-01-15"
    );
    assert_eq!(
        person.employment.employment_status,
        Some(roster_domain::EmploymentStatus::OnLeave)
    );
    assert_eq!(
        person.employment.employment_basis,
        Some(roster_domain::EmploymentBasis::PartTime)
    );
    assert_eq!(person.gender, Some(roster_domain::Gender::NonBinary));
    drop(tx);

    // null clears; absent fields stay.
    let a = t
        .put(&format!("/api/admin/users/{}", target.user.id))
        .as_user(exec)
        .json(&json!({"location": null, "onboarding_template_id": null}))
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.body["user"]["onboarding_template_id"].is_null());
    let mut tx = t.store.read().await.unwrap();
    let person = tx
        .org(t.world.acme.id)
        .get_person(target.person.unwrap())
        .await
        .unwrap();
    assert_eq!(person.employment.location, None);
    assert_eq!(
        person.gender,
        Some(roster_domain::Gender::NonBinary),
        "absent field unchanged"
    );
}

#[tokio::test]
async fn malformed_bodies_are_400_and_invalid_values_422_naming_the_field() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let path = format!("/api/admin/users/{}", t.world.at("employee").user.id);
    for raw in ["{", "not json", "{\"access_level\": }", ""] {
        t.put(&path)
            .as_user(exec)
            .raw(raw)
            .send()
            .await
            .assert_problem(400, "malformed_request");
    }
    for (body, field) in [
        (json!({"access_level": "boss"}), "access_level"),
        (json!({"access_level": null}), "access_level"),
        (json!({"access_level": 3}), "access_level"),
        (json!({"employment_status": "fired"}), "employment_status"),
        (json!({"employment_basis": "FULLTIME"}), "employment_basis"),
        (json!({"gender": "F"}), "gender"),
        (json!({"start_date": "15/01/2023"}), "start_date"),
        (json!({"start_date": "2023-02-30"}), "start_date"),
        // chrono reads signed years; PostgreSQL's DATE cannot hold them: a 422, never a 500.
        (json!({"start_date": "-5000-01-01"}), "start_date"),
        (json!({"start_date": "+20000-01-01"}), "start_date"),
        (json!({"start_date": "1850-06-01"}), "start_date"),
        // A misspelt field is refused, not silently ignored.
        (json!({"acess_level": "head"}), "acess_level"),
        (json!({"location": "x".repeat(1001)}), "location"),
        (json!({"review_template_id": ["a"]}), "review_template_id"),
        (json!([1, 2]), "body"),
    ] {
        let a = t.put(&path).as_user(exec).json(&body).send().await;
        a.assert_problem(422, "validation_failed");
        assert_eq!(a.error_fields(), [field], "{body}");
    }
    t.put(&path)
        .as_user(exec)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .assert_problem(415, "unsupported_media_type");
    // Nothing was written.
    let me = t
        .get("/api/me")
        .as_user(t.world.at("employee"))
        .send()
        .await;
    assert_eq!(me.body["access_level"], "employee");
}

#[tokio::test]
async fn ids_of_another_organization_or_no_user_are_404() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let foreign = t.world.globex_employee.user.id;
    t.put(&format!("/api/admin/users/{foreign}"))
        .as_user(exec)
        .json(&json!({"access_level": "executive"}))
        .send()
        .await
        .assert_problem(404, "not_found");
    t.delete(&format!("/api/admin/users/{foreign}"))
        .as_user(exec)
        .send()
        .await
        .assert_problem(404, "not_found");
    for bad in [
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",
        "%FF",
        "%C3%28",
    ] {
        t.put(&format!("/api/admin/users/{bad}"))
            .as_user(exec)
            .json(&json!({}))
            .send()
            .await
            .assert_problem(404, "not_found");
        t.delete(&format!("/api/admin/users/{bad}"))
            .as_user(exec)
            .send()
            .await
            .assert_problem(404, "not_found");
    }
    // Globex's employee is untouched.
    let me = t
        .get("/api/me")
        .as_user(&t.world.globex_employee)
        .send()
        .await;
    assert_eq!(me.body["access_level"], "employee");
}

#[tokio::test]
async fn the_last_executive_cannot_lower_their_own_level() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let path = format!("/api/admin/users/{}", exec.user.id);
    t.put(&path)
        .as_user(exec)
        .json(&json!({"access_level": "head"}))
        .send()
        .await
        .assert_problem(409, "conflict");
    assert_eq!(
        t.get("/api/me").as_user(exec).send().await.body["access_level"],
        "executive"
    );
    // With a second executive, they can.
    promote_head(&t).await;
    let a = t
        .put(&path)
        .as_user(exec)
        .json(&json!({"access_level": "head"}))
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        t.get("/api/me").as_user(exec).send().await.body["access_level"],
        "head"
    );
}

/// Makes acme's head a second executive; returns the head.
async fn promote_head(t: &roster_testkit::TestApp) -> &roster_testkit::Persona {
    let head = t.world.at("head");
    let a = t
        .put(&format!("/api/admin/users/{}", head.user.id))
        .as_user(t.world.at("executive"))
        .json(&json!({"access_level": "executive"}))
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    head
}

#[tokio::test]
async fn two_executives_demoting_or_removing_each_other_at_once_leave_one_in_charge() {
    for removal in [false, true] {
        let t = spawn().await;
        let exec = t.world.at("executive");
        let head = promote_head(&t).await;
        let against = |actor: &roster_testkit::Persona, target: &roster_testkit::Persona| {
            let path = format!("/api/admin/users/{}", target.user.id);
            if removal {
                t.delete(&path).as_user(actor)
            } else {
                t.put(&path)
                    .as_user(actor)
                    .json(&json!({"access_level": "manager"}))
            }
        };
        let (one, two) = tokio::join!(against(exec, head).send(), against(head, exec).send());
        // The loser finds it is no longer an executive (403) or, once removed from its only
        // organization, no longer a user at all (401).
        let mut statuses = [one.status, two.status];
        statuses.sort_unstable();
        let loser: &[u16] = if removal { &[401, 403] } else { &[403] };
        assert!(
            statuses[0] == 200 && loser.contains(&statuses[1]),
            "removal {removal}: {} / {}",
            one.text,
            two.text
        );
        let users = t
            .get("/api/admin/users")
            .as_user(if one.status == 200 { exec } else { head });
        let listed = users.send().await;
        let executives = listed.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["access_level"] == "executive")
            .count();
        assert_eq!(executives, 1, "removal {removal}: {}", listed.text);
    }
}

#[tokio::test]
async fn employment_fields_need_a_linked_person() {
    let t = spawn().await;
    let exec = &t.world.globex_exec;
    let target = &t.world.globex_employee; // globex people are not in the directory
    let path = format!("/api/admin/users/{}", target.user.id);
    let a = t
        .put(&path)
        .as_user(exec)
        .json(&json!({"location": "Sydney", "access_level": "lead"}))
        .send()
        .await;
    a.assert_problem(422, "validation_failed");
    // The whole update was refused: the level did not change either.
    assert_eq!(
        t.get("/api/me").as_user(target).send().await.body["access_level"],
        "employee"
    );
    let a = t
        .put(&path)
        .as_user(exec)
        .json(&json!({"access_level": "lead"}))
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

#[tokio::test]
async fn deleting_a_user_keeps_their_person_unlinked_and_kills_their_token() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let target = t.world.at("manager");
    let a = t
        .delete(&format!("/api/admin/users/{}", target.user.id))
        .as_user(exec)
        .send()
        .await;
    assert_eq!(
        (a.status, &a.body),
        (200, &json!({"ok": true})),
        "{}",
        a.text
    );
    t.get("/api/me")
        .as_user(target)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    let mut tx = t.store.read().await.unwrap();
    let person = tx
        .org(t.world.acme.id)
        .get_person(target.person.unwrap())
        .await
        .unwrap();
    assert_eq!(person.user, None, "the person stays, unlinked");
    drop(tx);
    let list = t.get("/api/admin/users").as_user(exec).send().await;
    assert_eq!(list.body["users"].as_array().unwrap().len(), 4);
    t.delete(&format!("/api/admin/users/{}", target.user.id))
        .as_user(exec)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn deleting_yourself_is_409() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    t.delete(&format!("/api/admin/users/{}", exec.user.id))
        .as_user(exec)
        .send()
        .await
        .assert_problem(409, "conflict");
    assert_eq!(t.get("/api/me").as_user(exec).send().await.status, 200);
}

#[tokio::test]
async fn an_empty_update_changes_nothing_and_records_nothing() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let employee = t.world.at("employee");
    let before = t.get("/api/admin/audit").as_user(exec).send().await;
    let a = t
        .put(&format!("/api/admin/users/{}", employee.user.id))
        .as_user(exec)
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["user"]["access_level"], "employee");
    assert_eq!(a.body["user"]["id"], employee.user.id.to_string());
    let after = t.get("/api/admin/audit").as_user(exec).send().await;
    assert_eq!(
        after.body["events"], before.body["events"],
        "no audit event"
    );
}

#[tokio::test]
async fn a_write_that_waits_out_the_lock_timeout_is_503_busy_and_changes_nothing() {
    let t = roster_testkit::spawn_with(roster_testkit::Options {
        store: roster_store::StoreOptions {
            lock_timeout: std::time::Duration::from_millis(300),
        },
        ..Default::default()
    })
    .await;
    let head = t.world.at("head");
    // Another writer holds the organization's lock (on SQLite, the database's write lock).
    let mut held = t.store.begin().await.unwrap();
    held.org(t.world.acme.id).lock_memberships().await.unwrap();
    let a = t
        .put(&format!("/api/admin/users/{}", head.user.id))
        .as_user(t.world.at("executive"))
        .json(&json!({"access_level": "manager"}))
        .send()
        .await;
    a.assert_problem(503, "busy");
    assert_eq!(a.header("retry-after"), Some("1"), "{:?}", a.headers);
    held.rollback().await.unwrap();

    let users = t
        .get("/api/admin/users")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    let level = users.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == head.user.id.to_string())
        .map(|u| u["access_level"].clone());
    assert_eq!(level, Some(json!("head")), "nothing was written");
    // Once the lock is free, the same request succeeds.
    let again = t
        .put(&format!("/api/admin/users/{}", head.user.id))
        .as_user(t.world.at("executive"))
        .json(&json!({"access_level": "manager"}))
        .send()
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
}
