//! `GET /market/{symbol}/bars`: a symbol's cached bars; with `fetch=true`, fetched first from
//! the first provider of `MARKET_DATA_PROVIDERS` that has the symbol.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use shared::{
    db::market as store,
    market::{
        Bar, Instrument, Interval,
        online::{OnlineError, Origin, Until},
        sources::Source,
    },
};
use utoipa::ToSchema;

use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    extract::QueryPairs,
    state::AppState,
};

const DEFAULT_LIMIT: i64 = 5_000;
const MAX_LIMIT: i64 = 50_000;

#[derive(Serialize, ToSchema)]
pub struct MarketBars {
    pub symbol: String,
    pub interval: Interval,
    /// Where the bars came from and when.
    pub source: Origin,
    /// Oldest first.
    pub bars: Vec<Bar>,
}

struct Query {
    interval: Interval,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
    fetch: bool,
    limit: i64,
}

/// A symbol's bars from the market-data cache (`fetch=true`: fetching what it lacks first).
#[utoipa::path(get, path = "/market/{symbol}/bars", tag = "market",
    params(
        ("symbol" = String, Path, description = "as users type it: NVDA, BRK.B, ^GSPC, EURUSD, BTCUSD", pattern = r"^(\^[A-Za-z0-9]{1,19}|[A-Za-z0-9][A-Za-z0-9.\-]{0,19})$"),
        ("interval" = Option<String>, Query, description = "1d (default) or 1h", pattern = "^(1d|1h)$"),
        ("from" = Option<chrono::NaiveDate>, Query, description = "first day to return (YYYY-MM-DD)"),
        ("to" = Option<chrono::NaiveDate>, Query, description = "last day to return (YYYY-MM-DD), its every bar included"),
        ("fetch" = Option<bool>, Query, description = "fetch what the cache lacks up to `to` (or now) first; needs the submit scope"),
        ("limit" = Option<i64>, Query, description = "bars at most, default 5000", minimum = 1, maximum = 50000)),
    responses((status = 200, description = "the bars, oldest first, and where they came from", body = MarketBars),
              (status = 400, description = "a malformed symbol or query parameter", body = crate::error::Problem),
              (status = 404, description = "no bars held (or, with fetch=true, none from any provider)", body = crate::error::Problem),
              (status = 502, description = "a provider sent a reply that is not its format", body = crate::error::Problem),
              (status = 503, description = "a provider is unavailable or rate-limited, the database is unavailable, or the request timed out", body = crate::error::Problem)))]
pub async fn get_bars(
    State(state): State<AppState>,
    principal: Principal,
    Path(symbol): Path<String>,
    QueryPairs(params): QueryPairs,
) -> Result<Json<MarketBars>, ApiError> {
    principal.require(Scope::Read)?;
    let instrument = Instrument::parse(&symbol).ok_or_else(|| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "path.symbol",
            format!("{symbol:?} is not a symbol (NVDA, BRK.B, ^GSPC, EURUSD, BTCUSD)"),
        )
    })?;
    let query = parse(&params)?;
    if query.fetch {
        principal.require(Scope::Submit)?;
        fetch(&state, &instrument, &query).await?;
    }
    let canonical = instrument.canonical();
    let held = store::series(&state.pool, &canonical, query.interval).await?;
    // The first provider of the chain that holds the symbol; then any other that does.
    let rank = |provider: &str| {
        state
            .config
            .common
            .market
            .chain
            .iter()
            .position(|s| s.name() == provider)
            .unwrap_or(usize::MAX)
    };
    let series = held.into_iter().min_by_key(|s| rank(&s.provider)).ok_or_else(|| {
        ApiError::not_found(format!(
            "cached {} bars of {canonical} (ask with fetch=true)",
            query.interval
        ))
    })?;
    let bars = store::bars(&state.pool, &series, query.from, query.to, query.limit).await?;
    Ok(Json(MarketBars {
        symbol: canonical,
        interval: query.interval,
        source: Origin::from(&series),
        bars,
    }))
}

async fn fetch(state: &AppState, instrument: &Instrument, query: &Query) -> Result<(), ApiError> {
    let until = match query.to {
        Some(to) if to.and_utc() < Utc::now() => Until::Instant(to.and_utc()),
        _ => Until::Instant(Utc::now()),
    };
    let mut tried = Vec::new();
    for source in &state.config.common.market.chain {
        let Source::Online(provider) = source else { continue };
        match state.online.lookup(provider, instrument, query.interval, until).await {
            Ok(Some(_)) => return Ok(()),
            Ok(None) => {
                if provider.symbol(instrument).is_some() {
                    tried.push(provider.name());
                }
            }
            Err(OnlineError::Provider(e)) if e.is_transient() => {
                return Err(ApiError::Unavailable {
                    what: "the market-data provider",
                    cause: e.to_string(),
                });
            }
            // Malformed replies; refusals other than "unknown" were turned into `None` above.
            Err(OnlineError::Provider(e)) => {
                return Err(ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()));
            }
            Err(OnlineError::Database(e)) => return Err(e.into()),
        }
    }
    let from = if tried.is_empty() {
        "no online provider serves it".to_owned()
    } else {
        format!("from {}", tried.join(", "))
    };
    Err(ApiError::not_found(format!("market data for {} ({from})", instrument.canonical())))
}

fn parse(params: &[(String, String)]) -> Result<Query, ApiError> {
    let bad = |name: &str, msg: String| {
        ApiError::field(StatusCode::BAD_REQUEST, format!("query.{name}"), msg)
    };
    let mut query =
        Query { interval: Interval::Day, from: None, to: None, fetch: false, limit: DEFAULT_LIMIT };
    for (i, (name, value)) in params.iter().enumerate() {
        if params[..i].iter().any(|(earlier, _)| earlier == name) {
            return Err(bad(name, "is given more than once".into()));
        }
        match name.as_str() {
            "interval" => {
                query.interval = Interval::parse(value)
                    .ok_or_else(|| bad(name, format!("{value:?} is not 1d or 1h")))?;
            }
            "from" | "to" => {
                let day: NaiveDate = value
                    .parse()
                    .map_err(|_| bad(name, format!("{value:?} is not a date (YYYY-MM-DD)")))?;
                if name == "to" {
                    query.to = day.and_hms_opt(23, 59, 59);
                } else {
                    query.from = day.and_hms_opt(0, 0, 0);
                }
            }
            "fetch" => {
                query.fetch = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad(name, format!("{value:?} is not true or false"))),
                };
            }
            "limit" => {
                query.limit =
                    value.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(
                        || bad(name, format!("{value:?} is not an integer in 1..={MAX_LIMIT}")),
                    )?;
            }
            other => {
                return Err(bad(
                    other,
                    "unknown parameter; expected interval, from, to, fetch or limit".into(),
                ));
            }
        }
    }
    Ok(query)
}
