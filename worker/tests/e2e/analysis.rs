//! The analysis pipelines through the whole system.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{journal, market, stack};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_market_analysis_goes_from_queued_to_succeeded_with_a_decision_and_files() {
    let stack = stack().await;
    let job = stack.submit(&market("GOOG", "2010-06-01")).await;
    let id = job["id"].as_str().unwrap();
    assert_eq!(job["status"], "queued");

    let (done, seen) = stack.wait_final(id, LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 1);
    let statuses: Vec<&str> = seen.iter().map(|(s, _)| s.as_str()).collect();
    assert!(statuses.contains(&"running"), "went through running: {seen:?}");
    assert_eq!(done["progress"]["percent"], 100.0);

    let result = &done["result"];
    assert!(["BUY", "SELL", "HOLD"].contains(&result["decision"].as_str().unwrap()), "{result}");
    let confidence = result["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
    assert!(!result["rationale"].as_str().unwrap().is_empty());
    assert!(result["risks"].as_array().unwrap().iter().all(Value::is_string));
    for indicator in [
        "sma_20",
        "sma_50",
        "sma_200",
        "ema_12",
        "ema_26",
        "macd",
        "rsi_14",
        "bollinger_upper",
        "atr_14",
        "return_20",
        "volatility_20",
    ] {
        assert!(result["indicators"][indicator].is_number(), "{indicator} in {result}");
    }
    assert_eq!(result["date"], "2010-06-01");

    let dir = stack.result_dir(id);
    let stored: Value =
        serde_json::from_slice(&std::fs::read(dir.join("result.json")).unwrap()).unwrap();
    assert_eq!(&stored, result);
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.starts_with("# GOOG"), "{report}");
    assert!(report.contains("## Risks"));
    assert_eq!(done["artifacts"], serde_json::json!(["result.json", "report.md"]));

    // Four structured calls, streamed, each well-formed for reproducible, schema-constrained output.
    let chats = stack.ollama.chat_requests();
    assert_eq!(chats.len(), 4);
    for chat in &chats {
        assert_eq!(chat["stream"], true);
        assert_eq!(chat["think"], false);
        assert_eq!(chat["options"]["temperature"], 0.0);
        assert_eq!(chat["options"]["seed"], 42);
        assert_eq!(chat["options"]["num_ctx"], 8192);
        assert_eq!(chat["format"]["type"], "object");
    }
}

#[tokio::test]
async fn progress_moves_through_every_pipeline_stage() {
    let stack = stack().await;
    // Slow replies make each stage visible to a poller.
    stack.ollama.set_chat_delay(Duration::from_millis(400));
    let job = stack.submit(&market("GOOG", "2010-06-01")).await;
    let (done, seen) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded");
    let stages: Vec<&str> = seen.iter().map(|(_, stage)| stage.as_str()).collect();
    for stage in ["analyst_report", "debate", "decision", "done"] {
        assert!(stages.contains(&stage), "stage {stage} in {stages:?}");
    }
}

#[tokio::test]
async fn no_bar_after_the_analysis_date_reaches_the_model() {
    let stack = stack().await;
    let job = stack.submit(&market("GOOG", "2010-06-01")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded");
    assert!(done["result"]["as_of"].as_str().unwrap() <= "2010-06-01");
    let cutoff = chrono::NaiveDate::from_ymd_opt(2010, 6, 1).unwrap();
    for chat in stack.ollama.chat_requests() {
        let text = chat["messages"].to_string();
        for day in 1..400 {
            let later = (cutoff + chrono::Days::new(day)).to_string();
            assert!(!text.contains(&later), "the prompt mentions {later}, after the analysis date");
        }
    }
}

#[tokio::test]
async fn a_journal_entry_is_reviewed() {
    let stack = stack().await;
    let job = stack.submit(&journal("I overtraded today and broke my rules after a loss.")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let result = &done["result"];
    for list in ["emotions", "rules_broken", "biases"] {
        assert!(result[list].as_array().unwrap().iter().all(Value::is_string), "{list}: {result}");
    }
    assert!(result["advice"].is_string());
    let chat = &stack.ollama.chat_requests()[0];
    assert!(chat["messages"].to_string().contains("gold scalping challenge"));
    assert!(stack.result_dir(done["id"].as_str().unwrap()).join("report.md").exists());
}

#[tokio::test]
async fn a_symbol_without_data_fails_with_a_message_naming_it() {
    let stack = stack().await;
    let job = stack.submit(&market("NVDA", "2024-05-10")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["attempts"], 1, "a permanent error is not retried");
    assert!(done["error"].as_str().unwrap().contains("no market data for NVDA"), "{done}");
}

#[tokio::test]
async fn a_date_before_the_data_fails_clearly() {
    let stack = stack().await;
    let job = stack.submit(&market("GOOG", "2001-01-01")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "failed");
    assert!(done["error"].as_str().unwrap().contains("the data starts at 2009-01-02"), "{done}");
}

#[tokio::test]
async fn real_goog_data_is_analysed_when_available() {
    let Some(dir) = testkit::data::shared_data_or_skip("real_goog_data_is_analysed_when_available")
    else {
        return;
    };
    let stack = stack().await;
    std::fs::copy(dir.join("GOOG.csv"), stack.data.path().join("REAL.csv")).unwrap();
    let body = serde_json::json!({"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-06-01",
        "data": {"source": "csv", "path": "REAL.csv"}}});
    let job = stack.submit(&body).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["as_of"], "2010-06-01");
    assert!(done["result"]["bars_used"].as_u64().unwrap() > 1000);
}

