//! Every organization condition in the store is held by a test here: one user belongs to
//! both organizations, with a person in each, and nothing done in one organization may show
//! up in, or change, the other. `scripts/mutate-org-scoping.py` removes each condition in
//! turn and checks that some test fails.

use chrono::Duration;
use roster_domain::model::{Employment, Person};
use roster_domain::{AccessLevel, PersonId};
use roster_testkit::{Persona, TestApp, spawn};
use serde_json::{Value, json};

/// Acme's employee Eve also joins globex as a lead, with a globex person of her own.
async fn eve_in_both(t: &TestApp) -> (Persona, PersonId) {
    let eve = t.world.at("employee").clone();
    t.app
        .create_user(
            &eve.user.email,
            &eve.user.name,
            AccessLevel::Lead,
            Some(&t.world.globex.slug),
            None,
        )
        .await
        .unwrap();
    let globex_person = Person {
        id: PersonId::new(),
        org: t.world.globex.id,
        user: Some(eve.user.id),
        first_name: "Eve".to_owned(),
        last_name: "Employee".to_owned(),
        email: Some(eve.user.email.clone()),
        title: Some("Lead at globex".to_owned()),
        avatar_url: None,
        manager: None,
        squad: None,
        employment: Employment::default(),
        gender: None,
        synced_at: None,
    };
    let mut tx = t.store.begin().await.unwrap();
    tx.org(t.world.globex.id)
        .create_person(&globex_person, t.app.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (eve, globex_person.id)
}

async fn me_in(t: &TestApp, who: &Persona, org: &str) -> Value {
    let a = t
        .get("/api/me")
        .as_user(who)
        .header("x-active-org", org)
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    a.body
}

async fn user_row(t: &TestApp, exec: &Persona, user: &Persona) -> Option<Value> {
    let a = t.get("/api/admin/users").as_user(exec).send().await;
    assert_eq!(a.status, 200, "{}", a.text);
    a.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user.user.id.to_string())
        .cloned()
}

