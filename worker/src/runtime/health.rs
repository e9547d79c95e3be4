//! The worker's small HTTP port: `/health` for the container healthcheck, `/metrics`.

use std::sync::Arc;

use axum::{Json, Router, extract::State, response::IntoResponse, routing::get};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::Runtime;

pub async fn serve(listener: TcpListener, rt: Arc<Runtime>, shutdown: CancellationToken) {
    let app = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(render_metrics))
        .with_state(rt);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    if let Err(e) = result {
        tracing::error!(error.message = %e, "health server stopped");
    }
}

async fn health(State(rt): State<Arc<Runtime>>) -> Json<serde_json::Value> {
    Json(
        json!({"status": "ok", "worker": rt.services.config.name, "running_jobs": rt.inflight.len()}),
    )
}

async fn render_metrics(State(rt): State<Arc<Runtime>>) -> impl IntoResponse {
    metrics::gauge!("tradeforge_worker_running_jobs").set(rt.inflight.len() as f64);
    ([("content-type", "text/plain; version=0.0.4")], rt.metrics.render())
}
