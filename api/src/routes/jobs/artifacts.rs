//! `GET /jobs/{id}/artifacts[/{name}]`: the job's files in the results volume.
//!
//! Only regular files directly inside `RESULTS_DIR/<id>/` are listed or served: symlinks are
//! not followed (the file is opened with `O_NOFOLLOW`), and FIFOs, devices and directories are
//! refused after opening without blocking (`O_NONBLOCK`) and checking what was opened. A file
//! is streamed from disk in fixed-size chunks, so a download costs the same memory whatever its
//! size, and a reader that stops reading is cut off by the connection's stall timeout.

use std::path::Path;

use axum::{
    Json,
    body::Body,
    extract::{Path as UrlPath, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;
use utoipa::ToSchema;

use crate::{error::ApiError, state::AppState};

/// Bytes read from disk per chunk of a download.
const CHUNK: usize = 64 * 1024;

#[derive(Serialize, ToSchema)]
pub struct Artifact {
    pub name: String,
    pub size: u64,
    pub url: String,
}

/// List the job's files.
#[utoipa::path(get, path = "/jobs/{id}/artifacts", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "job id")),
    responses((status = 200, body = Vec<Artifact>),
              (status = 400, description = "malformed id", body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 404, description = "no such job", body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn list_artifacts(
    State(state): State<AppState>,
    principal: crate::auth::Principal,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Vec<Artifact>>, ApiError> {
    principal.require(crate::auth::Scope::Read)?;
    let id = super::job_id(&id)?;
    super::load(&state, &principal, id).await?;
    let dir = state.config.results_dir.join(id.to_string());
    let mut artifacts = Vec::new();
    if !is_real_dir(&dir).await {
        return Ok(Json(artifacts));
    }
    let Ok(mut entries) = tokio::fs::read_dir(&dir).await else { return Ok(Json(artifacts)) };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        // The entry's own type and size: a symlink is not followed, so it is not a file here.
        let Ok(meta) = entry.metadata().await else { continue };
        if meta.is_file() && is_artifact_name(&name) {
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
    params(("id" = uuid::Uuid, Path, description = "job id"),
           ("name" = String, Path, description = "file name, as listed", pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")),
    responses((status = 200, description = "the file, streamed",
                  content(("application/octet-stream"), ("application/json"), ("text/markdown"), ("text/csv")),
                  headers(("content-length" = u64), ("content-disposition" = String), ("x-content-type-options" = String))),
              (status = 400, description = "malformed id or name", body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 404, description = "no such job or file", body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn get_artifact(
    State(state): State<AppState>,
    principal: crate::auth::Principal,
    UrlPath((id, name)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    principal.require(crate::auth::Scope::Read)?;
    let id = super::job_id(&id)?;
    if !is_artifact_name(&name) {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "name",
            format!("{name:?} is not an artifact name (letters, digits, '.', '_', '-')"),
        ));
    }
    super::load(&state, &principal, id).await?;
    let (file, len) = open(&state, id, &name).await?;
    let body = Body::from_stream(ReaderStream::with_capacity(file.take(len), CHUNK));
    let disposition = if content_type(&name).starts_with("application/octet-stream") {
        "attachment"
    } else {
        "inline"
    };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type(&name))),
        (header::CONTENT_LENGTH, HeaderValue::from(len)),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!("{disposition}; filename=\"{name}\""))
                .expect("artifact names are header-safe"),
        ),
        // A file written from model output must never run as a page.
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'")),
    ];
    Ok((StatusCode::OK, headers, body).into_response())
}

/// A job's artifact file and its length; the caller has checked the job is visible. Links are
/// not followed: a file is served only if it is a regular file in the job's own directory.
pub(crate) async fn open(
    state: &AppState,
    id: uuid::Uuid,
    name: &str,
) -> Result<(tokio::fs::File, u64), ApiError> {
    let not_found = || ApiError::not_found(format!("artifact {name} of job {id}"));
    let dir = state.config.results_dir.join(id.to_string());
    if !is_artifact_name(name) || !is_real_dir(&dir).await {
        return Err(not_found());
    }
    let file = tokio::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(dir.join(name))
        .await
        .map_err(|_| not_found())?;
    let meta = file.metadata().await.map_err(|_| not_found())?;
    if !meta.is_file() {
        return Err(not_found());
    }
    Ok((file, meta.len()))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("json") => "application/json",
        Some("md") => "text/markdown; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// What a worker names its files; anything else (temporaries start with a dot) is not served.
fn is_artifact_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=128).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(b))
}

/// The job's directory, itself and not a symlink to somewhere else.
async fn is_real_dir(dir: &Path) -> bool {
    tokio::fs::symlink_metadata(dir).await.is_ok_and(|m| m.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_names_are_plain_file_names() {
        for ok in ["result.json", "report.md", "model.safetensors", "forecast.csv", "a-b_c.1"] {
            assert!(is_artifact_name(ok), "{ok}");
        }
        for bad in ["", ".result.json.tmp", "..", "a/b", "a\\b", "x\"y", "é.md", &"a".repeat(129)]
        {
            assert!(!is_artifact_name(bad), "{bad}");
        }
    }
}
