//! `PUT /jobs/{id}/shared`: an admin lets every owner's analyses use a trained model.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use shared::job::Job;
use utoipa::ToSchema;

use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    extract::JsonBody,
    state::AppState,
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sharing {
    /// `true`: analyses of every owner may use this model; `false`: only its owner's.
    pub shared: bool,
}

/// Share a trained model with every owner, or stop sharing it (admin scope).
#[utoipa::path(put, path = "/jobs/{id}/shared", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "a training job's id")),
    request_body(content = Sharing, content_type = "application/json"),
    responses((status = 200, description = "the training job, with `shared` set", body = Job),
              (status = 400, description = "malformed id or JSON", body = crate::error::Problem),
              (status = 404, description = "no such job", body = crate::error::Problem),
              (status = 409, description = "the job is an analysis: only a training job has a model to share", body = crate::error::Problem),
              (status = 415, description = "not application/json", body = crate::error::Problem),
              (status = 422, description = "`shared` missing or not a boolean", body = crate::error::Problem),
              (status = 503, description = "the database is unavailable, or the request timed out", body = crate::error::Problem)))]
pub async fn share_model(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Json<Job>, ApiError> {
    principal.require(Scope::Admin)?;
    let id = super::job_id(&id)?;
    let sharing: Sharing = serde_json::from_value(body.value).map_err(|e| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "shared",
            format!("expected {{\"shared\": true|false}} ({e})"),
        )
    })?;
    let Some(job) = shared::db::jobs::set_shared(&state.pool, id, sharing.shared).await? else {
        // The job exists but trained nothing: say so, rather than pretend it is not there.
        return Err(match shared::db::jobs::get(&state.pool, id).await? {
            Some(job) => ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "job {id} is an {} job; only a training job has a model to share",
                    job.kind
                ),
            ),
            None => ApiError::not_found(format!("job {id}")),
        });
    };
    tracing::info!(job.id = %id, shared = sharing.shared, by = ?principal.key_id, "model sharing changed");
    Ok(Json(job))
}
