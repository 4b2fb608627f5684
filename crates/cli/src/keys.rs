//! `roster keys …`: make a key, show which keys seal the stored secrets, and re-seal them all
//! under the newest key while `serve` runs. Also the start-up check's wording, which `serve`
//! and `demo` share. Prints key ids (public fingerprints) and counts, never a key but the one
//! `generate` makes, and never a secret.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Result, anyhow};
use clap::Subcommand;
use roster_app::App;
use roster_app::keys::{
    BatchDone, FailureReason, KeyError, KeyStatus, MissingKey, Place, RotateReport,
};
use roster_vault::{ExposeSecret, KeyId, SecretKey};

use crate::config::Config;
use crate::wiring;

/// What to do when a key in use is missing from the configuration.
const RESTORE_HINT: &str = "add the old key back after the new one in ROSTER_SECRET_KEY \
     (ROSTER_SECRET_KEY=NEW,OLD), run `roster keys rotate`, then remove it";

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new random secret key (base64 of 32 bytes) for ROSTER_SECRET_KEY.
    Generate,
    /// Show how many stored secrets each key id seals, in all and per column, and whether
    /// each key id is configured. Changes nothing.
    Status,
    /// Re-seal every stored secret under the newest key (the first of ROSTER_SECRET_KEY)
    /// while `serve` keeps running: in batches, resumable, safe to run twice at once.
    /// Progress goes to stderr; the end result (what is left under older keys) to stdout.
    Rotate {
        /// Rows re-sealed per transaction.
        #[arg(long, default_value_t = roster_app::keys::DEFAULT_BATCH_SIZE,
              value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch_size: u32,
    },
}

/// `roster keys generate` and its alias `roster admin generate-key`: needs no configuration.
#[expect(clippy::print_stdout, reason = "the command's output is its result")]
pub fn generate() {
    println!("{}", SecretKey::generate().to_base64().expose_secret());
}

pub async fn run(cmd: KeysCommand, config: &Config) -> Result<()> {
    match cmd {
        KeysCommand::Generate => {
            generate();
            Ok(())
        }
        KeysCommand::Status => {
            let keys = wiring::key_ring(config)?;
            let store = wiring::connect(config).await?;
            // Status changes nothing, migrations included.
            let schema = store.migration_status().await?;
            if !schema.is_current() {
                return Err(anyhow!(
                    "{} migration(s) pending: run `roster migrate` first",
                    schema.pending.len()
                ));
            }
            let app = wiring::app(store, keys, config)?;
            let status = app.key_status().await.map_err(|e| anyhow!(e))?;
            print(&status_text(&status));
            Ok(())
        }
        KeysCommand::Rotate { batch_size } => {
            let keys = wiring::key_ring(config)?;
            let store = wiring::connect(config).await?;
            wiring::require_schema(&store, config).await?;
            let app = wiring::app(store, keys, config)?;
            let report = app
                .rotate_keys(batch_size, |b| eprintln!("{}", batch_line(b)))
                .await
                .map_err(|e| anyhow!(e).context("the rotation stopped; run it again to resume"))?;
            print(&report_text(&report));
            rotate_outcome(&report)
        }
    }
}

#[expect(clippy::print_stdout, reason = "the command's output is its result")]
fn print(text: &str) {
    print!("{text}");
}

/// The start-up check of `serve` and `demo`: refuse to start, saying what to do, when a key
/// in use is not configured or does not open what it sealed.
pub async fn check_at_startup(app: &App) -> Result<()> {
    match app.check_keys().await {
        Ok(check) => {
            let in_use: Vec<String> = check.in_use.iter().map(ToString::to_string).collect();
            tracing::info!(
                key_ids = %in_use.join(","),
                opened = check.opened,
                canary_added = check.canary_added,
                "every key in use is configured and opens what it sealed"
            );
            Ok(())
        }
        Err(KeyError::Missing(missing)) => Err(anyhow!("{}", missing_text(&missing))),
        Err(e @ (KeyError::WontOpen { .. } | KeyError::Malformed { .. })) => Err(anyhow!(
            "{e}. Roster does not start with a key that fails: check that ROSTER_SECRET_KEY \
             holds this installation's keys, or restore the value from a backup"
        )),
        Err(e) => Err(anyhow!(e).context("cannot check the secret keys against the database")),
    }
}

fn missing_text(missing: &[MissingKey]) -> String {
    let mut out = String::new();
    for (i, m) in missing.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let uses: Vec<String> = m
            .uses
            .iter()
            .map(|(place, n)| format!("{place}: {n}"))
            .collect();
        let _ = write!(
            out,
            "key {} is in use ({}) but is not in ROSTER_SECRET_KEY",
            m.key_id,
            uses.join(", ")
        );
        if m.only_canary() {
            let _ = write!(
                out,
                " (only its canary names it, no stored secret: if that key is lost for good, \
                 `roster keys rotate` with the new key retires the canary)"
            );
        }
    }
    let _ = write!(out, ". Roster will not start: {RESTORE_HINT}.");
    out
}

