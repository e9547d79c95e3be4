//! `/models` and `/forecast/{symbol}`: a real (tiny) model trained once by the forecast crate,
//! stored as the worker stores one (its files in `RESULTS_DIR/<job id>/`, a succeeded training
//! job whose result carries the report), and forecasts read back over the bars it learned.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde_json::{Value, json};
use shared::market::Bar;
use uuid::Uuid;

use crate::helpers::{TestApi, assert_problem, spawn_api};

/// Trading days from 2009-01-02: the last is Thursday 2011-05-05, and the five weekdays after
/// it hold no exchange holiday.
const BARS: usize = 610;
const HORIZON: usize = 5;
/// Bars one forecast reads from the cache at most.
const MAX_CACHED: usize = api::routes::models::MAX_CACHED_BARS as usize;

struct Trained {
    bars: Vec<Bar>,
    weights: Vec<u8>,
    card: Value,
    report: Value,
}

/// Trained once for every test: a few optimiser steps of a small network.
static TRAINED: LazyLock<Trained> = LazyLock::new(|| {
    let csv = testkit::data::synthetic_daily_csv(BARS, 7);
    let bars = shared::market::read_csv_from(csv.as_bytes(), "synthetic").unwrap();
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let times: Vec<_> = bars.iter().map(|b| b.time.to_datetime()).collect();
    let config = forecast::NHitsConfig {
        max_steps: 3,
        windows_batch_size: 64,
        mlp_units: vec![[16, 16]; 2],
        seasons: vec![5],
        ..forecast::NHitsConfig::new(HORIZON, 25)
    };
    let series = forecast::Series::with_times(&closes, &times);
    let outcome =
        forecast::train(&series, &config, &forecast::Device::Cpu, &mut forecast::NoHooks).unwrap();
    let dir = tempfile::tempdir().unwrap();
    outcome.model.save(dir.path(), json!({})).unwrap();
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    Trained {
        bars,
        weights: read(forecast::WEIGHTS_FILE),
        card: serde_json::from_slice(&read(forecast::CARD_FILE)).unwrap(),
        report: serde_json::to_value(&outcome.report).unwrap(),
    }
});

/// How a model is stored and where its bars come from.
struct Stored<'a> {
    symbol: &'a str,
    owner: &'a str,
    shared: bool,
    data_source: Value,
    /// The bars inside the job's input (inline data).
    inline: Option<&'a [Bar]>,
    /// Write its files (a missing artifact otherwise).
    files: bool,
    /// Served by this forecaster instead of the one training chose.
    served_by: Option<&'a str>,
}

impl<'a> Stored<'a> {
    fn inline(symbol: &'a str, owner: &'a str) -> Self {
        Stored {
            symbol,
            owner,
            shared: false,
            data_source: json!({"source": "inline"}),
            inline: Some(&TRAINED.bars),
            files: true,
            served_by: None,
        }
    }
}

/// A succeeded training job with `model`'s files and result, as the worker leaves one.
async fn store(api: &TestApi, model: Stored<'_>) -> Uuid {
    let t = &*TRAINED;
    let id = Uuid::now_v7();
    if model.files {
        let dir = api.results.path().join(id.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(forecast::WEIGHTS_FILE), &t.weights).unwrap();
        let mut card = t.card.clone();
        if let Some(served_by) = model.served_by {
            card["served_by"] = json!(served_by);
        }
        std::fs::write(dir.join(forecast::CARD_FILE), card.to_string()).unwrap();
    }
    let r = &t.report;
    let s = &r["summary"];
    let last = t.bars.last().unwrap();
    let result = json!({
        "model_id": id, "symbol": model.symbol, "model": "nhits",
        "data_range": {"from": t.bars[0].time, "to": last.time, "to_date": last.time.date(), "bars": t.bars.len()},
        "plan": {"spacing": r["spacing"], "input_size": r["config"]["input_size"]},
        "metrics": r["test"], "coverage": r["coverage"], "intervals": r["intervals"],
        "best_baseline": s["best_baseline"], "skill_vs_best_baseline": s["skill_vs_best_baseline"],
        "served_skill_vs_best_baseline": s["served_skill_vs_best_baseline"],
        "served_by": model.served_by.map_or(s["served_by"].clone(), |w| json!(w)),
        "verdict": s["verdict"], "forecast": r["forecast"]["points"], "config": r["config"],
        "data_source": model.data_source,
    });
    let mut input = json!({"symbol": model.symbol, "model": "nhits", "horizon": HORIZON});
    if let Some(bars) = model.inline {
        input["data"] = json!({"source": "inline", "bars": bars});
    }
    sqlx::query(
        "INSERT INTO jobs (id, kind, status, input, symbol, max_attempts, result, owner, shared,
                           started_at, finished_at)
         VALUES ($1, 'training', 'succeeded', $2, $3, 3, $4, $5, $6, now(), now())",
    )
    .bind(id)
    .bind(input)
    .bind(model.symbol)
    .bind(result)
    .bind(model.owner)
    .bind(model.shared)
    .execute(&api.state.pool)
    .await
    .unwrap();
    id
}

