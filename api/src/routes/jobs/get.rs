//! `GET /jobs/{id}`.

use axum::{
    Json,
    extract::{Path, State},
};
use shared::job::Job;

use crate::{error::ApiError, state::AppState};

/// A job: status, progress, attempts, input, and its result or error.
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, body = Job), (status = 404, body = crate::error::Problem)))]
pub async fn get_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    let id = super::job_id(&id)?;
    Ok(Json(super::load(&state, id).await?))
}
