#![doc = include_str!("../README.md")]

mod accept;
pub mod extract;
mod middleware;
pub mod openapi;
pub mod problem;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use metrics_exporter_prometheus::PrometheusHandle;
use roster_app::App;

pub use accept::ServerLimits;

/// A request body larger than this is refused with 413 (docs/api.md, "Limits": 1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<PrometheusHandle>,
    /// The last serialized user listing of each organization (`routes/admin_users.rs`).
    pub user_list_bodies: Arc<routes::admin_users::ListBodies>,
}

impl AppState {
    pub fn new(app: App) -> Self {
        Self {
            app,
            metrics: Arc::new(middleware::prometheus()),
            user_list_bodies: Arc::default(),
        }
    }
}

/// The whole HTTP surface: routes, then the layers every request passes through.
pub fn router(state: AppState, limits: &ServerLimits) -> Router {
    let api = Router::new()
        .merge(routes::meta::router())
        .merge(routes::me::router())
        .merge(routes::admin_users::router())
        .merge(routes::admin_permissions::router())
        .merge(routes::admin_audit::router())
        .merge(routes::connections::router())
        .merge(routes::sync::router())
        .merge(routes::drift::router())
        .merge(routes::people::router())
        .merge(routes::matching::router())
        .merge(routes::user_mappings::router())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        // Inside the metrics layer, so a panicking handler counts as a 500 of its route.
        .layer(middleware::catch_panics())
        // Before any extractor, so an oversized declared body is refused before the token is
        // checked; inside the metrics layer, so that 413 counts under its route.
        .layer(axum::middleware::from_fn_with_state(
            limits.body_read_timeout,
            middleware::guard_body,
        ))
        // A layer, not a route layer: unknown paths (404) and methods (405) count too.
        .layer(axum::middleware::from_fn(middleware::record_metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    middleware::wrap(api)
}

/// Serves HTTP/1.1 within `limits` until `shutdown` resolves, then stops accepting, lets
/// the requests in flight finish and closes every connection (`accept.rs`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: ServerLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    accept::run(listener, router(state, &limits), limits, shutdown).await
}
