//! Which trained models an analysis may use: its owner's own, shared ones, or (for an admin)
//! any. Without this, anyone could train a model on made-up bars for a symbol and have it
//! steer every other user's analyses of that symbol.

use axum::http::StatusCode;
use shared::job::{AnalysisInput, JobKind, JobSpec, JobStatus};

use crate::{auth::Principal, error::ApiError, state::AppState};

/// 422 naming `input.forecast_model` unless the caller may use that model for this analysis.
pub async fn check_forecast_model(
    state: &AppState,
    principal: &Principal,
    spec: &JobSpec,
) -> Result<(), ApiError> {
    let JobSpec::Analysis(AnalysisInput::Market(market)) = spec else { return Ok(()) };
    let Some(id) = market.forecast_model else { return Ok(()) };
    let refuse = |why: String| {
        ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "input.forecast_model", why)
    };
    let job = shared::db::jobs::get(&state.pool, id)
        .await?
        .filter(|job| job.shared || principal.may_see(job.owner.as_deref()))
        .filter(|job| job.kind == JobKind::Training)
        .ok_or_else(|| refuse(format!("no training job {id} that this key may use")))?;
    if job.status != JobStatus::Succeeded {
        return Err(refuse(format!(
            "training job {id} is {}; submit the analysis once it has succeeded",
            job.status
        )));
    }
    let trained_on = job.input["symbol"].as_str().unwrap_or_default();
    if trained_on != market.symbol.as_str() {
        return Err(refuse(format!(
            "training job {id} modelled {trained_on}, not {}",
            market.symbol.as_str()
        )));
    }
    Ok(())
}
