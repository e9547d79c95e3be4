//! Yahoo Finance's chart API (`/v8/finance/chart/{symbol}`): no key; equities, ETFs, indices,
//! FX and crypto; daily and hourly bars (hourly only for the last 730 days).
//!
//! Yahoo publishes no documentation for it. The formats below are those that yfinance
//! (`yfinance/scrapers/history.py`, `utils.parse_quotes`) and node-yahoo-finance2 (recorded
//! replies in `tests/fixtures/http/chart-*.json`) parse:
//! - success: `{"chart":{"result":[{"meta":{…,"gmtoffset":-18000},"timestamp":[…],
//!   "indicators":{"quote":[{"open":[…],"high":[…],"low":[…],"close":[…],"volume":[…]}]}}],
//!   "error":null}}`; any price may be `null` (a halted session), and a span without bars has
//!   no `timestamp` and `"quote":[{}]`;
//! - unknown symbol: 404 `{"chart":{"result":null,"error":{"code":"Not Found",
//!   "description":"No data found, symbol may be delisted"}}}`;
//! - other refusals: `{"chart":{"result":null,"error":{"code":"Bad Request","description":…}}}`;
//! - rate limit: 429 with a plain-text body (`Too Many Requests`), not JSON.
//!
//! A daily bar is stamped at the exchange's session open in UTC (14:30Z for NYSE in winter,
//! 08:00Z for London, local midnight for FX and crypto). Its date is the local date: the stamp
//! plus `meta.gmtoffset` (the offset at request time, so up to an hour off across a DST change)
//! plus two hours, which moves a local-midnight stamp an hour off the right way and leaves a
//! session open (never later than about 10:00 local) on its day.

use chrono::{DateTime, Duration};
use serde::Deserialize;

use super::{BarsRequest, ProviderError, Reply, checked, transient_status};
use crate::market::{Bar, BarTime, Instrument, Interval};

const NAME: &str = "yahoo";

#[derive(Debug, Clone)]
pub struct Yahoo {
    pub base_url: String,
}

impl Yahoo {
    pub const NAME: &'static str = NAME;
    pub const DEFAULT_URL: &'static str = "https://query2.finance.yahoo.com";

    pub fn symbol(instrument: &Instrument) -> Option<String> {
        Some(instrument.yahoo())
    }

    pub fn url(&self, symbol: &str, request: &BarsRequest<'_>) -> String {
        let symbol: String = symbol
            .chars()
            .map(|c| match c {
                '^' => "%5E".to_owned(),
                '=' => "%3D".to_owned(),
                c => c.to_string(),
            })
            .collect();
        format!(
            "{}/v8/finance/chart/{symbol}?period1={}&period2={}&interval={}&includePrePost=false&events=div%2Csplits",
            self.base_url.trim_end_matches('/'),
            request.from.timestamp(),
            request.to.timestamp() + 1,
            request.interval.as_str(),
        )
    }

    pub fn parse(request: &BarsRequest<'_>, reply: &Reply) -> Result<Vec<Bar>, ProviderError> {
        let symbol = request.instrument.yahoo();
        if let Some(error) = transient_status(NAME, reply) {
            return Err(error);
        }
        if reply.body.contains("Will be right back") {
            return Err(ProviderError::transient(NAME, "Yahoo Finance is down for now"));
        }
        let envelope: Envelope = serde_json::from_str(&reply.body).map_err(|e| {
            ProviderError::malformed(NAME, format!("HTTP {}, not chart JSON ({e})", reply.status))
        })?;
        if let Some(error) = envelope.chart.error {
            return Err(if error.code == "Not Found" {
                ProviderError::UnknownSymbol { provider: NAME, symbol }
            } else {
                ProviderError::refused(NAME, format!("{}: {}", error.code, error.description))
            });
        }
        let result = envelope
            .chart
            .result
            .and_then(|r| r.into_iter().next())
            .ok_or_else(|| ProviderError::malformed(NAME, "neither a result nor an error"))?;
        let Some(stamps) = result.timestamp else { return Ok(Vec::new()) };
        let quote = result.indicators.quote.into_iter().next().unwrap_or_default();
        let column = |name: &str, values: Option<Vec<Option<f64>>>| {
            let values =
                values.ok_or_else(|| ProviderError::malformed(NAME, format!("no {name}")))?;
            if values.len() != stamps.len() {
                return Err(ProviderError::malformed(
                    NAME,
                    format!("{} {name} values for {} timestamps", values.len(), stamps.len()),
                ));
            }
            Ok(values)
        };
        let (open, high, low, close) = (
            column("open", quote.open)?,
            column("high", quote.high)?,
            column("low", quote.low)?,
            column("close", quote.close)?,
        );
        let volume = quote.volume.unwrap_or_default();
        let offset = Duration::seconds(result.meta.gmtoffset.unwrap_or(0)) + Duration::hours(2);
        let mut bars = Vec::with_capacity(stamps.len());
        for (i, &stamp) in stamps.iter().enumerate() {
            // A halted or not yet settled session has nulls: it is no bar, not a zero price.
            let (Some(o), Some(h), Some(l), Some(c)) = (open[i], high[i], low[i], close[i]) else {
                continue;
            };
            let at = DateTime::from_timestamp(stamp, 0).ok_or_else(|| {
                ProviderError::malformed(NAME, format!("timestamp {stamp} is out of range"))
            })?;
            if at > request.to {
                continue; // Yahoo appends the latest quote to a past span.
            }
            let time = match request.interval {
                Interval::Day => BarTime::Date((at + offset).date_naive()),
                Interval::Hour => BarTime::DateTime(at.naive_utc()),
            };
            let volume = volume.get(i).copied().flatten().unwrap_or(0.0);
            bars.push(Bar { time, open: o, high: h, low: l, close: c, volume });
        }
        checked(NAME, bars)
    }
}

#[derive(Deserialize)]
struct Envelope {
    chart: Chart,
}

#[derive(Deserialize)]
struct Chart {
    result: Option<Vec<ChartResult>>,
    error: Option<ChartError>,
}

#[derive(Deserialize)]
struct ChartError {
    code: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
struct ChartResult {
    #[serde(default)]
    meta: Meta,
    timestamp: Option<Vec<i64>>,
    indicators: Indicators,
}

#[derive(Deserialize, Default)]
struct Meta {
    gmtoffset: Option<i64>,
}

#[derive(Deserialize)]
struct Indicators {
    quote: Vec<Quote>,
}

#[derive(Deserialize, Default)]
struct Quote {
    open: Option<Vec<Option<f64>>>,
    high: Option<Vec<Option<f64>>>,
    low: Option<Vec<Option<f64>>>,
    close: Option<Vec<Option<f64>>>,
    volume: Option<Vec<Option<f64>>>,
}
