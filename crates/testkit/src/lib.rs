#![doc = include_str!("../README.md")]
#![expect(
    clippy::expect_used,
    reason = "test support: a setup that fails must stop the test loudly"
)]

pub mod bench;
pub mod db;
pub mod sealed;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;
use reqwest::Method;
use roster_app::{App, Settings};
use roster_company::SampleCompany;
use roster_domain::model::{Employment, Organization, Person, User};
use roster_domain::{AccessLevel, Clock, Email, ManualClock, OrgId, PersonId, Slug};
use roster_fakes::FakeProviders;
use roster_providers::ProviderUrls;
use roster_server::{AppState, ServerLimits};
use roster_store::{Store, StoreOptions};
use roster_vault::{KeyRing, SecretKey};
use serde_json::Value;

/// Which store the suite runs on, from `ROSTER_TEST_DATABASE_URL` (SQLite when unset).
#[expect(
    clippy::disallowed_methods,
    reason = "the test harness picks its store from the environment"
)]
pub fn server_url() -> Option<String> {
    std::env::var("ROSTER_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// A signed-in user of the world.
#[derive(Debug, Clone)]
pub struct Persona {
    pub user: User,
    pub person: Option<PersonId>,
    pub level: AccessLevel,
    pub token: String,
}

/// Two organizations: `acme` (one user per level, in one reporting line) and `globex`.
#[derive(Debug, Clone)]
pub struct World {
    pub acme: Organization,
    pub globex: Organization,
    pub acme_users: BTreeMap<&'static str, Persona>,
    pub globex_exec: Persona,
    pub globex_employee: Persona,
}

impl World {
    /// The acme persona at `level` (executive, head, manager, lead, employee).
    pub fn at(&self, level: &str) -> &Persona {
        &self.acme_users[level]
    }
}

/// The running application.
#[derive(Debug)]
pub struct TestApp {
    pub url: String,
    pub app: App,
    /// The app's database, for tests that check rows or tamper with them directly.
    pub store: Store,
    /// Its URL, for tests that bypass the store (see [`db::try_tamper_audit`]).
    pub database_url: String,
    /// The key ring the app seals with.
    pub keys: KeyRing,
    pub clock: ManualClock,
    pub world: World,
    /// The six providers' fakes, on the test's clock, serving [`TestApp::company`]; the app's
    /// provider URLs point at them.
    pub fakes: Arc<FakeProviders>,
    pub company: Arc<SampleCompany>,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// An HTTP answer: status, headers, and the body parsed as JSON (Null when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Fails with the body when the status is not `status`.
    #[track_caller]
    pub fn assert_status(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.text);
    }

    /// Asserts an RFC 9457 problem with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status; body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type; body: {}",
            self.text
        );
        assert_eq!(self.body["code"], code, "code; body: {}", self.text);
        assert_eq!(
            self.body["status"], status,
            "status field; body: {}",
            self.text
        );
        for field in ["type", "title", "detail"] {
            assert!(
                self.body[field].is_string(),
                "problem field {field}; body: {}",
                self.text
            );
        }
    }

    /// The `field`s of a 422's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A request being built.
#[derive(Debug)]
pub struct Call<'a> {
    t: &'a TestApp,
    req: reqwest::RequestBuilder,
}

impl Call<'_> {
    #[must_use]
    pub fn token(mut self, token: &str) -> Self {
        self.req = self.req.bearer_auth(token);
        self
    }

    #[must_use]
    pub fn as_user(self, p: &Persona) -> Self {
        let token = p.token.clone();
        self.token(&token)
    }

    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req = self.req.header(name, value);
        self
    }

    /// A header whose value is bytes that need not be text.
    #[must_use]
    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Self {
        let value = reqwest::header::HeaderValue::from_bytes(value).expect("a header value");
        self.req = self.req.header(name, value);
        self
    }

    #[must_use]
    pub fn json(mut self, body: &Value) -> Self {
        self.req = self.req.json(body);
        self
    }

    /// A raw body with a JSON content type (for malformed-JSON tests).
    #[must_use]
    pub fn raw(mut self, body: impl Into<String>) -> Self {
        self.req = self
            .req
            .header("content-type", "application/json")
            .body(body.into());
        self
    }

    #[must_use]
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.req = self.req.body(body.into());
        self
    }

    pub async fn send(self) -> Answer {
        let _ = self.t;
        let res = self.req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }
}

impl TestApp {
    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            t: self,
            req: self.client.request(method, format!("{}{path}", self.url)),
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    pub fn put(&self, path: &str) -> Call<'_> {
        self.call(Method::PUT, path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call(Method::DELETE, path)
    }

