#![doc = include_str!("../README.md")]
// Handlers hand back the provider's refusal as a finished `Response`; boxing every one would
// add noise on paths that are never hot, so the size of `Err` is accepted crate-wide.
#![expect(
    clippy::result_large_err,
    reason = "Err(Response) is the fakes' refusal idiom"
)]

pub mod control;
pub mod faults;
pub mod google;
mod keys;
pub mod live;
pub mod productive;
pub mod remote;
pub mod scrapin;
mod serve;
pub mod slack;
pub mod xero;

use std::sync::Arc;

use roster_company::SampleCompany;
use roster_domain::Clock;

pub use control::Provider;
pub use faults::{CallLog, Fault};
pub use live::{ChangeError, LiveCompany};

/// The text of a provider's published spec copied under `crates/fakes/spec/` (`relative` as
/// `xero/xero-payroll-au.yaml`), for the contract tests of both the fakes and the clients.
pub fn spec_text(relative: &str) -> std::io::Result<String> {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("spec")
            .join(relative),
    )
}

/// All six fakes on random 127.0.0.1 ports, serving one company, and the control API that
/// changes it ([`control_url`](Self::control_url)). Dropping it stops them all.
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
    control: Arc<control::Control>,
    control_server: serve::Serving,
}

impl std::fmt::Debug for FakeProviders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeProviders")
            .field("productive", &self.productive)
            .field("xero", &self.xero)
            .field("control_url", &self.control_url())
            .finish_non_exhaustive()
    }
}

impl FakeProviders {
    /// Starts every fake with the providers' default limits, all serving one [`LiveCompany`].
    pub async fn start(
        company: impl Into<LiveCompany>,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let company: LiveCompany = company.into();
        let xero = xero::XeroFake::start(company.clone(), clock.clone()).await?;
        let productive = productive::ProductiveFake::start(company.clone(), clock.clone()).await?;
        let google = google::GoogleFake::start(company.clone(), clock.clone()).await?;
        let slack = slack::SlackFake::start(company.clone(), clock.clone()).await?;
        let remote = remote::RemoteFake::start(company.clone(), clock.clone()).await?;
        let remote_sandbox =
            remote::RemoteFake::start_sandbox(company.clone(), clock.clone()).await?;
        let scrapin = scrapin::ScrapinFake::start(company.clone(), clock.clone()).await?;
        let control = Arc::new(control::Control {
            company,
            clock,
            fakes: vec![
                (Provider::Xero, xero.armable()),
                (Provider::Productive, productive.armable()),
                (Provider::Google, google.armable()),
                (Provider::Slack, slack.armable()),
                (Provider::Remote, remote.armable()),
                (Provider::Remote, remote_sandbox.armable()),
                (Provider::Scrapin, scrapin.armable()),
            ],
        });
        let control_server = serve::serve_loopback(control::router(control.clone())).await?;
        Ok(Self {
            xero,
            productive,
            google,
            slack,
            remote,
            remote_sandbox,
            scrapin,
            control,
            control_server,
        })
    }

    /// Where the control API serves, `http://127.0.0.1:<port>` (paths in [`control`]).
    pub fn control_url(&self) -> String {
        self.control_server.base_url()
    }

    /// The company as the fakes serve it now.
    pub fn company(&self) -> Arc<SampleCompany> {
        self.control.company.current()
    }

    /// The person with `email` leaves today (by the fakes' clock): inactive in Productive,
    /// terminated in Xero payroll, suspended in Google.
    pub fn leave(&self, email: &str) -> Result<(), ChangeError> {
        self.control.leave(email)
    }

    /// Undoes [`leave`](Self::leave).
    pub fn return_(&self, email: &str) -> Result<(), ChangeError> {
        self.control.company.return_(email)
    }

    /// `email` now reports to `manager_email` (a cycle is allowed).
    pub fn set_manager(&self, email: &str, manager_email: &str) -> Result<(), ChangeError> {
        self.control.company.set_manager(email, manager_email)
    }

    /// Arms `fault` on every fake of `provider` (both Remote hosts for Remote).
    pub fn inject(&self, provider: Provider, fault: &Fault) {
        self.control.inject(provider, fault);
    }

    /// Disarms every fault on every fake.
    pub fn clear_faults(&self) {
        self.control.clear_faults();
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
