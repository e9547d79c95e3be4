//! Liveness (no dependencies) and readiness (Postgres and Redis answer).

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

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
    let limit = Duration::from_secs(2);
    let postgres = tokio::time::timeout(limit, sqlx::query("SELECT 1").execute(&state.pool));
    let redis = tokio::time::timeout(limit, state.producer.ping());
    let (postgres, redis) = tokio::join!(postgres, redis);
    let postgres = match postgres {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 2s".to_owned()),
    };
    let redis = match redis {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 2s".to_owned()),
    };
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
