//! Shared setup: a company, a manual clock, an HTTP client that does not follow redirects, and
//! the few steps every fake's tests take to send a request and read its answer.

use std::sync::{Arc, OnceLock};

use roster_company::SampleCompany;
use roster_domain::{Clock, ManualClock};
use serde_json::Value;

/// The 250-person company most tests use: big enough for several pages everywhere.
pub fn company() -> Arc<SampleCompany> {
    static COMPANY: OnceLock<Arc<SampleCompany>> = OnceLock::new();
    COMPANY
        .get_or_init(|| Arc::new(SampleCompany::generate(2026, 250)))
        .clone()
}

pub fn clock() -> (ManualClock, Arc<dyn Clock>) {
    let clock = ManualClock::default();
    (clock.clone(), Arc::new(clock))
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

/// Sends `request`; a transport error fails the test.
pub async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.unwrap()
}

/// Sends `request` and reads its JSON body, whatever the status.
pub async fn fetch_json(request: reqwest::RequestBuilder) -> Value {
    send(request).await.json().await.unwrap()
}

/// The query parameter `name` of a redirect's `Location`.
pub fn redirect_param(redirect: &reqwest::Response, name: &str) -> String {
    let location = url::Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    location
        .query_pairs()
        .find(|(k, _)| k == name)
        .unwrap()
        .1
        .into_owned()
}
