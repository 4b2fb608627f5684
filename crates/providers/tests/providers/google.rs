use std::collections::HashMap;

use roster_domain::Email;
use roster_fakes::Fault;
use roster_fakes::google::GoogleFake;
use roster_providers::{
    CALENDAR_SCOPE, DIRECTORY_SCOPE, ErrorKind, GoogleWorkspaceClient, IdTokenChecks, OidcApp,
    OidcClient, Pkce, ProviderUrls, ServiceAccountKey,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::support::{World, assert_no_secret, urls};

struct Google {
    world: World,
    fake: GoogleFake,
    client: GoogleWorkspaceClient,
}

fn google_urls(fake: &GoogleFake) -> ProviderUrls {
    let mut u = urls(&fake.base_url());
    u.google_token_url = Url::parse(&fake.token_url()).unwrap();
    u.google_directory_url = Url::parse(&fake.directory_url()).unwrap();
    u.google_calendar_url = Url::parse(&fake.calendar_url()).unwrap();
    u
}

impl Google {
    async fn start(size: usize) -> Self {
        let world = World::new(size);
        let fake = GoogleFake::start(world.company.clone(), world.shared_clock())
            .await
            .unwrap();
        let key = ServiceAccountKey::parse(&fake.service_account_key_json()).unwrap();
        let admin = Email::parse(world.company.google_admin().email.as_deref().unwrap()).unwrap();
        let client =
            GoogleWorkspaceClient::new(world.http.clone(), &google_urls(&fake), key, Some(admin));
        Self {
            world,
            fake,
            client,
        }
    }
}

#[tokio::test]
async fn google_lists_directory_users_over_several_pages_with_managers() {
    let g = Google::start(1_200).await;
    let users = g.client.users().await.unwrap();
    let listed = users.len() as u64;
    assert_eq!(g.fake.calls().count("google.users"), listed.div_ceil(500));
    assert!(listed > 1_000);
    assert_eq!(
        g.fake.calls().count("google.token"),
        1,
        "one token for every page"
    );

    let by_id: HashMap<&str, _> = users.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut managers = 0;
    for person in g
        .world
        .company
        .people
        .iter()
        .filter(|p| p.google_id.is_some())
    {
        let user = by_id[person.google_id.as_deref().unwrap()];
        assert_eq!(
            Some(user.primary_email.as_str().to_owned()),
            person.email.as_ref().map(|e| e.to_lowercase())
        );
        let want = person
            .manager
            .and_then(|m| g.world.company.people[m].email.clone())
            .map(|e| e.to_lowercase());
        assert_eq!(
            user.manager_email.as_ref().map(|e| e.as_str().to_owned()),
            want
        );
        managers += usize::from(want.is_some());
    }
    assert!(managers > 0);
}

#[tokio::test]
async fn google_access_token_is_cached_until_it_nears_expiry() {
    let g = Google::start(20).await;
    g.client.users().await.unwrap();
    g.client.users().await.unwrap();
    assert_eq!(g.fake.calls().count("google.token"), 1);
    g.world.advance(chrono::Duration::minutes(50));
    g.client.users().await.unwrap();
    assert_eq!(g.fake.calls().count("google.token"), 1, "still valid");
    g.world.advance(chrono::Duration::minutes(9));
    g.client.users().await.unwrap();
    assert_eq!(
        g.fake.calls().count("google.token"),
        2,
        "within a minute of expiry: a new one"
    );
}

#[tokio::test]
async fn google_revoked_access_token_is_replaced_once() {
    let g = Google::start(20).await;
    let token = g.client.access_token(DIRECTORY_SCOPE).await.unwrap();
    g.fake.revoke(token.expose_secret());
    assert!(
        g.client.users().await.is_ok(),
        "a 401 mints a fresh token and retries once"
    );
    assert_eq!(g.fake.calls().count("google.token"), 2);
}

#[tokio::test]
async fn google_rejected_service_account_needs_reauth() {
    let world = World::new(20);
    let fake = GoogleFake::start(world.company.clone(), world.shared_clock())
        .await
        .unwrap();
    let json = fake
        .service_account_key_json()
        .replace("roster-sync@", "invalid-sync@");
    let key = ServiceAccountKey::parse(&json).unwrap();
    let client = GoogleWorkspaceClient::new(world.http.clone(), &google_urls(&fake), key, None);
    let err = client.users().await.unwrap_err();
    assert!(err.is_needs_reauth(), "{err}");
    assert_eq!(
        fake.calls().count("google.token"),
        1,
        "a refused grant is not retried"
    );
    let private_key: serde_json::Value = serde_json::from_str(&json).unwrap();
    let pem = private_key["private_key"].as_str().unwrap();
    assert_no_secret(&err, &[pem, &pem[40..80]]);
}

#[tokio::test]
async fn google_non_admin_subject_is_a_provider_error() {
    let world = World::new(20);
    let fake = GoogleFake::start(world.company.clone(), world.shared_clock())
        .await
        .unwrap();
    let key = ServiceAccountKey::parse(&fake.service_account_key_json()).unwrap();
    let staff = world
        .company
        .people
        .iter()
        .find(|p| !p.is_google_admin && p.google_id.is_some())
        .unwrap();
    let client = GoogleWorkspaceClient::new(
        world.http.clone(),
        &google_urls(&fake),
        key,
        Some(Email::parse(staff.email.as_deref().unwrap()).unwrap()),
    );
    let err = client.users().await.unwrap_err();
    assert_eq!((err.status, err.api_code()), (Some(403), "provider_error"));
    assert!(
        matches!(&err.kind, ErrorKind::Upstream { detail } if detail.starts_with("forbidden")),
        "{err:?}"
    );
}

#[tokio::test]
async fn google_quota_403_backs_off_and_retries() {
    let g = Google::start(20).await;
    g.fake.inject(Fault::RateLimitBurst {
        operation: "google.users".into(),
        times: 2,
        retry_after_secs: 0,
    });
    assert!(g.client.users().await.is_ok());
    assert_eq!(g.fake.calls().count("google.users"), 3);
    assert_eq!(
        g.world.sleeper.sleeps().len(),
        2,
        "two backoffs on the manual clock"
    );
}

#[tokio::test]
async fn google_5xx_retried_then_provider_error() {
    let g = Google::start(20).await;
    g.fake.inject(Fault::Status {
        operation: "google.users".into(),
        status: 503,
        times: 100,
    });
    let err = g.client.users().await.unwrap_err();
    assert_eq!((err.status, err.api_code()), (Some(503), "provider_error"));
    assert_eq!(g.fake.calls().count("google.users"), 5);
    // The cached access token the calls carried, and the key that made it, stay out.
    let token = g.client.access_token(DIRECTORY_SCOPE).await.unwrap();
    let key = g.fake.service_account_key_json();
    assert_no_secret(
        &err,
        &[
            token.expose_secret(),
            &key[key.len() / 2..key.len() / 2 + 40],
        ],
    );
}

#[tokio::test]
async fn google_malformed_body_names_the_field() {
    let g = Google::start(20).await;
    g.fake.inject(Fault::MalformedBody {
        operation: "google.users".into(),
        times: 1,
    });
    let err = g.client.users().await.unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Malformed { field, .. } if field == "users[0].primaryEmail"),
        "{err:?}"
    );
}

