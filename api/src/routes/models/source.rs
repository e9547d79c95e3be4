//! The bars a model forecasts from, read again from where it was trained: the job's inline
//! bars, its CSV file in `DATA_DIR`, or its provider's series in the market-data cache (which
//! later jobs may have extended: the forecast starts after the latest bar held).
//!
//! What needs Postgres is read here; a CSV file and inline JSON are parsed later, on the
//! blocking pool, inside the forecast's slot (`run`), so that their memory is bounded too.

use serde_json::Value;
use shared::{
    db::market as store,
    market::{Bar, Instrument, Interval},
};
use uuid::Uuid;

use crate::{error::ApiError, state::AppState};

/// Bars read from the cache at most: the latest ones when it holds more. Drift reads from the
/// first bar, so a longer history changes its slope a little, nothing else.
pub const MAX_CACHED_BARS: i64 = 50_000;

/// Where a model's bars came from, as its job recorded it.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Inline,
    Csv { path: String },
    Provider { provider: String, interval: Interval },
}

impl Origin {
    /// From a job's `data_source` (or, for an older result without one, its `input.data`).
    pub fn of(recorded: &Value) -> Option<Self> {
        match recorded["source"].as_str()? {
            "inline" => Some(Origin::Inline),
            "csv" => Some(Origin::Csv { path: recorded["path"].as_str()?.to_owned() }),
            "provider" => Some(Origin::Provider {
                provider: recorded["provider"].as_str()?.to_owned(),
                interval: recorded["interval"].as_str().and_then(Interval::parse)?,
            }),
            _ => None,
        }
    }
}

/// Bars read, or what remains to be read off the async workers.
pub enum Pending {
    Bars(Vec<Bar>),
    /// `DATA_DIR/<path>`.
    Csv {
        path: String,
    },
    /// The job's `input.data.bars`, as JSON text.
    InlineJson(String),
}

pub async fn fetch(
    state: &AppState,
    model_id: Uuid,
    symbol: &str,
    origin: &Origin,
) -> Result<Pending, ApiError> {
    match origin {
        Origin::Csv { path } => Ok(Pending::Csv { path: path.clone() }),
        Origin::Inline => {
            let text: Option<String> =
                sqlx::query_scalar("SELECT (input->'data'->'bars')::text FROM jobs WHERE id = $1")
                    .bind(model_id)
                    .fetch_optional(&state.pool)
                    .await?
                    .flatten();
            let text = text.ok_or_else(|| ApiError::ServerFault {
                detail: format!("the inline bars model {model_id} was trained on are gone"),
                cause: "input.data.bars is missing".into(),
            })?;
            Ok(Pending::InlineJson(text))
        }
        Origin::Provider { provider, interval } => {
            cached(state, symbol, provider, *interval).await.map(Pending::Bars)
        }
    }
}

/// The provider's series from the cache: the latest [`MAX_CACHED_BARS`], oldest first.
async fn cached(
    state: &AppState,
    symbol: &str,
    provider: &str,
    interval: Interval,
) -> Result<Vec<Bar>, ApiError> {
    let canonical = Instrument::parse(symbol).map_or_else(|| symbol.to_owned(), |i| i.canonical());
    let held = store::series(&state.pool, &canonical, interval).await?;
    let missing = || ApiError::ServerFault {
        detail: format!(
            "the market-data cache holds no {interval} bars of {canonical} from {provider}, \
             the series this model was trained on (GET /market/{canonical}/bars?fetch=true \
             fetches bars)"
        ),
        cause: "no cached bars".into(),
    };
    let Some(series) = held.into_iter().find(|s| s.provider == provider) else {
        return Err(missing());
    };
    let bars = store::latest_bars(&state.pool, &series, MAX_CACHED_BARS).await?;
    if bars.is_empty() {
        return Err(missing());
    }
    Ok(bars)
}

/// A 503 for data the server no longer has, naming it.
pub fn unreadable(origin: &Origin, model_id: Uuid, cause: impl std::fmt::Display) -> ApiError {
    let what = match origin {
        Origin::Csv { path } => format!("the data file {path} (in DATA_DIR)"),
        Origin::Inline => "the inline bars".to_owned(),
        Origin::Provider { provider, .. } => format!("the cached bars from {provider}"),
    };
    ApiError::ServerFault {
        detail: format!("{what} that model {model_id} was trained on cannot be read: {cause}"),
        cause: cause.to_string(),
    }
}
