//! `POST /jobs`: validate, insert durably, enqueue, answer 202.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};
use shared::{
    db::jobs::{IdempotentInsert, NewJob},
    job::{Job, JobSpec, parse_submission},
};
use uuid::Uuid;

use crate::{error::ApiError, extract::JsonBody, state::AppState};

/// Submit a job.
///
/// `kind` selects the input: `analysis` (`task` `market` or `journal`) or `training`. The
/// short form `{"ticker": "NVDA", "date": "2024-05-10"}` submits a market analysis. With an
/// `Idempotency-Key` header, repeating the same request returns the same job.
#[utoipa::path(post, path = "/jobs", tag = "jobs",
    request_body(content = crate::openapi::SubmitJob, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "makes retries of this request safe")),
    responses(
        (status = 202, description = "accepted; poll the Location", body = Job),
        (status = 200, description = "the job of an earlier request with the same Idempotency-Key", body = Job),
        (status = 400, description = "malformed JSON", body = crate::error::Problem),
        (status = 413, description = "body too large", body = crate::error::Problem),
        (status = 415, description = "not JSON", body = crate::error::Problem),
        (status = 422, description = "invalid field (named in `field`)", body = crate::error::Problem),
        (status = 503, description = "the database is unavailable", body = crate::error::Problem)))]
pub async fn create_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let spec = parse_submission(&body, chrono::Utc::now().date_naive())?;
    if let JobSpec::Training(training) = &spec {
        training
            .check_budget(state.config.common.max_training_flops)
            .map_err(|e| ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "input", e))?;
    }
    let job = NewJob {
        id: Uuid::now_v7(),
        kind: spec.kind(),
        input: spec.to_input_json(),
        input_summary: spec.summary(),
        symbol: spec.symbol().map(|s| s.as_str().to_owned()),
        max_attempts: state.config.common.max_attempts,
        queue_task_id: None,
    };
    let Some(key) = idempotency_key(&headers)? else {
        let job = state.submitter.submit(job).await?;
        state.metrics.submitted(job.kind);
        return Ok(respond(StatusCode::ACCEPTED, job));
    };
    match state.submitter.submit_idempotent(job, &key, &request_hash(&spec)).await? {
        IdempotentInsert::Created(job) => {
            state.metrics.submitted(job.kind);
            Ok(respond(StatusCode::ACCEPTED, job))
        }
        IdempotentInsert::Existing { job, same_request: true } => Ok(respond(StatusCode::OK, job)),
        IdempotentInsert::Existing { job, same_request: false } => Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Idempotency-Key",
            format!("already used for job {} with a different request body", job.id),
        )),
    }
}

fn respond(status: StatusCode, job: Job) -> Response {
    let location =
        HeaderValue::from_str(&format!("/jobs/{}", job.id)).expect("uuid is a valid header");
    (status, [(header::LOCATION, location)], Json(job)).into_response()
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 255);
    key.map(|k| Some(k.to_owned())).ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key",
            "expected 1-255 visible ASCII characters",
        )
    })
}

/// Hash of the validated request: two bodies that mean the same job hash the same.
fn request_hash(spec: &JobSpec) -> String {
    let canonical = serde_json::to_vec(&(spec.kind(), spec)).expect("specs serialise");
    hex::encode(Sha256::digest(canonical))
}
