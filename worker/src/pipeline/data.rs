//! Loading a job's bars off the async runtime, within the worker's limits, stopping when the
//! job is stopped, with the error mapped to a job error.

use shared::market::{self, Bar, DataSource, MarketDataError, ReadLimits};

use crate::job::{JobContext, JobError, Services, StopReason};

pub async fn load_bars(
    services: &Services,
    ctx: &JobContext,
    source: Option<&DataSource>,
    symbol: &str,
) -> Result<Vec<Bar>, JobError> {
    let (source, symbol) = (source.cloned(), symbol.to_owned());
    let dir = services.config.data_dir.clone();
    let (max_bytes, max_bars) = (services.config.max_data_bytes, services.config.max_bars);
    let reader_ctx = ctx.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let stop = || reader_ctx.stop_reason().is_some();
        let limits = ReadLimits { max_bytes, max_bars, stop: &stop };
        market::load_bars(source.as_ref(), &symbol, &dir, &limits)
    });
    // A timeout or cancel also stops the read itself (the flag above), so the blocking thread
    // is not left reading after the job has moved on.
    match loaded
        .await
        .map_err(|e| JobError::transient(format!("loading market data panicked: {e}")))?
    {
        Ok(bars) => Ok(bars),
        Err(MarketDataError::Stopped { .. }) => {
            Err(JobError::Stopped(ctx.stop_reason().unwrap_or(StopReason::Cancelled)))
        }
        Err(e) if e.is_permanent() => Err(JobError::permanent(e.to_string())),
        Err(e) => Err(JobError::transient(e.to_string())),
    }
}
