//! The layers around every request: a request id (kept from `x-request-id` when the
//! caller sent a sane one, else a new UUID) on every log line and response, a trace span,
//! panics turned into a 500 problem, the logged cause of a 5xx, Prometheus metrics by
//! route template and status, and the body's guards: a declared length over the limit is
//! refused before anything else, and a body must arrive within its deadline. Nothing here
//! reads a body or a credential.

use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, Method, Response, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::MAX_BODY_BYTES;
use crate::problem::{ApiError, Cause};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One recorder per process: metrics are process-wide, so every server in it shares one.
pub(crate) fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only when another recorder is installed (a test harness); ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub(crate) fn wrap(router: Router) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(SetSensitiveRequestHeadersLayer::new([axum::http::header::AUTHORIZATION, axum::http::header::COOKIE]))
            .layer(axum::middleware::map_request(drop_unsafe_request_id))
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|req: &Request| {
                        let id = req
                            .extensions()
                            .get::<RequestId>()
                            .and_then(|r| r.header_value().to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
                    })
                    .on_response(|res: &Response<_>, latency: std::time::Duration, _span: &Span| {
                        let status = res.status().as_u16();
                        if let Some(cause) = res.extensions().get::<Cause>() {
                            tracing::error!(status, latency_ms = latency.as_millis() as u64, cause = %cause.chain(), "request failed");
                        } else {
                            tracing::info!(status, latency_ms = latency.as_millis() as u64, "request");
                        }
                    }),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            // The last net; the router catches its handlers' panics inside the metrics layer.
            .layer(catch_panics()),
    )
}

type PanicHandler = fn(Box<dyn std::any::Any + Send>) -> axum::response::Response;

/// Turns a panic into the 500 problem (the cause travels to the log, not the body).
pub(crate) fn catch_panics() -> CatchPanicLayer<PanicHandler> {
    CatchPanicLayer::custom(panic_response as PanicHandler)
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "CatchPanicLayer hands the payload over by value"
)]
fn panic_response(panic: Box<dyn std::any::Any + Send>) -> axum::response::Response {
    let what = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panic".to_owned());
    ApiError::internal(format!("handler panicked: {what}")).into_response()
}

/// The longest caller-chosen request id kept; longer ones are replaced.
const MAX_REQUEST_ID_CHARS: usize = 128;

/// Whether a caller's `x-request-id` may be kept: it lands in every log line and in the audit
/// log, so only short ids of URL-safe characters are (a UUID, a ULID, `req-42`).
fn is_safe_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_CHARS
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Removes an unsafe `x-request-id`, so the next layer gives the request a fresh one.
async fn drop_unsafe_request_id(mut req: Request) -> Request {
    let unsafe_id = req
        .headers()
        .get_all(REQUEST_ID)
        .iter()
        .any(|v| !is_safe_request_id(v.as_bytes()));
    if unsafe_id || req.headers().get_all(REQUEST_ID).iter().count() > 1 {
        req.headers_mut().remove(REQUEST_ID);
    }
    req
}

/// Counts and times every matched request by route template (never the raw path, whose
/// ids would explode the label set) and status.
pub(crate) async fn record_metrics(req: Request, next: Next) -> axum::response::Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method()).to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("roster_http_requests_total", &labels).increment(1);
    metrics::histogram!("roster_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    res
}

/// A method as a metric label: the standard ones by name, anything a caller made up as
/// `other`, so invented methods cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Refuses at once a request whose declared `Content-Length` is over [`MAX_BODY_BYTES`]
/// (before its body is read or its token checked), and puts the body under `timeout`.
pub(crate) async fn guard_body(
    State(timeout): State<Duration>,
    req: Request,
    next: Next,
) -> axum::response::Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return ApiError::PayloadTooLarge.into_response();
    }
    next.run(req.map(|body| Body::new(DeadlineBody::new(body, timeout))))
        .await
}

/// The request body did not arrive within its deadline (a 408, see `extract.rs`).
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within its deadline")]
pub(crate) struct BodyTimedOut;

/// A body that must be complete within `timeout` of its first read. The deadline covers
/// the whole body, not the gap between two chunks, so a body trickled a byte at a time
/// cannot hold its connection for longer.
struct DeadlineBody {
    inner: Body,
    timeout: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl DeadlineBody {
    const fn new(inner: Body, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: None,
        }
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let timeout = this.timeout;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        Pin::new(&mut this.inner)
            .poll_frame(cx)
            .map(|frame| frame.map(|f| f.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `e` (or what caused it) is a body that missed its deadline.
pub(crate) fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        cause = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_a_500_problem_without_internals() {
        async fn boom() -> &'static str {
            panic!("secret internal detail")
        }
        let app = wrap(Router::new().route("/boom", get(boom)));
        let res = app
            .oneshot(Request::builder().uri("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 500);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        assert!(
            res.headers().contains_key("x-request-id"),
            "the id to quote when reporting it"
        );
        let body = to_bytes(res.into_body(), 1 << 16).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["code"], "internal_error");
        assert!(!String::from_utf8_lossy(&body).contains("secret internal detail"));
    }

    #[tokio::test]
    async fn a_panic_is_counted_as_a_500_of_its_route() {
        async fn kaboom() -> &'static str {
            panic!("boom")
        }
        let handle = prometheus();
        let app = wrap(
            Router::new()
                .route("/kaboom/{id}", get(kaboom))
                .layer(catch_panics())
                .layer(axum::middleware::from_fn(record_metrics)),
        );
        let res = app
            .oneshot(
                Request::builder()
                    .uri("/kaboom/7")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), 500);
        let text = handle.render();
        assert!(
            text.lines()
                .any(|l| l.starts_with("roster_http_requests_total")
                    && l.contains("route=\"/kaboom/{id}\"")
                    && l.contains("status=\"500\"")),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_sane_request_id_is_kept_and_anything_else_replaced() {
        let long = "a".repeat(MAX_REQUEST_ID_CHARS + 1);
        for (sent, kept) in [
            ("req-42", true),
            ("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", true),
            ("a b", false),
            ("x;y", false),
            ("<script>", false),
            (long.as_str(), false),
        ] {
            let app = wrap(Router::new().route("/ok", get(|| async { "ok" })));
            let req = Request::builder()
                .uri("/ok")
                .header("x-request-id", sent)
                .body(Body::empty())
                .unwrap();
            let res = app.oneshot(req).await.unwrap();
            let echoed = res.headers()["x-request-id"].to_str().unwrap();
            assert_eq!(echoed == sent, kept, "{sent:?} → {echoed:?}");
            assert!(is_safe_request_id(echoed.as_bytes()), "{echoed}");
        }
    }
}
