//! The worker's small HTTP port: `/health` (the process is alive, and what it waits for),
//! `/ready` (it can do its work: 503 while the default model is missing), `/metrics`.

use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::Runtime;

pub async fn serve(listener: TcpListener, rt: Arc<Runtime>, shutdown: CancellationToken) {
    let app = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
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
    Json(json!({
        "status": "ok",
        "worker": rt.services.config.name,
        "running_jobs": rt.inflight.len(),
        "model": model_report(&rt),
    }))
}

/// 503 while an analysis worker's default model cannot answer, saying why; a training-only
/// worker needs no model.
async fn ready(State(rt): State<Arc<Runtime>>) -> impl IntoResponse {
    let services = &rt.services;
    let needs_model = services.config.queues.contains(&shared::job::JobKind::Analysis);
    let ready = !needs_model || services.model_status.is_ready();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "model": model_report(&rt),
    });
    (status, Json(body))
}

fn model_report(rt: &Runtime) -> serde_json::Value {
    let services = &rt.services;
    let model = &services.config.llm.model;
    json!({
        "name": model,
        "server": services.llm.server(),
        "ready": services.model_status.is_ready(),
        "detail": services.model_status.describe(model),
    })
}

async fn render_metrics(State(rt): State<Arc<Runtime>>) -> impl IntoResponse {
    metrics::gauge!("tradeforge_worker_running_jobs").set(rt.inflight.len() as f64);
    ([("content-type", "text/plain; version=0.0.4")], rt.metrics.render())
}
