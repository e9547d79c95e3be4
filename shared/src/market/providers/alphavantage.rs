//! Alpha Vantage (`/query`): needs a key (`ALPHAVANTAGE_API_KEY`); equities, FX and crypto,
//! daily bars. (Its hourly series are US/Eastern wall-clock times behind a premium plan; the
//! free tier serves the last 100 days of a daily series.)
//!
//! Formats from its documentation (alphavantage.co/documentation) and the replies recorded in
//! the RomelTorres/alpha_vantage client's test data (`test_alpha_vantage/test_data/`):
//! - success: `{"Meta Data":{…},"Time Series (Daily)":{"2023-11-28":{"1. open":"155.4400",
//!   "2. high":…,"3. low":…,"4. close":…,"5. volume":"2666182"},…}}`, newest first, values as
//!   strings; FX (`"Time Series FX (Daily)"`) has no volume; crypto
//!   (`"Time Series (Digital Currency Daily)"`) has `"1. open"` since 2024 and
//!   `"1a. open (USD)"` before;
//! - every refusal is HTTP 200 with one key: `"Error Message"` ("Invalid API call…" for an
//!   unknown symbol, "the parameter apikey is invalid or missing…"), or `"Information"` /
//!   `"Note"` for rate limits ("…25 requests per day…", "…spreading out your free API requests
//!   more sparingly…", "…5 calls per minute…") and premium-only requests.
//!
//! Those messages can repeat the key, so none is passed on as sent: the key is cut out first.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{BarsRequest, ProviderError, Reply, checked, number, transient_status};
use crate::market::{Bar, BarTime, Instrument, Interval};

const NAME: &str = "alphavantage";

/// How long to wait after a rate-limit reply, which carries no `Retry-After`.
const LIMITED_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Clone)]
pub struct AlphaVantage {
    pub base_url: String,
    pub api_key: String,
}

impl std::fmt::Debug for AlphaVantage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlphaVantage").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl AlphaVantage {
    pub const NAME: &'static str = NAME;
    pub const DEFAULT_URL: &'static str = "https://www.alphavantage.co";

    /// The symbol as sent; `None` for what Alpha Vantage does not serve (indices).
    pub fn symbol(instrument: &Instrument) -> Option<String> {
        match instrument {
            Instrument::Equity(s) => Some(s.clone()),
            Instrument::Fx { base, quote } | Instrument::Crypto { base, quote } => {
                Some(format!("{base}{quote}"))
            }
            Instrument::Index(_) => None,
        }
    }

    /// The request's URL, `None` when the interval is not served. A span reaching back more
    /// than 100 trading days asks for the full series (premium on a free key: refused then).
    pub fn url(&self, request: &BarsRequest<'_>) -> Option<String> {
        if request.interval != Interval::Day {
            return None;
        }
        let recent = chrono::Utc::now() - request.from < chrono::Duration::days(140);
        let size = if recent { "compact" } else { "full" };
        let query = match request.instrument {
            Instrument::Equity(s) => {
                format!("function=TIME_SERIES_DAILY&symbol={s}&outputsize={size}")
            }
            Instrument::Fx { base, quote } => {
                format!("function=FX_DAILY&from_symbol={base}&to_symbol={quote}&outputsize={size}")
            }
            Instrument::Crypto { base, quote } => {
                format!("function=DIGITAL_CURRENCY_DAILY&symbol={base}&market={quote}")
            }
            Instrument::Index(_) => return None,
        };
        Some(format!(
            "{}/query?{query}&apikey={}",
            self.base_url.trim_end_matches('/'),
            self.api_key
        ))
    }

    pub fn parse(
        &self,
        request: &BarsRequest<'_>,
        reply: &Reply,
    ) -> Result<Vec<Bar>, ProviderError> {
        if let Some(error) = transient_status(NAME, reply) {
            return Err(error);
        }
        let Ok(Value::Object(body)) = serde_json::from_str::<Value>(&reply.body) else {
            return Err(ProviderError::malformed(
                NAME,
                format!("HTTP {}, not a JSON object", reply.status),
            ));
        };
        if let Some(error) = self.refusal(request, &body) {
            return Err(error);
        }
        let series = body
            .iter()
            .find(|(key, _)| key.starts_with("Time Series"))
            .and_then(|(_, v)| v.as_object())
            .ok_or_else(|| ProviderError::malformed(NAME, "no \"Time Series\" object"))?;
        let mut bars = Vec::with_capacity(series.len());
        for (date, values) in series {
            let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|_| ProviderError::malformed(NAME, format!("{date:?} is not a date")))?;
            if day > request.to.date_naive() || day < request.from.date_naive() {
                continue;
            }
            let values = values
                .as_object()
                .ok_or_else(|| ProviderError::malformed(NAME, format!("{date}: not an object")))?;
            bars.push(bar(day, values)?);
        }
        // Newest first in the text, and JSON objects carry no order anyway.
        bars.sort_by_key(|bar| bar.time.to_datetime());
        checked(NAME, bars)
    }

    fn refusal(
        &self,
        request: &BarsRequest<'_>,
        body: &Map<String, Value>,
    ) -> Option<ProviderError> {
        let redact = |text: &str| {
            if self.api_key.is_empty() {
                text.to_owned()
            } else {
                text.replace(&self.api_key, "***")
            }
        };
        if let Some(message) = body.get("Error Message").and_then(Value::as_str) {
            return Some(if message.contains("Invalid API call") {
                ProviderError::UnknownSymbol {
                    provider: NAME,
                    symbol: Self::symbol(request.instrument).unwrap_or_default(),
                }
            } else {
                ProviderError::refused(NAME, redact(message))
            });
        }
        let message = body.get("Information").or_else(|| body.get("Note"))?.as_str()?;
        let lower = message.to_ascii_lowercase();
        // The daily-limit text also mentions premium plans: rate limits are recognised first.
        let limited =
            ["rate limit", "requests per day", "spreading out", "call frequency", "burst"]
                .iter()
                .any(|phrase| lower.contains(phrase));
        Some(if limited {
            ProviderError::Transient {
                provider: NAME,
                message: "over the key's request limit".to_owned(),
                retry_after: Some(LIMITED_RETRY),
            }
        } else {
            ProviderError::refused(NAME, redact(message))
        })
    }
}

fn bar(day: NaiveDate, values: &Map<String, Value>) -> Result<Bar, ProviderError> {
    // Keys are numbered ("1. open"); older crypto replies have "1a. open (USD)" and
    // "1b. open (USD)": the first key naming the field is the one in the market's currency.
    let field = |name: &str, required: bool| -> Result<f64, ProviderError> {
        let found = values.iter().find(|(key, _)| {
            key.split_once(". ")
                .is_some_and(|(_, rest)| rest == name || rest.starts_with(&format!("{name} (")))
        });
        match found {
            Some((key, Value::String(text))) => number(NAME, &format!("{day} {key}"), text),
            Some((key, other)) => {
                Err(ProviderError::malformed(NAME, format!("{day} {key} is {other}, not a string")))
            }
            None if required => Err(ProviderError::malformed(NAME, format!("{day} has no {name}"))),
            None => Ok(0.0),
        }
    };
    Ok(Bar {
        time: BarTime::Date(day),
        open: field("open", true)?,
        high: field("high", true)?,
        low: field("low", true)?,
        close: field("close", true)?,
        volume: field("volume", false)?,
    })
}
