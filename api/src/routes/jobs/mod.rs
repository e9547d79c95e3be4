//! `/jobs` and everything under it.

pub mod artifacts;
pub mod cancel;
pub mod events;
pub mod get;
pub mod list;
pub mod post;
pub mod retry;

use axum::http::StatusCode;
use uuid::Uuid;

use crate::error::ApiError;

/// Parses the `{id}` path segment.
pub(crate) fn job_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::field(StatusCode::BAD_REQUEST, "id", format!("{raw:?} is not a job id (a UUID)"))
    })
}

pub(crate) async fn load(
    state: &crate::state::AppState,
    id: Uuid,
) -> Result<shared::job::Job, ApiError> {
    shared::db::jobs::get(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("job {id}")))
}
