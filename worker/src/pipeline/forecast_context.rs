//! A trained model of the symbol, applied to the bars up to the analysis date, as extra
//! context for the LLM (issue: forecasts feeding analysis).
//!
//! Only models whose training data ended on or before the analysis date are used (for an
//! analysis as of an instant, the last day closed by then, `Cutoff::last_closed_day`): a model
//! trained on later bars would carry knowledge of the future into the analysis.
//!
//! Only the analysis owner's own models, or models an admin shared, are considered: anyone
//! else's model could have been trained on made-up bars to steer this owner's analyses. The
//! owner's newest model goes first, then the newest shared one. `input.forecast_model` names
//! one explicitly (the API checked that the owner may use it).

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use shared::market::Bar;
use uuid::Uuid;

use crate::job::{JobError, Services};

#[derive(Debug, Clone, Serialize)]
pub struct ForecastContext {
    pub model_job: Uuid,
    /// Who trained it, and whether it was used as a shared model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_owner: Option<String>,
    pub model_shared: bool,
    pub trained_through: String,
    pub served_by: Value,
    pub best_baseline: Value,
    pub skill_vs_best_baseline: Value,
    pub verdict: Value,
    pub horizon_bars: usize,
    /// The served forecaster's next bars after the analysis date: times continuing the
    /// series' spacing, values and 80 % / 95 % intervals.
    pub forecast: Vec<forecast::ForecastPoint>,
}

impl ForecastContext {
    /// The forecast as prompt lines: `time: value (80 %: lo to hi)`.
    pub fn lines(&self) -> String {
        self.forecast
            .iter()
            .map(|p| {
                let when = p.time.clone().unwrap_or_else(|| format!("bar +{}", p.step));
                match p.band {
                    Some(b) => format!(
                        "{when}: {:.4} (80 % interval {:.4} to {:.4})",
                        p.value, b.lower_80, b.upper_80
                    ),
                    None => format!("{when}: {:.4}", p.value),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Which model an analysis may use.
pub struct Wanted<'a> {
    pub owner: Option<&'a str>,
    pub explicit: Option<Uuid>,
    pub symbol: &'a str,
    pub through: NaiveDate,
}

/// `Ok(None)` when no usable model exists, or it cannot be loaded (the analysis goes on
/// without it). An explicit model trained past the analysis date fails the job: using it would
/// leak the future, and silently dropping what was asked for would hide that.
pub async fn find(
    services: &Services,
    wanted: &Wanted<'_>,
    history: &[Bar],
) -> Result<Option<ForecastContext>, JobError> {
    let row: Option<(Uuid, Value, Option<String>, bool, bool)> = sqlx::query_as(
        "SELECT id, result, owner, shared, result->'data_range'->>'to_date' <= $2
         FROM jobs
         WHERE kind = 'training' AND status = 'succeeded' AND symbol = $1
           AND CASE WHEN $4::uuid IS NOT NULL THEN id = $4
                    ELSE result->'data_range'->>'to_date' <= $2
                         AND (owner IS NOT DISTINCT FROM $3 OR shared) END
         ORDER BY owner IS NOT DISTINCT FROM $3 DESC, finished_at DESC LIMIT 1",
    )
    .bind(wanted.symbol)
    .bind(wanted.through.to_string())
    .bind(wanted.owner)
    .bind(wanted.explicit)
    .fetch_optional(&services.pool)
    .await
    .inspect_err(|e| tracing::warn!(error.message = %e, "looking up a trained model failed"))
    .ok()
    .flatten();
    let Some((model_job, result, model_owner, shared, in_time)) = row else {
        return match wanted.explicit {
            Some(id) => Err(JobError::permanent(format!(
                "forecast_model {id} is not a succeeded training job on {}",
                wanted.symbol
            ))),
            None => Ok(None),
        };
    };
    if !in_time {
        return Err(JobError::permanent(format!(
            "forecast_model {model_job} was trained on data after {}, the analysis date: its forecast would know the future",
            wanted.through
        )));
    }
    let dir = services.config.results_dir.join(model_job.to_string());
    let closes: Vec<f64> = history.iter().map(|b| b.close).collect();
    let times: Vec<_> = history.iter().map(|b| b.time.to_datetime()).collect();
    let forecast = tokio::task::spawn_blocking(move || {
        let (model, _card) = forecast::TrainedModel::load(&dir, &forecast::Device::Cpu)?;
        model.predict(&forecast::Series::with_times(&closes, &times)).map(|f| f.points)
    })
    .await
    .ok()
    .and_then(|forecast| {
        forecast
            .inspect_err(|e| {
                tracing::warn!(error.message = %e, %model_job, "the trained model could not forecast");
            })
            .ok()
    });
    let Some(forecast) = forecast else { return Ok(None) };
    Ok(Some(ForecastContext {
        model_job,
        model_shared: shared && model_owner.as_deref() != wanted.owner,
        model_owner,
        trained_through: result["data_range"]["to"].as_str().unwrap_or_default().to_owned(),
        served_by: result["served_by"].clone(),
        best_baseline: result["best_baseline"].clone(),
        skill_vs_best_baseline: result["skill_vs_best_baseline"].clone(),
        verdict: result["verdict"].clone(),
        horizon_bars: forecast.len(),
        forecast,
    }))
}
