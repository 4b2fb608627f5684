//! Shared setup: a company, a manual clock, and an HTTP client that does not follow redirects.

use std::sync::{Arc, OnceLock};

use roster_domain::{Clock, ManualClock};
use roster_fakes::SampleCompany;

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
