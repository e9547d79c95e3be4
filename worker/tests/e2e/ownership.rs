//! Models belong to their owners: one user's training cannot steer another user's analyses
//! (the reproduction from the access-control issue), unless an admin shares the model.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Stack, market, stack};

const LIMIT: Duration = Duration::from_secs(120);

async fn client(stack: &Stack, owner: &str) -> reqwest::Client {
    let token = api::auth::store::issue(&stack.api_state.pool, owner, "submit,read", json!({}))
        .await
        .unwrap();
    testkit::bearer_client(&token)
}

async fn post(client: &reqwest::Client, stack: &Stack, body: &Value) -> reqwest::Response {
    client.post(format!("{}/jobs", stack.base)).json(body).send().await.unwrap()
}

async fn run(client: &reqwest::Client, stack: &Stack, body: &Value) -> Value {
    let response = post(client, stack, body).await;
    assert_eq!(response.status(), 202, "{body}");
    let job: Value = response.json().await.unwrap();
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    done
}

#[tokio::test]
async fn a_model_trained_by_one_owner_never_reaches_another_owners_analysis_unless_shared() {
    let stack = stack().await;
    let (mallory, alice) = (client(&stack, "mallory").await, client(&stack, "alice").await);
    // Made-up bars: a straight line, nothing like GOOG.
    let bars: Vec<Value> = (0..200u64)
        .map(|i| {
            let day = chrono::NaiveDate::from_ymd_opt(2005, 1, 3).unwrap() + chrono::Days::new(i);
            let p = 1000.0 + i as f64;
            json!({"time": day.to_string(), "open": p, "high": p + 1.0, "low": p - 1.0, "close": p})
        })
        .collect();
    let poisoned = json!({"kind": "training", "input": {"symbol": "GOOG", "model": "nhits",
        "horizon": 5, "input_size": 20, "max_steps": 30, "mlp_width": 32, "windows_batch_size": 64,
        "recipe": "faithful", "data": {"source": "inline", "bars": bars}}});
    let model = run(&mallory, &stack, &poisoned).await;
    let model_id = model["id"].as_str().unwrap();

    let analysis = market("GOOG", "2012-01-02");
    let alices = run(&alice, &stack, &analysis).await;
    assert!(alices["result"]["forecast"].is_null(), "{}", alices["result"]["forecast"]);
    let mallorys = run(&mallory, &stack, &analysis).await;
    assert_eq!(mallorys["result"]["forecast"]["model_job"], model_id, "her own model she gets");
    assert_eq!(mallorys["result"]["forecast"]["model_owner"], "mallory");

    // Naming it does not help either: Alice may not use it.
    let mut explicit = analysis.clone();
    explicit["input"]["forecast_model"] = json!(model_id);
    let refused = post(&alice, &stack, &explicit).await;
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["field"], "input.forecast_model", "{problem}");

    // An admin shares it: now Alice's analyses may use it, and say so.
    let shared = stack
        .client
        .put(format!("{}/jobs/{model_id}/shared", stack.base))
        .json(&json!({"shared": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(shared.status(), 200);
    assert_eq!(shared.json::<Value>().await.unwrap()["shared"], true);
    let alices = run(&alice, &stack, &analysis).await;
    let used = &alices["result"]["forecast"];
    assert_eq!(used["model_job"], model_id, "{used}");
    assert_eq!(used["model_shared"], true);
    let named = run(&alice, &stack, &explicit).await;
    assert_eq!(named["result"]["forecast"]["model_job"], model_id);
}
