//! The directory's reads at scale, on SQLite or (with `ROSTER_TEST_DATABASE_URL`)
//! PostgreSQL. The organization is filled by a real Productive sync of an N-person sample
//! company from the in-process fake, then served on `127.0.0.1:0`. Prints, for each size:
//! - **endpoint ÷ store**: the median time of `GET /api/people`, `/api/people/org-chart` and
//!   `/api/people/{id}/profile` (an executive reading a person at the bottom of the tree:
//!   every section, so an audit write too), measured by a client on the same machine, over
//!   the median time of a plain read of the same rows straight from the store in the same
//!   run (the baseline: what any endpoint must at least pay);
//! - **profile ÷ healthz**: requests per second of the profile over `GET /healthz` on the
//!   same server, both with the same concurrency.
//!
//! `cargo bench -p roster-testkit --bench people_reads -- 2000 100000`
#![expect(clippy::print_stdout, reason = "a bench reports on stdout")]
#![expect(
    clippy::unwrap_used,
    reason = "a bench stops loudly at the first failure"
)]

use std::time::{Duration, Instant};

use roster_app::audit::Actor;
use roster_domain::{OrgId, PersonId};
use roster_store::Store;
use roster_testkit::bench::{self, Bench, Tenant};

/// Concurrent clients for the requests-per-second comparison.
const CLIENTS: usize = 8;

fn main() {
    let sizes = bench::sizes(&[2_000]);
    let runtime = bench::runtime();
    println!("store: {}", bench::store_name());
    println!(
        "| people | /api/people ÷ store | org-chart ÷ store | profile ÷ store | profile req/s ÷ healthz req/s |"
    );
    println!("|---|---|---|---|---|");
    for size in sizes {
        runtime.block_on(run(size));
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// How long `f` takes.
async fn timed(f: impl std::future::Future<Output = ()>) -> Duration {
    let started = Instant::now();
    f.await;
    started.elapsed()
}

/// Requests per second of `url` with [`CLIENTS`] clients sending `total` requests.
async fn rate(client: &reqwest::Client, url: &str, token: &str, total: usize) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let client = client.clone();
        let url = url.to_owned();
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            for _ in 0..total / CLIENTS {
                let r = client.get(&url).bearer_auth(&token).send().await.unwrap();
                assert!(r.status().is_success(), "{url}: {}", r.status());
                let _ = r.bytes().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    #[expect(clippy::cast_precision_loss, reason = "request counts")]
    let done = (total / CLIENTS * CLIENTS) as f64;
    done / started.elapsed().as_secs_f64()
}

async fn get(client: &reqwest::Client, url: &str, token: &str) {
    let r = client.get(url).bearer_auth(token).send().await.unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    let _ = r.bytes().await.unwrap();
}

async fn run(size: usize) {
    let bench = Bench::start(size).await;
    let Tenant { org, token } = bench.tenant(0).await;
    let (app, store) = (&bench.app, &bench.store);
    // The sync makes the directory fresh, so no read below starts a background refresh.
    let synced = app
        .sync_productive(org.id, Actor::SYSTEM, false)
        .await
        .unwrap();
    let base = bench.serve().await;
    let client = reqwest::Client::new();

    // The person read: the deepest one the chart draws.
    let subject = deepest(store, org.id).await;
    let profile_url = format!("{base}/api/people/{subject}/profile");
    let list_repeat = if size > 20_000 { 5 } else { 21 };

    // Endpoint and baseline alternate, round by round, after one warm-up round: both meet
    // the same caches and the same statistics (PostgreSQL analyses the freshly synced
    // tables in the background, which would favour whichever ran later).
    let people_url = format!("{base}/api/people");
    let chart_url = format!("{base}/api/people/org-chart");
    let (mut store_lists, mut peoples, mut charts) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=list_repeat {
        let a = timed(async {
            let mut tx = store.read_one().await.unwrap();
            let d = tx.org(org.id).directory().await.unwrap();
            assert_eq!(d.people.len(), synced.synced);
            tx.rollback().await.unwrap();
        })
        .await;
        let b = timed(get(&client, &people_url, &token)).await;
        let c = timed(get(&client, &chart_url, &token)).await;
        if round > 0 {
            store_lists.push(a);
            peoples.push(b);
            charts.push(c);
        }
    }
    let (mut store_profiles, mut profiles) = (Vec::new(), Vec::new());
    for round in 0..=101 {
        let a = timed(async {
            let mut tx = store.read_one().await.unwrap();
            let _ = tx.org(org.id).profile_record(subject).await.unwrap();
            tx.rollback().await.unwrap();
        })
        .await;
        let b = timed(get(&client, &profile_url, &token)).await;
        if round > 0 {
            store_profiles.push(a);
            profiles.push(b);
        }
    }
    let (store_list, people, chart) = (median(store_lists), median(peoples), median(charts));
    let (store_profile, profile) = (median(store_profiles), median(profiles));

    let healthz_rate = rate(&client, &format!("{base}/healthz"), &token, 4_000).await;
    let profile_rate = rate(&client, &profile_url, &token, 2_000).await;

    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    println!(
        "| {} | {:.2} | {:.2} | {:.2} | {:.3} |",
        synced.synced,
        ratio(people, store_list),
        ratio(chart, store_list),
        ratio(profile, store_profile),
        profile_rate / healthz_rate.max(1e-9),
    );
    println!(
        "  (medians: store list {store_list:.2?}, /api/people {people:.2?}, org-chart {chart:.2?}, store profile {store_profile:.2?}, profile {profile:.2?}; healthz {healthz_rate:.0} req/s, profile {profile_rate:.0} req/s)"
    );
}

/// The person deepest in the chart (most managers above them).
async fn deepest(store: &Store, org: OrgId) -> PersonId {
    let mut tx = store.read_one().await.unwrap();
    let d = tx.org(org).directory().await.unwrap();
    tx.rollback().await.unwrap();
    let names: Vec<String> = d
        .people
        .iter()
        .map(roster_domain::directory::Listed::full_name)
        .collect();
    let entries: Vec<roster_domain::org_chart::Entry<'_>> = d
        .people
        .iter()
        .zip(&names)
        .map(|(p, n)| roster_domain::org_chart::Entry {
            id: p.id,
            manager: p.manager,
            full_name: n,
        })
        .collect();
    let chart = roster_domain::org_chart::build(&entries);
    let (i, _) = chart
        .walk()
        .into_iter()
        .max_by_key(|(_, depth)| *depth)
        .unwrap();
    d.people[i].id
}