    /// A token for `user` valid for `ttl` on the test clock.
    pub fn token_for(&self, user: &User, ttl: Duration) -> String {
        self.app.issue_token(user.id, ttl).expect("token").token
    }

    /// Connects acme to the fake Productive through the API, as acme's executive.
    pub async fn connect_productive(&self) {
        self.put("/api/admin/connections/productive")
            .as_user(self.world.at("executive"))
            .json(&serde_json::json!({
                "api_token": "good-token",
                "organization_id": self.fakes.productive.organization_id(),
            }))
            .send()
            .await
            .assert_status(200);
    }

    /// `POST /api/people/sync{query}` as acme's executive.
    pub async fn sync_people(&self, query: &str) -> Answer {
        self.post(&format!("/api/people/sync{query}"))
            .as_user(self.world.at("executive"))
            .send()
            .await
    }
}

/// An `App` on `store` with the test clock, this key ring and settings (the providers' HTTP
/// layer and the test resolver included), as a server configured with them would be.
pub fn build_app(store: Store, clock: &ManualClock, keys: KeyRing, settings: Settings) -> App {
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let http = roster_providers::Http::new(
        roster_providers::HttpConfig::default(),
        clock.clone(),
        Arc::new(roster_providers::TokioSleeper),
    )
    .expect("the providers' HTTP client");
    App::new(store, clock, keys, Arc::new(http), settings).with_resolver(Arc::new(TestResolver))
}

impl TestApp {
    /// A second application instance on the same database (its own pool and HTTP client,
    /// the same keys, clock and settings), as a second server process would be.
    pub async fn another_instance(&self) -> App {
        let store = Store::connect(&self.database_url)
            .await
            .expect("connect a second instance");
        build_app(
            store,
            &self.clock,
            self.keys.clone(),
            (*self.app.settings).clone(),
        )
    }
}

/// Resolves the names tests use for user-supplied URLs without DNS: `*.example.com` to a
/// public documentation-free address, `*.internal-looking.test` to a private one.
#[derive(Debug)]
struct TestResolver;

impl roster_providers::Resolve for TestResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> futures::future::BoxFuture<'a, std::io::Result<Vec<std::net::SocketAddr>>> {
        let ip: Option<std::net::IpAddr> = if host.ends_with("example.com") {
            "93.184.215.14".parse().ok()
        } else if host.ends_with("private.test") {
            "10.1.2.3".parse().ok()
        } else {
            None
        };
        Box::pin(async move {
            ip.map(|ip| vec![std::net::SocketAddr::new(ip, port)])
                .ok_or_else(|| std::io::Error::other("no such host"))
        })
    }
}

/// The sample company the fakes serve: the demo's size, another seed.
pub const TEST_COMPANY_SEED: u64 = 7;
pub const TEST_COMPANY_SIZE: usize = 60;

/// Every provider setting pointed at the running fakes.
pub fn provider_urls(fakes: &FakeProviders) -> ProviderUrls {
    let url = |u: String| url::Url::parse(&u).expect("a fake's URL");
    ProviderUrls {
        xero_login_url: url(fakes.xero.login_url()),
        xero_identity_url: url(fakes.xero.identity_url()),
        xero_api_url: url(fakes.xero.api_url()),
        productive_api_url: url(fakes.productive.api_url()),
        google_token_url: url(fakes.google.token_url()),
        google_directory_url: url(fakes.google.directory_url()),
        google_calendar_url: url(fakes.google.calendar_url()),
        slack_api_url: url(fakes.slack.api_url()),
        remote_api_url: url(fakes.remote.base_url()),
        remote_sandbox_api_url: url(fakes.remote_sandbox.base_url()),
        scrapin_api_url: url(fakes.scrapin.base_url()),
    }
}

/// Starts the application on a fresh database, with the provider fakes, and builds the world.
pub async fn spawn() -> TestApp {
    spawn_with(Options::default()).await
}

/// How [`spawn_with`] sets the app up: the store's options (a short lock timeout, to see a
/// `busy` answer quickly) and the server's limits (short timeouts, a small connection cap).
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub store: StoreOptions,
    pub limits: ServerLimits,
    /// People in the fakes' sample company (default [`TEST_COMPANY_SIZE`]); more than 200
    /// makes Productive's people listing span pages.
    pub company_size: Option<usize>,
}

impl From<ServerLimits> for Options {
    fn from(limits: ServerLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }
}

