//! The time limits every request runs under, and the middleware that enforces the ones that
//! belong to the router (the connection-level ones are in the accept loop).

use std::time::Duration;

use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::Response,
};
use shared::config::{ConfigError, Env, seconds, settings::*};

use crate::error::problem_response;

/// Per-connection and per-request bounds (`HTTP_*` settings).
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Headers of a request must arrive within this (also the idle keep-alive limit).
    pub header_timeout: Duration,
    /// A request body must arrive within this.
    pub body_timeout: Duration,
    /// A handler must produce its response head within this (streams then run on their own
    /// limits: a download while bytes move, an SSE stream until `SSE_MAX_LIFETIME_S`).
    pub request_timeout: Duration,
    /// A connection where no byte moves either way for this long is closed.
    pub stall_timeout: Duration,
    pub max_connections: usize,
}

/// SSE streams send a comment this often, so that a live stream never looks stalled.
pub const SSE_HEARTBEAT: Duration = Duration::from_secs(10);

impl HttpLimits {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let limits = Self {
            header_timeout: seconds(env, &HTTP_HEADER_TIMEOUT_S)?,
            body_timeout: seconds(env, &HTTP_BODY_TIMEOUT_S)?,
            request_timeout: seconds(env, &HTTP_REQUEST_TIMEOUT_S)?,
            stall_timeout: seconds(env, &HTTP_STALL_TIMEOUT_S)?,
            max_connections: env.parse(&HTTP_MAX_CONNECTIONS)?,
        };
        let floor = limits.request_timeout.max(SSE_HEARTBEAT);
        if limits.stall_timeout <= floor {
            return Err(ConfigError::invalid(
                &HTTP_STALL_TIMEOUT_S,
                &limits.stall_timeout.as_secs(),
                &format!(
                    "more than HTTP_REQUEST_TIMEOUT_S and the {}s SSE heartbeat",
                    SSE_HEARTBEAT.as_secs()
                ),
            ));
        }
        if limits.body_timeout >= limits.request_timeout {
            return Err(ConfigError::invalid(
                &HTTP_BODY_TIMEOUT_S,
                &limits.body_timeout.as_secs(),
                "less than HTTP_REQUEST_TIMEOUT_S (a slow body gets 408, not 503)",
            ));
        }
        if limits.max_connections == 0 {
            return Err(ConfigError::invalid(&HTTP_MAX_CONNECTIONS, &0, "at least 1"));
        }
        Ok(limits)
    }
}

impl Default for HttpLimits {
    /// The documented defaults (what `from_env` gives with nothing set).
    fn default() -> Self {
        Self::from_env(&Env::default()).expect("the defaults are valid")
    }
}

/// The body timeout, for the extractors that read bodies.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// Answers 503 when a handler takes longer than `HTTP_REQUEST_TIMEOUT_S` to start its
/// response, and hands the body timeout to the extractors.
pub async fn enforce(State(limits): State<HttpLimits>, mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(BodyTimeout(limits.body_timeout));
    match tokio::time::timeout(limits.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!("tradeforge_http_request_timeouts_total").increment(1);
            problem_response(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                format!(
                    "the request took longer than {}s (HTTP_REQUEST_TIMEOUT_S); retry shortly",
                    limits.request_timeout.as_secs()
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::{Router, body::Body, routing::get};
    use tower::ServiceExt;

    use super::*;

    fn limits(request_timeout: Duration) -> HttpLimits {
        HttpLimits { request_timeout, ..HttpLimits::default() }
    }

    #[tokio::test(start_paused = true)]
    async fn a_handler_past_the_request_timeout_is_answered_503() {
        let slow = Router::new()
            .route("/", get(|| async { tokio::time::sleep(Duration::from_secs(60)).await }))
            .layer(axum::middleware::from_fn_with_state(limits(Duration::from_secs(5)), enforce));
        let response = slow.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        assert!(response.headers().contains_key("retry-after"));
    }

    #[test]
    fn settings_that_would_cut_live_streams_or_mask_408s_are_refused() {
        let env = |pairs: &[(&str, &str)]| {
            Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        };
        assert!(HttpLimits::from_env(&env(&[])).is_ok());
        let stall = HttpLimits::from_env(&env(&[("HTTP_STALL_TIMEOUT_S", "10")])).unwrap_err();
        assert!(stall.to_string().contains("HTTP_STALL_TIMEOUT_S"), "{stall}");
        let body = HttpLimits::from_env(&env(&[("HTTP_BODY_TIMEOUT_S", "30")])).unwrap_err();
        assert!(body.to_string().contains("HTTP_BODY_TIMEOUT_S"), "{body}");
    }
}
