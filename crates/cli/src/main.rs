//! `roster`: the one binary. Parses the command line and the configuration, wires the
//! store, vault and server together, and runs the chosen command. No business rule lives
//! here: commands call `roster_app` operations like the HTTP handlers do.

mod admin;
mod config;
mod demo;
mod effective;
mod keys;
mod ops;
mod secret_files;
mod serve;
mod wiring;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Roster: a self-hosted people-operations hub.
///
/// Keeps one trustworthy people directory from the tools a company already uses (Xero
/// payroll, Productive, Google Workspace, Slack, Remote, Scrapin): synced records, a manager
/// hierarchy and org chart, squads, permission-scoped HR profiles and encrypted credentials.
///
/// Settings come from `--config FILE` (TOML) overridden by `ROSTER_*` environment
/// variables; see the README for every setting and its default.
#[derive(Debug, Parser)]
#[command(
    name = "roster",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// A TOML configuration file; `ROSTER_*` environment variables override its values.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (needs a secret key; applies pending migrations unless
    /// `auto_migrate = false`).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// The zero-configuration tour: SQLite, built-in fake providers, a sample company,
    /// a running server and a sign-in for each demo persona.
    Demo(demo::DemoArgs),
    /// Operator tasks: users, tokens.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// The secret keys: generate one, see which keys seal the stored secrets, rotate them all
    /// to the newest key while `serve` runs.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Print the OpenAPI 3.1 document that the server serves at /openapi.json, as pretty
    /// JSON on stdout. Needs no configuration; `docs/openapi.json` is its output
    /// (`bash scripts/openapi.sh` regenerates it).
    Openapi,
    /// Write a consistent snapshot of the whole database to a file while `serve` runs (no
    /// plaintext secret is in it).
    Backup(ops::BackupArgs),
    /// Restore a snapshot into an empty database, then check that every secret opens with
    /// the configured keys.
    Restore(ops::RestoreArgs),
    /// Check the configuration, the database, the keys, the public URL, the clock and every
    /// connected provider; one line per check. Exit status 0 only when all pass.
    Doctor(ops::DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, …) on stdout.
    Completions(ops::CompletionsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // The document is built from the code alone: no configuration file, environment or
    // database can change it, so none is read.
    if matches!(cli.command, Command::Openapi) {
        return print_openapi();
    }
    // A new key is random bytes: nothing configured can change it either.
    if matches!(
        cli.command,
        Command::Keys(keys::KeysCommand::Generate)
            | Command::Admin(admin::AdminCommand::GenerateKey)
    ) {
        keys::generate();
        return Ok(());
    }
    if let Command::Completions(args) = &cli.command {
        ops::completions(args);
        return Ok(());
    }
    let sources = config::Sources::load(cli.config.as_deref())?;
    match cli.command {
        Command::Demo(args) => demo::run(args, &sources).await,
        Command::Doctor(args) => ops::doctor(args, &sources).await,
        command => {
            let config = config::Config::from_sources(&sources)?;
            wiring::init_logging(&config);
            for w in config::warnings(&sources) {
                tracing::warn!("{w}");
            }
            match command {
                Command::Serve => serve::run(&config).await,
                Command::Migrate => wiring::migrate(&config).await,
                Command::Admin(cmd) => admin::run(cmd, &config).await,
                Command::Keys(cmd) => keys::run(cmd, &config).await,
                Command::Backup(args) => ops::backup(args, &config).await,
                Command::Restore(args) => ops::restore(args, &config).await,
                Command::Demo(_)
                | Command::Openapi
                | Command::Doctor(_)
                | Command::Completions(_) => unreachable!("handled above"),
            }
        }
    }
}

#[expect(clippy::print_stdout, reason = "the command's output is its result")]
fn print_openapi() -> anyhow::Result<()> {
    print!("{}", roster_server::openapi::pretty_json()?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Every command and every option says what it is for in `--help`.
    #[test]
    fn every_command_and_option_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let here = format!("{path} {}", cmd.get_name());
            if cmd.get_about().is_none() {
                missing.push(format!("{here}: no about"));
            }
            for arg in cmd.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() {
                    missing.push(format!("{here} --{}: no help", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &here, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "{missing:#?}");
    }
}
