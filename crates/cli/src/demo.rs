//! `roster demo`: the zero-configuration tour.
//!
//! An embedded SQLite database in a data directory, the built-in fake providers serving one
//! sample company (the provider settings in `roster.toml` point at them), every provider
//! connected and the directory synced from them through the same operations the API runs, a
//! running server, and a ready sign-in per persona. Writes `DIR/roster.toml` so `roster --config
//! DIR/roster.toml admin …` works against the running demo. With `--json`, stdout carries
//! exactly one line; logs go to stderr.

mod connect;
mod payroll;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use chrono::Duration;
use clap::Args;
use roster_app::audit::Actor;
use roster_app::{App, Can, Executive};
use roster_company::{Level, SampleCompany, SamplePerson};
use roster_domain::model::squad_key;
use roster_domain::{AccessLevel, Clock, Email, PersonId, Slug, SystemClock};
use roster_fakes::FakeProviders;
use roster_server::AppState;
use roster_vault::{ExposeSecret, SecretKey};
use serde::Serialize;

use crate::config::{Config, FileConfig, SecretKeys, Sources, render_toml};
use crate::{keys, serve, wiring};

/// The sample company's seed: the same demo on every machine.
const DEMO_SEED: u64 = 2026;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the database and roster.toml live (a new temporary directory when absent).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on; 127.0.0.1:0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Print exactly one JSON line on stdout when ready, then nothing more.
    #[arg(long)]
    json: bool,
    /// How many people the sample company has.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    size: u32,
}

#[derive(Debug, Serialize)]
struct Persona {
    email: String,
    name: String,
    access_level: AccessLevel,
    person_id: String,
    token: String,
}

#[derive(Debug, Serialize)]
struct Ready {
    url: String,
    data_dir: String,
    /// The fakes' control API (demo only): leave, return, manager, faults.
    fakes_control_url: String,
    users: Vec<Persona>,
}

pub async fn run(args: DemoArgs, sources: &Sources) -> Result<()> {
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => tempfile::Builder::new()
            .prefix("roster-demo-")
            .tempdir()?
            .keep(),
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let data_dir = data_dir.canonicalize()?;
    let config_path = data_dir.join("roster.toml");
    // A reused directory keeps its whole key list (a rotation may be under way in it).
    let secret = existing_keys(&config_path)?.unwrap_or_else(|| {
        SecretKeys::One(SecretKey::generate().to_base64().expose_secret().to_owned())
    });

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let company = Arc::new(SampleCompany::generate(DEMO_SEED, args.size as usize));
    // The built-in fakes serve the same company on random local ports for as long as the
    // demo runs; the configuration points every provider setting at them.
    let fakes = FakeProviders::start(company.clone(), Arc::new(SystemClock)).await?;
    let file = FileConfig {
        listen: Some(addr.to_string()),
        data_dir: Some(data_dir.display().to_string()),
        database_url: Some(format!("sqlite://{}", data_dir.join("roster.db").display())),
        secret_key: Some(secret),
        public_url: Some(format!("http://{addr}")),
        xero_login_url: Some(fakes.xero.login_url()),
        xero_identity_url: Some(fakes.xero.identity_url()),
        xero_api_url: Some(fakes.xero.api_url()),
        xero_client_id: Some("roster-demo".to_owned()),
        productive_api_url: Some(fakes.productive.api_url()),
        google_token_url: Some(fakes.google.token_url()),
        google_directory_url: Some(fakes.google.directory_url()),
        google_calendar_url: Some(fakes.google.calendar_url()),
        slack_api_url: Some(fakes.slack.api_url()),
        remote_api_url: Some(fakes.remote.base_url()),
        remote_sandbox_api_url: Some(fakes.remote_sandbox.base_url()),
        scrapin_api_url: Some(fakes.scrapin.base_url()),
        log: sources
            .env
            .get("ROSTER_LOG")
            .cloned()
            .or_else(|| Some("warn,roster_cli=info".to_owned())),
        log_format: sources.env.get("ROSTER_LOG_FORMAT").cloned(),
        fakes_control_url: Some(fakes.control_url()),
        ..FileConfig::default()
    };
    write_private(&config_path, &render_toml(&file)?)?;
    let config = Config::from_sources(&Sources {
        file: Some((config_path.clone(), std::fs::read_to_string(&config_path)?)),
        env: std::collections::BTreeMap::new(),
        no_color: sources.no_color,
        notes: Vec::new(),
    })?;
    wiring::init_logging(&config);
    let limits = wiring::server_limits();

    let ring = wiring::key_ring(&config)?;
    let store = wiring::connect(&config).await?;
    store.migrate(SystemClock.now()).await?;
    let app = wiring::app(store, ring, &config)?;
    // A reused directory may hold secrets sealed under a key its roster.toml lost.
    keys::check_at_startup(&app).await?;
    let (personas, can) = seed(&app, &company, &fakes).await?;
    let first: Vec<PersonId> = personas.iter().map(|(person, ..)| *person).collect();

    let mut users = Vec::new();
    for (person, level, name, email) in personas {
        let token = app
            .issue_token_for(&email, Duration::hours(12))
            .await
            .map_err(|e| anyhow!(e))?;
        users.push(Persona {
            email: email.to_string(),
            name,
            access_level: level,
            person_id: person.to_string(),
            token: token.token,
        });
    }
    let ready = Ready {
        url: format!("http://{addr}"),
        data_dir: data_dir.display().to_string(),
        fakes_control_url: fakes.control_url(),
        users,
    };
    print_ready(&ready, args.json, &config_path)?;
    tracing::info!(%addr, "demo is ready; Ctrl-C stops it");
    // What Xero's 60 calls a minute stretch past the ready line goes on behind it.
    let xero = tokio::spawn(payroll::link_and_pull(app.clone(), can, first));
    roster_server::serve(
        listener,
        AppState::new(app),
        limits,
        serve::shutdown_signal(),
    )
    .await?;
    xero.abort();
    drop(fakes);
    Ok(())
}

