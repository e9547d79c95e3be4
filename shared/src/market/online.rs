//! Bars from online providers through the Postgres cache: what is held is read, only what is
//! missing is fetched, and one worker at a time fetches a given symbol and interval (the
//! others wait on its lock, then read what it stored).

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use super::providers::{self, BarsRequest, Pace, Provider, ProviderError, RetryPolicy};
use super::{Bar, Instrument, Interval, sources::MarketDataConfig};
use crate::db::market::{self as store, Fetched, Series};
use crate::rate_limit::RateLimiter;

/// How often a job waiting for another's fetch of the same series looks again, and how long
/// it waits in all.
const LOCK_POLL: Duration = Duration::from_millis(200);
const LOCK_WAIT: Duration = Duration::from_secs(300);

/// Most bars one series read returns.
pub const MAX_SERIES_BARS: i64 = 1_000_000;

/// What the bars of a job are up to: a day (its bar included) or an instant (training: now).
#[derive(Debug, Clone, Copy)]
pub enum Until {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

/// Where a job's bars came from, as its result records it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Origin {
    pub provider: String,
    /// The symbol as the provider spells it (`BRK-B`, `EURUSD=X`, `BTCUSDT`).
    pub provider_symbol: String,
    pub interval: Interval,
    pub first_bar: Option<NaiveDateTime>,
    pub last_bar: Option<NaiveDateTime>,
    pub fetched_at: DateTime<Utc>,
}

