//! `GET /forecast/{symbol}`: the newest model of a symbol that the caller may use (its owner's
//! own first, then shared ones; admin keys: the newest of all), applied to the latest bars of
//! the series it was trained on.
//!
//! Statuses, and why: a symbol without a usable model is 404 with how to train one; a horizon
//! past the model's is 422 naming `query.horizon` (the request asks what this model cannot
//! do); missing model files or data for a succeeded job are 503 (an operator must restore
//! them; the cause is logged); a history now shorter than the model reads is 409 (the request
//! is fine, the data behind the model no longer fits it: retraining resolves it).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Serialize;
use serde_json::Value;
use shared::market::BarTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    run::{self, Failure, Work},
    source::{self, Origin},
};
use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    extract::QueryPairs,
    state::AppState,
};

#[derive(Serialize, ToSchema)]
pub struct SymbolForecast {
    pub symbol: String,
    /// The training job whose model forecast.
    pub model_id: Uuid,
    /// The time of the last bar the model was trained on.
    pub trained_through: Option<String>,
    /// Bars forecast: as asked, else the model's horizon.
    pub horizon: usize,
    /// Whose forecast this is: `nhits`, or the baseline served in its place (`naive`, `drift`,
    /// `seasonal_naive_5`, ...).
    #[schema(value_type = String)]
    pub forecaster: forecast::Forecaster,
    /// Where the bars come from, as the training job recorded it: `{"source":"inline"}`,
    /// `{"source":"csv","path":"GOOG.csv"}` or `{"source":"provider","provider":"yahoo",...}`.
    #[schema(value_type = Object)]
    pub data_source: Value,
    /// The last bar read: the forecast starts after it.
    pub last_bar: LastBar,
    pub bars_read: usize,
    #[schema(value_type = Vec<ForecastPoint>)]
    pub points: Vec<forecast::ForecastPoint>,
    /// The training job's verdict, in plain words, against the baselines.
    pub verdict: Option<String>,
    /// How often the served forecaster's intervals held the test bars, in percent.
    #[schema(value_type = Option<Coverage>)]
    pub coverage: Option<Value>,
}

#[derive(Serialize, ToSchema)]
pub struct LastBar {
    pub time: BarTime,
    pub close: f64,
}

/// One forecast bar.
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of `forecast::ForecastPoint`
pub struct ForecastPoint {
    /// 1-based: bars after the last bar read.
    step: usize,
    /// The bar's time, continuing the series' spacing (`YYYY-MM-DD` for daily and coarser bars).
    time: Option<String>,
    value: f64,
    /// The 80 % and 95 % intervals, when the model has calibrated ones.
    lower_80: Option<f64>,
    upper_80: Option<f64>,
    lower_95: Option<f64>,
    upper_95: Option<f64>,
}

/// Nominal and empirical coverage of the intervals on the test bars, in percent.
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of `forecast::Coverage`
pub struct Coverage {
    nominal_80: f64,
    empirical_80: f64,
    nominal_95: f64,
    empirical_95: f64,
}

/// The model chosen, read from its training job.
#[derive(sqlx::FromRow)]
struct Model {
    id: Uuid,
    trained_through: Option<String>,
    horizon: Option<Value>,
    data_source: Option<Value>,
    input_data: Value,
    verdict: Option<String>,
    coverage: Option<Value>,
}

/// Forecast a symbol with its newest model this key may use.
#[utoipa::path(get, path = "/forecast/{symbol}", tag = "models",
    params(
        ("symbol" = String, Path, description = "as trained (any case): NVDA, BRK.B, ^GSPC, EURUSD", pattern = r"^[A-Za-z0-9.\-=^]{1,15}$"),
        ("horizon" = Option<i64>, Query, description = "bars to forecast, at most the model's horizon (default: all of it)", minimum = 1, maximum = 720)),
    responses((status = 200, description = "the forecast, with the model's verdict and interval coverage", body = SymbolForecast),
              (status = 400, description = "a malformed symbol, or an unknown, repeated or malformed query parameter", body = crate::error::Problem),
              (status = 404, description = "no trained model of the symbol that this key may use (the detail says how to train one)", body = crate::error::Problem),
              (status = 409, description = "the model's data source now holds fewer bars than the model reads", body = crate::error::Problem),
              (status = 422, description = "`horizon` is more than the model forecasts", body = crate::error::Problem),
              (status = 503, description = "every forecast slot is busy, the model's files or data are unavailable, the database is unavailable, or the request timed out", body = crate::error::Problem)))]
