use chrono::Duration;
use roster_testkit::spawn;

#[tokio::test]
async fn each_persona_sees_its_level_organization_and_permissions() {
    let t = spawn().await;
    for (level, perms) in [
        ("executive", 6),
        ("head", 4),
        ("manager", 3),
        ("lead", 3),
        ("employee", 2),
    ] {
        let p = t.world.at(level);
        let a = t.get("/api/me").as_user(p).send().await;
        assert_eq!(a.status, 200, "{level}: {}", a.text);
        assert_eq!(a.body["access_level"], level);
        assert_eq!(a.body["user"]["email"], p.user.email.as_str());
        assert_eq!(a.body["user"]["person_id"], p.person.unwrap().to_string());
        assert_eq!(a.body["organization"]["slug"], "acme");
        assert_eq!(
            a.body["permissions"].as_array().unwrap().len(),
            perms,
            "{level}"
        );
        assert!(
            a.body["permissions"]
                .as_array()
                .unwrap()
                .contains(&"view:people".into())
        );
    }
}

#[tokio::test]
async fn missing_malformed_and_foreign_tokens_are_401() {
    let t = spawn().await;
    t.get("/api/me")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    let a = t.get("/api/me").token("not-a-jwt").send().await;
    a.assert_problem(401, "unauthenticated");
    assert_eq!(a.header("www-authenticate"), Some("Bearer"));
    t.get("/api/me")
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    // A token signed with another key (another Roster) is refused.
    let other = spawn().await;
    let foreign = other.world.at("executive").token.clone();
    t.get("/api/me")
        .token(&foreign)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    // A tampered token is refused.
    // Change one signature character well inside it (the last one carries padding bits, and
    // replacing it by chance with itself would test nothing).
    let token = t.world.at("employee").token.clone();
    let at = token.len() - 10;
    let old = token.as_bytes()[at];
    let new = if old == b'A' { 'B' } else { 'A' };
    let tampered = format!("{}{new}{}", &token[..at], &token[at + 1..]);
    assert_ne!(tampered, token);
    t.get("/api/me")
        .token(&tampered)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn an_active_org_header_that_is_not_text_is_403_but_never_hides_a_bad_token() {
    let t = spawn().await;
    t.get("/api/me")
        .as_user(t.world.at("employee"))
        .header_bytes("x-active-org", b"acme\xff")
        .send()
        .await
        .assert_problem(403, "forbidden");
    t.get("/api/me")
        .token("not-a-token")
        .header_bytes("x-active-org", b"acme\xff")
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn tokens_stop_working_at_their_expiry_without_leeway() {
    let t = spawn().await;
    let user = t.world.at("employee").user.clone();
    let token = t.token_for(&user, Duration::seconds(1));
    assert_eq!(t.get("/api/me").token(&token).send().await.status, 200);
    t.clock.advance(Duration::seconds(2));
    t.get("/api/me")
        .token(&token)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn a_token_lives_at_least_its_ttl_when_issued_mid_second() {
    let t = spawn().await;
    let user = t.world.at("employee").user.clone();
    t.clock.advance(Duration::milliseconds(900));
    let token = t.token_for(&user, Duration::seconds(1));
    t.clock.advance(Duration::milliseconds(950));
    assert_eq!(
        t.get("/api/me").token(&token).send().await.status,
        200,
        "0.95 s into a 1 s token"
    );
    t.clock.advance(Duration::milliseconds(1_050));
    t.get("/api/me")
        .token(&token)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn active_org_header_selects_member_orgs_and_refuses_others() {
    let t = spawn().await;
    let w = &t.world;
    let exec = w.at("executive");
    // Absent → the default organization.
    assert_eq!(
        t.get("/api/me").as_user(exec).send().await.body["organization"]["slug"],
        "acme"
    );
    // By slug and by id.
    let a = t
        .get("/api/me")
        .as_user(exec)
        .header("x-active-org", "acme")
        .send()
        .await;
    assert_eq!(a.body["organization"]["id"], w.acme.id.to_string());
    let a = t
        .get("/api/me")
        .as_user(exec)
        .header("x-active-org", &w.acme.id.to_string())
        .send()
        .await;
    assert_eq!(a.body["organization"]["slug"], "acme");
    // Not a member → 403, by slug or id, and for an organization that does not exist.
    t.get("/api/me")
        .as_user(exec)
        .header("x-active-org", "globex")
        .send()
        .await
        .assert_problem(403, "forbidden");
    t.get("/api/me")
        .as_user(exec)
        .header("x-active-org", &w.globex.id.to_string())
        .send()
        .await
        .assert_problem(403, "forbidden");
    t.get("/api/me")
        .as_user(exec)
        .header("x-active-org", "nowhere")
        .send()
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn a_member_of_two_organizations_acts_in_the_one_named() {
    let t = spawn().await;
    let w = &t.world;
    // Globex's executive joins acme as an employee (the CLI path).
    let email = w.globex_exec.user.email.clone();
    t.app
        .create_user(
            &email,
            "Gina Globex",
            roster_domain::AccessLevel::Employee,
            Some(&t.world.acme.slug),
            None,
        )
        .await
        .unwrap();
    let home = t.get("/api/me").as_user(&w.globex_exec).send().await;
    assert_eq!(
        (
            home.body["organization"]["slug"].as_str(),
            home.body["access_level"].as_str()
        ),
        (Some("globex"), Some("executive"))
    );
    let away = t
        .get("/api/me")
        .as_user(&w.globex_exec)
        .header("x-active-org", "acme")
        .send()
        .await;
    assert_eq!(
        (
            away.body["organization"]["slug"].as_str(),
            away.body["access_level"].as_str()
        ),
        (Some("acme"), Some("employee"))
    );
    // In acme they are an employee: the admin API is closed to them there.
    t.get("/api/admin/users")
        .as_user(&w.globex_exec)
        .header("x-active-org", "acme")
        .send()
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(
        t.get("/api/admin/users")
            .as_user(&w.globex_exec)
            .send()
            .await
            .status,
        200
    );
}
