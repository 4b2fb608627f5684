//! The `roster` binary end to end: configuration errors, the admin commands, `serve` with
//! JSON logs, and the demo's one-line JSON. Commands that take a config file run on the
//! suite's store (PostgreSQL under `ROSTER_TEST_DATABASE_URL`); the demo is SQLite by design.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed setup must stop the test"
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

mod common;

use common::{ROSTER, Running, database_url, free_port, roster, without_roster_env};

fn config_file(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("roster.toml");
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let text = format!(
        "database_url = \"{}\"\nsecret_key = \"{key}\"\n{extra}",
        database_url(dir, "roster")
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// `roster serve` with `config` and `env`, and its stderr lines.
fn start_serve(
    config: &std::path::Path,
    env: &[(&str, &str)],
) -> (
    Running,
    std::io::Lines<BufReader<std::process::ChildStderr>>,
) {
    let mut cmd = roster(&["--config", config.to_str().unwrap(), "serve"]);
    cmd.envs(env.iter().copied());
    spawn_serve(cmd)
}

/// Runs a `serve` command with its stderr piped back line by line.
fn spawn_serve(
    mut cmd: Command,
) -> (
    Running,
    std::io::Lines<BufReader<std::process::ChildStderr>>,
) {
    cmd.stderr(Stdio::piped()).stdout(Stdio::null());
    let mut running = Running(cmd.spawn().unwrap());
    let lines = BufReader::new(running.0.stderr.take().unwrap()).lines();
    (running, lines)
}

/// The lines up to and including the first that contains `needle`.
fn lines_until(
    lines: &mut std::io::Lines<BufReader<std::process::ChildStderr>>,
    needle: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("serve exited; it logged {seen:#?}"))
            .unwrap();
        let done = line.contains(needle);
        seen.push(line);
        if done {
            return seen;
        }
    }
}

#[test]
fn serve_refuses_to_start_without_a_secret_key_and_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = roster(&["serve"])
        .env("ROSTER_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ROSTER_SECRET_KEY") && err.contains("generate-key"),
        "{err}"
    );
}

#[test]
fn unknown_keys_and_malformed_values_are_errors_that_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_file(dir.path(), "listn = \"127.0.0.1:1\"\n");
    let out = roster(&["--config", path.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("listn"));
    let path = config_file(dir.path(), "");
    let out = roster(&["--config", path.to_str().unwrap(), "migrate"])
        .env("ROSTER_PEOPLE_TTL", "soon")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ROSTER_PEOPLE_TTL"));
}

#[test]
fn admin_commands_create_a_user_and_print_only_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_file(dir.path(), "");
    let cfg = path.to_str().unwrap();
    let out = roster(&[
        "--config",
        cfg,
        "admin",
        "create-user",
        "--email",
        "Ada@Example.com",
        "--name",
        "Ada Chief",
        "--access-level",
        "executive",
        "--org",
        "example",
    ])
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "create-user prints nothing on stdout"
    );
    let out = roster(&[
        "--config",
        cfg,
        "admin",
        "issue-token",
        "--email",
        "ada@example.com",
        "--ttl",
        "1h",
    ])
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(lines[0].split('.').count(), 3, "a JWT: {stdout}");
    // Bad input is refused with a message.
    let out = roster(&[
        "--config",
        cfg,
        "admin",
        "create-user",
        "--email",
        "x",
        "--name",
        "X",
        "--access-level",
        "boss",
    ])
    .output()
    .unwrap();
    assert!(!out.status.success());
    let out = roster(&[
        "--config",
        cfg,
        "admin",
        "issue-token",
        "--email",
        "nobody@example.com",
    ])
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user"));
}

#[test]
fn serve_logs_json_lines_carrying_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let path = config_file(dir.path(), &format!("listen = \"127.0.0.1:{port}\"\n"));
    let (_running, mut lines) = start_serve(&path, &[("ROSTER_LOG_FORMAT", "json")]);
    // Wait until it listens (the log says so), then make one request.
    loop {
        let line = lines.next().expect("serve exited").unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if v["message"] == "roster is listening" {
            break;
        }
    }
    let res = reqwest::blocking::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .header("x-request-id", "req-json-log-1")
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    loop {
        let line = lines.next().expect("serve exited").unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if v["span"]["request_id"] == "req-json-log-1" {
            assert_eq!(v["status"], 200, "{line}");
            break;
        }
    }
}

