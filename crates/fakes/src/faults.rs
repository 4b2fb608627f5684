//! Fault injection and call counting, shared by every fake.
//!
//! Owns the [`Fault`] vocabulary, the per-fake [`CallLog`], and the one middleware that
//! applies both around every routed request. It must never know a provider's wire format:
//! each fake renders its own error and rate-limit bodies through `Dialect`. Injected delays
//! are the only place the fakes wait on real time (for client timeout tests); every rule
//! about time itself (expiry, windows) reads the injected `Clock`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

/// Something to go wrong on purpose. `operation` is a name from the fake's operation list
/// (`"xero.employees"`, `"productive.people"`, ...; see each module's `ops`), or `"*"` for
/// every operation of that fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer `status` for page `page` (1-based, as the listing counts pages) of
    /// `operation`, every time until [`clear_faults`](crate::xero::XeroFake::clear_faults).
    FailPage {
        operation: String,
        page: u32,
        status: u16,
    },
    /// Answer `status` (with the provider's error body) to the next `times` calls.
    Status {
        operation: String,
        status: u16,
        times: u32,
    },
    /// Hold the next `times` calls for `delay` of real time before serving them.
    Slow {
        operation: String,
        delay: Duration,
        times: u32,
    },
    /// Answer the next `times` calls as the provider answers a rate limit, telling the
    /// client to retry after `retry_after_secs` where the provider sends such a hint.
    RateLimitBurst {
        operation: String,
        times: u32,
        retry_after_secs: u64,
    },
    /// Answer `status` for page `page` of `operation` (every page when `None`), for the next
    /// `times` such calls (until cleared when `None`): what the demo's control API arms. A
    /// 429 is answered the way the provider throttles, asking for a retry after a second.
    FailPages {
        operation: String,
        page: Option<u32>,
        status: u16,
        times: Option<u32>,
    },
    /// Serve the next `times` calls normally but break the JSON body: a required field of
    /// the first record gets the wrong type. The body stays valid JSON.
    MalformedBody { operation: String, times: u32 },
}

impl Fault {
    fn operation(&self) -> &str {
        match self {
            Self::FailPage { operation, .. }
            | Self::FailPages { operation, .. }
            | Self::Status { operation, .. }
            | Self::Slow { operation, .. }
            | Self::RateLimitBurst { operation, .. }
            | Self::MalformedBody { operation, .. } => operation,
        }
    }

    fn applies_to(&self, operation: &str) -> bool {
        let wanted = self.operation();
        wanted == "*" || wanted == operation
    }

    /// Calls left; `FailPage`, and `FailPages` without `times`, never run out.
    fn times_mut(&mut self) -> Option<&mut u32> {
        match self {
            Self::FailPage { .. } => None,
            Self::FailPages { times, .. } => times.as_mut(),
            Self::Status { times, .. }
            | Self::Slow { times, .. }
            | Self::RateLimitBurst { times, .. }
            | Self::MalformedBody { times, .. } => Some(times),
        }
    }
}

/// Calls a fake has served, per operation. Shared between the fake's handle and its server.
#[derive(Debug, Default)]
pub struct CallLog {
    inner: Mutex<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    by_operation: BTreeMap<String, OperationCount>,
    total: u64,
    serving: Duration,
    recent: std::collections::VecDeque<SeenRequest>,
}

/// The shape of a request a fake saw, for contract tests of the clients' requests: which
/// route, and the names (never the values, which may be credentials) of its query
/// parameters and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub operation: String,
    pub method: Method,
    /// The route template as the fake declares it (`/payroll.xro/1.0/Employees/{id}`).
    pub route: String,
    pub query_names: Vec<String>,
    /// Lower-case header names.
    pub header_names: Vec<String>,
}

/// How many requests a log keeps for [`CallLog::requests`]: enough for a test's calls, bounded
/// for a benchmark's hundred thousand.
const RECENT_REQUESTS: usize = 1_000;

#[derive(Debug, Default, Clone, Copy)]
struct OperationCount {
    calls: u64,
    rejected: u64,
}

