//! Bars from online providers (the market double speaks Yahoo's, Binance's and Alpha
//! Vantage's formats): fetched once into the Postgres cache, read from it afterwards, the
//! missing tail only fetched when time has passed, and every provider fault handled.

use std::time::Duration;

use serde_json::Value;
use shared::config::Env;
use shared::market::sources::MarketDataConfig;
use testkit::market_double::{Fault, MarketDouble};

use crate::helpers::{Stack, market, stack_without_workers};

const LIMIT: Duration = Duration::from_secs(60);

/// Providers pointed at the double, in this order.
fn providers(double: &MarketDouble, chain: &str) -> MarketDataConfig {
    let mut pairs: Vec<(String, String)> =
        double.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    pairs.push(("MARKET_DATA_PROVIDERS".into(), chain.into()));
    pairs.push(("ALPHAVANTAGE_API_KEY".into(), "test-key-7f3a".into()));
    pairs.push(("MARKET_DATA_TIMEOUT_S".into(), "5".into()));
    let mut config = MarketDataConfig::from_env(&Env::from_pairs(pairs)).unwrap();
    config.policy.backoff = Duration::from_millis(50);
    config
}

async fn stack_with(double: &MarketDouble, chain: &str, workers: usize) -> Stack {
    let mut stack = stack_without_workers().await;
    for i in 0..workers {
        let market = providers(double, chain);
        stack
            .start_worker_with(&format!("w{i}"), move |c| {
                c.common.market = market;
                // Every job of a burst at once, on few connections: tests run side by side
                // on one Postgres (max_connections 100).
                c.analysis_concurrency = 20;
                c.common.database_max_connections = 4;
            })
            .await;
    }
    stack
}

async fn run(stack: &Stack, body: &Value) -> (Value, Vec<(String, String)>) {
    let job = stack.submit(body).await;
    stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await
}

#[tokio::test]
async fn a_symbol_without_a_csv_is_fetched_cached_and_analysed() {
    let double = MarketDouble::start().await;
    let stack = stack_with(&double, "csv,yahoo,binance", 1).await;
    double.fail_next("yahoo", [Fault::Slow(Duration::from_millis(300))]);
    let (done, seen) = run(&stack, &market("NVDA", "2024-05-10")).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(seen.iter().any(|(_, stage)| stage == "fetching_market_data"), "{seen:?}");
    let source = &done["result"]["data_source"];
    assert_eq!(source["source"], "provider");
    assert_eq!(source["provider"], "yahoo");
    assert_eq!(source["provider_symbol"], "NVDA");
    assert_eq!(source["interval"], "1d");
    assert_eq!(done["result"]["as_of"], "2024-05-10", "no bar after the date reaches the model");
    assert_eq!(double.requests_for("yahoo", "NVDA"), 1);

    // The same symbol again, and another date inside the cached range: no request at all.
    for date in ["2024-05-10", "2021-03-01"] {
        let (again, _) = run(&stack, &market("NVDA", date)).await;
        assert_eq!(again["status"], "succeeded", "{again}");
        assert_eq!(again["result"]["as_of"], date);
    }
    assert_eq!(double.requests_for("yahoo", "NVDA"), 1, "{:?}", double.requests());
}

#[tokio::test]
async fn only_the_missing_tail_is_fetched_once_time_has_passed() {
    let double = MarketDouble::start().await;
    let stack = stack_with(&double, "yahoo", 1).await;
    let (first, _) = run(&stack, &market("BRK.B", "2024-05-10")).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(first["result"]["data_source"]["provider_symbol"], "BRK-B");
    // As if that fetch had happened on 2024-06-03 (a Monday): bars since then are not held.
    let pool = &stack.api_state.pool;
    sqlx::query("DELETE FROM market_bars WHERE symbol = 'BRK.B' AND time > '2024-06-03'")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE market_series SET fetched_to = '2024-06-03 20:00', fetched_at = '2024-06-03 20:00+00', last_bar = '2024-06-03' WHERE symbol = 'BRK.B'")
        .execute(pool)
        .await
        .unwrap();
    let (later, _) = run(&stack, &market("BRK.B", "2024-09-10")).await;
    assert_eq!(later["status"], "succeeded", "{later}");
    assert_eq!(later["result"]["as_of"], "2024-09-10");
    let requests = double.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let tail = &requests[1].query;
    let from = chrono::NaiveDate::from_ymd_opt(2024, 6, 3)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    assert!(
        tail.contains(&format!("period1={}", from.timestamp())),
        "asks from the last bar held: {tail}"
    );
}

