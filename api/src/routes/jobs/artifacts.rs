//! `GET /jobs/{id}/artifacts[/{name}]`: the job's files in the results volume.

use axum::{
    Json,
    body::Body,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{error::ApiError, state::AppState};

#[derive(Serialize, ToSchema)]
pub struct Artifact {
    pub name: String,
    pub size: u64,
    pub url: String,
}

/// List the job's files.
#[utoipa::path(get, path = "/jobs/{id}/artifacts", tag = "jobs",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, body = Vec<Artifact>), (status = 404, body = crate::error::Problem)))]
pub async fn list_artifacts(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Artifact>>, ApiError> {
    let id = super::job_id(&id)?;
    super::load(&state, id).await?;
    let dir = state.config.results_dir.join(id.to_string());
    let mut artifacts = Vec::new();
    let Ok(mut entries) = tokio::fs::read_dir(&dir).await else { return Ok(Json(artifacts)) };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = entry.metadata().await else { continue };
        // Dot-files are temporaries of a write in progress.
        if meta.is_file() && !name.starts_with('.') {
            artifacts.push(Artifact {
                url: format!("/jobs/{id}/artifacts/{name}"),
                name,
                size: meta.len(),
            });
        }
    }
    artifacts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(artifacts))
}

/// Download one file.
#[utoipa::path(get, path = "/jobs/{id}/artifacts/{name}", tag = "jobs",
    params(("id" = String, Path, description = "job id"), ("name" = String, Path, description = "file name")),
    responses((status = 200, description = "the file"), (status = 404, body = crate::error::Problem)))]
pub async fn get_artifact(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = super::job_id(&id)?;
    let valid =
        !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']) && name != "..";
    if !valid {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "name",
            format!("{name:?} is not an artifact name"),
        ));
    }
    let path = state.config.results_dir.join(id.to_string()).join(&name);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| ApiError::not_found(format!("artifact {name} of job {id}")))?;
    let content_type = match name.rsplit('.').next() {
        Some("json") => "application/json",
        Some("md") => "text/markdown; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    };
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        Body::from(bytes),
    )
        .into_response())
}
