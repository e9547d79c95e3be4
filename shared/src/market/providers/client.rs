//! Asking a provider over HTTP: one request at a time per call, each bounded in time and size,
//! drawn from the provider's requests-per-minute budget, retried with backoff while the answer
//! is transient (honouring `Retry-After`), and paged where the provider pages.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::{AlphaVantage, BarsRequest, Binance, ProviderError, Reply, Yahoo};
use crate::market::{Bar, Instrument};

/// Largest reply read: 40 years of daily bars are about 2 MB of Yahoo's JSON.
const MAX_REPLY_BYTES: usize = 16 << 20;
/// Pages of one span at most (Binance: 1000 bars each, so 30 years of daily bars).
const MAX_PAGES: usize = 12;

/// A configured online provider.
#[derive(Debug, Clone)]
pub enum Provider {
    Yahoo(Yahoo),
    Binance(Binance),
    AlphaVantage(AlphaVantage),
}

impl Provider {
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Yahoo(_) => Yahoo::NAME,
            Provider::Binance(_) => Binance::NAME,
            Provider::AlphaVantage(_) => AlphaVantage::NAME,
        }
    }

    /// How the provider spells the instrument; `None` when it does not serve it.
    pub fn symbol(&self, instrument: &Instrument) -> Option<String> {
        match self {
            Provider::Yahoo(_) => Yahoo::symbol(instrument),
            Provider::Binance(_) => Binance::symbol(instrument),
            Provider::AlphaVantage(_) => AlphaVantage::symbol(instrument),
        }
    }

    fn url(&self, symbol: &str, request: &BarsRequest<'_>) -> Option<String> {
        match self {
            Provider::Yahoo(p) => Some(p.url(symbol, request)),
            Provider::Binance(p) => Some(p.url(symbol, request)),
            Provider::AlphaVantage(p) => p.url(request),
        }
    }

    fn parse(&self, request: &BarsRequest<'_>, reply: &Reply) -> Result<Vec<Bar>, ProviderError> {
        match self {
            Provider::Yahoo(_) => Yahoo::parse(request, reply),
            Provider::Binance(_) => Binance::parse(request, reply),
            Provider::AlphaVantage(p) => p.parse(request, reply),
        }
    }

    fn next_page(&self, bars: &[Bar]) -> Option<DateTime<Utc>> {
        match self {
            Provider::Binance(_) => Binance::next_page(bars),
            _ => None,
        }
    }
}

/// Waits for the provider's budget: `Ok` once a request may go, or how long until one may.
pub trait Pace: Send + Sync {
    fn request(
        &self,
        provider: &'static str,
    ) -> impl std::future::Future<Output = Result<(), Duration>> + Send;
}

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Requests per page at most, the first included.
    pub attempts: u32,
    /// The first pause; each next one doubles, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Longest a single request may take, reply read included.
    pub timeout: Duration,
    /// A `Retry-After` longer than this is not waited out: the error goes to the caller.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            timeout: Duration::from_secs(20),
            max_wait: Duration::from_secs(60),
        }
    }
}

/// Every bar of `request` from `provider`, page after page.
pub async fn fetch(
    http: &reqwest::Client,
    pace: &impl Pace,
    policy: &RetryPolicy,
    provider: &Provider,
    request: &BarsRequest<'_>,
) -> Result<Vec<Bar>, ProviderError> {
    let name = provider.name();
    let symbol = provider
        .symbol(request.instrument)
        .ok_or_else(|| ProviderError::refused(name, "does not serve this kind of instrument"))?;
    let mut bars: Vec<Bar> = Vec::new();
    let mut page = request.clone();
    for _ in 0..MAX_PAGES {
        let url = provider.url(&symbol, &page).ok_or_else(|| {
            ProviderError::refused(name, format!("serves no {} bars", page.interval))
        })?;
        let got = with_retries(http, pace, policy, provider, &page, &url).await?;
        let next = provider.next_page(&got);
        let last = bars.last().map(|b| b.time.to_datetime());
        bars.extend(got.into_iter().filter(|b| last.is_none_or(|l| b.time.to_datetime() > l)));
        match next {
            Some(from) if from <= request.to => page.from = from,
            _ => return Ok(bars),
        }
    }
    Err(ProviderError::refused(name, format!("more than {MAX_PAGES} pages for one span")))
}

async fn with_retries(
    http: &reqwest::Client,
    pace: &impl Pace,
    policy: &RetryPolicy,
    provider: &Provider,
    request: &BarsRequest<'_>,
    url: &str,
) -> Result<Vec<Bar>, ProviderError> {
    let name = provider.name();
    let mut backoff = policy.backoff;
    let mut attempt = 1;
    loop {
        if let Err(wait) = pace.request(name).await {
            if wait > policy.max_wait {
                return Err(ProviderError::Transient {
                    provider: name,
                    message: "over the requests per minute set for it".into(),
                    retry_after: Some(wait),
                });
            }
            tokio::time::sleep(wait).await;
            continue;
        }
        let outcome = match get(http, policy.timeout, name, url).await {
            Ok(reply) => provider.parse(request, &reply),
            Err(e) => Err(e),
        };
        let result = match &outcome {
            Ok(_) => "ok",
            Err(ProviderError::Transient { .. }) => "transient",
            Err(ProviderError::UnknownSymbol { .. }) => "unknown_symbol",
            Err(ProviderError::Refused { .. }) => "refused",
            Err(ProviderError::Malformed { .. }) => "malformed",
        };
        metrics::counter!("tradeforge_market_data_requests_total", "provider" => name, "result" => result)
            .increment(1);
        let error = match outcome {
            Ok(bars) => return Ok(bars),
            Err(e) if !e.is_transient() || attempt >= policy.attempts => return Err(e),
            Err(e) => e,
        };
        let wait = match &error {
            ProviderError::Transient { retry_after: Some(after), .. } => *after,
            _ => backoff,
        };
        if wait > policy.max_wait {
            return Err(error);
        }
        tracing::info!(provider = name, attempt, wait_ms = wait.as_millis() as u64, error = %error, "market data request failed; retrying");
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(policy.max_backoff);
        attempt += 1;
    }
}

/// One GET, its body read up to [`MAX_REPLY_BYTES`] within `timeout` all told. Connection
/// failures and timeouts are transient; the URL never reaches an error (it may hold a key).
async fn get(
    http: &reqwest::Client,
    timeout: Duration,
    name: &'static str,
    url: &str,
) -> Result<Reply, ProviderError> {
    let started = Instant::now();
    let transport = |e: reqwest::Error| {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "cannot connect"
        } else {
            "request failed"
        };
        ProviderError::transient(name, what)
    };
    let response = tokio::time::timeout(timeout, http.get(url).send())
        .await
        .map_err(|_| ProviderError::transient(name, format!("no answer within {timeout:?}")))?
        .map_err(transport)?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        let chunk = tokio::time::timeout(left, chunks.next()).await.map_err(|_| {
            ProviderError::transient(name, format!("reply not read within {timeout:?}"))
        })?;
        match chunk {
            None => break,
            Some(chunk) => body.extend_from_slice(&chunk.map_err(transport)?),
        }
        if body.len() > MAX_REPLY_BYTES {
            return Err(ProviderError::malformed(
                name,
                format!("a reply over {MAX_REPLY_BYTES} bytes"),
            ));
        }
    }
    let body = String::from_utf8(body).map_err(|_| {
        ProviderError::malformed(name, format!("HTTP {status}, a body that is not UTF-8"))
    })?;
    Ok(Reply { status, retry_after, body })
}
