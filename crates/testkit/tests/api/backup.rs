//! `roster backup` and `roster restore` at the application level, on the suite's store:
//! a backup taken while writes run restores into an empty database row for row, with every
//! secret opening; a missing key is named; a non-empty database and a newer schema are
//! refused.

use std::path::Path;

use roster_app::Settings;
use roster_app::backup::BackupError;
use roster_store::Store;
use roster_store::snapshot::SnapshotError;
use roster_testkit::{TestApp, build_app, server_url, spawn};
use roster_vault::{KeyRing, SecretKey};
use serde_json::json;

/// A fresh, empty database of the suite's kind.
async fn empty_database(dir: &Path) -> Store {
    let url = match server_url() {
        Some(server) => {
            let name = format!("roster_restore_{}", uuid::Uuid::new_v4().simple());
            roster_testkit::db::create_postgres_database(&server, &name)
                .await
                .unwrap()
        }
        None => format!("sqlite://{}", dir.join("restored.db").display()),
    };
    Store::connect(&url).await.unwrap()
}

/// Acme with a Productive connection, its synced people and their audit events.
async fn populated() -> TestApp {
    let t = spawn().await;
    t.connect_productive().await;
    t.sync_people("").await.assert_status(200);
    t
}

#[tokio::test]
async fn a_backup_taken_while_writes_run_restores_row_for_row_with_every_secret_opening() {
    let t = populated().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.snapshot");

    // A writer keeps re-connecting Productive (each with its audit event) meanwhile.
    let writer = {
        let exec = t.world.at("executive").token.clone();
        let url = t.url.clone();
        let productive_org = t.fakes.productive.organization_id().to_owned();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for _ in 0..15 {
                let body = json!({"api_token": "good-token", "organization_id": productive_org});
                let _ = http
                    .put(format!("{url}/api/admin/connections/productive"))
                    .bearer_auth(&exec)
                    .json(&body)
                    .send()
                    .await;
            }
        })
    };
    tokio::task::yield_now().await;
    let meta = t.app.backup(&file).await.unwrap();
    writer.await.unwrap();

    assert_eq!(meta.key_ids, [t.keys.primary_id().to_string()]);
    assert!(meta.schema_version >= 6, "{meta:?}");
    let bytes = std::fs::read(&file).unwrap();
    assert!(
        !bytes
            .windows(b"good-token".len())
            .any(|w| w == b"good-token"),
        "the snapshot holds no plaintext secret"
    );

    let target = empty_database(dir.path()).await;
    let restored_app = build_app(
        target.clone(),
        &t.clock,
        t.keys.clone(),
        Settings::default(),
    );
    let restored = restored_app.restore(&file, false).await.unwrap();
    assert!(restored.secrets.all_open(), "{:?}", restored.secrets);
    assert!(restored.secrets.opened >= 1, "{:?}", restored.secrets);

    let snapshot = Store::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap()
        .contents()
        .await
        .unwrap();
    let after = target.contents().await.unwrap();
    for table in [
        "users",
        "people",
        "audit_events",
        "connections",
        "memberships",
    ] {
        assert!(!snapshot[table].is_empty(), "{table} was backed up");
        assert_eq!(snapshot[table], after[table], "{table} is identical");
    }
    assert_eq!(snapshot, after, "every table is identical");

    // The restored database serves: the restored connection's secret opens in use.
    let mut tx = target.read().await.unwrap();
    let people = tx.org(t.world.acme.id).sync_people().await.unwrap();
    assert!(!people.is_empty());
}

#[tokio::test]
async fn restoring_without_a_key_in_use_names_the_missing_key_id() {
    let t = populated().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.snapshot");
    t.app.backup(&file).await.unwrap();

    let other = KeyRing::new(vec![SecretKey::generate()]).unwrap();
    let app = build_app(
        empty_database(dir.path()).await,
        &t.clock,
        other,
        Settings::default(),
    );
    let restored = app.restore(&file, false).await.unwrap();
    assert!(!restored.secrets.all_open());
    let missing: Vec<String> = restored
        .secrets
        .missing
        .iter()
        .map(|m| m.key_id.to_string())
        .collect();
    assert_eq!(missing, [t.keys.primary_id().to_string()]);
}

#[tokio::test]
async fn restoring_over_a_database_with_data_is_refused_and_changes_nothing() {
    let t = populated().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.snapshot");
    t.app.backup(&file).await.unwrap();
    // Something happens after the backup: it must survive the refused restore.
    t.connect_productive().await;
    let before = t.store.contents().await.unwrap();

    let err = t.app.restore(&file, false).await.unwrap_err();
    assert!(
        matches!(err, BackupError::Snapshot(SnapshotError::NotEmpty { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(t.store.contents().await.unwrap(), before);
}

#[tokio::test]
async fn force_replaces_everything_with_the_snapshot() {
    let t = populated().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.snapshot");
    t.app.backup(&file).await.unwrap();
    let snapshot = Store::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap()
        .contents()
        .await
        .unwrap();
    t.connect_productive().await;
    assert_ne!(t.store.contents().await.unwrap(), snapshot);

    let restored = t.app.restore(&file, true).await.unwrap();
    assert!(restored.secrets.all_open(), "{:?}", restored.secrets);
    assert_eq!(t.store.contents().await.unwrap(), snapshot);
}

#[tokio::test]
async fn a_snapshot_of_a_newer_schema_is_refused_and_a_backup_never_overwrites() {
    let t = spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.snapshot");
    t.app.backup(&file).await.unwrap();
    let err = t.app.backup(&file).await.unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");

    let snap = Store::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    snap.close().await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE roster_snapshot SET value = '9999' WHERE name = 'schema_version'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let app = build_app(
        empty_database(dir.path()).await,
        &t.clock,
        t.keys.clone(),
        Settings::default(),
    );
    let err = app.restore(&file, false).await.unwrap_err();
    assert!(
        matches!(
            err,
            BackupError::Snapshot(SnapshotError::NewerSchema {
                snapshot: 9_999,
                ..
            })
        ),
        "{err}"
    );
}