fn batch_line(b: &BatchDone) -> String {
    let place = Place::Column(b.column);
    format!(
        "{place}: batch {}: {} re-sealed, {} changed meanwhile, {} failed ({} re-sealed in all)",
        b.number, b.resealed, b.changed_meanwhile, b.failed, b.total_resealed
    )
}

/// The ring's annotation of a key id.
fn ring_mark(status: &KeyStatus, id: Option<KeyId>) -> &'static str {
    match id {
        None => "not a key (corrupt values)",
        Some(id) if status.primary() == Some(id) => "newest",
        Some(id) if status.ring.contains(&id) => "configured",
        Some(_) => "MISSING",
    }
}

fn id_text(id: Option<KeyId>) -> String {
    id.map_or_else(|| "-".repeat(16), |id| id.to_string())
}

fn status_text(status: &KeyStatus) -> String {
    let mut out = String::new();
    let ring: Vec<String> = status.ring.iter().map(ToString::to_string).collect();
    let _ = writeln!(
        out,
        "configured keys (newest first, it seals new values): {}",
        ring.join(", ")
    );
    let totals = status.secrets_by_key();
    // Every key id: configured ones even when they seal nothing, and any canary's.
    let mut ids: BTreeMap<Option<KeyId>, u64> =
        status.ring.iter().map(|id| (Some(*id), 0)).collect();
    for c in &status.counts {
        ids.entry(c.key_id).or_default();
    }
    for (id, n) in &totals {
        ids.insert(*id, *n);
    }
    let _ = writeln!(out, "\nsecrets per key id:");
    for (id, n) in &ids {
        let _ = writeln!(
            out,
            "  {}  {:<26} {n:>8}",
            id_text(*id),
            ring_mark(status, *id)
        );
    }
    let _ = writeln!(out, "\nper column (and the key canaries):");
    if status.counts.is_empty() {
        let _ = writeln!(out, "  (no stored secrets)");
    }
    for c in &status.counts {
        let _ = writeln!(
            out,
            "  {:<38} {}  {:>8}",
            c.place.to_string(),
            id_text(c.key_id),
            c.count
        );
    }
    let remaining = status.remaining();
    let missing = status.missing();
    let _ = writeln!(out);
    if !missing.is_empty() {
        let _ = writeln!(out, "{}", missing_text(&missing));
    } else if remaining > 0 {
        let _ = writeln!(
            out,
            "{remaining} secret(s) not under the newest key: run `roster keys rotate`"
        );
    } else if status.counts.iter().any(|c| c.key_id != status.primary()) {
        let _ = writeln!(
            out,
            "every secret is under the newest key, but canaries still name older keys: \
             `roster keys rotate` retires them"
        );
    } else {
        let _ = writeln!(
            out,
            "everything is under the newest key: the other keys (if any) can be removed from ROSTER_SECRET_KEY"
        );
    }
    out
}

fn report_text(report: &RotateReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "re-sealed {} secret(s) under key {}; {} changed by another writer meanwhile (left as written)",
        report.resealed, report.to, report.changed_meanwhile
    );
    for f in &report.failures {
        let why = match f.reason {
            FailureReason::KeyNotInRing => "its key is not in ROSTER_SECRET_KEY",
            FailureReason::WontOpen => "it does not open with its key (altered or copied)",
            FailureReason::Malformed => "it is not a sealed value",
        };
        let _ = writeln!(
            out,
            "could not re-seal {} value(s) in {} under key {}: {why}",
            f.count,
            Place::Column(f.column),
            id_text(f.key_id)
        );
    }
    if !report.canaries_retired.is_empty() {
        let _ = writeln!(
            out,
            "retired the canaries of key(s) {}",
            report.canaries_retired.join(", ")
        );
    }
    let primary = report.after.primary();
    let older: Vec<(Option<KeyId>, u64)> = report
        .after
        .secrets_by_key()
        .into_iter()
        .filter(|(id, n)| *id != primary && *n > 0)
        .collect();
    if older.is_empty() {
        let _ = writeln!(
            out,
            "remaining under older keys: none; older keys can now be removed from ROSTER_SECRET_KEY"
        );
    } else {
        let _ = writeln!(out, "remaining under older keys:");
        for (id, n) in older {
            let _ = writeln!(out, "  {}  {n}", id_text(id));
        }
    }
    out
}

/// Success only when nothing is left under an older key.
fn rotate_outcome(report: &RotateReport) -> Result<()> {
    let remaining = report.after.remaining();
    if remaining == 0 {
        return Ok(());
    }
    let unopened: u64 = report.failures.iter().map(|f| f.count).sum();
    if unopened > 0 {
        return Err(anyhow!(
            "{remaining} secret(s) are still under older keys, {unopened} of them could not be opened (see above)"
        ));
    }
    Err(anyhow!(
        "{remaining} secret(s) are still under older keys (written by a process sealing with an older key meanwhile?): run `roster keys rotate` again"
    ))
}
