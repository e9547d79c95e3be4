//! Liveness (no dependencies) and readiness (Postgres and Redis answer), and the probes that
//! `/ready` and `/overview` share.

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;
use shared::queue::Producer;
use sqlx::PgPool;

use crate::{error::problem_response, state::AppState};

#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the answer's shape
struct Health {
    /// Always `ok`.
    status: String,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the answer's shape
struct Readiness {
    /// `ok`.
    postgres: String,
    /// `ok`.
    redis: String,
}

/// Liveness: the process serves HTTP.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "alive", body = inline(Health))))]
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: Postgres and Redis both answer within 2 s; 503 naming the one that does not.
#[utoipa::path(get, path = "/ready", tag = "operations", responses(
    (status = 200, description = "Postgres and Redis reachable", body = inline(Readiness)),
    (status = 503, description = "a dependency is unreachable", body = crate::error::Problem)))]
pub async fn ready(State(state): State<AppState>) -> Response {
    let (postgres, redis) = tokio::join!(postgres(&state.pool), redis(&state.producer));
    match (&postgres, &redis) {
        (Ok(()), Ok(())) => {
            (StatusCode::OK, Json(json!({"postgres": "ok", "redis": "ok"}))).into_response()
        }
        _ => {
            let mut failing = Vec::new();
            if let Err(e) = postgres {
                failing.push(format!("postgres: {e}"));
            }
            if let Err(e) = redis {
                failing.push(format!("redis: {e}"));
            }
            problem_response(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                format!("not ready: {}", failing.join("; ")),
            )
        }
    }
}

/// How long a dependency may take to answer a probe (`/ready`, `/overview`).
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Postgres answers `SELECT 1` within [`PROBE_TIMEOUT`]; otherwise why not.
pub(crate) async fn postgres(pool: &PgPool) -> Result<(), String> {
    within(sqlx::query("SELECT 1").execute(pool)).await.map(drop)
}

/// Redis answers `PING` within [`PROBE_TIMEOUT`]; otherwise why not.
pub(crate) async fn redis(producer: &Producer) -> Result<(), String> {
    within(producer.ping()).await
}

/// `probe`'s answer within [`PROBE_TIMEOUT`], or why there is none. The reason is shown to
/// clients: a password in a URL it quotes is masked.
pub(crate) async fn within<T, E: std::fmt::Display>(
    probe: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(shared::redact::redact_urls_in(&e.to_string())),
        Err(_) => Err(format!("no answer within {}s", PROBE_TIMEOUT.as_secs())),
    }
}
