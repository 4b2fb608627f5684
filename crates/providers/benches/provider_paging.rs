//! Pages through a large sample company with every listing client against the in-process
//! fakes, and prints, per provider, the calls made over the minimum the provider's page size
//! allows (must be 1.00) and the client's wall time over the fakes' serving time.
//!
//! Rate-limit waits go through a `ManualSleeper`, so they cost no wall time: the figures
//! measure the client, not the providers' speed limits (which the "waited" column reports in
//! provider time).
//!
//! `cargo bench -p roster-providers --bench provider_paging -- [people]` (default 100,000).
#![expect(clippy::print_stdout, reason = "a bench reports on stdout")]
#![expect(
    clippy::unwrap_used,
    reason = "a bench stops loudly at the first failure"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_company::SampleCompany;
use roster_domain::Email;
use roster_domain::{Clock, ManualClock};
use roster_fakes::google::GoogleFake;
use roster_fakes::productive::ProductiveFake;
use roster_fakes::remote::RemoteFake;
use roster_fakes::xero::XeroFake;
use roster_providers::{
    Environment, GoogleWorkspaceClient, Http, HttpConfig, ManualSleeper, ProductiveClient,
    ProductiveCredentials, ProviderUrls, RemoteClient, ServiceAccountKey, XeroApp, XeroClient,
    XeroTenantAccess,
};
use secrecy::SecretString;
use url::Url;

const PROVIDERS: &[&str] = &["xero", "productive", "google", "remote"];

struct Row {
    provider: &'static str,
    records: usize,
    calls: u64,
    minimum: u64,
    client: Duration,
    serving: Duration,
    waited: Duration,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let size = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(100_000);
    // Provider names among the arguments pick which listings run (all when none is named).
    let named: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| PROVIDERS.contains(a))
        .collect();
    let runs = |p: &str| named.is_empty() || named.contains(&p);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let company = Arc::new(SampleCompany::generate(2026, size));
    println!(
        "sample company: {} people, generated in {:.1?}",
        company.people.len(),
        started.elapsed()
    );
    let rows = runtime.block_on(async {
        let mut rows = Vec::new();
        if runs("xero") {
            rows.push(xero(&company).await);
        }
        if runs("productive") {
            rows.push(productive(&company).await);
        }
        if runs("google") {
            rows.push(google(&company).await);
        }
        if runs("remote") {
            rows.push(remote(&company).await);
        }
        rows
    });
    println!();
    println!(
        "{:<12} {:>9} {:>7} {:>7} {:>12} {:>10} {:>10} {:>14} {:>14}",
        "provider",
        "records",
        "calls",
        "minimum",
        "calls/min",
        "client",
        "fake",
        "client/fake",
        "waited (clock)"
    );
    for r in &rows {
        println!(
            "{:<12} {:>9} {:>7} {:>7} {:>12.2} {:>10.2?} {:>10.2?} {:>14.2} {:>14.0?}",
            r.provider,
            r.records,
            r.calls,
            r.minimum,
            r.calls as f64 / r.minimum as f64,
            r.client,
            r.serving,
            r.client.as_secs_f64() / r.serving.as_secs_f64().max(1e-9),
            r.waited,
        );
    }
}

struct Env {
    clock: ManualClock,
    sleeper: ManualSleeper,
    http: Arc<Http>,
}

fn env() -> Env {
    let clock = ManualClock::default();
    let sleeper = ManualSleeper::new(clock.clone());
    let config = HttpConfig {
        jitter_seed: Some(1),
        ..HttpConfig::default()
    };
    let http =
        Arc::new(Http::new(config, Arc::new(clock.clone()), Arc::new(sleeper.clone())).unwrap());
    Env {
        clock,
        sleeper,
        http,
    }
}

fn urls(base: &str) -> ProviderUrls {
    let u = Url::parse(base).unwrap();
    ProviderUrls {
        xero_login_url: u.clone(),
        xero_identity_url: u.clone(),
        xero_api_url: u.clone(),
        productive_api_url: u.clone(),
        google_token_url: u.clone(),
        google_directory_url: u.clone(),
        google_calendar_url: u.clone(),
        slack_api_url: u.clone(),
        remote_api_url: u.clone(),
        remote_sandbox_api_url: u.clone(),
        scrapin_api_url: u,
    }
}

