//! The router: one module per resource, one file per action.

mod docs;
pub mod events;
pub(crate) mod health;
pub mod jobs;
pub mod market;
pub mod models;
pub mod overview;
mod security;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::StatusCode,
    routing::{get, post, put},
};
use tower::util::option_layer;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{auth, error::ApiError, server::limits, state::AppState};

pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/jobs", post(jobs::post::create_job).get(jobs::list::list_jobs))
        .route("/jobs/{id}", get(jobs::get::get_job))
        .route("/jobs/{id}/cancel", post(jobs::cancel::cancel_job))
        .route("/jobs/{id}/retry", post(jobs::retry::retry_job))
        .route("/jobs/{id}/shared", put(jobs::share::share_model))
        .route("/jobs/{id}/events", get(jobs::events::job_events))
        .route("/events", get(events::events))
        .route("/jobs/{id}/artifacts", get(jobs::artifacts::list_artifacts))
        .route("/jobs/{id}/artifacts/{name}", get(jobs::artifacts::get_artifact))
        .route("/market/symbols", get(market::symbols::list_symbols))
        .route("/market/{symbol}/bars", get(market::bars::get_bars))
        .route("/models", get(models::list::list_models))
        .route("/forecast/{symbol}", get(models::forecast::get_forecast))
        .route("/overview", get(overview::overview))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(crate::metrics::render_for_admin))
        .merge(docs::router())
        .merge(crate::dashboard::router())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed on this route")
        })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(axum::middleware::from_fn_with_state(state.config.http, limits::enforce))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::metrics::track))
        // Preflights are answered before authentication (a browser sends them without a key).
        .layer(option_layer(security::cors(&state.config.cors_origins)))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let request_id =
                req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), uri = %req.uri().path(), request_id,
                                key_id = tracing::field::Empty)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// `/metrics` alone, without authentication: served on `METRICS_ADDR`, an address the
/// operator keeps internal.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(crate::metrics::render))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "only /metrics is served here") })
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}
