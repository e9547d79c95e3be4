//! Loading a model and forecasting with it: blocking CPU work (reading the weights, parsing a
//! CSV or inline bars, the forward pass), so it runs on the blocking pool, in one of
//! [`FORECAST_SLOTS`](super::FORECAST_SLOTS). The slot goes with the work: it is held until the
//! work ends, even when the request that asked has timed out and gone, so no burst of requests
//! holds more than that many models and histories in memory.

use std::{path::PathBuf, sync::Arc, time::Duration};

use axum::http::{HeaderMap, StatusCode};
use forecast::{Device, Forecast, ForecastError, Series, TrainedModel};
use shared::market::{self, Bar, DataSource, ReadLimits};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::source::Pending;
use crate::{config::DataFiles, error::ApiError};

/// How long a request waits for a free slot before it is told to come back.
const SLOT_WAIT: Duration = Duration::from_secs(2);

/// Everything the blocking part needs, owned.
pub struct Work {
    pub model_dir: PathBuf,
    pub pending: Pending,
    pub data: DataFiles,
    pub symbol: String,
}

pub struct Computed {
    pub forecast: Forecast,
    /// The model's own horizon.
    pub horizon: usize,
    pub bars_read: usize,
    pub last_bar: Bar,
}

pub enum Failure {
    /// The model's files are missing or unreadable.
    Model(ForecastError),
    /// The bars could not be read.
    Data(String),
    /// The model cannot forecast from these bars.
    Forecast(ForecastError),
}

/// A forecast slot, or 503 with `Retry-After` when none frees within [`SLOT_WAIT`].
pub async fn slot(slots: &Arc<Semaphore>) -> Result<OwnedSemaphorePermit, ApiError> {
    match tokio::time::timeout(SLOT_WAIT, slots.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(ApiError::Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            detail: format!(
                "every forecast slot is busy ({} at a time); retry shortly",
                super::FORECAST_SLOTS
            ),
            headers: HeaderMap::new(),
        }),
    }
}

/// Runs `work` on the blocking pool, holding `permit` until it ends.
pub async fn compute(
    permit: OwnedSemaphorePermit,
    work: Work,
) -> Result<Result<Computed, Failure>, ApiError> {
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work.run()
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("forecasting panicked: {e}")))
}

impl Work {
    fn run(self) -> Result<Computed, Failure> {
        // The model first: a missing artifact is found before a large file is read.
        let (model, _card) =
            TrainedModel::load(&self.model_dir, &Device::Cpu).map_err(Failure::Model)?;
        let bars = read(self.pending, &self.data, &self.symbol)?;
        let last_bar = bars.last().cloned().ok_or_else(|| Failure::Data("no bars".into()))?;
        let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
        let times: Vec<_> = bars.iter().map(|b| b.time.to_datetime()).collect();
        let bars_read = bars.len();
        drop(bars);
        let forecast =
            model.predict(&Series::with_times(&closes, &times)).map_err(Failure::Forecast)?;
        Ok(Computed { forecast, horizon: model.config().horizon, bars_read, last_bar })
    }
}

fn read(pending: Pending, data: &DataFiles, symbol: &str) -> Result<Vec<Bar>, Failure> {
    match pending {
        Pending::Bars(bars) => Ok(bars),
        Pending::InlineJson(text) => {
            serde_json::from_str(&text).map_err(|e| Failure::Data(e.to_string()))
        }
        Pending::Csv { path } => {
            let limits =
                ReadLimits { max_bytes: data.max_bytes, max_bars: data.max_bars, stop: &|| false };
            market::load_bars(Some(&DataSource::Csv { path }), symbol, &data.dir, &limits)
                .map_err(|e| Failure::Data(e.to_string()))
        }
    }
}