#[tokio::test]
async fn many_workers_asking_for_one_new_symbol_make_one_request() {
    let double = MarketDouble::start().await;
    let stack = stack_with(&double, "yahoo", 3).await;
    // Slow enough that every job is waiting while the first fetch is under way.
    double.fail_next("yahoo", [Fault::Slow(Duration::from_millis(1500))]);
    let mut ids = Vec::new();
    for i in 0..50 {
        let day = chrono::NaiveDate::from_ymd_opt(2023, 1, 2).unwrap() + chrono::Days::new(i * 7);
        ids.push(
            stack.submit(&market("^GSPC", &day.to_string())).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for id in &ids {
        let (done, _) = stack.wait_final(id, LIMIT).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        assert_eq!(done["result"]["data_source"]["provider_symbol"], "^GSPC");
    }
    assert_eq!(double.requests_for("yahoo", "^GSPC"), 1, "{:?}", double.requests());
}

#[tokio::test]
async fn crypto_comes_from_binance_page_by_page_and_fx_from_yahoo() {
    let double = MarketDouble::start().await;
    let stack = stack_with(&double, "csv,binance,yahoo", 1).await;
    let (btc, _) = run(&stack, &market("BTC-USD", "2024-05-10")).await;
    assert_eq!(btc["status"], "succeeded", "{btc}");
    assert_eq!(btc["result"]["data_source"]["provider"], "binance");
    assert_eq!(btc["result"]["data_source"]["provider_symbol"], "BTCUSDT");
    assert_eq!(btc["result"]["data_source"]["first_bar"], "2017-08-17T00:00:00");
    // 2017-08-17 to yesterday is more than 1000 daily klines: several pages, each once.
    let pages = double.requests_for("binance", "BTCUSDT");
    assert!(pages >= 3, "{pages} requests");
    let (fx, _) = run(&stack, &market("EURUSD", "2024-07-02")).await;
    assert_eq!(fx["status"], "succeeded", "{fx}");
    assert_eq!(fx["result"]["data_source"]["provider"], "yahoo", "Binance has no FX");
    assert_eq!(fx["result"]["data_source"]["provider_symbol"], "EURUSD=X");
    assert_eq!(
        fx["result"]["as_of"], "2024-07-02",
        "summer bars stamped 23:00Z the day before keep their day"
    );
}

#[tokio::test]
async fn alpha_vantage_needs_its_key_and_serves_the_recent_days() {
    let double = MarketDouble::start().await;
    let stack = stack_with(&double, "alphavantage", 1).await;
    let recent = (chrono::Utc::now() - chrono::Duration::days(30)).date_naive().to_string();
    let (done, _) = run(&stack, &market("IBM", &recent)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["data_source"]["provider"], "alphavantage");
    let request = &double.requests()[0];
    assert!(
        request.query.contains("function=TIME_SERIES_DAILY")
            && request.query.contains("outputsize=compact"),
        "{request:?}"
    );
    let logs = std::fs::read_to_string(
        stack.results.path().join(done["id"].as_str().unwrap()).join("result.json"),
    )
    .unwrap();
    assert!(!logs.contains("test-key-7f3a"), "the key is in no result");
}

#[tokio::test]
async fn an_unknown_symbol_fails_at_once_naming_every_source_tried() {
    let double = MarketDouble::start().await;
    let stack = stack_with(&double, "csv,yahoo,binance,alphavantage", 1).await;
    let (done, _) = run(&stack, &market("NVDAX", "2024-05-10")).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["attempts"], 1, "permanent: not retried");
    let error = done["error"].as_str().unwrap();
    let data = stack.data.path().display().to_string();
    assert_eq!(
        error,
        format!(
            "no market data for NVDAX from yahoo, alphavantage (csv: no file {data}/NVDAX.csv)"
        )
    );
}

#[tokio::test]
async fn offline_mode_never_asks_a_provider() {
    let double = MarketDouble::start().await;
    let stack = stack_with(&double, "csv", 1).await;
    let (done, _) = run(&stack, &market("NVDA", "2024-05-10")).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(
        done["error"].as_str().unwrap().starts_with("no market data for NVDA (csv: no file "),
        "{done}"
    );
    let (goog, _) = run(&stack, &market("GOOG", "2010-06-01")).await;
    assert_eq!(goog["status"], "succeeded", "{goog}");
    assert_eq!(
        goog["result"]["data_source"],
        serde_json::json!({"source": "csv", "path": "GOOG.csv"})
    );
    assert!(double.requests().is_empty());
}

#[tokio::test]
async fn rate_limits_and_outages_are_retried_honouring_retry_after() {
    let double = MarketDouble::start().await;
    let stack = stack_with(&double, "yahoo,binance", 1).await;
    double.fail_next("yahoo", [Fault::RateLimited { retry_after_s: 1 }, Fault::ServerDown]);
    let started = std::time::Instant::now();
    let (done, _) = run(&stack, &market("NVDA", "2024-05-10")).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(started.elapsed() >= Duration::from_secs(1), "waited out Retry-After");
    assert_eq!(double.requests_for("yahoo", "NVDA"), 3);
    assert_eq!(done["attempts"], 1, "retried within the attempt");

    double.fail_next("binance", [Fault::RateLimited { retry_after_s: 1 }]);
    let (btc, _) = run(&stack, &market("BTCUSD", "2024-05-10")).await;
    assert_eq!(btc["status"], "succeeded", "{btc}");
}

#[tokio::test]
async fn replies_outside_the_providers_formats_fail_the_job_naming_the_provider() {
    let double = MarketDouble::start().await;
    // Binance first, for the crypto; it serves nothing else, so equities go to Yahoo.
    let stack = stack_with(&double, "binance,yahoo", 1).await;
    for (provider, symbol, fault) in [
        ("yahoo", "NVDA", Fault::Html),
        ("yahoo", "BRK.B", Fault::BadPrice),
        ("yahoo", "^GSPC", Fault::Unsorted),
        ("binance", "BTCUSD", Fault::BadPrice),
        ("binance", "ETHUSD", Fault::Html),
    ] {
        double.fail_next(provider, [fault.clone()]);
        let (done, _) = run(&stack, &market(symbol, "2024-05-10")).await;
        assert_eq!(done["status"], "failed", "{fault:?}: {done}");
        let error = done["error"].as_str().unwrap();
        assert!(
            error
                .starts_with(&format!("{provider} sent a reply that is not its documented format")),
            "{fault:?}: {error}"
        );
    }
    // Nothing of those replies was stored.
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM market_bars")
        .fetch_one(&stack.api_state.pool)
        .await
        .unwrap();
    assert_eq!(held, 0);
}

#[tokio::test]
async fn hourly_bars_are_asked_for_with_input_interval() {
    let double = MarketDouble::start().await;
    let stack = stack_with(&double, "csv,binance,yahoo", 1).await;
    let at = (chrono::Utc::now() - chrono::Duration::days(3))
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    let mut body = market("BTCUSD", &at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    body["input"]["interval"] = "1h".into();
    let (done, _) = run(&stack, &body).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["input"]["interval"], "1h");
    assert_eq!(done["result"]["data_source"]["interval"], "1h");
    assert_eq!(
        done["result"]["as_of"],
        at.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(),
        "the last hour known at that instant"
    );
    let asked = &double.requests()[0].query;
    assert!(asked.contains("interval=1h"), "{asked}");
}

#[tokio::test]
async fn a_training_job_trains_on_fetched_bars() {
    let double = MarketDouble::start().await;
    let stack = stack_with(&double, "csv,yahoo", 1).await;
    let body = serde_json::json!({"kind": "training", "input": {"symbol": "NVDA", "model": "nhits",
        "horizon": 5, "input_size": 20, "max_steps": 10, "mlp_width": 32, "windows_batch_size": 64, "seed": 1}});
    let (done, seen) = run(&stack, &body).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(
        seen.iter().any(|(_, stage)| stage == "fetching_market_data" || stage == "training"),
        "{seen:?}"
    );
    let result = &done["result"];
    assert_eq!(result["data_source"]["provider"], "yahoo");
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    let last =
        result["data_range"]["to_date"].as_str().unwrap().parse::<chrono::NaiveDate>().unwrap();
    assert!(yesterday - last < chrono::Duration::days(4), "trained up to the latest bar: {last}");
    assert_eq!(double.requests_for("yahoo", "NVDA"), 1);
}

#[tokio::test]
async fn a_provider_that_does_not_answer_in_time_is_asked_again() {
    let double = MarketDouble::start().await;
    let mut stack = stack_without_workers().await;
    let mut config = providers(&double, "yahoo");
    config.policy.timeout = Duration::from_millis(500);
    stack.start_worker_with("w", move |c| c.common.market = config).await;
    double.fail_next("yahoo", [Fault::Slow(Duration::from_secs(2))]);
    let (done, _) = run(&stack, &market_body("NVDA")).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        double.requests_for("yahoo", "NVDA"),
        2,
        "the timed-out request, then one that answered"
    );
}

