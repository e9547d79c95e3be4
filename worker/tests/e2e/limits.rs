//! What one job may cost a worker: bounded data, results and files, a training budget, and
//! text from the model that cannot break a write.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{journal, stack, stack_without_workers};

const LIMIT: Duration = Duration::from_secs(60);

fn training(symbol: &str, extra: Value) -> Value {
    let mut input = json!({"symbol": symbol, "model": "nhits", "horizon": 5, "input_size": 20,
        "max_steps": 20, "mlp_width": 32, "windows_batch_size": 64, "seed": 1});
    input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    json!({"kind": "training", "input": input})
}

#[tokio::test]
async fn a_data_file_over_the_limit_fails_at_once_without_being_read() {
    let stack = stack().await;
    // 2 GB and sparse: read, it would take minutes and gigabytes.
    let big = std::fs::File::create(stack.data.path().join("BIG.csv")).unwrap();
    big.set_len(2 << 30).unwrap();
    let body = json!({"kind": "analysis", "input": {"task": "market", "symbol": "BIG",
        "date": "2010-06-01", "data": {"source": "csv", "path": "BIG.csv"}}});
    let started = Instant::now();
    let id = stack.submit(&body).await["id"].as_str().unwrap().to_owned();
    let (done, _) = stack.wait_final(&id, LIMIT).await;
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!((done["status"].as_str(), done["attempts"].as_i64()), (Some("failed"), Some(1)));
    let error = done["error"].as_str().unwrap();
    assert!(error.contains("MAX_DATA_BYTES") && error.contains("2147483648"), "{error}");
}

#[tokio::test]
async fn a_model_too_large_for_the_results_volume_fails_before_training() {
    let mut stack = stack_without_workers().await;
    stack.start_worker_with("small-files", |c| c.max_artifact_bytes = 1 << 20).await;
    let id = stack.submit(&training("GOOG", json!({"mlp_width": 512}))).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (done, seen) = stack.wait_final(&id, LIMIT).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(done["error"].as_str().unwrap().contains("MAX_ARTIFACT_BYTES"), "{done}");
    assert!(!seen.iter().any(|(_, stage)| stage == "training"), "no step was run: {seen:?}");
    let leftovers: Vec<_> = std::fs::read_dir(stack.results.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "nothing left in RESULTS_DIR: {leftovers:?}");
}

#[tokio::test]
async fn a_training_attempt_that_times_out_is_not_retried() {
    let mut stack = stack_without_workers().await;
    stack.start_worker_with("slow", |c| c.training_timeout = Duration::from_secs(1)).await;
    let id =
        stack.submit(&training("GOOG", json!({"max_steps": 10000, "mlp_width": 256}))).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let (done, _) = stack.wait_final(&id, LIMIT).await;
    assert_eq!((done["status"].as_str(), done["attempts"].as_i64()), (Some("failed"), Some(1)));
    let error = done["error"].as_str().unwrap();
    assert!(error.contains("TRAINING_TIMEOUT_S") && error.contains("max_steps"), "{error}");
}

#[tokio::test]
async fn model_output_with_nul_characters_and_extra_fields_is_stored_cleanly() {
    let mut stack = stack_without_workers().await;
    // Room for the 200 KB reply: the token budget would otherwise cut it off.
    stack
        .start_worker_with("roomy", |c| {
            c.llm.num_ctx = 131_072;
            c.llm.token_budgets = "journal=100000".parse().unwrap();
        })
        .await;
    let padding = "p".repeat(200_000);
    stack.ollama.reply_next_chat(
        json!({"emotions": ["fear\u{0}"], "rules_broken": [], "biases": ["<script>x</script>"],
               "advice": "breathe", "padding": padding})
        .to_string(),
    );
    let id = stack.submit(&journal("I moved my stop after a loss.")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (done, _) = stack.wait_final(&id, LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["emotions"], json!(["fear\u{fffd}"]));
    assert!(done["result"].get("padding").is_none());
    let report = std::fs::read_to_string(stack.result_dir(&id).join("report.md")).unwrap();
    assert!(report.contains("\\<script\\>"), "{report}");
}

#[tokio::test]
async fn a_result_over_the_limit_fails_the_job_with_its_size() {
    let mut stack = stack_without_workers().await;
    stack.start_worker_with("tight", |c| c.max_result_bytes = 100).await;
    let id = stack.submit(&journal("I moved my stop after a loss.")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (done, _) = stack.wait_final(&id, LIMIT).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(done["error"].as_str().unwrap().contains("MAX_RESULT_BYTES"), "{done}");
}

#[tokio::test]
async fn credentials_in_ollama_url_never_reach_a_job() {
    let mut stack = stack_without_workers().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    stack
        .start_worker_with("secret", |c| {
            c.llm.url = format!("http://admin:s3cret@{closed}");
            c.common.max_attempts = 1;
        })
        .await;
    let id = stack.submit(&journal("I moved my stop after a loss.")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (done, _) = stack.wait_final(&id, LIMIT).await;
    let error = done["error"].as_str().unwrap();
    assert!(!error.contains("s3cret") && error.contains("admin:***@"), "{error}");
}
