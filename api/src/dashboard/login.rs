//! `/ui/login` and `/ui/logout`: a key typed once becomes a browser session (see
//! `auth::session`). With `AUTH_MODE=disabled` there is nothing to log into.

use askama::Template;
use axum::{
    Extension, Form,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Nav, respond};
use crate::{
    auth::{AuthMode, Principal, check_key, keys, session},
    state::AppState,
};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    key: String,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    Query(query): Query<Next>,
) -> Response {
    let next = local(query.next.as_deref());
    if state.config.auth.mode == AuthMode::Disabled || principal.is_some() {
        return Redirect::to(&next).into_response();
    }
    respond(LoginPage { nav: Nav::anonymous(), next, error: None })
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local(form.next.as_deref());
    if state.config.auth.mode == AuthMode::Disabled {
        return Redirect::to(&next).into_response();
    }
    if cross_site(&headers) {
        return refused(next, StatusCode::FORBIDDEN, "log in from this site's own page");
    }
    let Some((id, secret)) = keys::parse(form.key.trim()) else {
        let detail = "that is not an API key: keys look like tf_<12 hex digits>_<64 hex digits>";
        return refused(next, StatusCode::UNAUTHORIZED, detail);
    };
    if let Err(e) = check_key(&state, id, Some(secret)).await {
        let (status, _, detail) = e.public();
        return refused(next, status, &detail);
    }
    let new = match session::create(&state.pool, id).await {
        Ok(new) => new,
        Err(e) => {
            let (status, _, detail) = crate::error::ApiError::from(e).public();
            return refused(next, status, &detail);
        }
    };
    tracing::info!(key.id = %id, "dashboard session started");
    let https = headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes() == b"https");
    let cookie = session::set_cookie(&new, https);
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    let clear = [(header::SET_COOKIE, session::clear_cookie())];
    let Some(token) = session::token(&headers) else {
        return (clear, Redirect::to("/ui/login")).into_response();
    };
    match session::find(&state.pool, token).await {
        Ok(Some(found)) if !session::csrf_matches(&found, form.csrf.as_deref()) => {
            return (StatusCode::FORBIDDEN, "the logout form's CSRF token does not match")
                .into_response();
        }
        Ok(_) => {}
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    }
    if let Err(e) = session::delete(&state.pool, token).await {
        return crate::error::ApiError::from(e).into_response();
    }
    (clear, Redirect::to("/ui/login")).into_response()
}

fn refused(next: String, status: StatusCode, detail: &str) -> Response {
    (status, respond(LoginPage { nav: Nav::anonymous(), next, error: Some(detail.to_owned()) }))
        .into_response()
}

/// Browsers say where a request came from; a login posted from another site is refused (it
/// would log the victim into the attacker's key).
fn cross_site(headers: &HeaderMap) -> bool {
    headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site")
}

/// Where to go after logging in: a path on this site only, never another origin.
fn local(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::local;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(local(Some("/ui/jobs/x?y=1")), "/ui/jobs/x?y=1");
        for bad in ["//evil.example", "https://evil.example", "/\\evil.example", "javascript:x"] {
            assert_eq!(local(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local(None), "/");
    }
}
