//! `POST /jobs/{id}/retry`: re-run a failed or cancelled job (dead-letter re-drive).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use shared::job::Job;

use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    state::AppState,
};

/// Put a failed or cancelled job back in the queue with fresh attempts.
#[utoipa::path(post, path = "/jobs/{id}/retry", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "job id")),
    responses((status = 202, description = "queued again", body = Job),
              (status = 400, description = "malformed id", body = crate::error::Problem),
              (status = 404, description = "no such job", body = crate::error::Problem),
              (status = 409, description = "not failed or cancelled", body = crate::error::Problem),
              (status = 429, description = "the owner already has as many jobs queued or running as the key's quota allows", body = crate::error::Problem),
              (status = 503, description = "the database is unavailable, or the request timed out", body = crate::error::Problem)))]
pub async fn retry_job(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Scope::Submit)?;
    let id = super::job_id(&id)?;
    let by = principal.key_id.as_deref();
    let quota = crate::quota::owner_quota(&principal);
    let mut conn = state.pool.acquire().await?;
    let retried = shared::db::quota::retry_within_quota(
        &mut conn,
        id,
        principal.visible_owner(),
        by,
        quota.as_ref(),
    )
    .await?
    .map_err(|refusal| crate::quota::refused(&refusal))?;
    match retried {
        None => Err(ApiError::not_found(format!("job {id}"))),
        Some((job, true)) => Ok((StatusCode::ACCEPTED, Json(job)).into_response()),
        Some((job, false)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("job {id} is {}; only failed or cancelled jobs can be retried", job.status),
        )),
    }
}
