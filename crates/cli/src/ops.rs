//! The operator's commands: `backup`, `restore`, `doctor`, `completions`. Thin: the work is
//! in `roster_app` (`backup.rs`, `doctor.rs`) and `roster_store::snapshot`; this parses the
//! arguments, wires the app and words the outcome.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, anyhow};
use clap::Args;
use roster_app::doctor::{self, Check};
use roster_store::Store;

use crate::config::{self, Config};
use crate::wiring;

/// How long doctor waits for the database to connect, and for each provider.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(5);
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The snapshot file to write (must not exist). A SQLite file whatever the database.
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The snapshot file `roster backup` wrote.
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// Replace everything in a database that is not empty (it is refused otherwise).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// One JSON document on stdout instead of one line per check.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    shell: clap_complete::Shell,
}

#[expect(clippy::print_stdout, reason = "the command's output is its result")]
fn print(text: &str) {
    println!("{text}");
}

/// `roster backup --to FILE`.
pub async fn backup(args: BackupArgs, config: &Config) -> Result<()> {
    let keys = wiring::key_ring(config)?;
    let store = wiring::connect(config).await?;
    let app = wiring::app(store, keys, config)?;
    let meta = app.backup(&args.to).await.map_err(|e| anyhow!(e))?;
    print(&format!(
        "wrote {}: Roster {}, schema {}, from {}, secrets sealed with key id(s) {}",
        args.to.display(),
        meta.roster_version,
        meta.schema_version,
        meta.source,
        if meta.key_ids.is_empty() {
            "(none)".to_owned()
        } else {
            meta.key_ids.join(", ")
        }
    ));
    Ok(())
}

/// `roster restore --from FILE [--force]`.
pub async fn restore(args: RestoreArgs, config: &Config) -> Result<()> {
    let keys = wiring::key_ring(config)?;
    let store = wiring::connect(config).await?;
    let app = wiring::app(store, keys, config)?;
    let restored = app
        .restore(&args.from, args.force)
        .await
        .map_err(|e| anyhow!(e))?;
    let rows: u64 = restored.report.rows.values().sum();
    print(&format!(
        "restored {rows} row(s) in {} table(s) from {} (Roster {}, schema {}, taken {})",
        restored.report.rows.len(),
        args.from.display(),
        restored.report.meta.roster_version,
        restored.report.meta.schema_version,
        restored.report.meta.taken_at.to_rfc3339()
    ));
    let s = &restored.secrets;
    if s.all_open() {
        print(&format!(
            "every secret opens with the configured keys ({} opened)",
            s.opened
        ));
        return Ok(());
    }
    let mut problems = Vec::new();
    for m in &s.missing {
        problems.push(format!(
            "key id {} seals restored secrets but is not in ROSTER_SECRET_KEY: add that key",
            m.key_id
        ));
    }
    for (place, id) in &s.wont_open {
        problems.push(format!(
            "a value in {place} under key id {} does not open with it",
            id.map_or_else(|| "?".to_owned(), |id| id.to_string())
        ));
    }
    Err(anyhow!(
        "the data is restored, but not every secret opens: {}",
        problems.join("; ")
    ))
}

/// `roster doctor [--json]`: exit status 0 only when every check passes.
pub async fn doctor(args: DoctorArgs, sources: &config::Sources) -> Result<()> {
    let checks = doctor_checks(sources).await;
    if args.json {
        let ok = checks.iter().all(|c| c.ok);
        print(&serde_json::to_string(
            &serde_json::json!({ "ok": ok, "checks": checks }),
        )?);
    } else {
        let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &checks {
            let mark = if c.ok { "ok     " } else { "PROBLEM" };
            print(&format!("{mark} {:<width$}  {}", c.name, c.detail));
        }
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    if failed > 0 {
        return Err(anyhow!("{failed} check(s) found a problem"));
    }
    Ok(())
}

async fn doctor_checks(sources: &config::Sources) -> Vec<Check> {
    let mut checks = Vec::new();
    let config = match Config::from_sources(sources) {
        Ok(c) => {
            checks.push(Check::ok("config", "parsed"));
            c
        }
        Err(e) => {
            checks.push(Check::problem("config", format!("{e:#}")));
            return checks;
        }
    };
    let keys = match wiring::key_ring(&config) {
        Ok(k) => Some(k),
        Err(e) => {
            checks.push(Check::problem("keys", format!("{e:#}")));
            None
        }
    };
    let store = match connect_for_doctor(&config).await {
        Ok(s) => s,
        Err(e) => {
            checks.push(Check::problem("database", e));
            checks.push(doctor::public_url(config.public_url.as_ref()));
            return checks;
        }
    };
    if let Some(keys) = keys {
        match wiring::app(store, keys, &config) {
            Ok(app) => checks.extend(app.doctor(PROVIDER_TIMEOUT).await),
            Err(e) => checks.push(Check::problem("providers", format!("{e:#}"))),
        }
    } else {
        checks.push(match store.migration_status().await {
            Ok(_) => Check::ok("database", "reachable"),
            Err(e) => Check::problem("database", e.to_string()),
        });
        checks.push(doctor::public_url(config.public_url.as_ref()));
    }
    checks
}

/// Connects without creating anything (a SQLite file must exist), within a timeout.
async fn connect_for_doctor(config: &Config) -> Result<Store, String> {
    let shown = crate::effective::redact_database_url(&config.database_url);
    if let Some(path) = config.database_url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if !std::path::Path::new(path).is_file() {
            return Err(format!(
                "{shown}: no such database file: check ROSTER_DATABASE_URL / ROSTER_DATA_DIR, or run `roster migrate` to create it"
            ));
        }
    }
    match tokio::time::timeout(DATABASE_TIMEOUT, Store::connect(&config.database_url)).await {
        Ok(Ok(store)) => Ok(store),
        Ok(Err(e)) => Err(format!(
            "cannot connect to {shown} ({e}): check ROSTER_DATABASE_URL and that the database server is up"
        )),
        Err(_) => Err(format!(
            "{shown} did not answer within {}s: check the host, port and firewall",
            DATABASE_TIMEOUT.as_secs()
        )),
    }
}

/// `roster completions SHELL`: the completion script on stdout.
pub fn completions(args: &CompletionsArgs) {
    use clap::CommandFactory;
    let mut cmd = crate::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "roster", &mut std::io::stdout());
}
