//! The replies, in each provider's documented format (sources in the module comments of
//! `shared::market::providers::{yahoo, binance, alphavantage}`).

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{Datelike, NaiveDate, NaiveTime};
use serde_json::{Value, json};

use super::{DayBar, Fault, series};

pub fn param(query: &[(String, String)], name: &str) -> Option<String> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

pub fn query_string(query: &[(String, String)]) -> String {
    query
        .iter()
        .filter(|(k, _)| k != "apikey")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn alphavantage_symbol(query: &[(String, String)]) -> String {
    match (param(query, "from_symbol"), param(query, "to_symbol")) {
        (Some(from), Some(to)) => format!("{from}{to}"),
        _ => match (param(query, "symbol"), param(query, "market")) {
            (Some(symbol), Some(market)) => format!("{symbol}{market}"),
            (symbol, _) => symbol.unwrap_or_default(),
        },
    }
}

fn html(status: StatusCode) -> Response {
    let page = "<!DOCTYPE html><html><head><title>One moment…</title></head><body>Please enable JavaScript.</body></html>";
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

fn json_reply(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// The common faults; `None` for those the provider's own format has to express.
async fn common(fault: &Option<Fault>) -> Option<Response> {
    match fault {
        Some(Fault::ServerDown) => Some(html(StatusCode::SERVICE_UNAVAILABLE)),
        Some(Fault::Html) => Some(html(StatusCode::OK)),
        Some(Fault::Slow(wait)) => {
            tokio::time::sleep(*wait).await;
            None
        }
        _ => None,
    }
}

/// The bars of `symbol` within `[from, to]` (seconds), with the fault's damage done.
fn span(symbol: &str, from: i64, to: i64, fault: &Option<Fault>) -> Option<Vec<DayBar>> {
    let mut bars: Vec<DayBar> = series(symbol)?
        .into_iter()
        .filter(|(day, ..)| {
            let at = day.and_time(NaiveTime::MIN).and_utc().timestamp();
            at >= from - 86_399 && at <= to
        })
        .collect();
    match fault {
        Some(Fault::BadPrice) if !bars.is_empty() => bars[0].4 = -1.0,
        Some(Fault::Unsorted) => bars.reverse(),
        _ => {}
    }
    Some(bars)
}

fn seconds(query: &[(String, String)], name: &str) -> i64 {
    param(query, name).and_then(|v| v.parse().ok()).unwrap_or(0)
}

// --- Yahoo ---------------------------------------------------------------------------------

pub async fn yahoo(symbol: &str, query: &[(String, String)], fault: Option<Fault>) -> Response {
    if let Some(reply) = common(&fault).await {
        return reply;
    }
    if let Some(Fault::RateLimited { retry_after_s }) = fault {
        let retry = retry_after_s.to_string();
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "text/plain"), (header::RETRY_AFTER, retry.as_str())],
            "Too Many Requests",
        )
            .into_response();
    }
    let interval = param(query, "interval").unwrap_or_default();
    if interval != "1d" {
        let description = format!(
            "Invalid input - interval={interval} is not supported by this double (1d only)"
        );
        return json_reply(
            StatusCode::BAD_REQUEST,
            json!({"chart": {"result": null, "error": {"code": "Bad Request", "description": description}}}),
        );
    }
    let (from, to) = (seconds(query, "period1"), seconds(query, "period2"));
    let Some(bars) = span(symbol, from, to, &fault) else {
        let error =
            json!({"code": "Not Found", "description": "No data found, symbol may be delisted"});
        return json_reply(
            StatusCode::NOT_FOUND,
            json!({"chart": {"result": null, "error": error}}),
        );
    };
    let fx = symbol.ends_with("=X");
    let crypto = symbol.contains('-') && symbol.ends_with("USD") && !symbol.starts_with("BRK");
    let (gmtoffset, zone) = if fx {
        (0, "Europe/London")
    } else if crypto {
        (0, "UTC")
    } else {
        (-18000, "America/New_York")
    };
    let stamp = |day: NaiveDate| {
        let midnight = day.and_time(NaiveTime::MIN).and_utc().timestamp();
        let summer = (4..=10).contains(&day.month());
        match (fx, crypto) {
            // 00:00 London: 23:00Z the day before in summer.
            (true, _) => midnight - if summer { 3600 } else { 0 },
            (_, true) => midnight,
            // The NYSE open, 09:30 New York.
            _ => midnight + if summer { 13 * 3600 + 1800 } else { 14 * 3600 + 1800 },
        }
    };
    // A halted session, all nulls as Yahoo sends them: an equity's 14 February each year.
    let halted = |day: NaiveDate| !fx && !crypto && day.month() == 2 && day.day() == 14;
    let column = |f: fn(&DayBar) -> f64| -> Vec<Value> {
        bars.iter().map(|b| if halted(b.0) { Value::Null } else { json!(f(b)) }).collect()
    };
    let mut result = json!({
        "meta": {"currency": "USD", "symbol": symbol, "gmtoffset": gmtoffset, "exchangeTimezoneName": zone,
                 "dataGranularity": "1d", "range": ""},
        "indicators": {"quote": [{}]}
    });
    if !bars.is_empty() {
        result["timestamp"] = json!(bars.iter().map(|b| stamp(b.0)).collect::<Vec<_>>());
        result["indicators"] = json!({"quote": [{
            "open": column(|b| b.1), "high": column(|b| b.2), "low": column(|b| b.3),
            "close": column(|b| b.4), "volume": column(|b| b.5)}],
            "adjclose": [{"adjclose": column(|b| b.4)}]});
    }
    json_reply(StatusCode::OK, json!({"chart": {"result": [result], "error": null}}))
}

