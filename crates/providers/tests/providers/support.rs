//! A world for provider tests: a sample company, a manual clock the fakes and the client
//! share, a sleeper that moves that clock instead of waiting, and one HTTP layer.

use std::sync::Arc;
use std::time::Duration;

use roster_company::SampleCompany;
use roster_domain::{Clock, ManualClock};
use roster_providers::{Error, Http, HttpConfig, ManualSleeper, ProviderUrls};
use url::Url;

pub struct World {
    pub clock: ManualClock,
    pub sleeper: ManualSleeper,
    pub http: Arc<Http>,
    pub company: Arc<SampleCompany>,
}

impl World {
    pub fn new(size: usize) -> Self {
        Self::with_config(
            size,
            HttpConfig {
                request_timeout: Duration::from_secs(10),
                ..HttpConfig::default()
            },
        )
    }

    pub fn with_config(size: usize, config: HttpConfig) -> Self {
        let clock = ManualClock::default();
        let sleeper = ManualSleeper::new(clock.clone());
        let config = HttpConfig {
            jitter_seed: Some(42),
            ..config
        };
        let http = Arc::new(
            Http::new(config, Arc::new(clock.clone()), Arc::new(sleeper.clone())).unwrap(),
        );
        let company = Arc::new(SampleCompany::generate(7, size));
        Self {
            clock,
            sleeper,
            http,
            company,
        }
    }

    pub fn shared_clock(&self) -> Arc<dyn Clock> {
        Arc::new(self.clock.clone())
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
    }
}

/// Every URL of [`ProviderUrls`] pointed at `base` (each fake serves the real paths).
pub fn urls(base: &str) -> ProviderUrls {
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

/// Asserts no secret shows in an error's Display or Debug.
pub fn assert_no_secret(err: &Error, secrets: &[&str]) {
    let shown = format!("{err} | {err:?}");
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(!shown.contains(secret), "secret leaked into {shown}");
    }
}

/// Everything logged (all levels, span fields included) while the guard lives, on this thread.
pub fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    use tracing_subscriber::fmt::format::FmtSpan;
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

#[derive(Clone, Default)]
pub struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
