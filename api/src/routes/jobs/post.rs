//! `POST /jobs`: validate, insert durably, enqueue, answer 202.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use shared::{
    config::CommonConfig,
    db::jobs::{IdempotentInsert, NewJob},
    job::{Job, JobSpec, parse_submission, summarize_input},
};
use uuid::Uuid;

use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    extract::JsonBody,
    offload, quota,
    state::AppState,
};

/// Submit a job.
///
/// `kind` selects the input: `analysis` (`task` `market` or `journal`) or `training`. The
/// short form `{"ticker": "NVDA", "date": "2024-05-10"}` submits a market analysis. With an
/// `Idempotency-Key` header, repeating the same request returns the same job.
#[utoipa::path(post, path = "/jobs", tag = "jobs",
    request_body(content = crate::openapi::SubmitJob, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "makes retries of this request safe: 1-255 visible ASCII characters",
             min_length = 1, max_length = 255, pattern = r"^[!-~](?:[ -~]*[!-~])?$")),
    responses(
        (status = 202, description = "accepted; poll the Location", body = Job,
            headers(("location" = String, description = "/jobs/{id}"))),
        (status = 200, description = "the job of an earlier request with the same Idempotency-Key", body = Job,
            headers(("location" = String, description = "/jobs/{id}"))),
        (status = 400, description = "malformed JSON or Idempotency-Key", body = crate::error::Problem),
        (status = 408, description = "the body did not arrive within HTTP_BODY_TIMEOUT_S", body = crate::error::Problem),
        (status = 413, description = "body over MAX_BODY_BYTES", body = crate::error::Problem),
        (status = 415, description = "not application/json", body = crate::error::Problem),
        (status = 422, description = "an invalid field (named in `field`), a rule across fields, a training over MAX_TRAINING_FLOPS or the key's daily training compute, a forecast_model the key may not use, or an Idempotency-Key used with another body", body = crate::error::Problem),
        (status = 429, description = "over a quota of the key: submissions per minute, jobs queued or running, or training compute per day (see Retry-After and RateLimit-*)", body = crate::error::Problem,
            headers(("retry-after" = u64), ("ratelimit-limit" = u64), ("ratelimit-remaining" = u64), ("ratelimit-reset" = u64))),
        (status = 503, description = "the database is unavailable, or the request timed out", body = crate::error::Problem)))]
pub async fn create_job(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Response, ApiError> {
    principal.require(Scope::Submit)?;
    let key = idempotency_key(&headers)?;
    let rate = quota::draw_submission(&state, &principal).await?;
    let (size, config) = (body.size, state.config.common.clone());
    let (spec, mut job) = offload::if_large(size, move || prepare(&body.value, &config)).await?;
    if let Some(flops) = job.training_flops {
        quota::check_training_fits(&principal, flops)?;
    }
    super::models::check_forecast_model(&state, &principal, &spec).await?;
    job.owner = principal.owner.clone();
    job.submitted_by = principal.key_id.clone();
    job.quota = quota::owner_quota(&principal);
    let Some(key) = key else {
        let job = state.submitter.submit(job).await?;
        state.metrics.submitted(job.kind);
        return Ok(respond(StatusCode::ACCEPTED, job, size, rate).await);
    };
    let hash = offload::if_large(size, move || request_hash(&spec)).await;
    match state.submitter.submit_idempotent(job, &key, &hash).await? {
        IdempotentInsert::Created(job) => {
            state.metrics.submitted(job.kind);
            Ok(respond(StatusCode::ACCEPTED, job, size, rate).await)
        }
        IdempotentInsert::Existing { job, same_request: true } => {
            Ok(respond(StatusCode::OK, job, size, rate).await)
        }
        IdempotentInsert::Existing { job, same_request: false } => Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Idempotency-Key",
            format!("already used for job {} with a different request body", job.id),
        )),
    }
}

/// Validates the body and builds the row: all the CPU work of a submission, in one place so
/// that a large body can be handled off the async workers.
fn prepare(body: &Value, config: &CommonConfig) -> Result<(JobSpec, NewJob), ApiError> {
    let spec = parse_submission(body, chrono::Utc::now())?;
    let training_flops = match &spec {
        JobSpec::Training(training) => Some(
            training
                .check_budget(config.max_training_flops)
                .map_err(|e| ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "input", e))?
                .flops,
        ),
        _ => None,
    };
    let input = spec.to_input_json();
    let job = NewJob {
        id: Uuid::now_v7(),
        kind: spec.kind(),
        input_summary: summarize_input(&input),
        input,
        symbol: spec.symbol().map(|s| s.as_str().to_owned()),
        max_attempts: config.max_attempts,
        queue_task_id: None,
        owner: None,
        submitted_by: None,
        training_flops,
        quota: None,
    };
    Ok((spec, job))
}

/// The job as the answer (with the key's `RateLimit-*` headers), serialised off the async
/// workers when its input is large.
async fn respond(status: StatusCode, job: Job, size: usize, rate: HeaderMap) -> Response {
    let location =
        HeaderValue::from_str(&format!("/jobs/{}", job.id)).expect("uuid is a valid header");
    let body =
        offload::if_large(size, move || serde_json::to_vec(&job).expect("jobs serialise")).await;
    let content_type = HeaderValue::from_static("application/json");
    (status, rate, [(header::LOCATION, location), (header::CONTENT_TYPE, content_type)], body)
        .into_response()
}

/// The `Idempotency-Key` header: 1-255 printable ASCII characters, no space at either end (the
/// documented pattern `^[!-~](?:[ -~]*[!-~])?$`; tabs and other control characters are refused).
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(value) = values.next() else { return Ok(None) };
    let bytes = value.as_bytes();
    let printable = |b: &u8| (b' '..=b'~').contains(b);
    let valid = values.next().is_none()
        && (1..=255).contains(&bytes.len())
        && bytes.iter().all(printable)
        && bytes.first() != Some(&b' ')
        && bytes.last() != Some(&b' ');
    if !valid {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key",
            "expected one header of 1-255 printable ASCII characters, no space at either end",
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// Hash of the validated request: two bodies that mean the same job hash the same.
fn request_hash(spec: &JobSpec) -> String {
    let canonical = serde_json::to_vec(&(spec.kind(), spec)).expect("specs serialise");
    hex::encode(Sha256::digest(canonical))
}