impl From<&Series> for Origin {
    fn from(s: &Series) -> Self {
        Self {
            provider: s.provider.clone(),
            provider_symbol: s.provider_symbol.clone(),
            interval: Interval::parse(&s.interval).unwrap_or_default(),
            first_bar: s.first_bar,
            last_bar: s.last_bar,
            fetched_at: s.fetched_at,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OnlineError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("the market-data cache: {0}")]
    Database(#[from] sqlx::Error),
}

/// Requests per minute per provider, drawn from buckets in Redis that every worker shares.
pub struct ProviderPace {
    limiter: Option<RateLimiter>,
    per_minute: HashMap<&'static str, u32>,
}

impl ProviderPace {
    pub fn new(limiter: Option<RateLimiter>, per_minute: HashMap<&'static str, u32>) -> Self {
        Self { limiter, per_minute }
    }
}

impl Pace for ProviderPace {
    async fn request(&self, provider: &'static str) -> Result<(), Duration> {
        let (Some(limiter), Some(&per_minute)) = (&self.limiter, self.per_minute.get(provider))
        else {
            return Ok(());
        };
        match limiter.draw(&format!("provider:{provider}"), per_minute).await {
            Some(draw) if !draw.allowed => Err(Duration::from_secs(draw.retry_after_s)),
            _ => Ok(()),
        }
    }
}

/// The online providers, in the order `MARKET_DATA_PROVIDERS` names them, and the cache.
pub struct OnlineData {
    pub pool: PgPool,
    pub http: reqwest::Client,
    pub pace: ProviderPace,
    pub policy: RetryPolicy,
    /// A series fetched less than this long ago is taken as current: asking again so soon
    /// would bring nothing new.
    pub max_age: Duration,
}

impl OnlineData {
    pub fn new(pool: PgPool, config: &MarketDataConfig, limiter: Option<RateLimiter>) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("tradeforge/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.policy.timeout)
            .build()
            .expect("a client with rustls and no custom roots builds");
        Self {
            pool,
            http,
            pace: ProviderPace::new(limiter, config.per_minute.clone()),
            policy: config.policy.clone(),
            max_age: config.max_age,
        }
    }

    /// [`Self::bars`], with "this provider does not have it" (an instrument it does not serve,
    /// a symbol it does not know, a request it refuses, a series without bars) as `None`, so
    /// that the caller can go on to the next provider.
    pub async fn lookup(
        &self,
        provider: &Provider,
        instrument: &Instrument,
        interval: Interval,
        until: Until,
    ) -> Result<Option<(Origin, Vec<Bar>)>, OnlineError> {
        if provider.symbol(instrument).is_none() {
            return Ok(None);
        }
        match self.bars(provider, instrument, interval, until).await {
            Ok((origin, bars)) if origin.first_bar.is_some() => Ok(Some((origin, bars))),
            Ok(_) => Ok(None),
            Err(OnlineError::Provider(e @ ProviderError::Refused { .. })) => {
                tracing::info!(provider = provider.name(), symbol = %instrument.canonical(), error = %e, "provider refused; trying the next");
                Ok(None)
            }
            Err(OnlineError::Provider(ProviderError::UnknownSymbol { .. })) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The bars of `instrument` from `provider`, up to `until`: from the cache when it holds
    /// them, else after fetching what it lacks.
    pub async fn bars(
        &self,
        provider: &Provider,
        instrument: &Instrument,
        interval: Interval,
        until: Until,
    ) -> Result<(Origin, Vec<Bar>), OnlineError> {
        let symbol = instrument.canonical();
        let name = provider.name();
        let held = |all: Vec<Series>| all.into_iter().find(|s| s.provider == name);
        let waited = std::time::Instant::now();
        let series = loop {
            let series = held(store::series(&self.pool, &symbol, interval).await?);
            if let Some(series) = series.filter(|s| self.covers(s, interval, until, Utc::now())) {
                break series;
            }
            // Waiters poll rather than block on the lock, so that they hold no connection
            // while one worker fetches.
            let mut tx = self.pool.begin().await?;
            if store::try_lock_series(&mut tx, &symbol, interval).await? {
                // Whoever held the lock may have fetched just what this job needs.
                let series = held(store::series(&mut *tx, &symbol, interval).await?);
                let series =
                    match series.as_ref().filter(|s| self.covers(s, interval, until, Utc::now())) {
                        Some(series) => series.clone(),
                        None => {
                            self.fetch(&mut tx, provider, instrument, interval, series.as_ref())
                                .await?
                        }
                    };
                tx.commit().await?;
                break series;
            }
            drop(tx);
            if waited.elapsed() > LOCK_WAIT {
                return Err(ProviderError::transient(
                    name,
                    format!("another worker has been fetching {symbol} for over {LOCK_WAIT:?}"),
                )
                .into());
            }
            tokio::time::sleep(LOCK_POLL).await;
        };
        let last = match until {
            Until::Day(day) => day.and_hms_opt(23, 59, 59).expect("a valid time"),
            Until::Instant(at) => at.naive_utc(),
        };
        let bars = store::bars(&self.pool, &series, None, Some(last), MAX_SERIES_BARS).await?;
        Ok((Origin::from(&series), bars))
    }

    /// Whether the series holds every bar up to `until`: it was fetched after that span's
    /// end (with a margin for exchanges that close late in UTC), or so recently that nothing
    /// newer can exist yet.
    fn covers(
        &self,
        series: &Series,
        interval: Interval,
        until: Until,
        now: DateTime<Utc>,
    ) -> bool {
        if now - series.fetched_at < chrono::Duration::from_std(self.max_age).unwrap_or_default() {
            return true;
        }
        let needed = match until {
            Until::Day(day) => day.succ_opt().unwrap_or(day).and_hms_opt(6, 0, 0).expect("valid"),
            Until::Instant(at) => (at
                + chrono::Duration::from_std(interval.duration()).unwrap_or_default())
            .naive_utc(),
        };
        series.fetched_to >= needed
    }

    /// Fetches what `held` lacks (all history the provider serves, when nothing is held) up
    /// to now, and stores it under the lock `tx` holds.
    async fn fetch(
        &self,
        tx: &mut sqlx::PgConnection,
        provider: &Provider,
        instrument: &Instrument,
        interval: Interval,
        held: Option<&Series>,
    ) -> Result<Series, OnlineError> {
        let now = Utc::now();
        // The last bar held is asked for again: it may have been a session still open.
        let from = match held {
            Some(s) => s.last_bar.unwrap_or(s.fetched_to).and_utc(),
            None => history_start(provider, interval, now),
        };
        let request = BarsRequest { instrument, interval, from, to: now };
        let provider_symbol = provider.symbol(instrument).unwrap_or_default();
        tracing::info!(provider = provider.name(), symbol = %provider_symbol, %interval, %from, "fetching market data");
        let bars =
            providers::fetch(&self.http, &self.pace, &self.policy, provider, &request).await?;
        let symbol = instrument.canonical();
        let fetched = Fetched {
            provider: provider.name(),
            symbol: &symbol,
            interval,
            provider_symbol: &provider_symbol,
            from: from.naive_utc(),
            to: now.naive_utc(),
            bars: &bars,
        };
        let series = store::store(tx, &fetched).await?;
        tracing::info!(provider = provider.name(), symbol = %provider_symbol, %interval, bars = bars.len(), held = series.bars, "market data stored");
        Ok(series)
    }
}

/// Where a first fetch starts: all the daily history a provider serves; a year of hourly bars
/// (Yahoo keeps 730 days of them); Alpha Vantage's free tier, the last 100 trading days.
fn history_start(provider: &Provider, interval: Interval, now: DateTime<Utc>) -> DateTime<Utc> {
    match (provider, interval) {
        (_, Interval::Hour) => now - chrono::Duration::days(365),
        (Provider::AlphaVantage(_), Interval::Day) => now - chrono::Duration::days(139),
        (Provider::Binance(_), Interval::Day) => {
            "2017-07-01T00:00:00Z".parse().expect("a valid instant")
        }
        (Provider::Yahoo(_), Interval::Day) => {
            "1970-01-01T00:00:00Z".parse().expect("a valid instant")
        }
    }
}
