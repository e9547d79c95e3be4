//! `GET /market/symbols`: every series the cache holds.

use axum::{Json, extract::State};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use shared::market::Interval;
use utoipa::ToSchema;

use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    state::AppState,
};

/// One provider's series of a symbol, as held.
#[derive(Serialize, ToSchema)]
pub struct CachedSeries {
    /// As Tradeforge spells it: `NVDA`, `BRK.B`, `^GSPC`, `EURUSD`, `BTCUSD`.
    pub symbol: String,
    pub interval: Interval,
    pub provider: String,
    /// As the provider spells it: `BRK-B`, `EURUSD=X`, `BTCUSDT`.
    pub provider_symbol: String,
    pub bars: i32,
    pub first_bar: Option<NaiveDateTime>,
    pub last_bar: Option<NaiveDateTime>,
    pub fetched_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct SymbolList {
    pub symbols: Vec<CachedSeries>,
}

/// List the symbols in the market-data cache, with their ranges and provider.
#[utoipa::path(get, path = "/market/symbols", tag = "market",
    responses((status = 200, description = "every cached series, by symbol", body = SymbolList),
              (status = 503, description = "the database is unavailable, or the request timed out", body = crate::error::Problem)))]
pub async fn list_symbols(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<SymbolList>, ApiError> {
    principal.require(Scope::Read)?;
    let series = shared::db::market::all_series(&state.pool).await?;
    let symbols = series
        .into_iter()
        .map(|s| CachedSeries {
            interval: Interval::parse(&s.interval).unwrap_or_default(),
            symbol: s.symbol,
            provider: s.provider,
            provider_symbol: s.provider_symbol,
            bars: s.bars,
            first_bar: s.first_bar,
            last_bar: s.last_bar,
            fetched_at: s.fetched_at,
        })
        .collect();
    Ok(Json(SymbolList { symbols }))
}
