//! Prometheus metrics: request counts and latencies, submissions, and job counts by state.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::PrometheusHandle;
use shared::job::JobKind;

use crate::state::AppState;

#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    pub fn install() -> Self {
        Self { handle: shared::metrics::install() }
    }

    pub fn submitted(&self, kind: JobKind) {
        metrics::counter!("tradeforge_jobs_submitted_total", "kind" => kind.as_str()).increment(1);
    }
}

/// Records every request by matched route and method. Every label value comes from a fixed
/// set, whatever a client sends: routes are the router's templates (ids would explode the
/// label set), methods the standard ones or `OTHER`, statuses three digits.
pub async fn track(State(_): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method.to_owned()), ("route", route), ("status", status)];
    metrics::counter!("tradeforge_http_requests_total", &labels).increment(1);
    metrics::histogram!("tradeforge_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// `GET /metrics`: Prometheus text, with job counts by kind and status read from Postgres.
/// `/metrics` on the API's own address: admin keys only.
pub async fn render_for_admin(
    state: State<AppState>,
    principal: crate::auth::Principal,
) -> Result<Response, crate::error::ApiError> {
    principal.require(crate::auth::Scope::Admin)?;
    Ok(render(state).await)
}

pub async fn render(State(state): State<AppState>) -> Response {
    match shared::db::sweeps::counts(&state.pool).await {
        Ok(counts) => {
            for (kind, status, n) in counts {
                metrics::gauge!("tradeforge_jobs", "kind" => kind, "status" => status)
                    .set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error.message = %e, "job counts unavailable for /metrics"),
    }
    ([("content-type", "text/plain; version=0.0.4")], state.metrics.handle.render()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        let made_up = Method::from_bytes(b"XYZZY123").unwrap();
        assert_eq!(method_label(&made_up), "OTHER");
        assert_eq!(method_label(&Method::POST), "POST");
    }
}
