//! The bench's claim at a small size: every listing makes exactly the minimum number of calls
//! its provider's page size allows, with no refusal on the way.

use roster_fakes::productive::ProductiveFake;
use roster_fakes::xero::XeroFake;
use roster_providers::{
    ProductiveClient, ProductiveCredentials, XeroApp, XeroClient, XeroTenantAccess,
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
