//! Training jobs through the whole system, and their forecasts feeding market analysis.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{market, stack};

const LIMIT: Duration = Duration::from_secs(120);

/// A small network and few steps: the test checks the plumbing, the forecast crate's own tests
/// and benchmark check the model.
fn small_training(symbol: &str, steps: u32) -> Value {
    json!({"kind": "training", "input": {"symbol": symbol, "model": "nhits", "horizon": 5, "input_size": 20,
        "max_steps": steps, "mlp_width": 32, "windows_batch_size": 64, "seed": 1}})
}

#[tokio::test]
async fn a_training_job_reports_steps_and_stores_its_model_metrics_and_forecast() {
    let stack = stack().await;
    let job = stack.submit(&small_training("GOOG", 60)).await;
    let id = job["id"].as_str().unwrap();
    let (done, seen) = stack.wait_final(id, LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(seen.iter().any(|(_, stage)| stage == "training"), "{seen:?}");

    let r = &done["result"];
    assert_eq!(r["model_id"], done["id"]);
    assert_eq!(r["data_range"]["bars"], 600);
    assert_eq!(r["device"], "cpu");
    assert!(r["parameter_count"].as_u64().unwrap() > 0);
    // Daily weekday bars: the spacing implies a trading week and month, each a seasonal naive.
    let seasons: Vec<u64> = r["plan"]["seasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["bars"].as_u64().unwrap())
        .collect();
    assert!(seasons.starts_with(&[5, 21]), "{}", r["plan"]);
    assert_eq!(r["plan"]["exog"], true, "calendar inputs are on for daily bars");
    for who in ["nhits", "naive", "drift", "seasonal_naive_5", "seasonal_naive_21"] {
        for metric in ["mae", "rmse", "mape", "mase", "mase_sd"] {
            assert!(r["metrics"][who][metric].is_number(), "{who}.{metric} in {r}");
        }
        assert!(r["validation_mase"][who].is_number(), "{who} validated in {r}");
    }
    let best = r["best_baseline"].as_str().unwrap();
    let mase = |who: &str| r["metrics"][who]["mase"].as_f64().unwrap();
    let skill = r["skill_vs_best_baseline"].as_f64().unwrap();
    assert!((skill - (1.0 - mase("nhits") / mase(best))).abs() < 1e-9);
    assert!(r["verdict"].as_str().unwrap().contains("best baseline"), "{}", r["verdict"]);
    assert!(r["selection"]["reason"].is_string());
    assert_eq!(r["sizes"]["folds"], 10);
    assert_eq!(r["refit_steps"], r["kept_step"]);
    let served = r["served_by"].as_str().unwrap();
    assert!(r["coverage"][served]["empirical_80"].is_number(), "{r}");
    let points = r["forecast"].as_array().unwrap();
    assert_eq!(points.len(), 5);
    let last = r["data_range"]["to_date"].as_str().unwrap();
    for p in points {
        let day =
            chrono::NaiveDate::parse_from_str(p["time"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        assert!(day.to_string().as_str() > last, "{p} after {last}");
        assert!(chrono::Datelike::weekday(&day).number_from_monday() <= 5, "a trading day: {p}");
        let (lo, hi, v) = (
            p["lower_80"].as_f64().unwrap(),
            p["upper_80"].as_f64().unwrap(),
            p["value"].as_f64().unwrap(),
        );
        assert!(lo <= v && v <= hi, "{p}");
    }
    assert!(r["sizes"]["test"].as_u64().unwrap() >= 5);
    assert_loss_history(r);
    let csv = std::fs::read_to_string(stack.data.path().join("GOOG.csv")).unwrap();
    let last_close: f64 = csv.lines().last().unwrap().split(',').nth(4).unwrap().parse().unwrap();
    assert_chart(r, 5, last_close);

    let dir = stack.result_dir(id);
    for file in ["model.safetensors", "model.json", "metrics.json", "forecast.csv", "report.md"] {
        assert!(dir.join(file).exists(), "{file}");
    }
    let csv = std::fs::read_to_string(dir.join("forecast.csv")).unwrap();
    assert_eq!(csv.lines().count(), 6, "header + horizon rows: {csv}");
    assert!(csv.starts_with("step,time,forecast,lower_80,upper_80,lower_95,upper_95\n"), "{csv}");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains(&format!("served: {}", served.replace('_', "\\_"))), "{report}");
    assert!(report.contains("80 % interval"), "{report}");
    let card: Value =
        serde_json::from_slice(&std::fs::read(dir.join("model.json")).unwrap()).unwrap();
    assert_eq!(card["metadata"]["symbol"], "GOOG");

    // A later analysis of the symbol uses the model, forecasting from bars up to its date.
    let analysis = stack.submit(&market("GOOG", "2012-01-02")).await;
    let (done, _) = stack.wait_final(analysis["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["forecast"]["model_job"], json!(id));
    let points = done["result"]["forecast"]["forecast"].as_array().unwrap();
    assert_eq!(points.len(), 5);
    // The synthetic bars end before the analysis date: the forecast continues from the last.
    assert!(points[0]["time"].as_str().unwrap() > last, "{} after {last}", points[0]);
    let report =
        std::fs::read_to_string(stack.result_dir(done["id"].as_str().unwrap()).join("report.md"))
            .unwrap();
    assert!(report.contains("## Model forecast"), "{report}");
    assert!(
        stack
            .ollama
            .chat_requests()
            .iter()
            .any(|c| c["messages"].to_string().contains("Forecast of the next 5 bars"))
    );

    // An analysis dated before the model's data ended must not use it (it has seen the future).
    let early = stack.submit(&market("GOOG", "2010-06-01")).await;
    let (done, _) = stack.wait_final(early["id"].as_str().unwrap(), LIMIT).await;
    assert!(done["result"]["forecast"].is_null(), "{}", done["result"]["forecast"]);
}

/// The curve of the fit then the refit (whose steps count from 1 again), at most 256 points,
/// in order, ending at the refit's last step.
fn assert_loss_history(r: &Value) {
    let h = &r["loss_history"];
    let column = |name: &str| h[name].as_array().unwrap_or_else(|| panic!("{name}: {h}")).clone();
    let steps: Vec<u64> = column("step").iter().map(|s| s.as_u64().unwrap()).collect();
    let refit: Vec<bool> = column("refit").iter().map(|s| s.as_bool().unwrap()).collect();
    assert!(!steps.is_empty() && steps.len() <= 256, "{h}");
    assert_eq!(
        (column("train_loss").len(), column("val_loss").len(), refit.len()),
        (steps.len(), steps.len(), steps.len())
    );
    let order: Vec<(bool, u64)> = refit.iter().copied().zip(steps.iter().copied()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "steps increase, the refit last: {h}");
    assert_eq!(order[0], (false, 1));
    assert_eq!(order.last(), Some(&(true, r["refit_steps"].as_u64().unwrap())), "{h}");
    let fit_steps = refit.iter().filter(|&&r| !r).count() as u64;
    assert_eq!(fit_steps, r["steps_run"].as_u64().unwrap(), "60 steps are all kept");
    assert!(column("train_loss").iter().all(Value::is_number), "{h}");
    assert!(column("val_loss").iter().any(Value::is_number), "validation checks: {h}");
}

/// The test window as scored and the end of the series, ending with its last close.
fn assert_chart(r: &Value, horizon: usize, last_close: f64) {
    let chart = &r["chart"];
    let test = &chart["test"];
    assert_eq!(test["forecaster"], r["served_by"], "{chart}");
    for column in ["time", "forecast", "actual"] {
        let values = test[column].as_array().unwrap_or_else(|| panic!("{column}: {chart}"));
        assert_eq!(values.len(), horizon, "{column}: {chart}");
    }
    assert!(test["forecast"].as_array().unwrap().iter().all(Value::is_number), "{chart}");
    let (times, values) = (&chart["history"]["time"], &chart["history"]["value"]);
    let values = values.as_array().unwrap();
    assert!(!values.is_empty() && values.len() == times.as_array().unwrap().len(), "{chart}");
    assert!((values.last().unwrap().as_f64().unwrap() - last_close).abs() < 1e-9, "{chart}");
    let last_bar = r["data_range"]["to"].as_str().unwrap();
    assert_eq!(times.as_array().unwrap().last().unwrap(), &json!(format!("{last_bar}T00:00:00Z")));
    // The whole test region is shown, so the window's bars are among the history's.
    let at = times.as_array().unwrap().iter().position(|t| *t == test["time"][0]).unwrap();
    let after = test["bars_after"].as_u64().unwrap() as usize;
    assert_eq!(at, values.len() - after - horizon, "{chart}");
    for k in 0..horizon {
        assert_eq!(test["actual"][k], values[at + k], "{chart}");
    }
}

#[tokio::test]
async fn a_training_job_is_cancelled_between_steps() {
    let stack = stack().await;
    let job = stack.submit(&small_training("GOOG", 10_000)).await;
    let id = job["id"].as_str().unwrap();
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let job = stack.job(id).await;
        if job["progress"]["stage"] == "training"
            && job["progress"]["detail"]["step"].as_u64().unwrap_or(0) > 0
        {
            // The curve so far travels with the progress.
            let history = &job["progress"]["detail"]["history"];
            assert!(!history["step"].as_array().unwrap().is_empty(), "{history}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "training never started: {job}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = stack.client.post(format!("{}/jobs/{id}/cancel", stack.base)).send().await.unwrap();
    assert_eq!(r.status(), 202);
    let (done, _) = stack.wait_final(id, LIMIT).await;
    assert_eq!(done["status"], "cancelled", "{done}");
    assert!(!stack.result_dir(id).join("model.safetensors").exists());
}

#[tokio::test]
async fn too_little_data_for_the_windows_is_a_permanent_error() {
    let stack = stack().await;
    let body = json!({"kind": "training", "input": {"symbol": "GOOG", "model": "nhits", "horizon": 100, "input_size": 500}});
    let job = stack.submit(&body).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["attempts"], 1);
    assert!(done["error"].as_str().unwrap().contains("too few bars"), "{done}");
}