async fn get_as(api: &TestApi, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client.get(format!("{}{path}", api.base)).send().await.unwrap()
}

async fn json_ok(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<&str> {
    list["models"].as_array().unwrap().iter().map(|m| m["model_id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn models_are_listed_for_their_owner_and_when_shared() {
    let api = spawn_api().await;
    let mine = store(&api, Stored::inline("ACME", "alice")).await.to_string();
    let private = store(&api, Stored::inline("ACME", "bob")).await.to_string();
    let shared =
        store(&api, Stored { shared: true, ..Stored::inline("BETA", "bob") }).await.to_string();
    let alice = api.client_for("alice", "read").await;

    let list = json_ok(get_as(&api, &alice, "/models").await).await;
    assert_eq!(ids(&list), [shared.as_str(), mine.as_str()], "newest first, not bob's private");
    let model = &list["models"][1];
    let report = &TRAINED.report;
    assert_eq!(model["symbol"], "ACME");
    assert_eq!(model["interval"], "1d", "read off the inline bars' spacing: {model}");
    assert_eq!((model["horizon"].as_u64(), model["input_size"].as_u64()), (Some(5), Some(25)));
    assert_eq!(model["served_by"], report["summary"]["served_by"]);
    assert_eq!(model["best_baseline"], report["summary"]["best_baseline"]);
    let best = report["summary"]["best_baseline"].as_str().unwrap();
    // Through Postgres's jsonb (numeric), a double may move in its last digit.
    let close = |a: &Value, b: &Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-12;
    assert!(close(&model["test"]["best_baseline_mase"], &report["test"][best]["mase"]), "{model}");
    assert!(close(&model["test"]["nhits_mase"], &report["test"]["nhits"]["mase"]), "{model}");
    assert!(model["test"]["served_mase"].is_number(), "{model}");
    assert_eq!(model["data_through"], "2011-05-05");
    assert_eq!(model["shared"], false);
    assert!(model.get("owner").is_none(), "only admins see owners: {model}");
    assert_eq!(list["models"][0]["shared"], true);

    let acme = json_ok(get_as(&api, &alice, "/models?symbol=acme").await).await;
    assert_eq!(ids(&acme), [mine.as_str()]);
    let newest = json_ok(get_as(&api, &alice, "/models?limit=1").await).await;
    assert_eq!(ids(&newest), [shared.as_str()]);
    let all = json_ok(api.get("/models").await).await;
    assert_eq!(ids(&all), [shared.as_str(), private.as_str(), mine.as_str()], "admins see all");
    assert_eq!(all["models"][1]["owner"], "bob");
}

#[tokio::test]
async fn a_forecast_continues_the_series_with_intervals() {
    let api = spawn_api().await;
    let id = store(&api, Stored::inline("ACME", "alice")).await;
    let alice = api.client_for("alice", "read").await;

    let body = json_ok(get_as(&api, &alice, "/forecast/acme").await).await;
    assert_eq!(body["symbol"], "ACME");
    assert_eq!(body["model_id"], id.to_string());
    assert_eq!(body["trained_through"], "2011-05-05");
    assert_eq!(body["horizon"], HORIZON);
    assert_eq!(body["forecaster"], TRAINED.report["summary"]["served_by"]);
    assert_eq!(body["data_source"], json!({"source": "inline"}));
    assert_eq!(body["bars_read"], BARS);
    assert_eq!(body["last_bar"]["time"], "2011-05-05");
    assert_eq!(body["last_bar"]["close"], TRAINED.bars.last().unwrap().close);
    assert!(body["verdict"].as_str().unwrap().contains("baseline"), "{body}");
    assert!(body["coverage"]["empirical_80"].is_number(), "{body}");
    let points = body["points"].as_array().unwrap();
    let times: Vec<&str> = points.iter().map(|p| p["time"].as_str().unwrap()).collect();
    assert_eq!(times, weekdays_after("2011-05-05", HORIZON));
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p["step"], i + 1);
        let v = |k: &str| p[k].as_f64().unwrap_or_else(|| panic!("{k} in {p}"));
        assert!(v("lower_95") <= v("lower_80") && v("lower_80") <= v("value"), "{p}");
        assert!(v("value") <= v("upper_80") && v("upper_80") <= v("upper_95"), "{p}");
    }

    let two = json_ok(get_as(&api, &alice, "/forecast/ACME?horizon=2").await).await;
    assert_eq!(two["horizon"], 2);
    assert_eq!(two["points"], json!(&points[..2]), "the same forecast, cut");
    let more =
        assert_problem(api.get("/forecast/ACME?horizon=6").await, 422, "query.horizon").await;
    assert!(more["detail"].as_str().unwrap().contains("its horizon is 5 bars"), "{more}");
}

#[tokio::test]
async fn a_model_trained_on_a_csv_reads_the_file_again() {
    let api = spawn_api().await;
    let csv = testkit::data::synthetic_daily_csv(BARS, 7);
    std::fs::write(api.data.path().join("BETA.csv"), csv).unwrap();
    let source = json!({"source": "csv", "path": "BETA.csv"});
    let stored =
        Stored { data_source: source.clone(), inline: None, ..Stored::inline("BETA", "bob") };
    store(&api, Stored { shared: true, ..stored }).await;
    let alice = api.client_for("alice", "read").await;

    let body = json_ok(get_as(&api, &alice, "/forecast/BETA").await).await;
    assert_eq!((&body["data_source"], &body["bars_read"]), (&source, &json!(BARS)));
    assert_eq!(body["points"].as_array().unwrap().len(), HORIZON);

    std::fs::remove_file(api.data.path().join("BETA.csv")).unwrap();
    let gone = api.get("/forecast/BETA").await;
    assert_eq!(gone.status(), 503);
    let gone: Value = gone.json().await.unwrap();
    assert!(gone["detail"].as_str().unwrap().contains("data file BETA.csv"), "{gone}");
}

/// Caches `bars` as `provider`'s daily series of `symbol`, as a fetch would.
async fn cache(api: &TestApi, provider: &str, symbol: &str, bars: &[Bar]) {
    let mut conn = api.state.pool.acquire().await.unwrap();
    let fetched = shared::db::market::Fetched {
        provider,
        symbol,
        interval: shared::market::Interval::Day,
        provider_symbol: symbol,
        from: bars[0].time.to_datetime(),
        to: bars.last().unwrap().time.to_datetime(),
        bars,
    };
    shared::db::market::store(&mut conn, &fetched).await.unwrap();
}

#[tokio::test]
async fn a_model_trained_on_provider_bars_forecasts_from_the_latest_cached_ones() {
    let api = spawn_api().await;
    let source = json!({"source": "provider", "provider": "yahoo", "provider_symbol": "ACME",
                        "interval": "1d", "fetched_at": "2011-05-06T00:00:00Z"});
    let stored =
        Stored { data_source: source.clone(), inline: None, ..Stored::inline("ACME", "alice") };
    store(&api, stored).await;
    let listed = json_ok(api.get("/models").await).await;
    assert_eq!(listed["models"][0]["interval"], "1d");
    let empty = api.get("/forecast/ACME").await;
    assert_eq!(empty.status(), 503, "nothing cached");
    let empty: Value = empty.json().await.unwrap();
    assert!(
        empty["detail"].as_str().unwrap().contains("holds no 1d bars of ACME from yahoo"),
        "{empty}"
    );

    cache(&api, "yahoo", "ACME", &TRAINED.bars).await;
    cache(&api, "binance", "ACME", &TRAINED.bars[..100]).await;
    let body = json_ok(api.get("/forecast/ACME").await).await;
    assert_eq!((&body["data_source"], &body["bars_read"]), (&source, &json!(BARS)));
    assert_eq!(body["last_bar"]["time"], "2011-05-05");

    // Later fetches grew the series past what one forecast reads: the latest bars are read.
    let csv = testkit::data::synthetic_daily_csv(MAX_CACHED + 5, 7);
    let long = shared::market::read_csv_from(csv.as_bytes(), "synthetic").unwrap();
    cache(&api, "yahoo", "ACME", &long).await;
    let body = json_ok(api.get("/forecast/ACME").await).await;
    assert_eq!(body["bars_read"], MAX_CACHED);
    assert_eq!(body["last_bar"]["time"], json!(long.last().unwrap().time));
}

#[tokio::test]
async fn forecast_failures_say_what_is_wrong() {
    let api = spawn_api().await;
    let alice = api.client_for("alice", "read").await;
    let none = get_as(&api, &alice, "/forecast/ZZZ?horizon=12").await;
    assert_eq!(none.status(), 404);
    let none: Value = none.json().await.unwrap();
    let hint =
        r#"POST /jobs {"kind":"training","input":{"symbol":"ZZZ","model":"nhits","horizon":12}}"#;
    assert!(none["detail"].as_str().unwrap().contains(hint), "{none}");

    store(&api, Stored::inline("ACME", "bob")).await;
    let theirs = get_as(&api, &alice, "/forecast/ACME").await;
    assert_eq!(theirs.status(), 404, "another owner's private model is not alice's to use");

    store(&api, Stored { files: false, ..Stored::inline("GONE", "alice") }).await;
    let missing = get_as(&api, &alice, "/forecast/GONE").await;
    assert_eq!(missing.status(), 503);
    assert!(missing.headers().contains_key("retry-after"));
    let missing: Value = missing.json().await.unwrap();
    assert!(missing["detail"].as_str().unwrap().contains("files of model"), "{missing}");

    // N-HiTS reads 25 bars; the job's data now holds 10.
    let short = &TRAINED.bars[..10];
    let stored =
        Stored { inline: Some(short), served_by: Some("nhits"), ..Stored::inline("TINY", "alice") };
    store(&api, stored).await;
    let too_few = get_as(&api, &alice, "/forecast/TINY").await;
    assert_eq!(too_few.status(), 409);
    let too_few: Value = too_few.json().await.unwrap();
    assert!(too_few["detail"].as_str().unwrap().contains("reads 25 bars, got 10"), "{too_few}");

    store(&api, Stored::inline("BUSY", "alice")).await;
    let slots = api::routes::models::FORECAST_SLOTS as u32;
    let held = api.state.forecast_slots.clone().acquire_many_owned(slots).await.unwrap();
    let busy = get_as(&api, &alice, "/forecast/BUSY").await;
    assert_eq!(busy.status(), 503);
    assert!(busy.headers().contains_key("retry-after"));
    drop(held);
    assert_eq!(get_as(&api, &alice, "/forecast/BUSY").await.status(), 200);
}

#[tokio::test]
async fn bad_parameters_name_the_field() {
    let api = spawn_api().await;
    for (path, field) in [
        ("/models?limit=0", "query.limit"),
        ("/models?limit=501", "query.limit"),
        ("/models?symbol=%24%24", "query.symbol"),
        ("/models?symbol=A&symbol=B", "query.symbol"),
        ("/models?colour=red", "query.colour"),
        ("/forecast/NV%20DA", "path.symbol"),
        ("/forecast/NVDA?horizon=0", "query.horizon"),
        ("/forecast/NVDA?horizon=two", "query.horizon"),
        ("/forecast/NVDA?horizon=1.5", "query.horizon"),
        ("/forecast/NVDA?colour=red", "query.colour"),
    ] {
        assert_problem(api.get(path).await, 400, field).await;
    }
}

/// The `n` weekdays after `day`, as `YYYY-MM-DD`.
fn weekdays_after(day: &str, n: usize) -> Vec<String> {
    let mut day: NaiveDate = day.parse().unwrap();
    let mut out = Vec::new();
    while out.len() < n {
        day = day.succ_opt().unwrap();
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push(day.to_string());
        }
    }
    out
}
