//! A double of the online market-data providers: one HTTP server on `127.0.0.1:0` answering
//! Yahoo's chart API (`/v8/finance/chart/{symbol}`), Binance's klines (`/api/v3/klines`) and
//! Alpha Vantage (`/query`) in their documented formats (see `shared::market::providers`,
//! whose module comments cite each source), success and error shapes alike.
//!
//! It knows a few symbols, each a seeded synthetic daily series (weekdays for equities and
//! FX, every day for crypto), serves only the span asked for, records every request, and
//! can be told to answer the next requests with a fault.

mod formats;

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use chrono::{Datelike, NaiveDate, Weekday};
use tokio::{net::TcpListener, task::JoinHandle};

/// What the next request to a provider gets instead of data.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The provider's rate-limit reply (Yahoo: 429 plain text; Binance: 429 JSON with
    /// `Retry-After`; Alpha Vantage: 200 with an `Information` note).
    RateLimited { retry_after_s: u64 },
    /// 503 with an HTML page.
    ServerDown,
    /// 200 with an HTML page (a captive portal, a consent wall).
    Html,
    /// 200 with the provider's JSON, one bar's close not a finite price.
    BadPrice,
    /// 200 with the bars in reverse order.
    Unsorted,
    /// Waits this long before answering.
    Slow(Duration),
}

/// One request the double answered.
#[derive(Debug, Clone)]
pub struct Request {
    pub provider: &'static str,
    pub symbol: String,
    pub query: String,
}

#[derive(Default)]
struct Control {
    requests: Vec<Request>,
    faults: Vec<(&'static str, VecDeque<Fault>)>,
}

#[derive(Clone)]
struct Double {
    control: Arc<Mutex<Control>>,
}

/// A running double, stopped when dropped.
pub struct MarketDouble {
    addr: SocketAddr,
    double: Double,
    server: JoinHandle<()>,
}

/// One synthetic daily bar: (date, open, high, low, close, volume).
pub type DayBar = (NaiveDate, f64, f64, f64, f64, f64);

impl MarketDouble {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the market double");
        let addr = listener.local_addr().expect("the market double's address");
        let double = Double { control: Arc::default() };
        let app = Router::new()
            .route("/v8/finance/chart/{symbol}", get(yahoo))
            .route("/api/v3/klines", get(binance))
            .route("/query", get(alphavantage))
            .with_state(double.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, double, server }
    }

    /// The base URL of every provider (`YAHOO_URL`, `BINANCE_URL`, `ALPHAVANTAGE_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Settings pointing each provider at this double.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        ["YAHOO_URL", "BINANCE_URL", "ALPHAVANTAGE_URL"].map(|k| (k, self.url())).into()
    }

    /// The next `faults` requests to `provider` (`yahoo`, `binance`, `alphavantage`) get them,
    /// in order.
    pub fn fail_next(&self, provider: &'static str, faults: impl IntoIterator<Item = Fault>) {
        let mut control = self.double.control.lock().unwrap();
        match control.faults.iter_mut().find(|(p, _)| *p == provider) {
            Some((_, queue)) => queue.extend(faults),
            None => control.faults.push((provider, faults.into_iter().collect())),
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.double.control.lock().unwrap().requests.clone()
    }

    /// Requests to `provider` for `symbol` (as the provider spells it).
    pub fn requests_for(&self, provider: &str, symbol: &str) -> usize {
        self.requests().iter().filter(|r| r.provider == provider && r.symbol == symbol).count()
    }

    /// The daily bars the double holds for a symbol as the provider spells it, or `None`.
    pub fn series(symbol: &str) -> Option<Vec<DayBar>> {
        series(symbol)
    }
}

impl Drop for MarketDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Double {
    fn record(&self, provider: &'static str, symbol: &str, query: String) -> Option<Fault> {
        let mut control = self.control.lock().unwrap();
        control.requests.push(Request { provider, symbol: symbol.to_owned(), query });
        control.faults.iter_mut().find(|(p, _)| *p == provider).and_then(|(_, q)| q.pop_front())
    }
}

/// The symbols the double knows, as each provider spells them, with the first day of their
/// series and their first price. Equities and FX trade on weekdays; crypto every day.
const KNOWN: &[(&str, &str, f64, bool)] = &[
    ("NVDA", "2015-01-02", 20.0, false),
    ("BRK-B", "2015-01-02", 150.0, false),
    ("BRK.B", "2015-01-02", 150.0, false),
    ("^GSPC", "2015-01-02", 2000.0, false),
    ("EURUSD=X", "2015-01-02", 1.2, false),
    ("EURUSD", "2015-01-02", 1.2, false),
    ("BTC-USD", "2017-08-17", 4000.0, true),
    ("BTCUSDT", "2017-08-17", 4000.0, true),
    ("BTCUSD", "2017-08-17", 4000.0, true),
    ("IBM", "2015-01-02", 160.0, false),
];

fn series(symbol: &str) -> Option<Vec<DayBar>> {
    let &(_, first, price, every_day) = KNOWN.iter().find(|(s, ..)| *s == symbol)?;
    // Every series runs to yesterday, as a live provider's would.
    let first: NaiveDate = first.parse().ok()?;
    let last = chrono::Utc::now().date_naive().pred_opt()?;
    // A seeded walk: the same symbol gives the same bars in every test and every provider.
    let mut seed = symbol.bytes().fold(0x9e37_79b9_u64, |h, b| h.rotate_left(5) ^ u64::from(b));
    let mut close = price;
    let mut bars = Vec::new();
    for day in first.iter_days().take_while(|d| *d <= last) {
        if !every_day && matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let step = ((seed >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.04;
        let open = close;
        close = (open * (1.0 + step)).max(0.01);
        let (high, low) = (open.max(close) * 1.005, open.min(close) * 0.995);
        bars.push((day, open, high, low, close, 1_000_000.0 + (seed >> 44) as f64));
    }
    Some(bars)
}

async fn yahoo(
    State(double): State<Double>,
    Path(symbol): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let fault = double.record("yahoo", &symbol, formats::query_string(&query));
    formats::yahoo(&symbol, &query, fault).await
}

async fn binance(
    State(double): State<Double>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let symbol = formats::param(&query, "symbol").unwrap_or_default();
    let fault = double.record("binance", &symbol, formats::query_string(&query));
    formats::binance(&symbol, &query, fault).await
}

async fn alphavantage(
    State(double): State<Double>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let symbol = formats::alphavantage_symbol(&query);
    let fault = double.record("alphavantage", &symbol, formats::query_string(&query));
    formats::alphavantage(&symbol, &query, fault).await
}
