//! One error type for every handler, rendered as `application/problem+json` (RFC 9457).
//!
//! Client mistakes carry the field they concern; infrastructure outages, and files an operator
//! must restore, become 503 with `Retry-After`; anything unexpected is an opaque 500 whose cause
//! is logged once, here.

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use shared::field_error::FieldError;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 4xx with an optional field name.
    #[error("{detail}")]
    Client { status: StatusCode, field: Option<String>, detail: String },
    /// A 4xx that tells the client what to do through headers too (`WWW-Authenticate`,
    /// `Retry-After`, `RateLimit-*`).
    #[error("{detail}")]
    Refused { status: StatusCode, detail: String, headers: HeaderMap },
    #[error("{what} is unavailable: {cause}")]
    Unavailable { what: &'static str, cause: String },
    /// 503 for something this server should hold and does not (a model's files, the data it
    /// was trained on): an operator's fault. `detail` tells the client what is missing; `cause`
    /// goes to the log.
    #[error("{detail}: {cause}")]
    ServerFault { detail: String, cause: String },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The problem document (RFC 9457), with `field` as an extension member.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::Client { status, field: None, detail: detail.into() }
    }

    pub fn field(status: StatusCode, field: impl Into<String>, message: impl AsRef<str>) -> Self {
        let field = field.into();
        let detail = format!("{field}: {}", message.as_ref());
        Self::Client { status, field: Some(field), detail }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::field(StatusCode::UNPROCESSABLE_ENTITY, e.field, e.message)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if shared::db::is_unavailable(&e) {
            Self::Unavailable { what: "the database", cause: e.to_string() }
        } else if is_unstorable_text(&e) {
            // Every field is checked before it reaches a query; this is the net under a
            // check someone forgot, so that the client still hears it was its input.
            tracing::warn!(error.message = %e, "a request carried text Postgres cannot store");
            Self::new(
                StatusCode::BAD_REQUEST,
                "the request holds a character that cannot be stored (NUL)".to_owned(),
            )
        } else {
            Self::Internal(anyhow::Error::new(e).context("database query failed"))
        }
    }
}

/// `character_not_in_repertoire`: Postgres text cannot hold NUL (or invalid UTF-8).
fn is_unstorable_text(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).is_some_and(|code| code == "22021")
}

impl ApiError {
    /// Status and what the client is told (logging what it is not told): the problem+json
    /// answer's parts, also shown by the dashboard's pages.
    pub fn public(self) -> (StatusCode, Option<String>, String) {
        match self {
            ApiError::Client { status, field, detail } => (status, field, detail),
            ApiError::Refused { status, detail, .. } => (status, None, detail),
            ApiError::Unavailable { what, cause } => {
                tracing::warn!(error.message = %cause, "{what} is unavailable");
                let detail = format!("{what} is unavailable; retry shortly");
                (StatusCode::SERVICE_UNAVAILABLE, None, detail)
            }
            ApiError::ServerFault { detail, cause } => {
                tracing::error!(error.message = %cause, "{detail}");
                (StatusCode::SERVICE_UNAVAILABLE, None, detail)
            }
            ApiError::Internal(e) => {
                tracing::error!(error.cause_chain = ?e, error.message = %e, "request failed");
                let detail = "internal error; it has been logged".into();
                (StatusCode::INTERNAL_SERVER_ERROR, None, detail)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Refused { status, detail, headers } = self {
            let mut response = problem_response(status, None, detail);
            response.headers_mut().extend(headers);
            return response;
        }
        let (status, field, detail) = self.public();
        problem_response(status, field, detail)
    }
}

pub fn problem_response(status: StatusCode, field: Option<String>, detail: String) -> Response {
    let problem = Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        field,
    };
    let mut response = (status, Json(problem)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, PgConnection};

    use super::*;

    #[tokio::test]
    async fn text_postgres_cannot_store_is_the_clients_fault_not_a_500() {
        let mut conn = PgConnection::connect(&testkit::db::admin_url()).await.unwrap();
        let e = sqlx::query("SELECT $1::text").bind("a\0b").execute(&mut conn).await.unwrap_err();
        assert_eq!(ApiError::from(e).into_response().status(), StatusCode::BAD_REQUEST);
        let other = sqlx::query("SELECT 1/0").execute(&mut conn).await.unwrap_err();
        assert_eq!(ApiError::from(other).into_response().status(), 500);
    }
}
