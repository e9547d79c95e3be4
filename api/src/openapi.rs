//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations.

use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use crate::routes::jobs;

/// A job submission. `input` depends on `kind`:
/// - analysis, market: `{"task":"market","symbol":"NVDA","date":"2024-05-10","question"?,"model"?,"data"?}`
/// - analysis, journal: `{"task":"journal","text":"...","context"?,"model"?}`
/// - training: `{"symbol":"EURUSD","model":"nhits","horizon":24,"input_size"?,"max_steps"?,"seed"?,"data"?}`
///
/// `data` is `{"source":"csv","path":"GOOG.csv"}` (relative to DATA_DIR) or
/// `{"source":"inline","bars":[{"time":"2010-05-28","open":..,"high":..,"low":..,"close":..,"volume":..}]}`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-06-01"}}))]
pub struct SubmitJob {
    pub kind: shared::job::JobKind,
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Tradeforge", description = "Queue-driven jobs for trading research: LLM analysis and forecasting-model training."),
    paths(
        jobs::post::create_job,
        jobs::list::list_jobs,
        jobs::get::get_job,
        jobs::cancel::cancel_job,
        jobs::retry::retry_job,
        jobs::events::job_events,
        jobs::artifacts::list_artifacts,
        jobs::artifacts::get_artifact,
        crate::routes::health::health,
        crate::routes::health::ready,
    ),
    components(schemas(SubmitJob, shared::job::Job, shared::job::Progress, crate::error::Problem)),
    tags((name = "jobs"), (name = "operations"))
)]
pub struct ApiDoc;
