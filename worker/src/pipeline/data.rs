//! A job's bars: inline or from the CSV it names, else from the first source of
//! `MARKET_DATA_PROVIDERS` that has the symbol (`DATA_DIR/<SYMBOL>.csv`, or an online provider
//! through the Postgres cache). Files are read off the async runtime, within the worker's
//! limits, stopping when the job is stopped; every error is mapped to a job error.

use serde::Serialize;
use shared::market::{
    self, Bar, DataSource, Instrument, Interval, MarketDataError, ReadLimits,
    online::{OnlineError, Origin, Until},
    sources::Source,
};

use crate::job::{JobContext, JobError, Services, StopReason};

/// The bars, and where they came from.
pub struct Loaded {
    pub bars: Vec<Bar>,
    pub origin: DataOrigin,
}

/// Recorded in the job's result as `data_source`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum DataOrigin {
    Inline,
    Csv { path: String },
    Provider(Origin),
}

pub async fn load_bars(
    services: &Services,
    ctx: &JobContext,
    source: Option<&DataSource>,
    symbol: &str,
    interval: Interval,
    until: Until,
) -> Result<Loaded, JobError> {
    if let Some(source) = source {
        let origin = match source {
            DataSource::Inline { .. } => DataOrigin::Inline,
            DataSource::Csv { path } => DataOrigin::Csv { path: path.clone() },
        };
        let bars = read(services, ctx, Some(source.clone()), symbol).await?;
        return Ok(Loaded { bars, origin });
    }
    let mut tried: Vec<String> = Vec::new();
    let mut csv_note = None;
    for link in &services.config.common.market.chain {
        match link {
            Source::Csv => {
                if !csv_file_exists(services, symbol) {
                    csv_note =
                        Some(format!("csv: no file {}/{symbol}.csv", data_dir_name(services)));
                    continue;
                }
                let bars = read(services, ctx, None, symbol).await?;
                return Ok(Loaded {
                    bars,
                    origin: DataOrigin::Csv { path: format!("{symbol}.csv") },
                });
            }
            Source::Online(provider) => {
                let Some(instrument) = Instrument::parse(symbol) else { continue };
                if provider.symbol(&instrument).is_none() {
                    continue; // It serves other kinds of instruments (Binance: crypto only).
                }
                let name = provider.name();
                ctx.step(
                    3.0,
                    "fetching_market_data",
                    format!("fetching market data for {symbol} from {name}"),
                )?;
                let found = tokio::select! {
                    found = services.online.lookup(provider, &instrument, interval, until) => found,
                    () = ctx.stopped() => {
                        return Err(JobError::Stopped(ctx.stop_reason().unwrap_or(StopReason::Cancelled)));
                    }
                };
                match found {
                    Ok(Some((origin, bars))) => {
                        return Ok(Loaded { bars, origin: DataOrigin::Provider(origin) });
                    }
                    Ok(None) => tried.push(name.to_owned()),
                    Err(OnlineError::Provider(e)) if e.is_transient() => {
                        return Err(JobError::transient(e.to_string()));
                    }
                    // A reply in no format the provider documents is a fault to see, not
                    // something to paper over with the next provider's bars.
                    Err(OnlineError::Provider(e)) => {
                        return Err(JobError::permanent(e.to_string()));
                    }
                    Err(OnlineError::Database(e)) => {
                        return Err(JobError::transient(format!("the market-data cache: {e}")));
                    }
                }
            }
        }
    }
    let from = if tried.is_empty() { String::new() } else { format!(" from {}", tried.join(", ")) };
    let note = csv_note.map(|n| format!(" ({n})")).unwrap_or_default();
    Err(JobError::permanent(format!("no market data for {symbol}{from}{note}")))
}

fn csv_file_exists(services: &Services, symbol: &str) -> bool {
    services.config.data_dir.join(format!("{symbol}.csv")).is_file()
}

fn data_dir_name(services: &Services) -> String {
    services.config.data_dir.display().to_string().trim_end_matches('/').to_owned()
}

async fn read(
    services: &Services,
    ctx: &JobContext,
    source: Option<DataSource>,
    symbol: &str,
) -> Result<Vec<Bar>, JobError> {
    let symbol = symbol.to_owned();
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