#[tokio::test]
async fn google_calendar_check_finds_shared_calendars_only() {
    let g = Google::start(20).await;
    let calendar = g
        .client
        .calendar(&g.fake.leave_calendar_id())
        .await
        .unwrap();
    assert_eq!(calendar.id, g.fake.leave_calendar_id());
    let missing = g
        .client
        .calendar("nobody@group.calendar.google.com")
        .await
        .unwrap_err();
    assert_eq!(
        (missing.status, missing.api_code()),
        (Some(404), "provider_error")
    );
    assert_eq!(
        g.fake.calls().count("google.token"),
        1,
        "one calendar token for both"
    );
    let _ = g.client.access_token(CALENDAR_SCOPE).await.unwrap();
}

async fn oidc(g: &Google) -> OidcClient {
    let app = OidcApp {
        client_id: "roster-web".into(),
        client_secret: Some(SecretString::from("CANARY-oidc-client-secret")),
        redirect_uri: Url::parse("http://localhost:8080/auth/callback").unwrap(),
    };
    OidcClient::discover(
        g.world.http.clone(),
        &Url::parse(&g.fake.oidc_issuer()).unwrap(),
        app,
    )
    .await
    .unwrap()
}

/// Follows the fake's consent redirect and returns the code.
async fn authorize(url: Url) -> String {
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = plain.get(url).send().await.unwrap();
    let location = Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn oidc_sign_in_verifies_the_id_token() {
    let g = Google::start(20).await;
    let client = oidc(&g).await;
    let pkce = Pkce::generate();
    let url = client.authorize_url("st", "nonce-1", &pkce, Some(&g.world.company.domain));
    let code = authorize(url).await;
    let tokens = client.exchange_code(&code, pkce.verifier()).await.unwrap();
    let id_token = tokens.id_token.unwrap();
    let checks = IdTokenChecks {
        nonce: "nonce-1",
        hosted_domain: Some(&g.world.company.domain),
    };
    let claims = client.verify_id_token(&id_token, &checks).await.unwrap();
    assert_eq!(
        Some(claims.email.as_str().to_owned()),
        g.world
            .company
            .ceo()
            .email
            .as_ref()
            .map(|e| e.to_lowercase())
    );
    assert_eq!(
        claims.hosted_domain.as_deref(),
        Some(g.world.company.domain.as_str())
    );

    let refusals = [
        (
            IdTokenChecks {
                nonce: "other",
                hosted_domain: None,
            },
            "id_token.nonce",
        ),
        (
            IdTokenChecks {
                nonce: "nonce-1",
                hosted_domain: Some("elsewhere.example"),
            },
            "id_token.hd",
        ),
    ];
    for (checks, field) in refusals {
        let err = client
            .verify_id_token(&id_token, &checks)
            .await
            .unwrap_err();
        assert!(
            matches!(&err.kind, ErrorKind::Invalid { field: f, .. } if f == field),
            "{err:?}"
        );
        assert_no_secret(&err, &[id_token.expose_secret()]);
    }
    // A tampered signature.
    let mut forged = id_token.expose_secret().to_owned();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    let err = client
        .verify_id_token(&SecretString::from(forged), &checks_for("nonce-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Invalid { field, .. } if field == "id_token.signature"),
        "{err:?}"
    );
    // Expired, by our clock.
    g.world.advance(chrono::Duration::hours(2));
    let err = client
        .verify_id_token(&id_token, &checks_for("nonce-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Invalid { field, .. } if field == "id_token.exp"),
        "{err:?}"
    );
    assert_eq!(
        g.fake.calls().count("google.oidc.jwks"),
        1,
        "the key set is cached"
    );
}

fn checks_for(nonce: &str) -> IdTokenChecks<'_> {
    IdTokenChecks {
        nonce,
        hosted_domain: None,
    }
}

#[tokio::test]
async fn oidc_code_replay_needs_reauth_and_hides_secrets() {
    let g = Google::start(20).await;
    let client = oidc(&g).await;
    let pkce = Pkce::generate();
    let code = authorize(client.authorize_url("st", "n", &pkce, None)).await;
    client.exchange_code(&code, pkce.verifier()).await.unwrap();
    let err = client
        .exchange_code(&code, pkce.verifier())
        .await
        .unwrap_err();
    assert!(err.is_needs_reauth(), "{err}");
    assert_no_secret(
        &err,
        &[
            "CANARY-oidc-client-secret",
            &code,
            pkce.verifier().expose_secret(),
        ],
    );
}

#[tokio::test]
async fn google_requests_fit_the_published_discovery_documents() {
    use crate::request_contract::{discovery_violations, load_json};
    let g = Google::start(700).await;
    g.client.users().await.unwrap();
    g.client
        .calendar(&g.fake.leave_calendar_id())
        .await
        .unwrap();
    let seen = g.fake.calls().requests();
    let directory: Vec<_> = seen
        .iter()
        .filter(|r| r.route.starts_with("/admin/directory/v1/"))
        .cloned()
        .collect();
    let calendars: Vec<_> = seen
        .iter()
        .filter(|r| r.route.starts_with("/calendar/v3/"))
        .cloned()
        .collect();
    assert!(directory.len() >= 2, "two pages: {directory:?}");
    assert_eq!(calendars.len(), 1);
    let mut problems =
        discovery_violations(&load_json("google/admin-directory_v1.json"), &directory);
    problems.extend(discovery_violations(
        &load_json("google/calendar-v3.json"),
        &calendars,
    ));
    assert!(problems.is_empty(), "{problems:#?}");
}
