//! Key rotation and the start-up key check against a real database: rotation while tasks keep
//! reading and saving sealed values, two rotations at once, a resumed rotation, the store's
//! compare-and-swap, and the check that refuses a missing or failing key.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use roster_app::keys::{KeyError, Place};
use roster_app::{App, Settings, secrets};
use roster_domain::{AccountId, Clock, OrgId, Provider};
use roster_store::Store;
use roster_store::audit::AuditQuery;
use roster_store::secrets::{KeyFilter, Page, RowKey, SealedColumn};
use roster_testkit::sealed::SealedTables;
use roster_testkit::{TestApp, spawn};
use roster_vault::{ExposeSecret, KeyId, KeyRing, Sealed, SecretKey, SecretString};

/// An old key and a new one, as the three rings of a rotation: before, during, after.
struct Rings {
    old: KeyRing,
    during: KeyRing,
    new: KeyRing,
}

impl Rings {
    fn generate() -> Self {
        let (old, new) = (SecretKey::generate(), SecretKey::generate());
        Self {
            old: KeyRing::new(vec![old.clone()]).unwrap(),
            during: KeyRing::new(vec![new.clone(), old]).unwrap(),
            new: KeyRing::new(vec![new]).unwrap(),
        }
    }

    fn old_id(&self) -> KeyId {
        self.old.primary_id()
    }

    fn new_id(&self) -> KeyId {
        self.new.primary_id()
    }
}

/// An application on the test's database with this key ring, as a server configured with it.
fn app_with(t: &TestApp, ring: &KeyRing) -> App {
    App::new(
        t.store.clone(),
        Arc::new(t.clock.clone()),
        ring,
        Settings::default(),
    )
}

fn seal(ring: &KeyRing, text: &str, row: &RowKey) -> Vec<u8> {
    ring.encrypt_str(&SecretString::from(text.to_owned()), &secrets::of_row(row))
        .into_bytes()
}

fn connection_text(org: OrgId, provider: Provider, version: u32) -> String {
    format!("credential {org} {provider} v{version}")
}

/// Every connection of both organizations: twelve rows.
fn connections(t: &TestApp) -> Vec<(OrgId, Provider)> {
    [t.world.acme.id, t.world.globex.id]
        .into_iter()
        .flat_map(|org| Provider::ALL.iter().map(move |p| (org, *p)))
        .collect()
}

/// A value in each of the five sealed columns, sealed under `ring`'s newest key: twelve
/// connections, five financial sections, three OAuth states, two integration accounts, three
/// sign-ins. Answers what each row holds.
async fn seed(t: &TestApp, db: &SealedTables, ring: &KeyRing) -> HashMap<RowKey, String> {
    let now = t.clock.now();
    let mut expected = HashMap::new();
    for (org, provider) in connections(t) {
        let row = RowKey::Connection { org, provider };
        let text = connection_text(org, provider, 0);
        db.put_connection(org, provider, &seal(ring, &text, &row), now)
            .await
            .unwrap();
        expected.insert(row, text);
    }
    let acme = t.world.acme.id;
    for level in ["executive", "head", "manager", "lead", "employee"] {
        let person = t.world.at(level).person.unwrap();
        let row = RowKey::Person { org: acme, person };
        let text = format!("bank details of the {level}");
        db.put_person_financial(acme, person, &seal(ring, &text, &row))
            .await
            .unwrap();
        expected.insert(row, text);
    }
    for i in 0..3 {
        let state_hash = format!("oauth-state-{i}");
        let row = RowKey::OauthState {
            org: acme,
            state_hash: state_hash.clone(),
        };
        let text = format!("verifier {i}");
        db.put_oauth_state(
            acme,
            t.world.at("executive").user.id,
            &state_hash,
            &seal(ring, &text, &row),
            now,
        )
        .await
        .unwrap();
        expected.insert(row, text);
    }
    let globex = t.world.globex.id;
    for i in 0..2 {
        let account = AccountId::new();
        let row = RowKey::IntegrationAccount {
            org: globex,
            account,
        };
        let text = format!("account tokens {i}");
        db.put_integration_account(
            globex,
            account,
            t.world.globex_exec.user.id,
            &seal(ring, &text, &row),
            now,
        )
        .await
        .unwrap();
        expected.insert(row, text);
    }
    for i in 0..3 {
        let state_hash = format!("{i:064x}");
        let row = RowKey::SignIn {
            state_hash: state_hash.clone(),
        };
        let text = format!("sign-in verifier {i}");
        db.put_sign_in(&state_hash, &seal(ring, &text, &row), now)
            .await
            .unwrap();
        expected.insert(row, text);
    }
    expected
}