impl CallLog {
    /// Calls to `operation`, rejected ones included.
    pub fn count(&self, operation: &str) -> u64 {
        self.lock()
            .by_operation
            .get(operation)
            .map_or(0, |c| c.calls)
    }

    /// Calls to `operation` the fake refused: any 4xx/5xx, and Slack's `"ok": false`.
    pub fn rejected(&self, operation: &str) -> u64 {
        self.lock()
            .by_operation
            .get(operation)
            .map_or(0, |c| c.rejected)
    }

    /// All calls to this fake.
    pub fn total(&self) -> u64 {
        self.lock().total
    }

    /// Time spent inside the fake, summed over calls (injected delays included), so a
    /// benchmark can tell client time from fake time.
    pub fn serving_time(&self) -> Duration {
        self.lock().serving
    }

    /// Calls per operation.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.lock()
            .by_operation
            .iter()
            .map(|(k, v)| (k.clone(), v.calls))
            .collect()
    }

    pub fn reset(&self) {
        *self.lock() = LogInner::default();
    }

    /// The most recent requests (up to a thousand), oldest first.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.lock().recent.iter().cloned().collect()
    }

    fn remember(&self, seen: SeenRequest) {
        let mut inner = self.lock();
        if inner.recent.len() == RECENT_REQUESTS {
            inner.recent.pop_front();
        }
        inner.recent.push_back(seen);
    }

    fn record(&self, operation: &str, rejected: bool, took: Duration) {
        let mut inner = self.lock();
        inner.total += 1;
        inner.serving += took;
        let entry = inner.by_operation.entry(operation.to_owned()).or_default();
        entry.calls += 1;
        entry.rejected += u64::from(rejected);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A response extension a handler adds when it refused the call with a 2xx (Slack).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused;

/// The call log and armed faults of one fake.
#[derive(Debug, Default)]
pub(crate) struct Probe {
    pub(crate) calls: CallLog,
    faults: Mutex<Vec<Fault>>,
}

/// What the armed faults do to one call.
#[derive(Debug, Default)]
struct Plan {
    delay: Option<Duration>,
    answer: Option<Answer>,
    malformed: bool,
}

#[derive(Debug)]
enum Answer {
    Status(u16),
    RateLimited(u64),
}

impl Probe {
    pub(crate) fn inject(&self, fault: Fault) {
        self.faults().push(fault);
    }

    pub(crate) fn clear(&self) {
        self.faults().clear();
    }

    /// Consumes the faults that apply to this call and says what to do.
    fn plan(&self, operation: &str, page: u32) -> Plan {
        let mut faults = self.faults();
        let mut plan = Plan::default();
        let slow = faults
            .iter_mut()
            .filter(|f| f.applies_to(operation))
            .find_map(|f| match f {
                Fault::Slow { delay, times, .. } if *times > 0 => Some((*delay, times)),
                _ => None,
            });
        if let Some((delay, times)) = slow {
            plan.delay = Some(delay);
            *times -= 1;
        }
        for fault in faults.iter_mut().filter(|f| f.applies_to(operation)) {
            let answer = match fault {
                Fault::FailPage {
                    page: p, status, ..
                } if *p == page => Answer::Status(*status),
                Fault::FailPages {
                    page: p,
                    status,
                    times,
                    ..
                } if p.is_none_or(|p| p == page) && times.is_none_or(|t| t > 0) => {
                    if *status == 429 {
                        Answer::RateLimited(1)
                    } else {
                        Answer::Status(*status)
                    }
                }
                Fault::Status { status, times, .. } if *times > 0 => Answer::Status(*status),
                Fault::RateLimitBurst {
                    retry_after_secs,
                    times,
                    ..
                } if *times > 0 => Answer::RateLimited(*retry_after_secs),
                _ => continue,
            };
            if let Some(times) = fault.times_mut() {
                *times -= 1;
            }
            plan.answer = Some(answer);
            break;
        }
        if plan.answer.is_none() {
            let malformed = faults
                .iter_mut()
                .filter(|f| f.applies_to(operation))
                .find_map(|f| match f {
                    Fault::MalformedBody { times, .. } if *times > 0 => Some(times),
                    _ => None,
                });
            if let Some(times) = malformed {
                *times -= 1;
                plan.malformed = true;
            }
        }
        faults.retain_mut(|f| f.times_mut().is_none_or(|t| *t > 0));
        plan
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a fake tells the shared middleware about its provider.
pub(crate) trait Dialect: Send + Sync + 'static {
    fn probe(&self) -> &Probe;

    /// The operation name of a routed request, from its method and matched route.
    fn operation(&self, method: &Method, route: &str) -> Option<&'static str>;

    /// Which page of a listing the request asks for (1 when it names none).
    fn page(&self, _operation: &str, _query: &str) -> u32 {
        1
    }

    /// The provider's answer for an injected status.
    fn error(&self, operation: &str, status: StatusCode) -> Response;

    /// The provider's answer when it throttles.
    fn rate_limited(&self, operation: &str, retry_after_secs: u64) -> Response;

    /// Keys that count as required in this provider's records, most important first;
    /// [`Fault::MalformedBody`] gives the first one it finds the wrong type.
    fn required_keys(&self) -> &'static [&'static str];

    /// Admits a call before any fault applies: `Err` refuses it with the given answer,
    /// `Ok(Some(slot))` holds `slot` until the call ends (Xero's concurrency limit).
    fn admit(
        self: &Arc<Self>,
        _operation: &str,
        _headers: &HeaderMap,
    ) -> Result<Option<Admission>, Response> {
        Ok(None)
    }
}

/// Whatever a fake holds for the length of one call; dropping it gives the slot back.
pub(crate) type Admission = Box<dyn Send>;

/// Counts every routed call and applies armed faults; installed with `route_layer` so that
/// only requests that matched a route (and so have an operation name) pass through it.
pub(crate) async fn observe<D: Dialect>(
    State(dialect): State<Arc<D>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let Some((operation, route)) =
        route.and_then(|r| Some((dialect.operation(request.method(), &r)?, r)))
    else {
        return next.run(request).await;
    };
    dialect.probe().calls.remember(SeenRequest {
        operation: operation.to_owned(),
        method: request.method().clone(),
        route,
        query_names: url::form_urlencoded::parse(
            request.uri().query().unwrap_or_default().as_bytes(),
        )
        .map(|(k, _)| k.into_owned())
        .collect(),
        header_names: request
            .headers()
            .keys()
            .map(|k| k.as_str().to_owned())
            .collect(),
    });
    let _slot = match dialect.admit(operation, request.headers()) {
        Ok(slot) => slot,
        Err(refusal) => {
            dialect
                .probe()
                .calls
                .record(operation, true, started.elapsed());
            return refusal;
        }
    };
    let page = dialect.page(operation, request.uri().query().unwrap_or_default());
    let plan = dialect.probe().plan(operation, page);
    if let Some(delay) = plan.delay {
        tokio::time::sleep(delay).await;
    }
    let response = match plan.answer {
        Some(Answer::Status(status)) => dialect.error(
            operation,
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        ),
        Some(Answer::RateLimited(secs)) => dialect.rate_limited(operation, secs),
        None if plan.malformed => malform(next.run(request).await, dialect.required_keys()).await,
        None => next.run(request).await,
    };
    let refused = response.status().is_client_error()
        || response.status().is_server_error()
        || response.extensions().get::<Refused>().is_some();
    dialect
        .probe()
        .calls
        .record(operation, refused, started.elapsed());
    response
}

/// Re-serialises a JSON body with one required field of the wrong type. Non-JSON bodies
/// (Xero's XML) pass through unchanged.
async fn malform(response: Response, required: &[&str]) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if !break_first_required(&mut value, required) {
        // Nothing recognisable: an empty object is valid JSON missing every required field.
        value = Value::Object(serde_json::Map::new());
    }
    let bytes = serde_json::to_vec(&value).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(parts, Body::from(bytes))
}