#[tokio::test]
async fn a_limit_longer_than_a_worker_waits_fails_the_attempt_and_the_job_is_retried() {
    let double = MarketDouble::start().await;
    let mut stack = stack_without_workers().await;
    let mut config = providers(&double, "alphavantage");
    // Alpha Vantage's limit notes carry no Retry-After: a minute is assumed, more than this.
    config.policy.max_wait = Duration::from_secs(1);
    stack.start_worker_with("w", move |c| c.common.market = config).await;
    double.fail_next("alphavantage", [Fault::RateLimited { retry_after_s: 0 }]);
    let recent = (chrono::Utc::now() - chrono::Duration::days(30)).date_naive().to_string();
    let (done, _) = run(&stack, &market("IBM", &recent)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        done["attempts"], 2,
        "the first attempt gave up on the limit; the retry got the bars"
    );
    assert_eq!(double.requests_for("alphavantage", "IBM"), 2);
}

#[tokio::test]
async fn requests_per_provider_are_paced_across_workers() {
    use shared::market::{online::ProviderPace, providers::Pace};
    let redis = testkit::RedisNamespace::new();
    let conn = shared::queue::connect_with_retry(&redis.url, Duration::from_secs(5)).await.unwrap();
    let limiter = || Some(shared::rate_limit::RateLimiter::new(conn.clone(), &redis.prefix));
    let per_minute = std::collections::HashMap::from([("yahoo", 2)]);
    // Two workers' pacers, one bucket: the third request in a minute has to wait ~30 s.
    let (a, b) = (
        ProviderPace::new(limiter(), per_minute.clone()),
        ProviderPace::new(limiter(), per_minute),
    );
    assert_eq!(a.request("yahoo").await, Ok(()));
    assert_eq!(b.request("yahoo").await, Ok(()));
    let wait = a.request("yahoo").await.unwrap_err();
    assert!((Duration::from_secs(25)..=Duration::from_secs(31)).contains(&wait), "{wait:?}");
    assert_eq!(
        a.request("binance").await,
        Ok(()),
        "another provider, another bucket (unpaced here)"
    );
}

fn market_body(symbol: &str) -> Value {
    market(symbol, "2024-05-10")
}
