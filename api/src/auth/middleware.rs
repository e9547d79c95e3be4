//! The layer that authenticates every request before routing reaches a handler.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::Utc;

use super::{AuthMode, Principal, keys, session};
use crate::{error::ApiError, state::AppState};

/// Routes anyone may call: the liveness probe, the dashboard's static files, and the
/// documentation when `DOCS_PUBLIC=true`.
fn is_public(path: &str, docs_public: bool) -> bool {
    path == "/health"
        || path.starts_with("/ui/static/")
        || (docs_public
            && (path == "/docs" || path.starts_with("/docs/") || path == "/openapi.json"))
}

/// Dashboard pages: without credentials they still reach their handler, which sends the
/// browser to the login page instead of answering 401.
fn is_page(path: &str) -> bool {
    path == "/" || path.starts_with("/ui/")
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let config = &state.config.auth;
    let path = req.uri().path();
    if is_public(path, config.docs_public) {
        return next.run(req).await;
    }
    let page = is_page(path);
    let principal = match config.mode {
        AuthMode::Disabled => Principal::anonymous(),
        AuthMode::Required => match caller(&state, req.headers(), req.method(), page).await {
            Ok(Some((principal, session))) => {
                if let Some(session) = session {
                    req.extensions_mut().insert(session);
                }
                principal
            }
            Ok(None) if page => return next.run(req).await,
            Ok(None) => return missing_key().into_response(),
            Err(refusal) => return refusal.into_response(),
        },
    };
    if let Some(key) = &principal.key_id {
        tracing::Span::current().record("key_id", tracing::field::display(key));
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// Who calls: a Bearer key wins; else a dashboard session cookie; `None` when neither is
/// presented (or the session has ended).
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
    page: bool,
) -> Result<Option<(Principal, Option<session::Session>)>, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        return identify(state, headers).await.map(|p| Some((p, None)));
    }
    let Some(token) = session::token(headers) else { return Ok(None) };
    let Some(found) = session::find(&state.pool, token).await? else { return Ok(None) };
    let Ok(principal) = check_key(state, &found.key_id, None).await else { return Ok(None) };
    // A cookie rides along on every same-site request, so one that changes state must also
    // prove it came from our page. The dashboard's own forms check their `csrf` field.
    let safe = matches!(*method, Method::GET | Method::HEAD);
    let presented = headers.get(session::CSRF_HEADER).and_then(|v| v.to_str().ok());
    if !safe && !page && !session::csrf_matches(&found, presented) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a request with the dashboard's session cookie must carry its X-CSRF-Token",
        ));
    }
    Ok(Some((principal, Some(found))))
}

async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(missing_key());
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
    let (id, secret) = keys::parse(token).ok_or_else(invalid)?;
    check_key(state, id, Some(secret)).await
}

fn missing_key() -> ApiError {
    unauthorized(
        None,
        "this route needs an API key: send `Authorization: Bearer <key>` (an admin creates keys with `api keys create`)",
    )
}

fn invalid() -> ApiError {
    unauthorized(Some("invalid_token"), "the API key is not valid")
}

/// The caller a key makes, if it exists, is live and (when given) `secret` is its secret. A
/// session has no secret to show: it was checked at login, and the key's state is checked on
/// every request, so revoking a key ends its sessions too.
pub(crate) async fn check_key(
    state: &AppState,
    id: &str,
    secret: Option<&str>,
) -> Result<Principal, ApiError> {
    let key = state.keys.get(&state.pool, id).await?.ok_or_else(invalid)?;
    let record = &key.record;
    if secret.is_some_and(|secret| !keys::verify(secret, &record.secret_sha256)) {
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
