//! `roster serve`.

use anyhow::{Context, Result};
use roster_server::AppState;

use crate::config::{Config, redact_url};
use crate::{keys, wiring};

pub async fn run(config: &Config) -> Result<()> {
    tracing::info!(config = %crate::effective::dump(config), "effective configuration");
    let limits = wiring::server_limits();
    let ring = wiring::key_ring(config)?;
    let store = wiring::connect(config).await?;
    wiring::ensure_schema(&store, config).await?;
    let app = wiring::app(store, ring, config)?;
    // Before listening: a key missing or wrong stops the start, not each request later.
    keys::check_at_startup(&app).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = %redact_url(&config.database_url), "roster is listening");
    roster_server::serve(listener, AppState::new(app), limits, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
