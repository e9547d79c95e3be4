//! `GET /models`: the trained models a caller may forecast with, newest first.
//!
//! Read from the training jobs' results, a few fields each: a result holds the whole
//! evaluation and forecast, too much to read 500 of.

use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    extract::QueryPairs,
    state::AppState,
};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

#[derive(Serialize, ToSchema)]
pub struct ModelList {
    /// Newest first (by when training finished).
    pub models: Vec<ModelSummary>,
}

/// One succeeded training job's model.
#[derive(Serialize, ToSchema)]
pub struct ModelSummary {
    /// The training job's id (`GET /jobs/{id}` has the whole evaluation).
    pub model_id: Uuid,
    pub symbol: String,
    /// `1d` or `1h` for provider bars; for CSV or inline bars the spacing read off them (`1d`,
    /// `1h`, `30m`, `1w`, `1mo`, `3mo`, `1y`); null when unknown.
    pub interval: Option<String>,
    /// Bars it forecasts at most.
    pub horizon: Option<u64>,
    /// Bars N-HiTS reads before the forecast.
    pub input_size: Option<u64>,
    /// Whose forecasts it serves: `nhits`, or the baseline that beat it on validation
    /// (`naive`, `drift`, `seasonal_naive_5`, ...).
    pub served_by: Option<String>,
    /// The baseline with the lowest test MASE.
    pub best_baseline: Option<String>,
    pub test: TestScores,
    /// The time of the last bar it was trained on.
    pub data_through: Option<String>,
    /// When training finished.
    pub created: DateTime<Utc>,
    /// Whose model it is (admin keys only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Usable by every owner.
    pub shared: bool,
}

/// Scores on the held-out test bars (MASE: lower is better; null when not finite).
#[derive(Serialize, ToSchema)]
pub struct TestScores {
    /// MASE of the served forecaster.
    pub served_mase: Option<f64>,
    pub best_baseline_mase: Option<f64>,
    pub nhits_mase: Option<f64>,
    /// `1 - MASE_nhits / MASE_best_baseline`: above 0 when N-HiTS beat the best baseline.
    pub skill_vs_best_baseline: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    symbol: String,
    owner: Option<String>,
    shared: bool,
    finished_at: DateTime<Utc>,
    input_interval: Option<String>,
    input_source: Option<String>,
    data_source: Option<Value>,
    spacing: Option<Value>,
    config: Option<Value>,
    served_by: Option<String>,
    best_baseline: Option<String>,
    metrics: Option<Value>,
    skill: Option<Value>,
    data_through: Option<String>,
}

/// Trained models this key may use: its owner's and shared ones (admin keys: every one).
#[utoipa::path(get, path = "/models", tag = "models",
    params(
        ("symbol" = Option<String>, Query, description = "only models of this symbol (any case)", pattern = r"^[A-Za-z0-9.\-=^]{1,15}$"),
        ("limit" = Option<i64>, Query, description = "models at most, default 50", minimum = 1, maximum = 500)),
    responses((status = 200, description = "the models, newest first", body = ModelList),
              (status = 400, description = "an unknown, repeated or malformed query parameter", body = crate::error::Problem),
              (status = 503, description = "the database is unavailable, or the request timed out", body = crate::error::Problem)))]
pub async fn list_models(
    State(state): State<AppState>,
    principal: Principal,
    QueryPairs(params): QueryPairs,
) -> Result<Json<ModelList>, ApiError> {
    principal.require(Scope::Read)?;
    let (symbol, limit) = parse(&params)?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, COALESCE(symbol, result->>'symbol', '') AS symbol, owner, shared,
                COALESCE(finished_at, updated_at) AS finished_at,
                input->>'interval' AS input_interval, input->'data'->>'source' AS input_source,
                result->'data_source' AS data_source, result->'plan'->'spacing' AS spacing,
                jsonb_build_object('horizon', result->'config'->'horizon',
                                   'input_size', result->'config'->'input_size') AS config,
                result->>'served_by' AS served_by, result->>'best_baseline' AS best_baseline,
                result->'metrics' AS metrics, result->'skill_vs_best_baseline' AS skill,
                result->'data_range'->>'to' AS data_through
         FROM jobs
         WHERE kind = 'training' AND status = 'succeeded'
           AND ($1::text IS NULL OR owner = $1 OR shared)
           AND ($2::text IS NULL OR symbol = $2)
         ORDER BY finished_at DESC NULLS LAST, id DESC
         LIMIT $3",
    )
    .bind(principal.visible_owner())
    .bind(symbol)
    .bind(limit)
    .fetch_all(&state.pool)
    .await?;
    let admin = principal.is_admin();
    let models = rows.into_iter().map(|row| summary(row, admin)).collect();
    Ok(Json(ModelList { models }))
}