fn print_ready(ready: &Ready, json: bool, config_path: &Path) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string(ready)?)?;
    } else {
        writeln!(out, "Roster demo is running at {}", ready.url)?;
        writeln!(
            out,
            "Data: {}   Config: {}",
            ready.data_dir,
            config_path.display()
        )?;
        writeln!(out, "\nSign in as any persona with its bearer token, e.g.")?;
        writeln!(
            out,
            "  curl -H \"Authorization: Bearer $TOKEN\" {}/api/me\n",
            ready.url
        )?;
        for u in &ready.users {
            writeln!(
                out,
                "{:<10} {} <{}>\n           token: {}",
                u.access_level.as_str(),
                u.name,
                u.email,
                u.token
            )?;
        }
        writeln!(
            out,
            "\nThe fakes' control API (make someone leave, change a manager, fail a page): {}",
            ready.fakes_control_url
        )?;
        writeln!(out, "\nPress Ctrl-C to stop.")?;
    }
    out.flush()?;
    Ok(())
}

/// The secret keys of an earlier run in the same directory, so its data stays readable.
fn existing_keys(path: &Path) -> Result<Option<SecretKeys>> {
    if !path.exists() {
        return Ok(None);
    }
    let file: FileConfig = toml::from_str(&std::fs::read_to_string(path)?)
        .map_err(|e| anyhow!("{}: {}", path.display(), e.message()))?;
    Ok(file.secret_key)
}

/// Writes a file only its owner can read: it holds the secret key.
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // `mode` applies only when the file is created; a reused one may have been wider.
    #[cfg(unix)]
    f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

type Seeded = (PersonId, AccessLevel, String, Email);

