//! The layer that authenticates every request before routing reaches a handler.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::Utc;

use super::{AuthMode, Principal, keys};
use crate::{error::ApiError, state::AppState};

/// Routes anyone may call: the liveness probe, and the documentation when `DOCS_PUBLIC=true`.
fn is_public(path: &str, docs_public: bool) -> bool {
    path == "/health"
        || (docs_public
            && (path == "/docs" || path.starts_with("/docs/") || path == "/openapi.json"))
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let config = &state.config.auth;
    if is_public(req.uri().path(), config.docs_public) {
        return next.run(req).await;
    }
    let principal = match config.mode {
        AuthMode::Disabled => Principal::anonymous(),
        AuthMode::Required => match identify(&state, req.headers()).await {
            Ok(principal) => principal,
            Err(refusal) => return refusal.into_response(),
        },
    };
    if let Some(key) = &principal.key_id {
        tracing::Span::current().record("key_id", tracing::field::display(key));
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(unauthorized(
            None,
            "this route needs an API key: send `Authorization: Bearer <key>` (an admin creates keys with `api keys create`)",
        ));
    };
    // Nothing of the presented value goes into a log line or a reply.
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token else {
        return Err(unauthorized(
            Some("invalid_request"),
            "the Authorization header must be `Bearer <key>`",
        ));
    };
    let invalid = || unauthorized(Some("invalid_token"), "the API key is not valid");
    let (id, secret) = keys::parse(token).ok_or_else(invalid)?;
    let key = state.keys.get(&state.pool, id).await?.ok_or_else(invalid)?;
    let record = &key.record;
    if !keys::verify(secret, &record.secret_sha256) {
        return Err(invalid());
    }
    if let Some(at) = record.revoked_at {
        let detail = format!("the API key {id} was revoked at {}", at.to_rfc3339());
        return Err(unauthorized(Some("invalid_token"), &detail));
    }
    if let Some(at) = record.expires_at.filter(|at| *at <= Utc::now()) {
        let detail = format!("the API key {id} expired at {}", at.to_rfc3339());
        return Err(unauthorized(Some("invalid_token"), &detail));
    }
    tracing::debug!(key.id = %record.id, owner = %record.owner, "request authenticated");
    Ok(key.principal.clone())
}

/// 401 with the challenge RFC 6750 describes.
fn unauthorized(error: Option<&str>, detail: &str) -> ApiError {
    let challenge = match error {
        None => r#"Bearer realm="tradeforge""#.to_owned(),
        Some(error) => format!(r#"Bearer realm="tradeforge", error="{error}""#),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_str(&challenge).expect("ascii"));
    ApiError::Refused { status: StatusCode::UNAUTHORIZED, detail: detail.to_owned(), headers }
}