async fn xero(company: &Arc<SampleCompany>) -> Row {
    let e = env();
    let fake = XeroFake::start(company.clone(), Arc::new(e.clock.clone()) as Arc<dyn Clock>)
        .await
        .unwrap();
    let app = XeroApp {
        client_id: "bench".into(),
        client_secret: None,
        redirect_uri: Url::parse("http://localhost/cb").unwrap(),
        scopes: vec![],
    };
    let client = XeroClient::new(e.http.clone(), &urls(&fake.base_url()), app);
    let token = SecretString::from(
        fake.issue_tokens("bench", "offline_access payroll.employees.read")
            .access_token,
    );
    let access = XeroTenantAccess {
        access_token: &token,
        tenant_id: fake.tenant_id(),
    };
    let t0 = Instant::now();
    let employees = client.employees(&access, None).await.unwrap();
    let client_time = t0.elapsed();
    let expected = company
        .people
        .iter()
        .filter(|p| p.xero_employee_id.is_some())
        .count();
    assert_eq!(employees.len(), expected, "every employee, once");
    // Pages of 100; the last one is short (empty after an exact multiple).
    let minimum = expected as u64 / 100 + 1;
    Row {
        provider: "xero",
        records: employees.len(),
        calls: fake.calls().count("xero.employees"),
        minimum,
        client: client_time,
        serving: fake.calls().serving_time(),
        waited: e.sleeper.total(),
    }
}

async fn productive(company: &Arc<SampleCompany>) -> Row {
    let e = env();
    let fake = ProductiveFake::start(company.clone(), Arc::new(e.clock.clone()) as Arc<dyn Clock>)
        .await
        .unwrap();
    let mut u = urls(&fake.base_url());
    u.productive_api_url = Url::parse(&fake.api_url()).unwrap();
    let credentials = ProductiveCredentials {
        api_token: SecretString::from("bench-token"),
        organization_id: Some(fake.organization_id().to_owned()),
    };
    let client = ProductiveClient::new(e.http.clone(), &u, credentials);
    let t0 = Instant::now();
    let people = client.people().await.unwrap();
    let client_time = t0.elapsed();
    let expected = company
        .people
        .iter()
        .filter(|p| p.productive_id.is_some() && !p.is_leaver)
        .count();
    assert_eq!(people.len(), expected, "every active user, once");
    Row {
        provider: "productive",
        records: people.len(),
        calls: fake.calls().count("productive.people"),
        minimum: (expected as u64).div_ceil(200).max(1),
        client: client_time,
        serving: fake.calls().serving_time(),
        waited: e.sleeper.total(),
    }
}

async fn google(company: &Arc<SampleCompany>) -> Row {
    let e = env();
    let fake = GoogleFake::start(company.clone(), Arc::new(e.clock.clone()) as Arc<dyn Clock>)
        .await
        .unwrap();
    let mut u = urls(&fake.base_url());
    u.google_token_url = Url::parse(&fake.token_url()).unwrap();
    u.google_directory_url = Url::parse(&fake.directory_url()).unwrap();
    let key = ServiceAccountKey::parse(&fake.service_account_key_json()).unwrap();
    let admin = Email::parse(company.google_admin().email.as_deref().unwrap()).unwrap();
    let client = GoogleWorkspaceClient::new(e.http.clone(), &u, key, Some(admin));
    let t0 = Instant::now();
    let users = client.users().await.unwrap();
    let client_time = t0.elapsed();
    let people = company
        .people
        .iter()
        .filter(|p| p.google_id.is_some())
        .count();
    // The directory also lists shared accounts (the fake's kiosk) beside the people.
    assert!(users.len() >= people, "every person, once");
    Row {
        provider: "google",
        records: users.len(),
        calls: fake.calls().count("google.users"),
        minimum: (users.len() as u64).div_ceil(500).max(1),
        client: client_time,
        serving: fake.calls().serving_time(),
        waited: e.sleeper.total(),
    }
}

async fn remote(company: &Arc<SampleCompany>) -> Row {
    let e = env();
    let fake = RemoteFake::start(company.clone(), Arc::new(e.clock.clone()) as Arc<dyn Clock>)
        .await
        .unwrap();
    let client = RemoteClient::new(
        e.http.clone(),
        &urls(&fake.base_url()),
        Environment::Production,
        SecretString::from("ra_live_bench"),
    );
    let t0 = Instant::now();
    let employments = client.employments(None).await.unwrap();
    let client_time = t0.elapsed();
    let expected = company
        .people
        .iter()
        .filter(|p| p.remote_employment_id.is_some())
        .count();
    assert_eq!(employments.len(), expected, "every employment, once");
    Row {
        provider: "remote",
        records: employments.len(),
        calls: fake.calls().count("remote.employments"),
        minimum: (expected as u64).div_ceil(100).max(1),
        client: client_time,
        serving: fake.calls().serving_time(),
        waited: e.sleeper.total(),
    }
}