#[tokio::test]
async fn an_intraday_analysis_of_real_eurusd_hours_uses_bars_up_to_that_hour_only() {
    let test = "an_intraday_analysis_of_real_eurusd_hours_uses_bars_up_to_that_hour_only";
    let Some(dir) = testkit::data::shared_data_or_skip(test) else { return };
    if !dir.join("EURUSD.csv").is_file() {
        eprintln!("SKIPPED {test}: ../shared/data has no EURUSD.csv");
        return;
    }
    let stack = stack().await;
    std::fs::copy(dir.join("EURUSD.csv"), stack.data.path().join("EURUSD_H1.csv")).unwrap();
    // 16:00 at UTC+2 is 14:00 UTC; the file's hours are UTC.
    let body = serde_json::json!({"kind": "analysis", "input": {"task": "market", "symbol": "EURUSD",
        "date": "2017-06-14T16:00:00+02:00", "data": {"source": "csv", "path": "EURUSD_H1.csv"}}});
    let job = stack.submit(&body).await;
    assert_eq!(job["input"]["date"], "2017-06-14T14:00:00Z", "stored in UTC: {job}");
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let result = &done["result"];
    assert_eq!(result["date"], "2017-06-14T14:00:00Z");
    assert_eq!(result["as_of"], "2017-06-14T14:00:00");
    // Bars from 2017-04-19 09:00 to 2017-06-14 14:00; the same day as a date would keep 975.
    assert_eq!(result["bars_used"], 966);
    assert_eq!(result["indicators"]["close"], 1.12793);
    let chats = stack.ollama.chat_requests();
    assert!(!chats.is_empty());
    for chat in chats {
        let text = chat["messages"].to_string();
        assert!(text.contains("Analysis date: 2017-06-14T14:00:00Z"), "{text}");
        assert!(text.contains("2017-06-14T14:00:00 O"), "the last bar is shown: {text}");
        for later in ["2017-06-14T15:00", "2017-06-14T23:00", "2017-06-15"] {
            assert!(!text.contains(later), "the prompt mentions {later}, after the instant");
        }
    }
}

#[tokio::test]
async fn an_instant_during_the_first_day_of_daily_data_fails_naming_it() {
    // The daily bar of 2009-01-02 (the first) closes that evening: unknown at noon.
    let stack = stack().await;
    let job = stack.submit(&market("GOOG", "2009-01-02T12:00:00Z")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(
        error.contains(
            "no bars for GOOG at or before 2009-01-02T12:00:00Z: the data starts at 2009-01-02"
        ),
        "{done}"
    );
}

#[tokio::test]
async fn events_stream_progress_until_the_job_is_final() {
    let stack = stack().await;
    stack.ollama.set_chat_delay(Duration::from_millis(200));
    let job = stack.submit(&journal("FOMO entry at the top.")).await;
    let id = job["id"].as_str().unwrap();
    let body = stack.client.get(format!("{}/jobs/{id}/events", stack.base)).send().await.unwrap();
    assert_eq!(body.headers()["content-type"], "text/event-stream");
    let text = tokio::time::timeout(LIMIT, body.text())
        .await
        .expect("the stream ends when the job is final")
        .unwrap();
    let updates: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(updates.len() >= 2, "{text}");
    assert_eq!(updates.last().unwrap()["status"], "succeeded");
    let artifacts: Value = stack
        .client
        .get(format!("{}/jobs/{id}/artifacts", stack.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> =
        artifacts.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["report.md", "result.json"]);
    let report = stack
        .client
        .get(format!("{}/jobs/{id}/artifacts/report.md", stack.base))
        .send()
        .await
        .unwrap();
    assert_eq!(report.headers()["content-type"], "text/markdown; charset=utf-8");
}