// --- Binance -------------------------------------------------------------------------------

pub async fn binance(symbol: &str, query: &[(String, String)], fault: Option<Fault>) -> Response {
    if let Some(reply) = common(&fault).await {
        return reply;
    }
    if let Some(Fault::RateLimited { retry_after_s }) = fault {
        let body = json!({"code": -1003, "msg": "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."});
        let retry = retry_after_s.to_string();
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry.as_str())],
            body.to_string(),
        )
            .into_response();
    }
    let hours = match param(query, "interval").as_deref() {
        Some("1d") => false,
        Some("1h") => true,
        _ => {
            return json_reply(
                StatusCode::BAD_REQUEST,
                json!({"code": -1120, "msg": "Invalid interval."}),
            );
        }
    };
    let limit =
        param(query, "limit").and_then(|v| v.parse::<usize>().ok()).unwrap_or(500).min(1000);
    let (from_ms, to_ms) = (seconds(query, "startTime"), seconds(query, "endTime"));
    let Some(days) = span(symbol, from_ms / 1000, to_ms / 1000, &fault) else {
        return json_reply(
            StatusCode::BAD_REQUEST,
            json!({"code": -1121, "msg": "Invalid symbol."}),
        );
    };
    // Hourly klines: each day's move spread evenly over its 24 hours.
    let (parts, step): (i64, i64) = if hours { (24, 3_600_000) } else { (1, 86_400_000) };
    let mut klines: Vec<Value> = Vec::new();
    for b in &days {
        let midnight = b.0.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
        for h in 0..parts {
            let open_ms = midnight + h * step;
            // Binance counts a kline in the span by its open time.
            if open_ms < from_ms || open_ms > to_ms || klines.len() >= limit {
                continue;
            }
            let at = |k: i64| b.1 + (b.4 - b.1) * k as f64 / parts as f64;
            let (open, close) = (at(h), at(h + 1));
            let (high, low) =
                if hours { (open.max(close) * 1.001, open.min(close) * 0.999) } else { (b.2, b.3) };
            let s = |v: f64| format!("{v:.8}");
            let volume = b.5 / parts as f64;
            klines.push(json!([
                open_ms,
                s(open),
                s(high),
                s(low),
                s(close),
                s(volume),
                open_ms + step - 1,
                s(volume * close),
                100,
                "0",
                "0",
                "0"
            ]));
        }
    }
    let weight = header::HeaderName::from_static("x-mbx-used-weight-1m");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json"), (weight, "2")],
        Value::Array(klines).to_string(),
    )
        .into_response()
}

// --- Alpha Vantage -------------------------------------------------------------------------

pub async fn alphavantage(
    symbol: &str,
    query: &[(String, String)],
    fault: Option<Fault>,
) -> Response {
    if let Some(reply) = common(&fault).await {
        return reply;
    }
    if param(query, "apikey").is_none_or(|k| k.is_empty()) {
        return json_reply(
            StatusCode::OK,
            json!({"Error Message": "the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."}),
        );
    }
    if let Some(Fault::RateLimited { .. }) = fault {
        return json_reply(
            StatusCode::OK,
            json!({"Information": "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}),
        );
    }
    let function = param(query, "function").unwrap_or_default();
    let Some(mut bars) = span(symbol, 0, i64::MAX / 2, &fault) else {
        let message = format!(
            "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for {function}."
        );
        return json_reply(StatusCode::OK, json!({"Error Message": message}));
    };
    if param(query, "outputsize").as_deref() != Some("full") {
        bars = bars.split_off(bars.len().saturating_sub(100));
    }
    let (key, volume) = match function.as_str() {
        "FX_DAILY" => ("Time Series FX (Daily)", false),
        "DIGITAL_CURRENCY_DAILY" => ("Time Series (Digital Currency Daily)", true),
        _ => ("Time Series (Daily)", true),
    };
    let mut series = serde_json::Map::new();
    for b in bars.iter().rev() {
        let s = |v: f64| format!("{v:.4}");
        let mut day =
            json!({"1. open": s(b.1), "2. high": s(b.2), "3. low": s(b.3), "4. close": s(b.4)});
        if volume {
            day["5. volume"] = json!(format!("{:.0}", b.5));
        }
        series.insert(b.0.to_string(), day);
    }
    let meta = json!({"1. Information": "Daily Prices (open, high, low, close) and Volumes", "2. Symbol": symbol, "5. Time Zone": "US/Eastern"});
    json_reply(StatusCode::OK, json!({"Meta Data": meta, key: series}))
}