/// Builds the demo organization the way an operator would: creates its executive (the
/// sample company's CEO) with the admin CLI's operation, connects every provider through
/// the Connections operations, then runs the real syncs against the fakes: Productive (the
/// directory, managers, squads), then Google (a user for everyone in the Workspace directory,
/// linked to their person by email). The other personas are users those syncs created, given
/// their access level through the Admin API's operation. Everything is audited; a reused
/// data directory runs the same steps, which change nothing the second time. Returns the
/// personas and the executive's proof, for the Xero step that runs after the ready line.
async fn seed(
    app: &App,
    company: &SampleCompany,
    fakes: &FakeProviders,
) -> Result<(Vec<Seeded>, Can<Executive>)> {
    let slug = Slug::parse("org", &squad_key(&company.name))
        .map_err(|e| anyhow!("the sample company's slug: {e}"))?;
    let picks = pick_personas(company)?;
    let email_of = |p: &SamplePerson| {
        Email::parse(p.email.as_deref().unwrap_or_default())
            .map_err(|e| anyhow!("sample email: {e}"))
    };
    let (ceo_level, ceo) = picks[0];
    let ceo_email = email_of(ceo)?;
    let members = app.org_members(&slug).await.map_err(|e| anyhow!(e))?;
    let exists = members
        .as_ref()
        .is_some_and(|(_, users)| users.iter().any(|u| u.user.email == ceo_email));
    if !exists {
        app.create_user(
            &ceo_email,
            &ceo.display_name(),
            ceo_level,
            Some(&slug),
            Some(&company.name),
        )
        .await
        .map_err(|e| anyhow!("creating {ceo_email}: {e}"))?;
    }
    let token = app
        .issue_token_for(&ceo_email, Duration::minutes(10))
        .await
        .map_err(|e| anyhow!(e))?;
    connect::connect_all(app, fakes, &token.token).await?;
    let caller = app
        .authenticate(&token.token, Some(slug.as_str()))
        .await
        .map_err(|e| anyhow!("the demo's executive cannot sign in: {e}"))?;
    let org = caller.org_id();
    let people = app
        .sync_productive(org, Actor::SYSTEM, false)
        .await
        .map_err(|e| anyhow!("the Productive sync: {e}"))?;
    let users = app
        .sync_google_as(org, Actor::SYSTEM)
        .await
        .map_err(|e| anyhow!("the Google sync: {e}"))?;
    tracing::info!(
        people = people.synced,
        linked = people.matched_users,
        users = users.total,
        "demo directory synced"
    );

    let can = caller
        .can::<Executive>()
        .map_err(|e| anyhow!("the demo's executive is not one: {e}"))?;
    let (_, members) = app
        .org_members(&slug)
        .await
        .map_err(|e| anyhow!(e))?
        .ok_or_else(|| anyhow!("the demo organization vanished"))?;
    let mut out = Vec::new();
    for (level, sample) in picks {
        let email = email_of(sample)?;
        let member = members
            .iter()
            .find(|u| u.user.email == email)
            .ok_or_else(|| anyhow!("the Google sync did not create {email}"))?;
        let person = member
            .person_id
            .ok_or_else(|| anyhow!("{email} is not linked to a synced person"))?;
        if member.membership.access_level != level {
            let patch = serde_json::from_value(serde_json::json!({ "access_level": level }))?;
            app.update_user(&can, member.user.id, patch)
                .await
                .map_err(|e| anyhow!("giving {email} the {} level: {e}", level.as_str()))?;
        }
        out.push((person, level, member.user.name.clone(), email));
    }
    Ok((out, can))
}

/// One person per access level: the CEO, a head and a manager with reports, a lead, and an
/// employee who has a manager — all active in Productive with a work email.
fn pick_personas(company: &SampleCompany) -> Result<Vec<(AccessLevel, &SamplePerson)>> {
    let usable = |p: &&SamplePerson| p.is_active && p.productive_id.is_some() && p.email.is_some();
    let has_reports = |p: &SamplePerson| company.reports_of(p.index).any(|r| usable(&r));
    let find = |level: Level, needs_reports: bool| {
        company
            .people
            .iter()
            .filter(usable)
            .find(|p| {
                p.level == level
                    && (!needs_reports || has_reports(p))
                    && (level == Level::Ceo || p.manager.is_some())
            })
            .ok_or_else(|| anyhow!("the sample company has no usable {level:?}"))
    };
    Ok(vec![
        (AccessLevel::Executive, find(Level::Ceo, true)?),
        (AccessLevel::Head, find(Level::Head, true)?),
        (AccessLevel::Manager, find(Level::Manager, true)?),
        (AccessLevel::Lead, find(Level::Lead, false)?),
        (AccessLevel::Employee, find(Level::Staff, false)?),
    ])
}
