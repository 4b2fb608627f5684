#![doc = include_str!("../README.md")]
// Handlers hand back the provider's refusal as a finished `Response`; boxing every one would
// add noise on paths that are never hot, so the size of `Err` is accepted crate-wide.
#![expect(
    clippy::result_large_err,
    reason = "Err(Response) is the fakes' refusal idiom"
)]

pub mod faults;
pub mod google;
mod keys;
pub mod productive;
pub mod remote;
pub mod scrapin;
mod serve;
pub mod slack;
pub mod xero;

use std::sync::Arc;

use roster_company::SampleCompany;
use roster_domain::Clock;

pub use faults::{CallLog, Fault};

/// The text of a provider's published spec copied under `crates/fakes/spec/` (`relative` as
/// `xero/xero-payroll-au.yaml`), for the contract tests of both the fakes and the clients.
pub fn spec_text(relative: &str) -> std::io::Result<String> {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("spec")
            .join(relative),
    )
}

/// All six fakes on random 127.0.0.1 ports, serving one company. Dropping it stops them all.
#[derive(Debug)]
pub struct FakeProviders {
    pub xero: xero::XeroFake,
    pub productive: productive::ProductiveFake,
    pub google: google::GoogleFake,
    pub slack: slack::SlackFake,
    /// The production host: accepts `ra_live_` tokens only.
    pub remote: remote::RemoteFake,
    /// The sandbox host: accepts `ra_test_` tokens only.
    pub remote_sandbox: remote::RemoteFake,
    pub scrapin: scrapin::ScrapinFake,
}

impl FakeProviders {
    /// Starts every fake with the providers' default limits.
    pub async fn start(
        company: Arc<SampleCompany>,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        Ok(Self {
            xero: xero::XeroFake::start(company.clone(), clock.clone()).await?,
            productive: productive::ProductiveFake::start(company.clone(), clock.clone()).await?,
            google: google::GoogleFake::start(company.clone(), clock.clone()).await?,
            slack: slack::SlackFake::start(company.clone(), clock.clone()).await?,
            remote: remote::RemoteFake::start(company.clone(), clock.clone()).await?,
            remote_sandbox: remote::RemoteFake::start_sandbox(company.clone(), clock.clone())
                .await?,
            scrapin: scrapin::ScrapinFake::start(company, clock).await?,
        })
    }

    /// Calls served by all fakes together.
    pub fn total_calls(&self) -> u64 {
        self.call_logs().iter().map(|log| log.total()).sum()
    }

    /// Time spent serving, summed over all fakes.
    pub fn total_serving_time(&self) -> std::time::Duration {
        self.call_logs().iter().map(|log| log.serving_time()).sum()
    }

    fn call_logs(&self) -> [&CallLog; 7] {
        [
            self.xero.calls(),
            self.productive.calls(),
            self.google.calls(),
            self.slack.calls(),
            self.remote.calls(),
            self.remote_sandbox.calls(),
            self.scrapin.calls(),
        ]
    }
}
