//! `/market`: the cache's symbols and bars, and `fetch=true` through the providers (the
//! market double speaks their formats).

use std::time::Duration;

use serde_json::Value;
use shared::{config::Env, market::sources::MarketDataConfig};
use testkit::market_double::{Fault, MarketDouble};

use crate::helpers::{TestApi, assert_problem, spawn_api_with};

async fn api_with(double: &MarketDouble, chain: &str) -> TestApi {
    let mut pairs: Vec<(String, String)> =
        double.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    pairs.push(("MARKET_DATA_PROVIDERS".into(), chain.into()));
    let market = MarketDataConfig::from_env(&Env::from_pairs(pairs)).unwrap();
    spawn_api_with(|c| c.common.market = market).await
}

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    response.json().await.unwrap()
}

#[tokio::test]
async fn bars_are_served_from_the_cache_and_fetched_only_when_asked() {
    let double = MarketDouble::start().await;
    let api = api_with(&double, "csv,yahoo,binance").await;
    let symbols: Value = api.get("/market/symbols").await.json().await.unwrap();
    assert_eq!(symbols["symbols"], serde_json::json!([]));
    let missing = api.get("/market/NVDA/bars").await;
    let body = problem(missing, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("fetch=true"), "{body}");
    assert!(double.requests().is_empty(), "a plain read asks no provider");

    let reader = api.client_for("alice", "read").await;
    let url = format!("{}/market/NVDA/bars?fetch=true", api.base);
    assert_eq!(reader.get(&url).send().await.unwrap().status(), 403, "fetching needs submit");

    let fetched = api.get("/market/nvda/bars?fetch=true&from=2024-05-06&to=2024-05-10").await;
    assert_eq!(fetched.status(), 200);
    let fetched: Value = fetched.json().await.unwrap();
    assert_eq!(fetched["symbol"], "NVDA");
    assert_eq!(fetched["source"]["provider"], "yahoo");
    let days: Vec<&str> =
        fetched["bars"].as_array().unwrap().iter().map(|b| b["time"].as_str().unwrap()).collect();
    assert_eq!(days, ["2024-05-06", "2024-05-07", "2024-05-08", "2024-05-09", "2024-05-10"]);

    let again: Value =
        api.get("/market/NVDA/bars?from=2024-05-10&limit=1").await.json().await.unwrap();
    assert_eq!(again["bars"][0]["time"], "2024-05-10");
    let backwards: Value =
        api.get("/market/NVDA/bars?from=2024-05-10&to=2024-05-01").await.json().await.unwrap();
    assert_eq!(backwards["bars"], serde_json::json!([]), "an empty span is no bars, not an error");
    assert_eq!(double.requests().len(), 1);
    let symbols: Value = reader
        .get(format!("{}/market/symbols", api.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = &symbols["symbols"][0];
    assert_eq!(
        (listed["symbol"].as_str(), listed["provider"].as_str()),
        (Some("NVDA"), Some("yahoo"))
    );
    assert!(listed["bars"].as_i64().unwrap() > 2000, "{listed}");
}

#[tokio::test]
async fn bad_parameters_name_the_field() {
    let double = MarketDouble::start().await;
    let api = api_with(&double, "yahoo").await;
    for (path, field) in [
        ("/market/NVDA%20X/bars", "path.symbol"),
        ("/market/NVDA/bars?interval=5m", "query.interval"),
        ("/market/NVDA/bars?from=yesterday", "query.from"),
        ("/market/NVDA/bars?limit=0", "query.limit"),
        ("/market/NVDA/bars?fetch=maybe", "query.fetch"),
        ("/market/NVDA/bars?limit=5&limit=6", "query.limit"),
        ("/market/NVDA/bars?colour=red", "query.colour"),
    ] {
        assert_problem(api.get(path).await, 400, field).await;
    }
}

#[tokio::test]
async fn provider_faults_become_clear_answers() {
    let double = MarketDouble::start().await;
    let api = api_with(&double, "csv,yahoo,binance").await;
    let unknown = problem(api.get("/market/NVDAX/bars?fetch=true").await, 404).await;
    assert!(unknown["detail"].as_str().unwrap().contains("NVDAX (from yahoo)"), "{unknown}");
    double.fail_next("yahoo", [Fault::RateLimited { retry_after_s: 3600 }]);
    problem(api.get("/market/NVDA/bars?fetch=true").await, 503).await;
    double.fail_next("yahoo", [Fault::Html]);
    let bad = problem(api.get("/market/NVDA/bars?fetch=true").await, 502).await;
    assert!(bad["detail"].as_str().unwrap().starts_with("yahoo sent a reply"), "{bad}");
    double.fail_next("yahoo", [Fault::Slow(Duration::from_millis(200))]);
    assert_eq!(api.get("/market/NVDA/bars?fetch=true").await.status(), 200);
}
