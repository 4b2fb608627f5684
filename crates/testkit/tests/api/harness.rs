//! The harness itself: what later tests rely on when they sync from the fakes.

use roster_testkit::{TEST_COMPANY_SIZE, spawn};

#[tokio::test]
async fn the_app_points_every_provider_at_running_fakes_on_the_test_clock() {
    let t = spawn().await;
    let urls = &t.app.settings.provider_urls;
    for (setting, fake) in [
        (&urls.productive_api_url, t.fakes.productive.api_url()),
        (&urls.xero_api_url, t.fakes.xero.api_url()),
        (&urls.google_directory_url, t.fakes.google.directory_url()),
        (&urls.scrapin_api_url, t.fakes.scrapin.base_url()),
    ] {
        assert_eq!(
            setting.as_str().trim_end_matches('/'),
            fake.trim_end_matches('/')
        );
    }
    for url in [
        &urls.xero_login_url,
        &urls.xero_identity_url,
        &urls.google_token_url,
        &urls.google_calendar_url,
        &urls.slack_api_url,
        &urls.remote_api_url,
        &urls.remote_sandbox_api_url,
    ] {
        assert_eq!(url.host_str(), Some("127.0.0.1"), "{url}");
    }
    // A real fake answers, as strictly as the provider: no token, no people.
    let res = reqwest::get(format!("{}/people", t.fakes.productive.api_url()))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(t.fakes.productive.calls().count("productive.people"), 1);
    assert_eq!(t.company.people.len(), TEST_COMPANY_SIZE);
}
