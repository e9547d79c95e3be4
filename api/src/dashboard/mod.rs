//! The web dashboard: server-rendered pages over the same data as the JSON API, served by the
//! api on its own origin. Templates (askama) and static files are compiled into the binary, so
//! it works offline with no build step.
//!
//! Pages read through the same functions as the JSON routes; everything that changes state
//! (submit, cancel, retry) is done by the page's script calling the JSON API itself, with the
//! session cookie and its CSRF token. Live parts use htmx with its SSE extension: a change
//! announced on `/events` or `/jobs/{id}/events` re-fetches one HTML fragment.

mod assets;
mod job;
mod jobs;
mod login;
mod overview;
mod render;
mod report;
mod submit;

use axum::{
    Router,
    extract::FromRequestParts,
    http::{HeaderValue, header, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};

use crate::{
    auth::{Principal, session::Session},
    state::AppState,
};

/// Scripts and styles only from our origin: nothing inline runs, nothing foreign loads, no
/// page of ours is framed, forms post only to us.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(jobs::page))
        .route("/ui/rows", get(jobs::rows))
        .route("/ui/jobs/{id}", get(job::page))
        .route("/ui/jobs/{id}/live", get(job::live))
        .route("/ui/submit", get(submit::page))
        .route("/ui/overview", get(overview::page))
        .route("/ui/login", get(login::page).post(login::submit))
        .route("/ui/logout", post(login::logout))
        .route("/ui/static/{*file}", get(assets::serve))
}

/// Who looks at a page: the request's caller, and the session's CSRF token when it came with a
/// session cookie. Without a caller the browser is sent to the login page.
pub struct Viewer {
    pub principal: Principal,
    pub csrf: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let Some(principal) = parts.extensions.get::<Principal>().cloned() else {
            let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let query = serde_urlencoded::to_string([("next", here)]).expect("a string encodes");
            let login = format!("/ui/login?{query}");
            // A fragment fetched by htmx after the session ended: reload the whole page.
            if parts.headers.contains_key("hx-request") {
                return Err(([("hx-redirect", login)], "").into_response());
            }
            return Err(Redirect::to(&login).into_response());
        };
        let csrf = parts.extensions.get::<Session>().map(|s| s.csrf.clone());
        Ok(Viewer { principal, csrf })
    }
}

/// What the header of every page shows.
pub struct Nav {
    pub active: &'static str,
    /// The owner name of the key, when keys are in use.
    pub whoami: Option<String>,
    /// Present with a session: the logout button and every script call send it.
    pub csrf: Option<String>,
}

impl Nav {
    pub fn new(active: &'static str, viewer: &Viewer) -> Self {
        let whoami = viewer
            .principal
            .key_id
            .as_ref()
            .map(|_| viewer.principal.owner.clone().unwrap_or_else(|| "(no owner)".to_owned()));
        Self { active, whoami, csrf: viewer.csrf.clone() }
    }

    /// The header of the login page: nobody signed in yet.
    pub fn anonymous() -> Self {
        Self { active: "login", whoami: None, csrf: None }
    }
}

/// An HTML answer with the dashboard's CSP; pages are never cached (they hold job data).
pub fn html(body: String) -> Response {
    let mut response = Html(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Renders a template into a response; a template that fails to render is a bug, logged.
pub fn respond(template: impl askama::Template) -> Response {
    match template.render() {
        Ok(body) => html(body),
        Err(e) => crate::error::ApiError::Internal(anyhow::Error::new(e).context("template"))
            .into_response(),
    }
}
