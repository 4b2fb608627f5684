//! What the CLI's test binaries share: running `roster` with a clean environment, a fresh
//! database of the suite's kind, a child killed when the test ends, a free port.
#![allow(dead_code, reason = "each test binary uses the part it needs")]

use std::path::Path;
use std::process::{Child, Command};

pub const ROSTER: &str = env!("CARGO_BIN_EXE_roster");

/// A `roster` command with a clean `ROSTER_*` environment.
pub fn roster(args: &[&str]) -> Command {
    let mut cmd = Command::new(ROSTER);
    cmd.args(args);
    without_roster_env(&mut cmd);
    cmd
}

/// Removes the suite's own `ROSTER_*` settings from a child's environment.
#[expect(
    clippy::disallowed_methods,
    reason = "the test removes the suite's own ROSTER_* settings from the child's environment"
)]
pub fn without_roster_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ROSTER_") {
            cmd.env_remove(k);
        }
    }
}

/// A fresh database of the suite's kind: a new PostgreSQL database when the suite runs on
/// PostgreSQL (`ROSTER_TEST_DATABASE_URL`), else the SQLite file `dir/name.db`.
#[expect(
    clippy::disallowed_methods,
    reason = "the test harness picks its store from the environment"
)]
pub fn database_url(dir: &Path, name: &str) -> String {
    match std::env::var("ROSTER_TEST_DATABASE_URL") {
        Ok(server) if server.starts_with("postgres") => {
            let db = format!("roster_cli_{}", unique());
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(roster_testkit::db::create_postgres_database(&server, &db))
                .unwrap()
        }
        _ => format!("sqlite://{}/{name}.db", dir.display()),
    }
}

/// A name part no other database of this run has: the process, a counter and a random
/// number (test binaries of two runs may share a server).
fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

/// Kills the child when the test ends, whatever happens.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback port (racy in theory; the OS does not reuse it at once).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