#[test]
fn demo_prints_one_json_line_and_its_tokens_work() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let child = roster(&[
        "demo",
        "--json",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut running = Running(child);
    let mut line = String::new();
    BufReader::new(running.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
    let url = ready["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    let users = ready["users"].as_array().unwrap();
    let levels: Vec<&str> = users
        .iter()
        .map(|u| u["access_level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["executive", "head", "manager", "lead", "employee"]);
    let client = reqwest::blocking::Client::new();
    for u in users {
        let me: Value = client
            .get(format!("{url}/api/me"))
            .bearer_auth(u["token"].as_str().unwrap())
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(me["access_level"], u["access_level"]);
        assert_eq!(me["user"]["email"], u["email"]);
        assert_eq!(me["user"]["person_id"], u["person_id"]);
    }
    // Every provider was connected through the Connections API's code path, and is ok.
    let connections: Value = client
        .get(format!("{url}/api/admin/connections"))
        .bearer_auth(users[0]["token"].as_str().unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    let connected: Vec<(&str, &str)> = connections["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["provider"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        connected,
        [
            ("google-workspace", "ok"),
            ("productive", "ok"),
            ("remote", "ok"),
            ("scrapin", "ok"),
            ("slack", "ok"),
            ("xero", "ok")
        ]
    );
    // After the ready line the demo links people to Xero and pulls their payroll, the
    // personas first: the executive's own profile fills from Xero within seconds.
    let exec_person = users[0]["person_id"].as_str().unwrap();
    let profile = || -> Value {
        client
            .get(format!("{url}/api/people/{exec_person}/profile"))
            .bearer_auth(users[0]["token"].as_str().unwrap())
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let pulled = loop {
        let p = profile();
        if !p["profile"]["xero_mapping"]["last_synced_at"].is_null() {
            break p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no payroll pull within a minute: {p}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(
        pulled["profile"]["xero_mapping"]["linked"], true,
        "{pulled}"
    );
    assert!(
        pulled["profile"]["demographics"]["date_of_birth"].is_string(),
        "the pull filled the profile from Xero: {pulled}"
    );
    let runs: Value = client
        .get(format!("{url}/api/admin/sync-runs"))
        .bearer_auth(users[0]["token"].as_str().unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        runs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "xero" && r["outcome"] == "succeeded"),
        "the Xero linking is a sync run: {runs}"
    );
    // The fakes' control API: someone leaves, the sync retires them; an outage fails the
    // sync and changes nothing; cleared, all is well.
    let control = ready["fakes_control_url"].as_str().unwrap();
    let cfg = data.join("roster.toml");
    assert!(
        std::fs::read_to_string(&cfg)
            .unwrap()
            .contains(&format!("fakes_control_url = \"{control}\"")),
        "roster.toml names the control API"
    );
    let exec = users[0]["token"].as_str().unwrap();
    let leaver = users[4]["email"].as_str().unwrap();
    let left = client
        .post(format!("{control}/people/{leaver}/leave"))
        .send()
        .unwrap();
    assert_eq!(left.status(), 200);
    let sync = || {
        client
            .post(format!("{url}/api/people/sync"))
            .bearer_auth(exec)
            .send()
            .unwrap()
    };
    let synced = sync();
    assert_eq!(synced.status(), 200);
    assert_eq!(synced.json::<Value>().unwrap()["counts"]["retired"], 1);
    let fault = client
        .post(format!("{control}/faults"))
        .body(r#"{"provider":"productive","operation":"people","status":500}"#)
        .send()
        .unwrap();
    assert_eq!(fault.status(), 200);
    assert_eq!(sync().status(), 502);
    let cleared = client.delete(format!("{control}/faults")).send().unwrap();
    assert_eq!(cleared.status(), 200);
    let again = sync();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().unwrap()["counts"]["retired"], 0);
    // The written configuration drives the admin commands against the running demo.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cfg).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "roster.toml holds the secret key: {mode:o}");
    }
    let out = roster(&[
        "--config",
        cfg.to_str().unwrap(),
        "admin",
        "issue-token",
        "--email",
        users[0]["email"].as_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let me = client
        .get(format!("{url}/api/me"))
        .bearer_auth(token.trim())
        .send()
        .unwrap();
    assert_eq!(me.status(), 200);
}

#[test]
fn with_auto_migrate_off_serve_is_not_ready_until_roster_migrate_runs() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let path = config_file(
        dir.path(),
        &format!("listen = \"127.0.0.1:{port}\"\nauto_migrate = false\n"),
    );
    let cfg = path.to_str().unwrap();
    let (_running, mut lines) = start_serve(&path, &[]);
    while !lines
        .next()
        .expect("serve exited")
        .unwrap()
        .contains("roster is listening")
    {}
    let client = reqwest::blocking::Client::new();
    let ready = client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().unwrap();
    assert!(
        body["database"]
            .as_str()
            .unwrap()
            .contains("roster migrate"),
        "{body}"
    );
    let out = roster(&["--config", cfg, "migrate"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ready = client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .unwrap();
    assert_eq!(ready.status(), 200);
}

fn create_ada(cfg: &str) -> std::process::Output {
    roster(&[
        "--config",
        cfg,
        "admin",
        "create-user",
        "--email",
        "ada@example.com",
        "--name",
        "Ada Chief",
        "--access-level",
        "executive",
    ])
    .output()
    .unwrap()
}

#[test]
fn admin_commands_on_an_unmigrated_database_say_to_run_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_file(dir.path(), "auto_migrate = false\n");
    let cfg = path.to_str().unwrap();
    let out = create_ada(cfg);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("roster migrate"), "{err}");
    assert!(!err.contains("no such table"), "{err}");
    // After `roster migrate` the same command works.
    assert!(
        roster(&["--config", cfg, "migrate"])
            .status()
            .unwrap()
            .success()
    );
    let out = create_ada(cfg);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn openapi_prints_the_served_document_without_reading_any_configuration() {
    let dir = tempfile::tempdir().unwrap();
    // A configuration that would stop any other command: it must not even be read.
    let missing = dir.path().join("missing.toml");
    let out = roster(&["--config", missing.to_str().unwrap(), "openapi"])
        .env("ROSTER_LISTEN", "not an address")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "stdout carries the document alone");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, roster_server::openapi::pretty_json().unwrap());
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/api/me"].is_object());
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let path = config_file(dir.path(), &format!("listen = \"127.0.0.1:{port}\"\n"));
    // No NO_COLOR: a pipe alone is reason enough.
    let mut cmd = roster(&["--config", path.to_str().unwrap(), "serve"]);
    cmd.env_remove("NO_COLOR");
    let (_running, mut lines) = spawn_serve(cmd);
    let logged = lines_until(&mut lines, "roster is listening");
    for line in &logged {
        assert!(!line.contains('\u{1b}'), "an escape code: {line:?}");
    }
}

/// The probe that once left the server answering nothing: with 1,024 descriptors, more idle
/// connections than that. The server is started with both limits at 1,024 (`ulimit -n`
/// in `sh`, as an operator's unit file or container would), so it cannot raise them.
#[test]
fn with_1024_descriptors_1100_idle_connections_leave_requests_answered() {
    const IDLE: usize = 1_100;
    // Ends a test that would otherwise wait for ever; never a measurement.
    const HANG_GUARD: std::time::Duration = std::time::Duration::from_secs(30);
    // This process holds the idle sockets itself.
    let soft = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    assert!(
        soft >= IDLE as u64 + 100,
        "the test needs {} descriptors; its hard limit allows {soft}",
        IDLE + 100
    );
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let path = config_file(dir.path(), &format!("listen = \"127.0.0.1:{port}\"\n"));
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -n 1024 && exec \"$0\" \"$@\"", ROSTER])
        .args(["--config", path.to_str().unwrap(), "serve"]);
    without_roster_env(&mut cmd);
    let (_running, mut lines) = spawn_serve(cmd);
    let logged = lines_until(&mut lines, "roster is listening");
    assert!(
        logged
            .iter()
            .any(|l| l.contains("descriptors=1024") && l.contains("max_connections=896")),
        "the server runs under the 1,024 limit and sizes its cap from it: {logged:#?}"
    );
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let idle: Vec<std::net::TcpStream> = (0..IDLE)
        .map(|_| std::net::TcpStream::connect_timeout(&addr, HANG_GUARD).unwrap())
        .collect();
    let res = reqwest::blocking::Client::builder()
        .timeout(HANG_GUARD)
        .build()
        .unwrap()
        .get(format!("http://{addr}/healthz"))
        .send()
        .expect("with idle connections at the cap, a request is still answered");
    assert_eq!(res.status(), 200);
    drop(idle);
}

/// A configuration on `database_url` with these keys, newest first.
fn keys_config(dir: &std::path::Path, database_url: &str, keys: &[&str], extra: &str) -> String {
    let path = dir.join("keys.toml");
    let list: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
    let text = format!(
        "database_url = \"{database_url}\"\nsecret_key = [{}]\n{extra}",
        list.join(", ")
    );
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// An organization with a Xero credential sealed under `key`, written as the connections API
/// will write it.
fn store_a_credential(database_url: &str, key: &str) {
    use roster_domain::model::Organization;
    use roster_domain::{OrgId, Provider, Slug};
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = roster_store::Store::connect(database_url).await.unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
            .unwrap()
            .to_utc();
        let org = Organization {
            id: OrgId::new(),
            slug: Slug::parse("org", "example").unwrap(),
            name: "Example".to_owned(),
            created_at: now,
        };
        let mut tx = store.begin().await.unwrap();
        tx.create_org(&org).await.unwrap();
        tx.commit().await.unwrap();
        store.close().await;
        let ring = roster_vault::KeyRing::parse_list(&[key]).unwrap();
        let sealed = ring.encrypt(
            b"xero refresh token",
            &roster_app::secrets::connection(org.id, Provider::Xero),
        );
        let db = roster_testkit::sealed::SealedTables::connect(database_url)
            .await
            .unwrap();
        db.put_connection(org.id, Provider::Xero, sealed.as_bytes(), now)
            .await
            .unwrap();
        db.close().await;
    });
}

fn run_ok(args: &[&str]) -> (String, String) {
    let out = roster(args).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(out.status.success(), "{args:?}: {stderr}");
    (stdout, stderr)
}

#[test]
fn keys_generate_and_its_alias_print_one_new_key_each() {
    let (a, _) = run_ok(&["keys", "generate"]);
    let (b, _) = run_ok(&["admin", "generate-key"]);
    for key in [&a, &b] {
        assert_eq!(key.lines().count(), 1, "{key}");
        roster_vault::SecretKey::parse(key).unwrap();
    }
    assert_ne!(a, b);
}

#[test]
fn serve_refuses_a_key_in_use_that_is_missing_until_it_is_rotated_out() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path(), "roster");
    let old = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let new = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
    let old_id = roster_vault::SecretKey::parse(old)
        .unwrap()
        .id()
        .to_string();
    let new_id = roster_vault::SecretKey::parse(new)
        .unwrap()
        .id()
        .to_string();
    let cfg = keys_config(dir.path(), &url, &[old], "");
    run_ok(&["--config", &cfg, "migrate"]);
    store_a_credential(&url, old);

    // Status names the key id, the column and the count, and writes nothing.
    let (status, _) = run_ok(&["--config", &cfg, "keys", "status"]);
    let line = status
        .lines()
        .find(|l| l.contains("connections.secret_sealed"))
        .unwrap_or_else(|| panic!("{status}"));
    assert!(
        line.contains(&old_id) && line.trim_end().ends_with(" 1"),
        "{status}"
    );
    assert!(
        !status.contains("key_canaries"),
        "status adds no canary: {status}"
    );

    // A redeploy with only the new key: serve stops before listening, naming the old key.
    let cfg = keys_config(dir.path(), &url, &[new], "listen = \"127.0.0.1:0\"\n");
    let out = roster(&["--config", &cfg, "serve"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&old_id)
            && err.contains("ROSTER_SECRET_KEY")
            && err.contains("roster keys rotate")
            && !err.contains("roster is listening"),
        "{err}"
    );
    assert!(
        !err.contains(old) && !err.contains(new),
        "no key in messages: {err}"
    );

    // The documented way out: both keys, rotate, then the new key alone.
    let cfg = keys_config(dir.path(), &url, &[new, old], "");
    let (report, progress) = run_ok(&["--config", &cfg, "keys", "rotate", "--batch-size", "1"]);
    assert!(
        progress.contains("connections.secret_sealed: batch 1: 1 re-sealed"),
        "{progress}"
    );
    assert!(
        report.contains(&format!("re-sealed 1 secret(s) under key {new_id}")),
        "{report}"
    );
    assert!(
        report.contains("remaining under older keys: none"),
        "{report}"
    );
    let (status, _) = run_ok(&["--config", &cfg, "keys", "status"]);
    assert!(
        status
            .lines()
            .any(|l| l.contains("connections.secret_sealed") && l.contains(&new_id)),
        "{status}"
    );
    let port = free_port();
    let cfg = keys_config(
        dir.path(),
        &url,
        &[new],
        &format!("listen = \"127.0.0.1:{port}\"\n"),
    );
    let (_running, mut lines) = start_serve(std::path::Path::new(&cfg), &[]);
    while !lines
        .next()
        .expect("serve exited")
        .unwrap()
        .contains("roster is listening")
    {}
}
