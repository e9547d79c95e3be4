//! `GET /jobs/{id}`.

use axum::{
    Json,
    extract::{Path, State},
};
use shared::job::Job;

use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    state::AppState,
};

/// A job: status, progress, attempts, input, and its result or error.
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "job id")),
    responses((status = 200, description = "the job", body = Job),
              (status = 400, description = "malformed id", body = crate::error::Problem),
              (status = 404, description = "no such job", body = crate::error::Problem),
              (status = 503, description = "the database is unavailable, or the request timed out", body = crate::error::Problem)))]
pub async fn get_job(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    principal.require(Scope::Read)?;
    let id = super::job_id(&id)?;
    Ok(Json(super::load(&state, &principal, id).await?))
}
