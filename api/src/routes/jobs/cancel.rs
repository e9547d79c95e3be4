//! `POST /jobs/{id}/cancel`.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use shared::job::{Job, JobStatus};

use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    state::AppState,
};

/// Cancel a job: a queued job is cancelled at once (200); a running one is asked to stop at its
/// next step (202, `cancel_requested: true`). A finished job cannot be cancelled (409).
#[utoipa::path(post, path = "/jobs/{id}/cancel", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "job id")),
    responses((status = 200, description = "cancelled", body = Job),
              (status = 202, description = "running; cancellation requested", body = Job),
              (status = 400, description = "malformed id", body = crate::error::Problem),
              (status = 404, description = "no such job", body = crate::error::Problem),
              (status = 409, description = "already finished", body = crate::error::Problem),
              (status = 503, description = "the database is unavailable, or the request timed out", body = crate::error::Problem)))]
pub async fn cancel_job(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(Scope::Submit)?;
    let id = super::job_id(&id)?;
    let by = principal.key_id.as_deref();
    let job = shared::db::jobs::cancel(&state.pool, id, principal.visible_owner(), by)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("job {id}")))?;
    match job.status {
        JobStatus::Running => Ok((StatusCode::ACCEPTED, Json(job)).into_response()),
        JobStatus::Cancelled if job.cancel_requested => {
            Ok((StatusCode::OK, Json(job)).into_response())
        }
        status => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("job {id} is already {status}; nothing to cancel"),
        )),
    }
}
