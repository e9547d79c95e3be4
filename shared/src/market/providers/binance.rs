//! Binance's public spot klines (`GET /api/v3/klines`): no key; crypto pairs; daily and hourly.
//!
//! Formats from Binance's own documentation (binance-spot-api-docs, `rest-api.md` "Kline/
//! Candlestick data", "HTTP Return Codes", and `errors.md`):
//! - success: an array of klines, each `[openTime ms, "open", "high", "low", "close",
//!   "volume", closeTime ms, "quoteVolume", trades, "takerBase", "takerQuote", "0"]`, prices
//!   as strings, oldest first, at most `limit` (1000) per reply: longer spans are paged with
//!   `startTime` = the last open time + 1 ms;
//! - errors: `{"code":-1121,"msg":"Invalid symbol."}` (400) for an unknown pair, other
//!   negative codes for other bad parameters; 429 (rate limit) and 418 (address banned) with
//!   `Retry-After` in seconds; 451 `{"code":0,"msg":"Service unavailable from a restricted
//!   location …"}` where Binance does not serve the caller's country.
//!
//! Times are UTC; a daily kline opens at 00:00 UTC, so its date is its open time's UTC date.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{BarsRequest, ProviderError, Reply, checked, number, transient_status};
use crate::market::{Bar, BarTime, Instrument, Interval};

const NAME: &str = "binance";

/// Klines per reply: the documented maximum.
pub const PAGE: usize = 1000;

#[derive(Debug, Clone)]
pub struct Binance {
    pub base_url: String,
}

impl Binance {
    pub const NAME: &'static str = NAME;
    /// The market-data-only host Binance documents for public data.
    pub const DEFAULT_URL: &'static str = "https://data-api.binance.vision";

    pub fn symbol(instrument: &Instrument) -> Option<String> {
        instrument.binance()
    }

    pub fn url(&self, symbol: &str, request: &BarsRequest<'_>) -> String {
        format!(
            "{}/api/v3/klines?symbol={symbol}&interval={}&startTime={}&endTime={}&limit={PAGE}",
            self.base_url.trim_end_matches('/'),
            request.interval.as_str(),
            request.from.timestamp_millis(),
            request.to.timestamp_millis(),
        )
    }

    /// Where the next page starts, when this one was full.
    pub fn next_page(bars: &[Bar]) -> Option<DateTime<Utc>> {
        (bars.len() >= PAGE).then(|| {
            bars.last().expect("a full page").time.to_datetime().and_utc()
                + chrono::Duration::milliseconds(1)
        })
    }

    pub fn parse(request: &BarsRequest<'_>, reply: &Reply) -> Result<Vec<Bar>, ProviderError> {
        if let Some(error) = transient_status(NAME, reply) {
            return Err(error);
        }
        if reply.status != 200 {
            let Ok(error) = serde_json::from_str::<BinanceError>(&reply.body) else {
                return Err(ProviderError::malformed(
                    NAME,
                    format!("HTTP {} without Binance's error JSON", reply.status),
                ));
            };
            return Err(match error.code {
                -1121 => ProviderError::UnknownSymbol {
                    provider: NAME,
                    symbol: request.instrument.binance().unwrap_or_default(),
                },
                code => ProviderError::refused(
                    NAME,
                    format!("HTTP {} code {code}: {}", reply.status, error.msg),
                ),
            });
        }
        let klines: Vec<Vec<Value>> = serde_json::from_str(&reply.body)
            .map_err(|e| ProviderError::malformed(NAME, format!("not an array of klines ({e})")))?;
        let mut bars = Vec::with_capacity(klines.len());
        for kline in &klines {
            bars.push(bar(request.interval, kline)?);
        }
        checked(NAME, bars)
    }
}

fn bar(interval: Interval, kline: &[Value]) -> Result<Bar, ProviderError> {
    let field = |i: usize, what: &str| -> Result<f64, ProviderError> {
        match kline.get(i) {
            Some(Value::String(text)) => number(NAME, what, text),
            other => {
                Err(ProviderError::malformed(NAME, format!("{what} is {other:?}, not a string")))
            }
        }
    };
    let open_ms = kline.first().and_then(Value::as_i64).ok_or_else(|| {
        ProviderError::malformed(NAME, format!("a kline without an open time: {kline:?}"))
    })?;
    let at = DateTime::from_timestamp_millis(open_ms).ok_or_else(|| {
        ProviderError::malformed(NAME, format!("open time {open_ms} out of range"))
    })?;
    let time = match interval {
        Interval::Day => BarTime::Date(at.date_naive()),
        Interval::Hour => BarTime::DateTime(at.naive_utc()),
    };
    Ok(Bar {
        time,
        open: field(1, "open")?,
        high: field(2, "high")?,
        low: field(3, "low")?,
        close: field(4, "close")?,
        volume: field(5, "volume")?,
    })
}

#[derive(Deserialize)]
struct BinanceError {
    code: i64,
    msg: String,
}