/// Opens every stored value with `ring` alone and checks it holds what `expected` says: every
/// value must be under `ring`'s key, and none may be missing or extra.
async fn assert_every_value_opens(t: &TestApp, ring: &KeyRing, expected: &HashMap<RowKey, String>) {
    let mut tx = t.store.read().await.unwrap();
    let mut seen = 0;
    for column in SealedColumn::ALL {
        let other = tx
            .sealed_rows(
                Page::First(column),
                KeyFilter::NotUnder(ring.primary_id().as_bytes()),
                1000,
            )
            .await
            .unwrap();
        assert!(
            other.is_empty(),
            "{column:?}: {} under another key",
            other.len()
        );
        let rows = tx
            .sealed_rows(
                Page::First(column),
                KeyFilter::Under(ring.primary_id().as_bytes()),
                1000,
            )
            .await
            .unwrap();
        for row in rows {
            let sealed = Sealed::from_bytes(&row.sealed).unwrap();
            let text = ring
                .decrypt_str(&sealed, &secrets::of_row(&row.key))
                .unwrap_or_else(|e| panic!("{:?} does not open: {e}", row.key));
            assert_eq!(
                Some(text.expose_secret()),
                expected.get(&row.key).map(String::as_str),
                "{:?}",
                row.key
            );
            seen += 1;
        }
    }
    tx.rollback().await.unwrap();
    assert_eq!(seen, expected.len());
}

