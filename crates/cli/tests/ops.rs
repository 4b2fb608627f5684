//! The operator's commands through the `roster` binary, on the suite's store (PostgreSQL
//! under `ROSTER_TEST_DATABASE_URL`, else SQLite): backup and restore, doctor's exit status
//! and JSON, secrets from `_FILE` settings and the start-up dump that never shows them, and
//! shell completions.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed setup must stop the test"
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;

use common::{ROSTER, Running, database_url, free_port, roster};

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A configuration file `dir/name.toml` holding `text`.
fn config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn run(config: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    roster(&all).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn backup_then_restore_into_an_empty_database_and_refuse_a_full_one() {
    let dir = tempfile::tempdir().unwrap();
    let source = config(
        dir.path(),
        "source",
        &format!(
            "database_url = \"{}\"\nsecret_key = \"{KEY}\"\n",
            database_url(dir.path(), "source")
        ),
    );
    let out = run(
        &source,
        &[
            "admin",
            "create-user",
            "--email",
            "ada@example.com",
            "--name",
            "Ada Chief",
            "--access-level",
            "executive",
            "--org",
            "example",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = dir.path().join("roster.snapshot");
    let out = run(&source, &["backup", "--to", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("schema"),
        "{}",
        text(&out.stdout)
    );

    let target = config(
        dir.path(),
        "target",
        &format!(
            "database_url = \"{}\"\nsecret_key = \"{KEY}\"\n",
            database_url(dir.path(), "target")
        ),
    );
    let out = run(&target, &["restore", "--from", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("every secret opens"),
        "{}",
        text(&out.stdout)
    );
    // The restored database knows the user: a token can be issued for them.
    let out = run(
        &target,
        &["admin", "issue-token", "--email", "ada@example.com"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = run(&target, &["restore", "--from", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn doctor_passes_on_a_healthy_installation_and_fails_on_an_unreachable_database() {
    let dir = tempfile::tempdir().unwrap();
    let ok = config(
        dir.path(),
        "ok",
        &format!(
            "database_url = \"{}\"\nsecret_key = \"{KEY}\"\n",
            database_url(dir.path(), "ok")
        ),
    );
    assert!(run(&ok, &["migrate"]).status.success());
    let out = run(&ok, &["doctor", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{report:#}");
    assert_eq!(report["ok"], true, "{report:#}");
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for name in [
        "config",
        "database",
        "migrations",
        "keys",
        "public_url",
        "clock",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }

    let down = config(
        dir.path(),
        "down",
        &format!(
            "database_url = \"postgres://roster:hunter2@127.0.0.1:1/roster\"\nsecret_key = \"{KEY}\"\n"
        ),
    );
    let out = run(&down, &["doctor"]);
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("PROBLEM") && l.contains("database")),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter2"), "never the password: {stdout}");
}

fn write_secret(path: &Path, value: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("{value}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn secrets_come_from_files_and_the_start_up_dump_redacts_them() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(
        dir.path(),
        "serve",
        &format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase_url = \"{}\"\n",
            database_url(dir.path(), "serve")
        ),
    );
    let key_file = dir.path().join("secret_key");
    write_secret(&key_file, KEY, 0o600);
    let xero_file = dir.path().join("xero_secret");
    let canary = "xero-canary-client-secret-7731";
    write_secret(&xero_file, canary, 0o644);

    let mut cmd = roster(&["--config", cfg.to_str().unwrap(), "serve"]);
    cmd.env("ROSTER_SECRET_KEY_FILE", &key_file)
        .env("ROSTER_XERO_CLIENT_SECRET_FILE", &xero_file)
        .env("ROSTER_XERO_CLIENT_ID", "client-id")
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    let mut running = Running(cmd.spawn().unwrap());
    let lines = BufReader::new(running.0.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines {
        let line = line.unwrap();
        let done = line.contains("roster is listening");
        seen.push(line);
        if done {
            break;
        }
    }
    let log = seen.join("\n");
    assert!(
        log.contains("roster is listening"),
        "serve started from the key file: {log}"
    );
    let dump: Vec<&String> = seen
        .iter()
        .filter(|l| l.contains("effective configuration"))
        .collect();
    assert_eq!(dump.len(), 1, "logged once: {log}");
    assert!(dump[0].contains("xero_client_secret=[redacted]"), "{log}");
    assert!(dump[0].contains("secret_key=[redacted]"), "{log}");
    assert!(dump[0].contains("xero_client_id=client-id"), "{log}");
    for secret in [canary, KEY, "MDEyMzQ1Njc4OWFi"] {
        assert!(!log.contains(secret), "{secret} leaked: {log}");
    }
    assert!(
        log.contains("ROSTER_XERO_CLIENT_SECRET_FILE") && log.contains("chmod 600"),
        "a world-readable secret file is warned about: {log}"
    );
    assert!(
        !log.contains("ROSTER_SECRET_KEY_FILE:"),
        "a private file is not: {log}"
    );
}

#[test]
fn a_setting_and_its_file_together_are_an_error_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("secret_key");
    write_secret(&key_file, KEY, 0o600);
    let out = roster(&["migrate"])
        .env("ROSTER_DATA_DIR", dir.path())
        .env("ROSTER_SECRET_KEY", KEY)
        .env("ROSTER_SECRET_KEY_FILE", &key_file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("ROSTER_SECRET_KEY and ROSTER_SECRET_KEY_FILE"),
        "{err}"
    );
    assert!(!err.contains(KEY), "{err}");
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = roster(&["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for word in ["backup", "restore", "doctor"] {
            assert!(script.contains(word), "{shell} completes {word}");
        }
    }
}

#[test]
fn doctor_names_a_key_in_use_that_is_not_configured() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path(), "keys");
    let old = config(
        dir.path(),
        "old",
        &format!("database_url = \"{url}\"\nsecret_key = \"{KEY}\"\n"),
    );
    // A rotation leaves the newest key's canary: the database now records that key id.
    let out = run(&old, &["keys", "rotate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let other = text(&roster(&["keys", "generate"]).output().unwrap().stdout);
    let new = config(
        dir.path(),
        "new",
        &format!(
            "database_url = \"{url}\"\nsecret_key = \"{}\"\n",
            other.trim()
        ),
    );
    let out = run(&new, &["doctor"]);
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("PROBLEM") && l.contains("keys"))
        .unwrap_or_else(|| panic!("no keys problem: {stdout}"));
    assert!(line.contains("not in ROSTER_SECRET_KEY"), "{line}");
    assert!(
        !stdout.contains(KEY) && !stdout.contains(other.trim()),
        "{stdout}"
    );
}

/// `systemd-analyze verify` accepts the shipped unit once `ExecStart` points at this build
/// (and the credential at a file that exists). Skipped where systemd is not installed.
#[test]
fn the_systemd_unit_verifies() {
    let Ok(out) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not installed: skipped");
        return;
    };
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/deploy/roster.service"),
    )
    .unwrap();
    let key = dir.path().join("secret_key");
    write_secret(&key, KEY, 0o600);
    let unit = shipped
        .replace("/usr/local/bin/roster", ROSTER)
        .replace("/etc/roster/secret_key", key.to_str().unwrap());
    assert_ne!(unit, shipped, "the unit names the binary and the key file");
    let path = dir.path().join("roster.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        text(&out.stderr)
    );
}
