//! The store's guarantees that no buggy caller can get around, on whichever database runs.

use chrono::Duration;
use roster_domain::model::{Employment, Person};
use roster_domain::{Email, PersonId};
use roster_testkit::db::{AuditTamper, try_tamper_audit};
use roster_testkit::spawn;

fn person(t: &roster_testkit::TestApp, email: &str) -> Person {
    Person {
        id: PersonId::new(),
        org: t.world.acme.id,
        user: None,
        first_name: "Pat".to_owned(),
        last_name: "Doe".to_owned(),
        email: Some(Email::parse(email).unwrap()),
        title: None,
        avatar_url: None,
        manager: None,
        squad: None,
        employment: Employment::default(),
        gender: None,
        synced_at: None,
    }
}

#[tokio::test]
async fn emails_are_unique_per_organization_but_not_across() {
    let t = spawn().await;
    let now = t.app.clock.now();
    let mut tx = t.store.begin().await.unwrap();
    let err = tx
        .org(t.world.acme.id)
        .create_person(&person(&t, "head@acme.test"), now)
        .await
        .unwrap_err();
    assert!(matches!(err, roster_store::Error::Conflict(_)), "{err:?}");
    drop(tx);
    let mut tx = t.store.begin().await.unwrap();
    let mut p = person(&t, "head@acme.test");
    p.org = t.world.globex.id;
    tx.org(t.world.globex.id)
        .create_person(&p, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_manager_must_belong_to_the_same_organization() {
    let t = spawn().await;
    let now = t.app.clock.now();
    let mut tx = t.store.begin().await.unwrap();
    let mut p = person(&t, "new@globex.test");
    p.org = t.world.globex.id;
    p.manager = t.world.at("executive").person; // an acme person
    let err = tx
        .org(t.world.globex.id)
        .create_person(&p, now)
        .await
        .unwrap_err();
    assert!(matches!(err, roster_store::Error::Conflict(_)), "{err:?}");
}

#[tokio::test]
async fn another_organizations_person_is_not_found() {
    let t = spawn().await;
    let mut tx = t.store.read().await.unwrap();
    let err = tx
        .org(t.world.globex.id)
        .get_person(t.world.at("head").person.unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, roster_store::Error::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_expires_or_is_released() {
    let t = spawn().await;
    let org = t.world.acme.id;
    let now = t.app.clock.now();
    let ttl = Duration::seconds(30);
    let take = |holder: &'static str, at| {
        let store = t.store.clone();
        async move {
            let mut tx = store.begin().await.unwrap();
            let won = tx
                .org(org)
                .acquire_lease("sync:productive", holder, at, ttl)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            won
        }
    };
    assert!(take("a", now).await);
    assert!(!take("b", now + Duration::seconds(10)).await, "held by a");
    assert!(
        take("a", now + Duration::seconds(10)).await,
        "the holder renews"
    );
    assert!(
        take("b", now + Duration::seconds(41)).await,
        "expired: b takes over"
    );
    assert!(!take("a", now + Duration::seconds(42)).await);
    let mut tx = t.store.begin().await.unwrap();
    tx.org(org)
        .release_lease("sync:productive", "b")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(take("a", now + Duration::seconds(43)).await, "released");
    // Leases are per organization.
    let mut tx = t.store.begin().await.unwrap();
    assert!(
        tx.org(t.world.globex.id)
            .acquire_lease("sync:productive", "c", now, ttl)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn concurrent_lease_claims_have_exactly_one_winner() {
    let t = spawn().await;
    let org = t.world.acme.id;
    let now = t.app.clock.now();
    let mut handles = Vec::new();
    for i in 0..8 {
        let store = t.store.clone();
        handles.push(tokio::spawn(async move {
            let holder = format!("instance-{i}");
            let mut tx = store.begin().await.unwrap();
            let won = tx
                .org(org)
                .acquire_lease("refresh:xero", &holder, now, Duration::seconds(30))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            won
        }));
    }
    let mut winners = 0;
    for h in handles {
        winners += usize::from(h.await.unwrap());
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes() {
    let t = spawn().await;
    let store = &t.store;
    assert!(store.migration_status().await.unwrap().is_current());
    let events = count_audit(store).await;
    assert!(events > 0, "the world's setup wrote audit events");
    let mut attempts = vec![
        (AuditTamper::Update, "UPDATE refused"),
        (AuditTamper::Delete, "DELETE refused"),
    ];
    if store.dialect() == roster_store::Dialect::Postgres {
        attempts.push((AuditTamper::Truncate, "TRUNCATE refused"));
    }
    for (how, refusal) in attempts {
        // Each trigger names what it refused: a missing one cannot hide behind the other.
        let err = try_tamper_audit(&t.database_url, how)
            .await
            .expect_err(&format!("{how:?} must be refused"));
        let text = error_chain(&err);
        assert!(
            text.contains(&format!("audit_events is append-only: {refusal}")),
            "{how:?}: {text}"
        );
    }
    assert_eq!(count_audit(store).await, events, "nothing was changed");
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        text = format!("{text}: {cause}");
        next = cause.source();
    }
    text
}

async fn count_audit(store: &roster_store::Store) -> usize {
    let mut total = 0;
    for org in roster_store_orgs(store).await {
        let mut tx = store.read().await.unwrap();
        let q = roster_store::audit::AuditQuery {
            limit: 10_000,
            ..Default::default()
        };
        total += tx.org(org).list_audit(&q).await.unwrap().len();
        tx.rollback().await.unwrap();
    }
    total
}

async fn roster_store_orgs(store: &roster_store::Store) -> Vec<roster_domain::OrgId> {
    let mut tx = store.read().await.unwrap();
    let orgs = tx.list_orgs().await.unwrap();
    tx.rollback().await.unwrap();
    orgs.into_iter().map(|o| o.id).collect()
}

#[tokio::test]
async fn migrating_twice_applies_nothing_new() {
    let t = spawn().await;
    let applied = t.store.migrate(t.app.clock.now()).await.unwrap();
    assert!(applied.is_empty());
}
