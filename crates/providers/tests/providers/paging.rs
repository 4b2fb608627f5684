//! The bench's claim at a small size: every listing makes exactly the minimum number of calls
//! its provider's page size allows, with no refusal on the way.

use roster_domain::Email;
use roster_fakes::google::GoogleFake;
use roster_fakes::productive::ProductiveFake;
use roster_fakes::remote::RemoteFake;
use roster_fakes::xero::XeroFake;
use roster_providers::{
    Environment, GoogleWorkspaceClient, ProductiveClient, ProductiveCredentials, RemoteClient,
    ServiceAccountKey, XeroApp, XeroClient, XeroTenantAccess,
};
use secrecy::SecretString;
use url::Url;

use crate::support::{World, urls};

const PEOPLE: usize = 1_000;

#[tokio::test]
async fn xero_listing_makes_the_minimum_number_of_calls() {
    let w = World::new(PEOPLE);
    let fake = XeroFake::start(w.company.clone(), w.shared_clock())
        .await
        .unwrap();
    let app = XeroApp {
        client_id: "paging".into(),
        client_secret: None,
        redirect_uri: Url::parse("http://localhost/cb").unwrap(),
        scopes: vec![],
    };
    let client = XeroClient::new(w.http.clone(), &urls(&fake.base_url()), app);
    let token = SecretString::from(
        fake.issue_tokens("paging", "payroll.employees.read")
            .access_token,
    );
    let access = XeroTenantAccess {
        access_token: &token,
        tenant_id: fake.tenant_id(),
    };
    let employees = client.employees(&access, None).await.unwrap();
    let expected = w
        .company
        .people
        .iter()
        .filter(|p| p.xero_employee_id.is_some())
        .count();
    assert_eq!(employees.len(), expected);
    assert_eq!(
        fake.calls().count("xero.employees"),
        expected as u64 / 100 + 1
    );
    assert_eq!(
        fake.calls().total(),
        fake.calls().count("xero.employees"),
        "no other call"
    );
    assert_eq!(fake.calls().rejected("xero.employees"), 0);
}

#[tokio::test]
async fn productive_listing_makes_the_minimum_number_of_calls() {
    let w = World::new(PEOPLE);
    let fake = ProductiveFake::start(w.company.clone(), w.shared_clock())
        .await
        .unwrap();
    let mut u = urls(&fake.base_url());
    u.productive_api_url = Url::parse(&fake.api_url()).unwrap();
    let credentials = ProductiveCredentials {
        api_token: SecretString::from("paging"),
        organization_id: Some(fake.organization_id().to_owned()),
    };
    let people = ProductiveClient::new(w.http.clone(), &u, credentials)
        .people()
        .await
        .unwrap();
    let expected = w
        .company
        .people
        .iter()
        .filter(|p| p.productive_id.is_some() && !p.is_leaver)
        .count();
    assert_eq!(people.len(), expected);
    assert_eq!(
        fake.calls().count("productive.people"),
        (expected as u64).div_ceil(200)
    );
    assert_eq!(fake.calls().rejected("productive.people"), 0);
}

#[tokio::test]
async fn google_listing_makes_the_minimum_number_of_calls() {
    let w = World::new(PEOPLE);
    let fake = GoogleFake::start(w.company.clone(), w.shared_clock())
        .await
        .unwrap();
    let mut u = urls(&fake.base_url());
    u.google_token_url = Url::parse(&fake.token_url()).unwrap();
    u.google_directory_url = Url::parse(&fake.directory_url()).unwrap();
    let key = ServiceAccountKey::parse(&fake.service_account_key_json()).unwrap();
    let admin = Email::parse(w.company.google_admin().email.as_deref().unwrap()).unwrap();
    let users = GoogleWorkspaceClient::new(w.http.clone(), &u, key, Some(admin))
        .users()
        .await
        .unwrap();
    assert!(
        users.len()
            >= w.company
                .people
                .iter()
                .filter(|p| p.google_id.is_some())
                .count()
    );
    assert_eq!(
        fake.calls().count("google.users"),
        (users.len() as u64).div_ceil(500)
    );
    assert_eq!(fake.calls().count("google.token"), 1);
    assert_eq!(fake.calls().rejected("google.users"), 0);
}

#[tokio::test]
async fn remote_listing_makes_the_minimum_number_of_calls() {
    let w = World::new(PEOPLE * 10);
    let fake = RemoteFake::start(w.company.clone(), w.shared_clock())
        .await
        .unwrap();
    let client = RemoteClient::new(
        w.http.clone(),
        &urls(&fake.base_url()),
        Environment::Production,
        "ra_live_paging".into(),
    );
    let employments = client.employments(None).await.unwrap();
    let expected = w
        .company
        .people
        .iter()
        .filter(|p| p.remote_employment_id.is_some())
        .count();
    assert_eq!(employments.len(), expected);
    assert!(expected > 100, "several pages: {expected}");
    assert_eq!(
        fake.calls().count("remote.employments"),
        (expected as u64).div_ceil(100)
    );
    assert_eq!(fake.calls().rejected("remote.employments"), 0);
}
