//! The router: one module per resource, one file per action.

mod docs;
pub(crate) mod health;
pub mod jobs;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, StatusCode, header},
    routing::{get, post},
};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::{error::ApiError, server::limits, state::AppState};

pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/jobs", post(jobs::post::create_job).get(jobs::list::list_jobs))
        .route("/jobs/{id}", get(jobs::get::get_job))
        .route("/jobs/{id}/cancel", post(jobs::cancel::cancel_job))
        .route("/jobs/{id}/retry", post(jobs::retry::retry_job))
        .route("/jobs/{id}/events", get(jobs::events::job_events))
        .route("/jobs/{id}/artifacts", get(jobs::artifacts::list_artifacts))
        .route("/jobs/{id}/artifacts/{name}", get(jobs::artifacts::get_artifact))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(crate::metrics::render))
        .route("/openapi.json", get(docs::openapi_json))
        .route("/docs", get(docs::docs_page))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed on this route")
        })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.config.http, limits::enforce))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::metrics::track))
        // No response may be sniffed into something active (artifacts hold model output).
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let request_id =
                req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), uri = %req.uri().path(), request_id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}
