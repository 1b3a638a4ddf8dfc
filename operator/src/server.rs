//! The operator's HTTP endpoints: `/metrics` (Prometheus), `/healthz` (the process runs) and
//! `/readyz` (it is the leader, or a standby ready to take over).

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Installs the global metrics recorder and returns the handle that renders it.
pub fn install_metrics() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new().install_recorder()?;
    metrics::describe_counter!(
        "authstack_operator_reconciles_total",
        "Reconciles of AuthStackInstance resources."
    );
    metrics::describe_counter!(
        "authstack_operator_reconcile_errors_total",
        "Failed reconciles, by reason."
    );
    metrics::describe_histogram!(
        "authstack_operator_reconcile_duration_seconds",
        "Time of one reconcile."
    );
    metrics::describe_counter!(
        "authstack_operator_api_writes_total",
        "Create, apply, patch and delete calls to the Kubernetes API."
    );
    metrics::describe_gauge!(
        "authstack_operator_leader",
        "1 while this replica holds the leader lease."
    );
    Ok(handle)
}

/// `ready` is false while the leader's caches are being filled (a standby is ready).
pub fn router(metrics: PrometheusHandle, ready: tokio::sync::watch::Receiver<bool>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || std::future::ready(metrics.render())),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let ready = *ready.borrow();
                async move {
                    if ready {
                        (axum::http::StatusCode::OK, "ok")
                    } else {
                        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "starting")
                    }
                }
            }),
        )
}

/// Serves the endpoints until `shutdown` resolves.
pub async fn serve(
    listen: SocketAddr,
    metrics: PrometheusHandle,
    ready: tokio::sync::watch::Receiver<bool>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(%listen, "metrics and health endpoints listening");
    axum::serve(listener, router(metrics, ready))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
