//! Many organizations on one database: does one organization's `GET /api/people` slow down
//! as others fill the same tables? On PostgreSQL (`ROSTER_TEST_DATABASE_URL`), or SQLite
//! without it. Every organization is made as an operator would make it: an executive, a
//! Productive connection, a real sync of a `P`-person sample company from the in-process
//! fake. Prints the p50 of `GET /api/people` for the first organization while it is the
//! only one (the baseline, measured in the same run), then, once `N` organizations are
//! there, the p50 for that same organization and across a sample of the others, each ÷ the
//! baseline.
//!
//! `ROSTER_TEST_DATABASE_URL=postgres://… cargo bench -p roster-testkit --bench many_tenants -- 1000 100`
#![expect(clippy::print_stdout, reason = "a bench reports on stdout")]
#![expect(
    clippy::unwrap_used,
    reason = "a bench stops loudly at the first failure"
)]

use std::time::{Duration, Instant};

use roster_app::audit::Actor;
use roster_testkit::bench::{self, Bench, Tenant};

/// Requests per p50.
const REQUESTS: usize = 301;
/// Organizations the "across the others" p50 cycles through.
const SAMPLE: usize = 100;

fn main() {
    let args = bench::sizes(&[]);
    let orgs = args.first().copied().unwrap_or(1_000);
    let people = args.get(1).copied().unwrap_or(100);
    bench::runtime().block_on(run(orgs, people));
}

async fn run(orgs: usize, people: usize) {
    println!(
        "store: {}; {orgs} organizations of {people} people",
        bench::store_name()
    );
    let bench = Bench::start(people).await;
    let base = bench.serve().await;
    let client = reqwest::Client::new();
    let people_url = format!("{base}/api/people");

    let first = synced_tenant(&bench, 0, people).await;
    let alone = p50(&client, &people_url, std::slice::from_ref(&first)).await;

    let started = Instant::now();
    let mut others = Vec::with_capacity(orgs.saturating_sub(1));
    for n in 1..orgs {
        others.push(synced_tenant(&bench, n, people).await);
    }
    println!(
        "  filled {} more organizations in {:.1?}",
        orgs - 1,
        started.elapsed()
    );
    let same = p50(&client, &people_url, std::slice::from_ref(&first)).await;
    let step = (others.len() / SAMPLE).max(1);
    let sample: Vec<Tenant> = others.into_iter().step_by(step).take(SAMPLE).collect();
    let across = p50(&client, &people_url, &sample).await;

    let ratio = |a: Duration| a.as_secs_f64() / alone.as_secs_f64().max(1e-9);
    println!("| organizations | first org p50 ÷ alone | sampled orgs p50 ÷ alone |");
    println!("|---|---|---|");
    println!("| {orgs} | {:.2} | {:.2} |", ratio(same), ratio(across));
    println!(
        "  (p50: alone {alone:.2?}, first org among {orgs} {same:.2?}, {} sampled orgs {across:.2?})",
        sample.len()
    );
}

/// Organization `n`, its directory synced from Productive.
async fn synced_tenant(bench: &Bench, n: usize, people: usize) -> Tenant {
    let tenant = bench.tenant(n).await;
    let synced = bench
        .app
        .sync_productive(tenant.org.id, Actor::SYSTEM, false)
        .await
        .unwrap();
    assert!(synced.synced > people / 2, "{n}: {}", synced.synced);
    tenant
}

/// The median time of `GET url`, sent one after another, cycling through `tenants`, after
/// one warm-up request each.
async fn p50(client: &reqwest::Client, url: &str, tenants: &[Tenant]) -> Duration {
    for t in tenants {
        get(client, url, &t.token).await;
    }
    let mut times = Vec::with_capacity(REQUESTS);
    for i in 0..REQUESTS {
        let token = &tenants[i % tenants.len()].token;
        let started = Instant::now();
        get(client, url, token).await;
        times.push(started.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

async fn get(client: &reqwest::Client, url: &str, token: &str) {
    let r = client.get(url).bearer_auth(token).send().await.unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    let _ = r.bytes().await.unwrap();
}
