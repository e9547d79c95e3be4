//! Request extractors whose rejections are problem documents naming what was wrong.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Query, Request, rejection::BytesRejection},
    http::{StatusCode, header, request::Parts},
};
use serde_json::Value;

use crate::{error::ApiError, offload, server::limits::BodyTimeout};

/// A JSON body: checks the content type, the size limit, the body timeout and the syntax.
pub struct JsonBody {
    pub value: Value,
    /// Its size in bytes, to decide whether more work on it belongs off the async workers.
    pub size: usize,
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let is_json = content_type.is_some_and(|ct| {
            let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        });
        if !is_json {
            let got = content_type.map_or("none".to_owned(), |ct| format!("{ct:?}"));
            return Err(ApiError::field(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "content-type",
                format!("expected application/json, got {got}"),
            ));
        }
        let limit = req.extensions().get::<BodyTimeout>().map(|t| t.0);
        let read = Bytes::from_request(req, state);
        let read = match limit {
            Some(limit) => tokio::time::timeout(limit, read).await.map_err(|_| {
                ApiError::field(
                    StatusCode::REQUEST_TIMEOUT,
                    "body",
                    format!("not received within {}s (HTTP_BODY_TIMEOUT_S)", limit.as_secs()),
                )
            })?,
            None => read.await,
        };
        let bytes = read.map_err(|e: BytesRejection| {
            let status = e.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "the request body is larger than the limit (MAX_BODY_BYTES)".to_owned()
            } else {
                e.body_text()
            };
            ApiError::field(status, "body", message)
        })?;
        let size = bytes.len();
        let value = offload::if_large(size, move || serde_json::from_slice::<Value>(&bytes))
            .await
            .map_err(|e| {
                ApiError::field(
                    StatusCode::BAD_REQUEST,
                    "body",
                    format!("malformed JSON at line {} column {}: {e}", e.line(), e.column()),
                )
            })?;
        Ok(JsonBody { value, size })
    }
}

/// Query parameters as decoded `(name, value)` pairs; handlers parse each one themselves so
/// that an error names the parameter (`query.limit`).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|Query(pairs)| QueryPairs(pairs))
            .map_err(|e| ApiError::field(StatusCode::BAD_REQUEST, "query", e.body_text()))
    }
}
