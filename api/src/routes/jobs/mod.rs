//! `/jobs` and everything under it.

pub mod artifacts;
pub mod cancel;
pub mod events;
pub mod get;
pub mod list;
mod models;
pub mod post;
pub mod retry;
pub mod share;

use axum::http::StatusCode;
use uuid::Uuid;

use crate::error::ApiError;

/// Parses the `{id}` path segment.
pub(crate) fn job_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::field(StatusCode::BAD_REQUEST, "id", format!("{raw:?} is not a job id (a UUID)"))
    })
}

/// The job, if the caller may see it: another owner's job is 404, as if it did not exist.
pub(crate) async fn load(
    state: &crate::state::AppState,
    principal: &crate::auth::Principal,
    id: Uuid,
) -> Result<shared::job::Job, ApiError> {
    shared::db::jobs::get(&state.pool, id)
        .await?
        .filter(|job| principal.may_see(job.owner.as_deref()))
        .ok_or_else(|| ApiError::not_found(format!("job {id}")))
}
