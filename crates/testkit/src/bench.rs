//! What the benches in `benches/` share: a database of their own (a new PostgreSQL database
//! when `ROSTER_TEST_DATABASE_URL` names a server, else SQLite in a temporary directory),
//! the fakes serving an N-person sample company on a clock that moves only when told, and an
//! `App` whose rate-limit waits take no wall time — the figures measure Roster, not a
//! provider's speed limit.

use std::sync::Arc;

use roster_app::{App, Executive, Settings};
use roster_company::SampleCompany;
use roster_domain::model::Organization;
use roster_domain::text::BoundedText;
use roster_domain::{AccessLevel, Clock, Credential, Email, ManualClock, Slug};
use roster_fakes::FakeProviders;
use roster_providers::{Http, HttpConfig, ManualSleeper};
use roster_server::{AppState, ServerLimits};
use roster_store::Store;
use roster_vault::{KeyRing, SecretKey};

/// One bench's world. Dropping it stops the fakes and removes a SQLite database.
#[derive(Debug)]
pub struct Bench {
    pub store: Store,
    pub clock: ManualClock,
    pub fakes: FakeProviders,
    pub http: Arc<Http>,
    pub settings: Settings,
    pub app: App,
    _dir: tempfile::TempDir,
}

/// An organization's executive, signed in, with Productive connected.
#[derive(Debug)]
pub struct Tenant {
    pub org: Organization,
    pub token: String,
}

/// The numbers given on the bench's command line (`cargo bench … -- 2000 100000`), or
/// `default` when there are none.
pub fn sizes(default: &[usize]) -> Vec<usize> {
    let given: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if given.is_empty() {
        default.to_vec()
    } else {
        given
    }
}

/// The multi-threaded runtime a bench runs in.
///
/// # Panics
/// When the runtime cannot be built.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// "PostgreSQL" or "SQLite": the store the benches run on.
pub fn store_name() -> &'static str {
    if crate::server_url().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

impl Bench {
    /// A migrated database, the fakes serving a `company_size`-person sample company, and
    /// the `App` pointed at them.
    ///
    /// # Panics
    /// On any failure: a bench stops loudly.
    pub async fn start(company_size: usize) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = match crate::server_url() {
            Some(server) => {
                let name = format!("roster_bench_{}", uuid::Uuid::new_v4().simple());
                crate::db::create_postgres_database(&server, &name)
                    .await
                    .expect("a bench database")
            }
            None => format!("sqlite://{}", dir.path().join("bench.db").display()),
        };
        let store = Store::connect(&url).await.expect("connect");
        let clock = ManualClock::default();
        store.migrate(clock.now()).await.expect("migrate");
        let company = Arc::new(SampleCompany::generate(2026, company_size));
        let fakes = FakeProviders::start(company, Arc::new(clock.clone()))
            .await
            .expect("the fakes");
        let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
        let http = Arc::new(
            Http::new(
                HttpConfig::default(),
                clock_dyn.clone(),
                Arc::new(ManualSleeper::new(clock.clone())),
            )
            .expect("the providers' HTTP client"),
        );
        let settings = Settings {
            provider_urls: crate::provider_urls(&fakes),
            ..Settings::default()
        };
        let app = App::new(
            store.clone(),
            clock_dyn,
            KeyRing::new(vec![SecretKey::generate()]).expect("a key ring"),
            http.clone(),
            settings.clone(),
        );
        Self {
            store,
            clock,
            fakes,
            http,
            settings,
            app,
            _dir: dir,
        }
    }

    /// Organization `bench-{n}` with its executive, who connects Productive through the
    /// Connections operation (verified by the fake, sealed, audited).
    ///
    /// # Panics
    /// On any failure.
    pub async fn tenant(&self, n: usize) -> Tenant {
        let email = Email::parse(&format!("exec{n}@bench.test")).expect("email");
        let slug = Slug::parse("org", &format!("bench-{n}")).expect("slug");
        let (user, org) = self
            .app
            .create_user(
                &email,
                "Bench Executive",
                AccessLevel::Executive,
                Some(&slug),
                None,
            )
            .await
            .expect("the executive");
        let token = self
            .app
            .issue_token(user.id, chrono::Duration::hours(8))
            .expect("a token")
            .token;
        let can = self
            .app
            .authenticate(&token, Some(slug.as_str()))
            .await
            .expect("signed in")
            .can::<Executive>()
            .expect("an executive");
        self.app
            .connect_productive(
                &can,
                Credential::token("api_token", "bench-token").expect("credential"),
                Some(
                    BoundedText::parse("organization_id", self.fakes.productive.organization_id())
                        .expect("organization id"),
                ),
            )
            .await
            .expect("Productive connected");
        Tenant { org, token }
    }

    /// Serves the app on a free loopback port until the process ends; its base URL.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let base = format!("http://{}", listener.local_addr().expect("its address"));
        let state = AppState::new(self.app.clone());
        tokio::spawn(async move {
            let _ = roster_server::serve(
                listener,
                state,
                ServerLimits::default(),
                std::future::pending(),
            )
            .await;
        });
        base
    }
}