/// The `keys.rotate` events of one organization: how many values they say were re-sealed.
async fn audited_reseals(t: &TestApp, org: OrgId) -> u64 {
    let mut tx = t.store.read().await.unwrap();
    let events = tx
        .org(org)
        .list_audit(&AuditQuery {
            action: Some("keys.rotate".to_owned()),
            limit: 500,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    events
        .iter()
        .map(|e| {
            assert_eq!(e.actor, None, "the system re-seals");
            assert_eq!(
                e.detail.as_object().unwrap().len(),
                2,
                "counts only: {}",
                e.detail
            );
            e.detail["resealed"].as_u64().unwrap()
        })
        .sum()
}

fn under(status: &roster_app::keys::KeyStatus, id: KeyId) -> u64 {
    status
        .counts
        .iter()
        .filter(|c| c.key_id == Some(id))
        .map(|c| c.count)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_while_eight_tasks_read_and_save_fails_no_read_and_loses_no_save() {
    let t = spawn().await;
    let db = SealedTables::connect(&t.database_url).await.unwrap();
    let rings = Rings::generate();
    let mut expected = seed(&t, &db, &rings.old).await;
    app_with(&t, &rings.old).check_keys().await.unwrap();
    // Before the rotation a server without the old key refuses to start, naming it.
    match app_with(&t, &rings.new).check_keys().await {
        Err(KeyError::Missing(missing)) => {
            let ids: Vec<KeyId> = missing.iter().map(|m| m.key_id).collect();
            assert_eq!(ids, [rings.old_id()]);
        }
        other => panic!("expected the old key to be missing: {other:?}"),
    }

    // Eight tasks, as the servers during a rotation (both keys, the new one first): each
    // reads and opens every connection, then saves a fresh value of its own connection, over
    // and over until the rotation has ended.
    let rotating = Arc::new(AtomicBool::new(true));
    let all = Arc::new(connections(&t));
    let ring = Arc::new(rings.during.clone());
    let now = t.clock.now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (db, all, ring, rotating) = (db.clone(), all.clone(), ring.clone(), rotating.clone());
        tasks.spawn(async move {
            let (org, provider) = all[i];
            let mut version = 0;
            while version < 3 || rotating.load(Ordering::SeqCst) {
                for &(o, p) in all.iter() {
                    let bytes = db.connection(o, p).await.unwrap().unwrap();
                    let text = ring
                        .decrypt_str(
                            &Sealed::from_bytes(&bytes).unwrap(),
                            &secrets::connection(o, p),
                        )
                        .unwrap_or_else(|e| panic!("reading {o} {p} failed: {e}"));
                    assert!(
                        text.expose_secret()
                            .starts_with(&format!("credential {o} {p} v"))
                    );
                }
                version += 1;
                let row = RowKey::Connection { org, provider };
                let fresh = seal(&ring, &connection_text(org, provider, version), &row);
                db.put_connection(org, provider, &fresh, now).await.unwrap();
            }
            ((org, provider), version)
        });
    }
    let app = app_with(&t, &rings.during);
    let mut batches = 0;
    let report = app.rotate_keys(3, |_| batches += 1).await.unwrap();
    rotating.store(false, Ordering::SeqCst);
    for ((org, provider), version) in tasks.join_all().await {
        expected.insert(
            RowKey::Connection { org, provider },
            connection_text(org, provider, version),
        );
    }

    assert!(batches >= 5, "{batches} batches of at most 3 rows");
    assert_eq!(report.to, rings.new_id());
    assert_eq!(report.after.remaining(), 0, "{report:?}");
    assert!(report.failures.is_empty(), "{report:?}");
    assert_eq!(report.canaries_retired, [rings.old_id().to_string()]);
    let status = app.key_status().await.unwrap();
    assert_eq!(under(&status, rings.old_id()), 0, "{status:?}");
    // Every task's last save is what is stored (no batch overwrote it), and a server that
    // knows only the new key starts and opens everything.
    assert_every_value_opens(&t, &rings.new, &expected).await;
    let check = app_with(&t, &rings.new).check_keys().await.unwrap();
    assert_eq!(check.in_use, [rings.new_id()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_rotations_at_once_then_a_third_reseal_each_value_exactly_once() {
    let t = spawn().await;
    let db = SealedTables::connect(&t.database_url).await.unwrap();
    let rings = Rings::generate();
    let expected = seed(&t, &db, &rings.old).await;
    let total = expected.len() as u64;
    let here = app_with(&t, &rings.during);
    // Another machine: its own connection pool on the same database.
    let there = App::new(
        Store::connect(&t.database_url).await.unwrap(),
        Arc::new(t.clock.clone()),
        &rings.during,
        Settings::default(),
    );
    let (a, b) = tokio::join!(
        tokio::spawn(async move { here.rotate_keys(2, |_| {}).await.unwrap() }),
        tokio::spawn(async move { there.rotate_keys(2, |_| {}).await.unwrap() }),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.resealed + b.resealed, total, "{a:?}\n{b:?}");
    assert_eq!((a.after.remaining(), b.after.remaining()), (0, 0));
    let before = app_with(&t, &rings.during).key_status().await.unwrap();
    assert_eq!(under(&before, rings.new_id()), total + 1, "and the canary");

    // Running it again finds nothing to do and changes nothing.
    let again = app_with(&t, &rings.during)
        .rotate_keys(2, |b| panic!("no batch expected: {b:?}"))
        .await
        .unwrap();
    assert_eq!((again.resealed, again.changed_meanwhile), (0, 0));
    assert_eq!(again.after.counts, before.counts);
    assert_every_value_opens(&t, &rings.new, &expected).await;

    // Each organization's log says how many of its values were re-sealed; sign-ins belong to
    // none.
    let sign_ins = expected
        .keys()
        .filter(|k| matches!(k, RowKey::SignIn { .. }))
        .count() as u64;
    let acme = audited_reseals(&t, t.world.acme.id).await;
    let globex = audited_reseals(&t, t.world.globex.id).await;
    assert_eq!(acme + globex, total - sign_ins);
    assert_eq!(globex, 6 + 2, "six connections and two accounts");
}

#[tokio::test]
async fn a_second_run_reseals_only_what_is_still_under_an_older_key() {
    let t = spawn().await;
    let db = SealedTables::connect(&t.database_url).await.unwrap();
    let rings = Rings::generate();
    let mut expected = seed(&t, &db, &rings.old).await;
    let app = app_with(&t, &rings.during);
    let mut progress = Vec::new();
    let first = app
        .rotate_keys(4, |b| progress.push(b.clone()))
        .await
        .unwrap();
    assert_eq!(first.resealed, expected.len() as u64);
    // Batches count from 1 per column, hold at most 4 rows, and add up.
    let connection_batches: Vec<u32> = progress
        .iter()
        .filter(|b| b.column == SealedColumn::Connections)
        .map(|b| b.number)
        .collect();
    assert_eq!(
        connection_batches,
        [1, 2, 3],
        "twelve connections, four at a time"
    );
    assert!(progress.iter().all(|b| b.resealed <= 4));
    assert_eq!(progress.last().unwrap().total_resealed, first.resealed);

    // A server still sealing with the old key saves two credentials meanwhile.
    for (org, provider) in connections(&t).into_iter().take(2) {
        let row = RowKey::Connection { org, provider };
        let text = connection_text(org, provider, 9);
        db.put_connection(org, provider, &seal(&rings.old, &text, &row), t.clock.now())
            .await
            .unwrap();
        expected.insert(row, text);
    }
    let status = app.key_status().await.unwrap();
    assert_eq!(status.remaining(), 2);
    let second = app.rotate_keys(4, |_| {}).await.unwrap();
    assert_eq!(second.resealed, 2, "only what was left: {second:?}");
    assert_eq!(second.after.remaining(), 0);
    assert_every_value_opens(&t, &rings.new, &expected).await;
}

#[tokio::test]
async fn replacing_a_sealed_value_keeps_one_saved_since_it_was_read() {
    let t = spawn().await;
    let db = SealedTables::connect(&t.database_url).await.unwrap();
    let rings = Rings::generate();
    let (org, provider) = (t.world.acme.id, Provider::Xero);
    let row = RowKey::Connection { org, provider };
    let now = t.clock.now();
    db.put_connection(org, provider, &seal(&rings.old, "first", &row), now)
        .await
        .unwrap();
    let mut tx = t.store.read().await.unwrap();
    let read = tx
        .sealed_rows(
            Page::First(SealedColumn::Connections),
            KeyFilter::NotUnder(rings.new_id().as_bytes()),
            10,
        )
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(read.len(), 1);
    // A fresh credential is saved after the read...
    let fresh = seal(&rings.new, "fresh", &row);
    db.put_connection(org, provider, &fresh, now).await.unwrap();
    // ...so replacing what was read changes nothing, while replacing what is there works.
    let mut tx = t.store.begin().await.unwrap();
    assert!(
        !tx.replace_sealed(&read[0].key, &read[0].sealed, b"stale")
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(
        db.connection(org, provider).await.unwrap(),
        Some(fresh.clone())
    );
    let mut tx = t.store.begin().await.unwrap();
    assert!(tx.replace_sealed(&row, &fresh, b"next").await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        db.connection(org, provider).await.unwrap(),
        Some(b"next".to_vec())
    );
}

#[tokio::test]
async fn the_start_up_check_refuses_a_missing_key_and_a_value_that_does_not_open() {
    let t = spawn().await;
    let db = SealedTables::connect(&t.database_url).await.unwrap();
    let rings = Rings::generate();
    let old = app_with(&t, &rings.old);
    // No secret yet: the check passes and leaves a canary, once.
    let check = old.check_keys().await.unwrap();
    assert!(check.canary_added);
    assert!(!old.check_keys().await.unwrap().canary_added);
    // A redeploy with another key: only the canary knows the old one, and says so.
    match app_with(&t, &rings.new).check_keys().await {
        Err(KeyError::Missing(missing)) => {
            assert_eq!(missing.len(), 1);
            assert_eq!(missing[0].key_id, rings.old_id());
            assert!(missing[0].only_canary());
        }
        other => panic!("expected a missing key: {other:?}"),
    }
    // With a stored secret the message names where it is used.
    let (org, provider) = (t.world.acme.id, Provider::Slack);
    let row = RowKey::Connection { org, provider };
    let good = seal(&rings.old, "xoxb", &row);
    db.put_connection(org, provider, &good, t.clock.now())
        .await
        .unwrap();
    let err = app_with(&t, &rings.new).check_keys().await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&rings.old_id().to_string())
            && message.contains("connections.secret_sealed: 1")
            && message.contains("key_canaries: 1"),
        "{message}"
    );

    // A value altered in the database, or copied to another row, does not open: the check
    // names the key and the column. Bytes that are no sealed value at all are named too.
    let mut altered = good.clone();
    *altered.last_mut().unwrap() ^= 1;
    let copied = seal(
        &rings.old,
        "xoxb",
        &RowKey::Connection {
            org,
            provider: Provider::Xero,
        },
    );
    for bytes in [altered, copied] {
        db.put_connection(org, provider, &bytes, t.clock.now())
            .await
            .unwrap();
        match old.check_keys().await {
            Err(KeyError::WontOpen { place, key_id }) => {
                assert_eq!(place, Place::Column(SealedColumn::Connections));
                assert_eq!(key_id, rings.old_id());
            }
            other => panic!("expected a value that does not open: {other:?}"),
        }
    }
    db.put_connection(org, provider, b"garbage", t.clock.now())
        .await
        .unwrap();
    assert!(matches!(
        old.check_keys().await,
        Err(KeyError::Malformed {
            place: Place::Column(SealedColumn::Connections)
        })
    ),);
    db.put_connection(org, provider, &good, t.clock.now())
        .await
        .unwrap();
    old.check_keys().await.unwrap();
}