#[tracing::instrument(name = "forecast", skip_all, fields(symbol = %symbol, model_id = tracing::field::Empty))]
pub async fn get_forecast(
    State(state): State<AppState>,
    principal: Principal,
    Path(symbol): Path<String>,
    QueryPairs(params): QueryPairs,
) -> Result<Json<SymbolForecast>, ApiError> {
    principal.require(Scope::Read)?;
    let symbol = super::symbol("path.symbol", &symbol)?;
    let asked = parse(&params)?;
    let started = std::time::Instant::now();
    let model = newest(&state, &principal, symbol.as_str())
        .await?
        .ok_or_else(|| no_model(symbol.as_str(), asked))?;
    tracing::Span::current().record("model_id", tracing::field::display(model.id));
    if let Some(trained) = model.horizon.as_ref().and_then(Value::as_u64) {
        check_horizon(asked, trained as usize, model.id)?;
    }
    let data_source = model.data_source.filter(Value::is_object).unwrap_or(model.input_data);
    let origin = Origin::of(&data_source).ok_or_else(|| ApiError::ServerFault {
        detail: format!("model {} records no data source this server can read", model.id),
        cause: format!("data_source {data_source}"),
    })?;
    let permit = run::slot(&state.forecast_slots).await?;
    let pending = source::fetch(&state, model.id, symbol.as_str(), &origin).await?;
    let work = Work {
        model_dir: state.config.results_dir.join(model.id.to_string()),
        pending,
        data: state.config.data.clone(),
        symbol: symbol.as_str().to_owned(),
    };
    let computed = run::compute(permit, work).await?.map_err(|f| failure(f, &origin, model.id))?;
    let horizon = check_horizon(asked, computed.horizon, model.id)?;
    let mut points = computed.forecast.points;
    points.truncate(horizon);
    tracing::info!(model_id = %model.id, bars_read = computed.bars_read, horizon,
                   forecaster = %computed.forecast.forecaster,
                   duration_ms = started.elapsed().as_millis() as u64, "forecast served");
    Ok(Json(SymbolForecast {
        symbol: symbol.as_str().to_owned(),
        model_id: model.id,
        trained_through: model.trained_through,
        horizon,
        forecaster: computed.forecast.forecaster,
        data_source,
        last_bar: LastBar { time: computed.last_bar.time, close: computed.last_bar.close },
        bars_read: computed.bars_read,
        points,
        verdict: model.verdict,
        coverage: model.coverage.filter(Value::is_object),
    }))
}

/// The caller's own newest model first, then the newest shared one; admin keys: the newest.
async fn newest(
    state: &AppState,
    principal: &Principal,
    symbol: &str,
) -> Result<Option<Model>, ApiError> {
    let model = sqlx::query_as(
        "SELECT id, result->'data_range'->>'to' AS trained_through,
                result->'config'->'horizon' AS horizon, result->'data_source' AS data_source,
                jsonb_strip_nulls(jsonb_build_object('source', input->'data'->'source',
                                                     'path', input->'data'->'path')) AS input_data,
                result->>'verdict' AS verdict,
                result->'coverage'->(result->>'served_by') AS coverage
         FROM jobs
         WHERE kind = 'training' AND status = 'succeeded' AND symbol = $1
           AND ($2::text IS NULL OR owner = $2 OR shared)
         ORDER BY COALESCE(owner = $2, false) DESC, finished_at DESC NULLS LAST, id DESC
         LIMIT 1",
    )
    .bind(symbol)
    .bind(principal.visible_owner())
    .fetch_optional(&state.pool)
    .await?;
    Ok(model)
}

/// The horizon to serve: as asked, at most the model's.
fn check_horizon(asked: Option<usize>, model: usize, id: Uuid) -> Result<usize, ApiError> {
    match asked {
        Some(asked) if asked > model => Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "query.horizon",
            format!(
                "{asked} bars is more than model {id} forecasts: its horizon is {model} bars \
                 (train one with a longer horizon for more)"
            ),
        )),
        Some(asked) => Ok(asked),
        None => Ok(model),
    }
}

fn no_model(symbol: &str, asked: Option<usize>) -> ApiError {
    let horizon = asked.unwrap_or(24);
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no trained model of {symbol} that this key may use; train one with POST /jobs \
             {{\"kind\":\"training\",\"input\":{{\"symbol\":\"{symbol}\",\"model\":\"nhits\",\
             \"horizon\":{horizon}}}}} and ask again once it has succeeded"
        ),
    )
}

fn failure(failure: Failure, origin: &Origin, id: Uuid) -> ApiError {
    match failure {
        Failure::Model(e) => ApiError::ServerFault {
            detail: format!("the files of model {id} are unavailable on this server"),
            cause: e.to_string(),
        },
        Failure::Data(cause) => source::unreadable(origin, id, cause),
        Failure::Forecast(e) if e.is_input_error() => ApiError::new(
            StatusCode::CONFLICT,
            format!("model {id} cannot forecast from the bars its data source holds now: {e}"),
        ),
        Failure::Forecast(e) => {
            ApiError::Internal(anyhow::Error::new(e).context(format!("model {id} forecasting")))
        }
    }
}

fn parse(params: &[(String, String)]) -> Result<Option<usize>, ApiError> {
    let bad = |name: &str, msg: String| {
        ApiError::field(StatusCode::BAD_REQUEST, format!("query.{name}"), msg)
    };
    let mut horizon = None;
    for (i, (name, value)) in params.iter().enumerate() {
        if params[..i].iter().any(|(earlier, _)| earlier == name) {
            return Err(bad(name, "is given more than once".into()));
        }
        match name.as_str() {
            "horizon" => {
                let n = value.parse::<u32>().ok().filter(|n| *n >= 1);
                let n = n.ok_or_else(|| bad(name, format!("{value:?} is not an integer ≥ 1")))?;
                horizon = Some(n as usize);
            }
            other => return Err(bad(other, "unknown parameter; expected horizon".into())),
        }
    }
    Ok(horizon)
}