#[tokio::test]
async fn a_member_of_two_organizations_sees_each_ones_person_and_rights() {
    let t = spawn().await;
    let (eve, globex_person) = eve_in_both(&t).await;
    // Acme lets employees update people; globex keeps the defaults.
    let a = t
        .put("/api/admin/permissions")
        .as_user(t.world.at("executive"))
        .json(
            &json!({"permissions": [{"tool": "people", "access_level": "employee",
            "can_view": true, "can_update": true, "can_manage": false}]}),
        )
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);

    let acme = me_in(&t, &eve, "acme").await;
    assert_eq!(acme["user"]["person_id"], eve.person.unwrap().to_string());
    assert!(
        acme["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("update:people")),
        "{acme}"
    );
    let globex = me_in(&t, &eve, "globex").await;
    assert_eq!(globex["user"]["person_id"], globex_person.to_string());
    assert_eq!(globex["access_level"], "lead");
    assert!(
        !globex["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("update:people")),
        "acme's matrix must not reach globex: {globex}"
    );
}

#[tokio::test]
async fn each_organizations_user_list_links_its_own_person() {
    let t = spawn().await;
    let (eve, globex_person) = eve_in_both(&t).await;
    let in_acme = user_row(&t, t.world.at("executive"), &eve).await.unwrap();
    assert_eq!(in_acme["person_id"], eve.person.unwrap().to_string());
    assert_eq!(in_acme["access_level"], "employee");
    let in_globex = user_row(&t, &t.world.globex_exec, &eve).await.unwrap();
    assert_eq!(in_globex["person_id"], globex_person.to_string());
    assert_eq!(in_globex["access_level"], "lead");
}

#[tokio::test]
async fn changing_a_level_in_one_organization_leaves_the_other() {
    let t = spawn().await;
    let (eve, _) = eve_in_both(&t).await;
    let a = t
        .put(&format!("/api/admin/users/{}", eve.user.id))
        .as_user(t.world.at("executive"))
        .json(&json!({"access_level": "manager", "onboarding_template_id": "acme-only"}))
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let in_globex = user_row(&t, &t.world.globex_exec, &eve).await.unwrap();
    assert_eq!(in_globex["access_level"], "lead");
    assert_eq!(in_globex["onboarding_template_id"], Value::Null);
}

#[tokio::test]
async fn removing_a_user_from_one_organization_keeps_the_other() {
    let t = spawn().await;
    let (eve, globex_person) = eve_in_both(&t).await;
    let a = t
        .delete(&format!("/api/admin/users/{}", eve.user.id))
        .as_user(t.world.at("executive"))
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(user_row(&t, t.world.at("executive"), &eve).await, None);
    let in_globex = user_row(&t, &t.world.globex_exec, &eve)
        .await
        .expect("still a member of globex");
    assert_eq!(in_globex["person_id"], globex_person.to_string());
    let globex = me_in(&t, &eve, "globex").await;
    assert_eq!(globex["organization"]["slug"], "globex");
}

#[tokio::test]
async fn the_last_executive_rule_counts_this_organizations_executives_only() {
    let t = spawn().await;
    // Globex has an executive too; acme's only executive still cannot step down.
    let me = t.world.at("executive");
    let a = t
        .put(&format!("/api/admin/users/{}", me.user.id))
        .as_user(me)
        .json(&json!({"access_level": "head"}))
        .send()
        .await;
    a.assert_problem(409, "conflict");
}

#[tokio::test]
async fn issuing_a_token_is_audited_in_the_users_organizations_only() {
    let t = spawn().await;
    let worker = &t.world.globex_employee;
    t.app
        .issue_token_for(&worker.user.email, Duration::hours(1))
        .await
        .unwrap();
    let actions = |exec: &Persona| {
        let call = t
            .get("/api/admin/audit?action=token.issue")
            .as_user(exec)
            .send();
        async move {
            let a = call.await;
            assert_eq!(a.status, 200, "{}", a.text);
            a.body["events"].as_array().unwrap().len()
        }
    };
    assert_eq!(actions(&t.world.globex_exec).await, 1);
    assert_eq!(actions(t.world.at("executive")).await, 0);
}

#[tokio::test]
async fn a_lease_is_released_in_its_own_organization_only() {
    let t = spawn().await;
    let now = t.app.clock.now();
    let ttl = Duration::minutes(5);
    let mut tx = t.store.begin().await.unwrap();
    for org in [t.world.acme.id, t.world.globex.id] {
        assert!(
            tx.org(org)
                .acquire_lease("sync:productive", "instance-a", now, ttl)
                .await
                .unwrap()
        );
    }
    tx.org(t.world.acme.id)
        .release_lease("sync:productive", "instance-a")
        .await
        .unwrap();
    let acme_free = tx
        .org(t.world.acme.id)
        .acquire_lease("sync:productive", "instance-b", now, ttl)
        .await
        .unwrap();
    let globex_free = tx
        .org(t.world.globex.id)
        .acquire_lease("sync:productive", "instance-b", now, ttl)
        .await
        .unwrap();
    assert_eq!((acme_free, globex_free), (true, false));
}

#[tokio::test]
async fn another_organizations_person_cannot_be_changed() {
    let t = spawn().await;
    let now = t.app.clock.now();
    let acme_person = t.world.at("lead").person.unwrap();
    let mut tx = t.store.begin().await.unwrap();
    let mut globex = tx.org(t.world.globex.id);
    let err = globex
        .save_employment(acme_person, &Employment::default(), None, now)
        .await
        .unwrap_err();
    assert!(matches!(err, roster_store::Error::NotFound(_)), "{err:?}");
    let err = globex
        .set_manager(acme_person, None, now)
        .await
        .unwrap_err();
    assert!(matches!(err, roster_store::Error::NotFound(_)), "{err:?}");
    drop(tx);
    // And the acme person is as it was: still managed by the manager.
    let mut tx = t.store.read().await.unwrap();
    let p = tx
        .org(t.world.acme.id)
        .get_person(acme_person)
        .await
        .unwrap();
    assert_eq!(p.manager, t.world.at("manager").person);
}

#[tokio::test]
async fn one_organizations_write_lock_never_blocks_another() {
    let t = roster_testkit::spawn_with(roster_testkit::Options {
        store: roster_store::StoreOptions {
            lock_timeout: std::time::Duration::from_millis(300),
        },
        ..Default::default()
    })
    .await;
    if t.store.dialect() == roster_store::Dialect::Sqlite {
        // SQLite has one writer for the whole database: every write waits for any other.
        eprintln!("skipped on SQLite: one writer per database, so every lock is global");
        return;
    }
    let mut held = t.store.begin().await.unwrap();
    held.org(t.world.acme.id).lock_memberships().await.unwrap();
    let a = t
        .put(&format!(
            "/api/admin/users/{}",
            t.world.globex_employee.user.id
        ))
        .as_user(&t.world.globex_exec)
        .json(&json!({"access_level": "lead"}))
        .send()
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    held.rollback().await.unwrap();
}
