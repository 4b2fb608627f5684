//! The Productive sync at scale, against the in-process Productive fake, on SQLite or (with
//! `ROSTER_TEST_DATABASE_URL`) PostgreSQL. Prints, for each size:
//! - **sync ÷ fake**: the sync's wall time over the time the fake alone spent serving the
//!   same pages (its `CallLog` serving time in the same run), the baseline;
//! - **fetch ÷ fake**: the same for the fetch alone (the client, without planning or writes);
//! - **statements ÷ pages**: SQL statements the sync ran over the pages it fetched;
//! - **repeat**: a second sync with nothing changed (its counts and statements: all 0);
//! - **peak ÷ idle RSS**: the process's peak resident memory during the sync over its
//!   resident memory just before (Linux `VmHWM`, reset through `/proc/self/clear_refs`).
//!
//! Rate-limit waits go through a `ManualSleeper`: the figures measure Roster, not
//! Productive's speed limit.
//!
//! `cargo bench -p roster-testkit --bench people_sync -- 2000 100000`
#![expect(clippy::print_stdout, reason = "a bench reports on stdout")]
#![expect(
    clippy::unwrap_used,
    reason = "a bench stops loudly at the first failure"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_app::audit::Actor;
use roster_app::{App, Executive, Settings};
use roster_company::SampleCompany;
use roster_domain::text::BoundedText;
use roster_domain::{AccessLevel, Clock, Credential, Email, ManualClock, Slug};
use roster_fakes::FakeProviders;
use roster_providers::{Http, HttpConfig, ManualSleeper, ProductiveClient, ProductiveCredentials};
use roster_store::Store;
use roster_vault::{KeyRing, SecretKey};
use secrecy::SecretString;

/// Statements outside the apply: the lease and run row (3), the three reads of the
/// directory, the last successful run, the fence, the run's finish, the lease's release and
/// the audit event.
const BOOKKEEPING_STATEMENTS: usize = 11;

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() { vec![2_000] } else { sizes };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let database = roster_testkit::server_url();
    println!(
        "store: {}",
        if database.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!(
        "| people | pages | sync | fetch ÷ fake | sync ÷ fake | statements ÷ pages | repeat (changed, statements) | peak ÷ idle RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for size in sizes {
        runtime.block_on(run(size, database.as_deref()));
    }
}

async fn run(size: usize, server: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let url = match server {
        Some(s) => {
            let name = format!("roster_bench_{}", uuid::Uuid::new_v4().simple());
            roster_testkit::db::create_postgres_database(s, &name)
                .await
                .unwrap()
        }
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let store = Store::connect(&url).await.unwrap();
    let clock = ManualClock::default();
    store.migrate(clock.now()).await.unwrap();
    let company = Arc::new(SampleCompany::generate(2026, size));
    let fakes = FakeProviders::start(company.clone(), Arc::new(clock.clone()))
        .await
        .unwrap();
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let http = Arc::new(
        Http::new(
            HttpConfig::default(),
            clock_dyn.clone(),
            Arc::new(ManualSleeper::new(clock.clone())),
        )
        .unwrap(),
    );
    let settings = Settings {
        provider_urls: roster_testkit::provider_urls(&fakes),
        ..Settings::default()
    };
    let app = App::new(
        store,
        clock_dyn,
        KeyRing::new(vec![SecretKey::generate()]).unwrap(),
        http.clone(),
        settings.clone(),
    );
    let email = Email::parse("bench@bench.test").unwrap();
    let (user, org) = app
        .create_user(
            &email,
            "Bench Executive",
            AccessLevel::Executive,
            Some(&Slug::parse("org", "bench").unwrap()),
            None,
        )
        .await
        .unwrap();
    let token = app
        .issue_token(user.id, chrono::Duration::hours(1))
        .unwrap();
    let can = app
        .authenticate(&token.token, None)
        .await
        .unwrap()
        .can::<Executive>()
        .unwrap();
    app.connect_productive(
        &can,
        Credential::token("api_token", "bench-token").unwrap(),
        Some(BoundedText::parse("organization_id", fakes.productive.organization_id()).unwrap()),
    )
    .await
    .unwrap();

    // The client alone, against the same fake: the fetch's share of the sync.
    let client = ProductiveClient::new(
        http,
        &settings.provider_urls,
        ProductiveCredentials {
            api_token: SecretString::from("bench-token"),
            organization_id: Some(fakes.productive.organization_id().to_owned()),
        },
    );
    fakes.productive.calls().reset();
    let started = Instant::now();
    let (people, _) = tokio::try_join!(client.people(), client.squads()).unwrap();
    let fetch = started.elapsed();
    let fetch_serving = fakes.productive.calls().serving_time();

    fakes.productive.calls().reset();
    let idle = rss_kib("VmRSS:");
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let first = app
        .sync_productive(org.id, Actor::SYSTEM, false)
        .await
        .unwrap();
    let sync = started.elapsed();
    let peak = rss_kib("VmHWM:");
    let serving = fakes.productive.calls().serving_time();
    let pages = fakes.productive.calls().total();
    assert_eq!(first.synced, people.len());

    let second = app
        .sync_productive(org.id, Actor::SYSTEM, false)
        .await
        .unwrap();
    let changed = second.counts.created + second.counts.updated + second.counts.retired;

    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let per_page = (first.statements + BOOKKEEPING_STATEMENTS) as f64 / pages.max(1) as f64;
    #[expect(clippy::cast_precision_loss, reason = "memory in KiB")]
    let rss = peak as f64 / idle.max(1) as f64;
    println!(
        "| {} | {pages} | {sync:.2?} | {:.2} | {:.2} | {per_page:.2} | {changed}, {} | {rss:.2} |",
        first.synced,
        ratio(fetch, fetch_serving),
        ratio(sync, serving),
        second.statements,
    );
}
