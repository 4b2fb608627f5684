//! `roster doctor`'s checks at the application level, on the suite's store and the provider
//! fakes: one run where everything passes, and one failing run per check (an unreachable
//! database, a key in use that is not configured, a provider that rejects its credential, a
//! plain-http public URL, a clock far from the database's).

use std::time::Duration;

use roster_app::App;
use roster_app::doctor::Check;
use roster_domain::{Clock, ManualClock, SystemClock};
use roster_testkit::{TestApp, build_app, spawn};
use roster_vault::{KeyRing, SecretKey};

const TIMEOUT: Duration = Duration::from_secs(10);

/// An app on the test's database whose clock reads the same time as the database's.
fn app_with(t: &TestApp, keys: KeyRing, public_url: Option<&str>) -> App {
    let clock = ManualClock::default();
    clock.set(SystemClock.now());
    let mut settings = (*t.app.settings).clone();
    settings.public_url = public_url.map(|u| url::Url::parse(u).unwrap());
    build_app(t.store.clone(), &clock, keys, settings)
}

fn check<'c>(checks: &'c [Check], name: &str) -> &'c Check {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} check in {checks:#?}"))
}

async fn connected() -> TestApp {
    let t = spawn().await;
    t.connect_productive().await;
    t
}

#[tokio::test]
async fn everything_configured_and_reachable_passes_every_check() {
    let t = connected().await;
    let app = app_with(&t, t.keys.clone(), Some("https://roster.example.com/"));
    let checks = app.doctor(TIMEOUT).await;
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "database",
            "migrations",
            "keys",
            "public_url",
            "clock",
            "provider acme/productive"
        ]
    );
}

#[tokio::test]
async fn a_provider_that_rejects_its_credential_is_a_problem_saying_to_reconnect() {
    let t = connected().await;
    t.fakes.productive.revoke("good-token");
    let checks = app_with(&t, t.keys.clone(), None).doctor(TIMEOUT).await;
    let p = check(&checks, "provider acme/productive");
    assert!(!p.ok, "{p:?}");
    assert!(p.detail.contains("reconnect"), "{p:?}");
    assert!(!p.detail.contains("good-token"), "never the secret: {p:?}");
    assert!(check(&checks, "keys").ok && check(&checks, "database").ok);
}

#[tokio::test]
async fn a_key_in_use_missing_from_the_configuration_is_named() {
    let t = connected().await;
    let other = KeyRing::new(vec![SecretKey::generate()]).unwrap();
    let checks = app_with(&t, other, None).doctor(TIMEOUT).await;
    let k = check(&checks, "keys");
    assert!(!k.ok, "{k:?}");
    assert!(
        k.detail.contains(&t.keys.primary_id().to_string()),
        "names the key id: {k:?}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_a_problem_and_stops_the_checks_that_need_it() {
    let t = spawn().await;
    let app = app_with(&t, t.keys.clone(), None);
    t.store.close().await;
    let checks = app.doctor(TIMEOUT).await;
    let d = check(&checks, "database");
    assert!(!d.ok, "{d:?}");
    assert!(d.detail.contains("ROSTER_DATABASE_URL"), "{d:?}");
    assert!(checks.iter().all(|c| c.name != "keys"), "{checks:#?}");
}

#[tokio::test]
async fn a_plain_http_public_url_and_a_skewed_clock_are_problems() {
    let t = spawn().await;
    let app = app_with(&t, t.keys.clone(), Some("http://roster.example.com/"));
    let checks = app.doctor(TIMEOUT).await;
    let u = check(&checks, "public_url");
    assert!(!u.ok && u.detail.contains("https"), "{u:?}");
    assert!(check(&checks, "clock").ok, "{checks:#?}");

    // The test's own app runs on a clock fixed in March 2026: far from the database's.
    let checks = t.app.doctor(TIMEOUT).await;
    let c = check(&checks, "clock");
    assert!(!c.ok && c.detail.contains("NTP"), "{c:?}");
}
