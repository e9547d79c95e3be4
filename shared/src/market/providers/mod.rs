//! Online sources of bars, one file per provider. Each turns the provider's documented reply
//! into bars or a [`ProviderError`] that says whether asking again can help; none panics on a
//! reply, and none uses one it does not fully understand.

mod alphavantage;
mod binance;
mod client;
mod yahoo;

pub use alphavantage::AlphaVantage;
pub use binance::Binance;
pub use client::{Pace, Provider, RetryPolicy, fetch};
pub use yahoo::Yahoo;

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Bar, Instrument, Interval};

/// One request to a provider: what, at which interval, over which span (both ends included;
/// a provider may return a little more, the caller trims).
#[derive(Debug, Clone)]
pub struct BarsRequest<'a> {
    pub instrument: &'a Instrument,
    pub interval: Interval,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// A provider's reply, reduced to what the status, one header and the body say.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// `Retry-After` in seconds, when sent.
    pub retry_after: Option<Duration>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// The symbol is not one the provider knows: asking again will not help.
    #[error("{provider} has no {symbol}")]
    UnknownSymbol { provider: &'static str, symbol: String },
    /// Worth asking again later: a timeout, a 5xx, a rate limit.
    #[error("{provider}: {message}")]
    Transient { provider: &'static str, message: String, retry_after: Option<Duration> },
    /// The provider understood and said no: a span it does not serve, a key it does not accept.
    #[error("{provider} refused: {message}")]
    Refused { provider: &'static str, message: String },
    /// A reply that is not the provider's format, or bars that break a rule.
    #[error("{provider} sent a reply that is not its documented format: {message}")]
    Malformed { provider: &'static str, message: String },
}

impl ProviderError {
    pub fn is_transient(&self) -> bool {
        matches!(self, ProviderError::Transient { .. })
    }

    pub fn transient(provider: &'static str, message: impl Into<String>) -> Self {
        ProviderError::Transient { provider, message: message.into(), retry_after: None }
    }

    pub fn refused(provider: &'static str, message: impl Into<String>) -> Self {
        ProviderError::Refused { provider, message: message.into() }
    }

    pub fn malformed(provider: &'static str, message: impl Into<String>) -> Self {
        ProviderError::Malformed { provider, message: message.into() }
    }
}

/// The statuses every provider means the same by: 429 and 5xx are worth a retry (after
/// `Retry-After` when sent). Others are for the provider's own parser.
pub(crate) fn transient_status(provider: &'static str, reply: &Reply) -> Option<ProviderError> {
    let status = reply.status;
    let message = match status {
        429 => "rate limited (429)".to_owned(),
        418 => "this address is banned for a while (418)".to_owned(),
        500..=599 => format!("server error ({status})"),
        _ => return None,
    };
    Some(ProviderError::Transient { provider, message, retry_after: reply.retry_after })
}

/// Checks what a parser produced: every bar valid, times strictly increasing, at least one.
pub(crate) fn checked(provider: &'static str, bars: Vec<Bar>) -> Result<Vec<Bar>, ProviderError> {
    for (i, bar) in bars.iter().enumerate() {
        bar.check()
            .map_err(|e| ProviderError::malformed(provider, format!("bar at {}: {e}", bar.time)))?;
        if i > 0 && bar.time.to_datetime() <= bars[i - 1].time.to_datetime() {
            let order = if bar.time == bars[i - 1].time { "twice" } else { "out of order" };
            return Err(ProviderError::malformed(
                provider,
                format!("bar {} comes {order}", bar.time),
            ));
        }
    }
    Ok(bars)
}

/// A number from a JSON string (`"155.4400"`), as Binance and Alpha Vantage send prices.
pub(crate) fn number(provider: &'static str, what: &str, text: &str) -> Result<f64, ProviderError> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(|| {
        ProviderError::malformed(provider, format!("{what} {text:?} is not a number"))
    })
}

#[cfg(test)]
mod tests;
