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

use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_app::audit::Actor;
use roster_app::{App, Executive, Settings};
use roster_company::SampleCompany;
use roster_domain::text::BoundedText;
use roster_domain::{AccessLevel, Clock, Credential, Email, ManualClock, OrgId, PersonId, Slug};
use roster_fakes::FakeProviders;
use roster_providers::{Http, HttpConfig, ManualSleeper};
use roster_server::{AppState, ServerLimits};
use roster_store::Store;
use roster_vault::{KeyRing, SecretKey};

/// Concurrent clients for the requests-per-second comparison.
const CLIENTS: usize = 8;

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
        "| people | /api/people ÷ store | org-chart ÷ store | profile ÷ store | profile req/s ÷ healthz req/s |"
    );
    println!("|---|---|---|---|---|");
    for size in sizes {
        runtime.block_on(run(size, database.as_deref()));
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
        store.clone(),
        clock_dyn,
        KeyRing::new(vec![SecretKey::generate()]).unwrap(),
        http,
        settings,
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
        .issue_token(user.id, chrono::Duration::hours(8))
        .unwrap()
        .token;
    let can = app
        .authenticate(&token, None)
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
    // The sync makes the directory fresh, so no read below starts a background refresh.
    let synced = app
        .sync_productive(org.id, Actor::SYSTEM, false)
        .await
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(app.clone());
    tokio::spawn(async move {
        let _ = roster_server::serve(
            listener,
            state,
            ServerLimits::default(),
            std::future::pending(),
        )
        .await;
    });
    let client = reqwest::Client::new();

    // The person read: the deepest one the chart draws.
    let subject = deepest(&store, org.id).await;
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