/// Depth-first: the first object holding a required key gets that key's type changed.
fn break_first_required(value: &mut Value, required: &[&str]) -> bool {
    match value {
        Value::Object(map) => {
            if let Some(key) = required.iter().find(|k| map.contains_key(**k)) {
                if let Some(field) = map.get_mut(*key) {
                    *field = wrong_type(field);
                }
                return true;
            }
            map.values_mut().any(|v| break_first_required(v, required))
        }
        Value::Array(items) => items.iter_mut().any(|v| break_first_required(v, required)),
        _ => false,
    }
}

fn wrong_type(value: &Value) -> Value {
    match value {
        Value::String(_) => Value::from(12_345),
        Value::Number(n) => Value::from(n.to_string()),
        Value::Bool(b) => Value::from(if *b { "yes" } else { "no" }),
        Value::Null | Value::Array(_) | Value::Object(_) => Value::from("malformed"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn malformed_body_retypes_the_first_required_field_of_the_first_record() {
        let mut body = json!({"Id": "x", "Employees": [{"FirstName": "Ann", "EmployeeID": "e1"}, {"EmployeeID": "e2"}]});
        assert!(break_first_required(
            &mut body,
            &["EmployeeID", "FirstName"]
        ));
        assert_eq!(body["Employees"][0]["EmployeeID"], json!(12_345));
        assert_eq!(body["Employees"][1]["EmployeeID"], json!("e2"));
    }

    #[test]
    fn status_faults_run_out_and_fail_page_does_not() {
        let probe = Probe::default();
        probe.inject(Fault::Status {
            operation: "a".into(),
            status: 503,
            times: 1,
        });
        probe.inject(Fault::FailPage {
            operation: "a".into(),
            page: 2,
            status: 500,
        });
        assert!(matches!(
            probe.plan("a", 1).answer,
            Some(Answer::Status(503))
        ));
        assert!(probe.plan("a", 1).answer.is_none());
        for _ in 0..3 {
            assert!(matches!(
                probe.plan("a", 2).answer,
                Some(Answer::Status(500))
            ));
        }
        assert!(
            probe.plan("b", 2).answer.is_none(),
            "other operations are untouched"
        );
    }

    #[test]
    fn fail_pages_counts_down_only_on_its_page_and_without_times_lasts() {
        let probe = Probe::default();
        probe.inject(Fault::FailPages {
            operation: "a".into(),
            page: Some(2),
            status: 502,
            times: Some(2),
        });
        assert!(probe.plan("a", 1).answer.is_none(), "page 1 is served");
        for _ in 0..2 {
            assert!(matches!(
                probe.plan("a", 2).answer,
                Some(Answer::Status(502))
            ));
        }
        assert!(
            probe.plan("a", 2).answer.is_none(),
            "two times, then served"
        );
        probe.inject(Fault::FailPages {
            operation: "a".into(),
            page: None,
            status: 429,
            times: None,
        });
        for page in [1, 2, 7, 1] {
            assert!(matches!(
                probe.plan("a", page).answer,
                Some(Answer::RateLimited(1))
            ));
        }
        probe.clear();
        assert!(probe.plan("a", 1).answer.is_none(), "cleared");
    }

    #[test]
    fn wildcard_fault_applies_to_every_operation() {
        let probe = Probe::default();
        probe.inject(Fault::RateLimitBurst {
            operation: "*".into(),
            times: 2,
            retry_after_secs: 3,
        });
        assert!(matches!(
            probe.plan("x", 1).answer,
            Some(Answer::RateLimited(3))
        ));
        assert!(matches!(
            probe.plan("y", 1).answer,
            Some(Answer::RateLimited(3))
        ));
        assert!(probe.plan("z", 1).answer.is_none());
    }

    #[test]
    fn call_log_counts_calls_and_refusals_per_operation() {
        let log = CallLog::default();
        log.record("a", false, Duration::from_millis(2));
        log.record("a", true, Duration::from_millis(3));
        log.record("b", false, Duration::from_millis(5));
        assert_eq!(
            (
                log.count("a"),
                log.rejected("a"),
                log.count("b"),
                log.total()
            ),
            (2, 1, 1, 3)
        );
        assert_eq!(log.serving_time(), Duration::from_millis(10));
        log.reset();
        assert_eq!(log.total(), 0);
    }
}
