//! The latest trained model of a symbol, applied to the bars up to the analysis date, as extra
//! context for the LLM (issue: forecasts feeding analysis).
//!
//! Only models whose training data ended on or before the analysis date are used (for an
//! analysis as of an instant, the last day closed by then, `Cutoff::last_closed_day`): a model
//! trained on later bars would carry knowledge of the future into the analysis.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use shared::market::Bar;
use uuid::Uuid;

use crate::job::Services;

#[derive(Debug, Clone, Serialize)]
pub struct ForecastContext {
    pub model_job: Uuid,
    pub trained_through: String,
    pub served_by: Value,
    pub skill_vs_naive: Value,
    pub verdict: Value,
    pub horizon_bars: usize,
    pub forecast: Vec<f64>,
}

/// `None` when no usable model exists (or it cannot be loaded: the analysis goes on without it).
pub async fn latest(
    services: &Services,
    symbol: &str,
    date: NaiveDate,
    history: &[Bar],
) -> Option<ForecastContext> {
    let row: Option<(Uuid, Value)> = sqlx::query_as(
        "SELECT id, result FROM jobs
         WHERE kind = 'training' AND status = 'succeeded' AND symbol = $1
           AND result->'data_range'->>'to_date' <= $2
         ORDER BY finished_at DESC LIMIT 1",
    )
    .bind(symbol)
    .bind(date.to_string())
    .fetch_optional(&services.pool)
    .await
    .inspect_err(|e| tracing::warn!(error.message = %e, "looking up a trained model failed"))
    .ok()
    .flatten();
    let (model_job, result) = row?;
    let dir = services.config.results_dir.join(model_job.to_string());
    let closes: Vec<f64> = history.iter().map(|b| b.close).collect();
    let forecast = tokio::task::spawn_blocking(move || {
        let (model, _card) = forecast::TrainedModel::load(&dir, &forecast::Device::Cpu)?;
        model.forecast(&closes)
    })
    .await
    .ok()?
    .inspect_err(
        |e| tracing::warn!(error.message = %e, %model_job, "the trained model could not forecast"),
    )
    .ok()?;
    Some(ForecastContext {
        model_job,
        trained_through: result["data_range"]["to"].as_str().unwrap_or_default().to_owned(),
        served_by: result["served_by"].clone(),
        skill_vs_naive: result["skill_vs_naive"].clone(),
        verdict: result["verdict"].clone(),
        horizon_bars: forecast.len(),
        forecast,
    })
}
