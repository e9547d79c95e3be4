//! The market-data cache: series fetched from providers and their bars.

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};

use crate::market::{Bar, BarTime, Interval};

/// What is held of one provider's series of a symbol.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Series {
    pub provider: String,
    pub symbol: String,
    pub interval: String,
    pub provider_symbol: String,
    pub fetched_from: NaiveDateTime,
    pub fetched_to: NaiveDateTime,
    pub fetched_at: DateTime<Utc>,
    pub bars: i32,
    pub first_bar: Option<NaiveDateTime>,
    pub last_bar: Option<NaiveDateTime>,
}

const SERIES_COLUMNS: &str = "provider, symbol, interval, provider_symbol, fetched_from, \
    fetched_to, fetched_at, bars, first_bar, last_bar";

/// The series held of `symbol` at `interval`, one per provider that has it.
pub async fn series(
    db: impl PgExecutor<'_>,
    symbol: &str,
    interval: Interval,
) -> Result<Vec<Series>, sqlx::Error> {
    let sql =
        format!("SELECT {SERIES_COLUMNS} FROM market_series WHERE symbol = $1 AND interval = $2");
    sqlx::query_as(&sql).bind(symbol).bind(interval.as_str()).fetch_all(db).await
}

/// Every series held, by symbol.
pub async fn all_series(pool: &PgPool) -> Result<Vec<Series>, sqlx::Error> {
    let sql =
        format!("SELECT {SERIES_COLUMNS} FROM market_series ORDER BY symbol, interval, provider");
    sqlx::query_as(&sql).fetch_all(pool).await
}

/// The bars of a series within `[from, to]` (either end open when `None`), oldest first, at
/// most `limit`.
pub async fn bars(
    db: impl PgExecutor<'_>,
    series: &Series,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
    limit: i64,
) -> Result<Vec<Bar>, sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT time, open, high, low, close, volume FROM market_bars
         WHERE provider = $1 AND symbol = $2 AND interval = $3
           AND ($4::timestamp IS NULL OR time >= $4) AND ($5::timestamp IS NULL OR time <= $5)
         ORDER BY time LIMIT $6",
    )
    .bind(&series.provider)
    .bind(&series.symbol)
    .bind(&series.interval)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(to_bars(series, rows))
}

/// The latest `limit` bars of a series, oldest first.
pub async fn latest_bars(
    db: impl PgExecutor<'_>,
    series: &Series,
    limit: i64,
) -> Result<Vec<Bar>, sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT * FROM (SELECT time, open, high, low, close, volume FROM market_bars
                        WHERE provider = $1 AND symbol = $2 AND interval = $3
                        ORDER BY time DESC LIMIT $4) latest
         ORDER BY time",
    )
    .bind(&series.provider)
    .bind(&series.symbol)
    .bind(&series.interval)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(to_bars(series, rows))
}

type BarRow = (NaiveDateTime, f64, f64, f64, f64, f64);

/// Daily series hold dates, the others instants.
fn to_bars(series: &Series, rows: Vec<BarRow>) -> Vec<Bar> {
    let daily = series.interval == Interval::Day.as_str();
    rows.into_iter()
        .map(|(time, open, high, low, close, volume)| Bar {
            time: if daily { BarTime::Date(time.date()) } else { BarTime::DateTime(time) },
            open,
            high,
            low,
            close,
            volume,
        })
        .collect()
}

/// Tries to take the lock of one symbol and interval until `conn`'s transaction ends: one
/// fetch at a time per series, across every worker. `false` when another holds it.
pub async fn try_lock_series(
    conn: &mut PgConnection,
    symbol: &str,
    interval: Interval,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 7331))")
        .bind(format!("{symbol}\u{1f}{}", interval.as_str()))
        .fetch_one(conn)
        .await
}

/// What one fetch brought: `bars` cover `[from, to]` (naive UTC) of the provider's series.
pub struct Fetched<'a> {
    pub provider: &'a str,
    pub symbol: &'a str,
    pub interval: Interval,
    pub provider_symbol: &'a str,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub bars: &'a [Bar],
}

/// Stores a fetch: its bars replace those held at the same times (the last bar of a previous
/// fetch may have been a session still open), and the series' span grows to include it.
pub async fn store(conn: &mut PgConnection, fetched: &Fetched<'_>) -> Result<Series, sqlx::Error> {
    let sql =
        "INSERT INTO market_series AS s (provider, symbol, interval, provider_symbol, fetched_from,
             fetched_to, fetched_at, bars)
         VALUES ($1, $2, $3, $4, $5, $6, now(), 0)
         ON CONFLICT (provider, symbol, interval) DO UPDATE SET
             provider_symbol = EXCLUDED.provider_symbol,
             fetched_from = LEAST(s.fetched_from, EXCLUDED.fetched_from),
             fetched_to = GREATEST(s.fetched_to, EXCLUDED.fetched_to),
             fetched_at = now()";
    sqlx::query(sql)
        .bind(fetched.provider)
        .bind(fetched.symbol)
        .bind(fetched.interval.as_str())
        .bind(fetched.provider_symbol)
        .bind(fetched.from)
        .bind(fetched.to)
        .execute(&mut *conn)
        .await?;
    let times: Vec<NaiveDateTime> = fetched.bars.iter().map(|b| b.time.to_datetime()).collect();
    let column = |f: fn(&Bar) -> f64| fetched.bars.iter().map(f).collect::<Vec<f64>>();
    sqlx::query(
        "INSERT INTO market_bars (provider, symbol, interval, time, open, high, low, close, volume)
         SELECT $1, $2, $3, t.* FROM unnest($4::timestamp[], $5::float8[], $6::float8[],
             $7::float8[], $8::float8[], $9::float8[]) AS t
         ON CONFLICT (provider, symbol, interval, time) DO UPDATE SET
             open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
             close = EXCLUDED.close, volume = EXCLUDED.volume",
    )
    .bind(fetched.provider)
    .bind(fetched.symbol)
    .bind(fetched.interval.as_str())
    .bind(&times)
    .bind(column(|b| b.open))
    .bind(column(|b| b.high))
    .bind(column(|b| b.low))
    .bind(column(|b| b.close))
    .bind(column(|b| b.volume))
    .execute(&mut *conn)
    .await?;
    // The row's own columns are `Series`'s fields: `s.*` is what `SERIES_COLUMNS` names.
    let sql = "UPDATE market_series s SET bars = b.n, first_bar = b.first, last_bar = b.last
         FROM (SELECT count(*)::int AS n, min(time) AS first, max(time) AS last FROM market_bars
               WHERE provider = $1 AND symbol = $2 AND interval = $3) b
         WHERE s.provider = $1 AND s.symbol = $2 AND s.interval = $3
         RETURNING s.*";
    sqlx::query_as(sql)
        .bind(fetched.provider)
        .bind(fetched.symbol)
        .bind(fetched.interval.as_str())
        .fetch_one(&mut *conn)
        .await
}