/// [`spawn`] with other store options or server limits.
pub async fn spawn_with(options: Options) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = match server_url() {
        Some(server) => {
            let name = format!("roster_test_{}", uuid::Uuid::new_v4().simple());
            db::create_postgres_database(&server, &name)
                .await
                .expect("create test database")
        }
        None => format!("sqlite://{}", dir.path().join("roster.db").display()),
    };
    let store = Store::connect_with(&url, options.store)
        .await
        .expect("connect");
    let clock = ManualClock::default();
    store.migrate(clock.now()).await.expect("migrate");
    let keys = KeyRing::new(vec![SecretKey::generate()]).expect("key ring");
    let company = Arc::new(SampleCompany::generate(
        TEST_COMPANY_SEED,
        options.company_size.unwrap_or(TEST_COMPANY_SIZE),
    ));
    let fakes = Arc::new(
        FakeProviders::start(company.clone(), Arc::new(clock.clone()))
            .await
            .expect("start the fakes"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let settings = Settings {
        provider_urls: provider_urls(&fakes),
        public_url: Some(url::Url::parse(&format!("http://{addr}/")).expect("the app's URL")),
        xero_client_id: Some("roster-test".to_owned()),
        ..Settings::default()
    };
    let app = build_app(store.clone(), &clock, keys.clone(), settings.clone());
    let world = build_world(&app, &store).await;
    let state = AppState::new(app.clone());
    tokio::spawn(async move {
        let _ = roster_server::serve(listener, state, options.limits, std::future::pending()).await;
    });
    TestApp {
        url: format!("http://{addr}"),
        app,
        clock,
        world,
        fakes,
        company,
        store,
        database_url: url,
        keys,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

async fn persona(
    app: &App,
    org: &str,
    email: &str,
    name: &str,
    level: AccessLevel,
) -> (Persona, OrgId) {
    let email = Email::parse(email).expect("email");
    let (user, o) = app
        .create_user(
            &email,
            name,
            level,
            Some(&Slug::parse("org", org).expect("slug")),
            None,
        )
        .await
        .expect("create user");
    let token = app
        .issue_token(user.id, Duration::hours(8))
        .expect("token")
        .token;
    (
        Persona {
            user,
            person: None,
            level,
            token,
        },
        o.id,
    )
}

async fn build_world(app: &App, store: &Store) -> World {
    let levels = [
        ("executive", AccessLevel::Executive, "Ava Executive"),
        ("head", AccessLevel::Head, "Hugo Head"),
        ("manager", AccessLevel::Manager, "Mia Manager"),
        ("lead", AccessLevel::Lead, "Leo Lead"),
        ("employee", AccessLevel::Employee, "Eve Employee"),
    ];
    let mut acme_users = BTreeMap::new();
    let mut acme_id = None;
    for (key, level, name) in levels {
        let (p, org) = persona(app, "acme", &format!("{key}@acme.test"), name, level).await;
        acme_id = Some(org);
        acme_users.insert(key, p);
    }
    let acme_id = acme_id.expect("acme");
    let (globex_exec, globex_id) = persona(
        app,
        "globex",
        "boss@globex.test",
        "Gina Globex",
        AccessLevel::Executive,
    )
    .await;
    let (globex_employee, _) = persona(
        app,
        "globex",
        "worker@globex.test",
        "Walt Worker",
        AccessLevel::Employee,
    )
    .await;

    // One reporting line at acme: executive ← head ← manager ← lead ← employee.
    let now = app.clock.now();
    let mut tx = store.begin().await.expect("tx");
    let mut org = tx.org(acme_id);
    let mut manager = None;
    for (key, _, _) in levels {
        let p = acme_users.get_mut(key).expect("persona");
        let (first, last) = p.user.name.split_once(' ').expect("two names");
        let person = Person {
            id: PersonId::new(),
            org: acme_id,
            user: Some(p.user.id),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            email: Some(p.user.email.clone()),
            title: Some(format!("{key} of things")),
            avatar_url: None,
            manager,
            squad: None,
            employment: Employment::default(),
            gender: None,
            synced_at: None,
        };
        org.create_person(&person, now).await.expect("person");
        manager = Some(person.id);
        p.person = Some(person.id);
    }
    tx.commit().await.expect("commit");

    let mut tx = store.read().await.expect("tx");
    let acme = tx.find_org(acme_id).await.expect("org").expect("acme");
    let globex = tx.find_org(globex_id).await.expect("org").expect("globex");
    tx.rollback().await.expect("rollback");
    World {
        acme,
        globex,
        acme_users,
        globex_exec,
        globex_employee,
    }
}
