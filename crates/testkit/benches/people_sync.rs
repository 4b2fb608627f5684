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

use std::time::{Duration, Instant};

use roster_app::audit::Actor;
use roster_providers::{ProductiveClient, ProductiveCredentials};
use roster_testkit::bench::{self, Bench, Tenant};
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
    let sizes = bench::sizes(&[2_000]);
    let runtime = bench::runtime();
    println!("store: {}", bench::store_name());
    println!(
        "| people | pages | sync | fetch ÷ fake | sync ÷ fake | statements ÷ pages | repeat (changed, statements) | peak ÷ idle RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for size in sizes {
        runtime.block_on(run(size));
    }
}

async fn run(size: usize) {
    let bench = Bench::start(size).await;
    let Tenant { org, .. } = bench.tenant(0).await;
    let (app, fakes, settings) = (&bench.app, &bench.fakes, &bench.settings);

    // The client alone, against the same fake: the fetch's share of the sync.
    let client = ProductiveClient::new(
        bench.http.clone(),
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