fn summary(row: Row, admin: bool) -> ModelSummary {
    let metrics = row.metrics.unwrap_or(Value::Null);
    let mase = |who: Option<&str>| who.and_then(|w| metrics[w]["mase"].as_f64());
    let config = row.config.unwrap_or(Value::Null);
    let data_source = row.data_source.unwrap_or(Value::Null);
    let asked_provider = data_source.is_null() && row.input_source.is_none();
    let interval = interval(
        &data_source,
        row.spacing.as_ref().unwrap_or(&Value::Null),
        asked_provider.then(|| row.input_interval.as_deref().unwrap_or("1d")),
    );
    ModelSummary {
        model_id: row.id,
        symbol: row.symbol,
        interval,
        horizon: config["horizon"].as_u64(),
        input_size: config["input_size"].as_u64(),
        test: TestScores {
            served_mase: mase(row.served_by.as_deref()),
            best_baseline_mase: mase(row.best_baseline.as_deref()),
            nhits_mase: mase(Some("nhits")),
            skill_vs_best_baseline: row.skill.and_then(|s| s.as_f64()),
        },
        served_by: row.served_by,
        best_baseline: row.best_baseline,
        data_through: row.data_through,
        created: row.finished_at,
        owner: if admin { row.owner } else { None },
        shared: row.shared,
    }
}

/// A provider series names its interval; CSV and inline bars have the spacing the worker read
/// off them (`forecast::Spacing`: `{"daily": {...}}`, `{"intraday": {"step_minutes": 60}}`,
/// `"weekly"`...). A result without either predates both records: `provider_default` is the
/// interval its job asked a provider for, when it brought no `input.data`.
fn interval(
    data_source: &Value,
    spacing: &Value,
    provider_default: Option<&str>,
) -> Option<String> {
    if data_source["source"] == "provider" {
        return data_source["interval"].as_str().map(str::to_owned);
    }
    let from_spacing = match spacing {
        Value::String(s) => match s.as_str() {
            "weekly" => Some("1w".to_owned()),
            "monthly" => Some("1mo".to_owned()),
            "quarterly" => Some("3mo".to_owned()),
            "yearly" => Some("1y".to_owned()),
            _ => None,
        },
        Value::Object(o) if o.contains_key("daily") => Some("1d".to_owned()),
        Value::Object(o) => o
            .get("intraday")
            .and_then(|i| i["step_minutes"].as_u64())
            .map(|m| if m % 60 == 0 { format!("{}h", m / 60) } else { format!("{m}m") }),
        _ => None,
    };
    from_spacing.or_else(|| provider_default.map(str::to_owned))
}

fn parse(params: &[(String, String)]) -> Result<(Option<String>, i64), ApiError> {
    let bad = |name: &str, msg: String| {
        ApiError::field(StatusCode::BAD_REQUEST, format!("query.{name}"), msg)
    };
    let (mut symbol, mut limit) = (None, DEFAULT_LIMIT);
    for (i, (name, value)) in params.iter().enumerate() {
        if params[..i].iter().any(|(earlier, _)| earlier == name) {
            return Err(bad(name, "is given more than once".into()));
        }
        match name.as_str() {
            "symbol" => symbol = Some(super::symbol("query.symbol", value)?.as_str().to_owned()),
            "limit" => {
                limit = value.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(
                    || bad(name, format!("{value:?} is not an integer in 1..={MAX_LIMIT}")),
                )?;
            }
            other => {
                return Err(bad(other, "unknown parameter; expected symbol or limit".into()));
            }
        }
    }
    Ok((symbol, limit))
}
