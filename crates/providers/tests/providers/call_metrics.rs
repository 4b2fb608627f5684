use std::sync::Mutex;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use roster_fakes::Fault;
use roster_fakes::xero::XeroFake;
use roster_providers::{XeroApp, XeroClient, XeroTenantAccess};
use secrecy::SecretString;
use url::Url;

use crate::support::{World, urls};

type Labels = Vec<(String, String)>;

/// Remembers every metric registration: name and labels.
#[derive(Default)]
struct Registrations(Mutex<Vec<(String, Labels)>>);

impl Registrations {
    fn record(&self, key: &Key) {
        let labels = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        self.0.lock().unwrap().push((key.name().to_owned(), labels));
    }

    fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.0.lock().unwrap().iter().any(|(n, ls)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| ls.iter().any(|(lk, lv)| lk == k && lv == v))
        })
    }
}

impl Recorder for Registrations {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.record(key);
        Counter::noop()
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.record(key);
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.record(key);
        Histogram::noop()
    }
}

#[test]
fn every_attempt_is_counted_and_timed_by_provider_operation_and_status() {
    let recorder = Registrations::default();
    metrics::with_local_recorder(&recorder, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let world = World::new(10);
            let fake = XeroFake::start(world.company.clone(), world.shared_clock())
                .await
                .unwrap();
            let app = XeroApp {
                client_id: "metrics".into(),
                client_secret: None,
                redirect_uri: Url::parse("http://localhost/cb").unwrap(),
                scopes: vec![],
            };
            let client = XeroClient::new(world.http.clone(), &urls(&fake.base_url()), app);
            let token = SecretString::from(
                fake.issue_tokens("metrics", "payroll.employees.read")
                    .access_token,
            );
            fake.inject(Fault::Status {
                operation: "xero.employees".into(),
                status: 503,
                times: 1,
            });
            let access = XeroTenantAccess {
                access_token: &token,
                tenant_id: fake.tenant_id(),
            };
            client.employees(&access, None).await.unwrap();
        });
    });
    for status in ["503", "200"] {
        let labels = [
            ("provider", "xero"),
            ("operation", "xero.employees"),
            ("status", status),
        ];
        assert!(
            recorder.has("roster_provider_requests_total", &labels),
            "counter for {status}"
        );
        assert!(
            recorder.has("roster_provider_request_duration_seconds", &labels),
            "histogram for {status}"
        );
    }
}
