//! `GET /overview`: the caller's job counts and the state of Postgres, Redis and Ollama.

use serde_json::{Value, json};
use testkit::ollama_double::OllamaDouble;

use crate::helpers::{TestApi, spawn_api, spawn_api_with};

fn journal(text: &str) -> Value {
    json!({"kind": "analysis", "input": {"task": "journal", "text": text}})
}

async fn overview(api: &TestApi, client: &reqwest::Client) -> Value {
    let response = client.get(format!("{}/overview", api.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn counts_every_kind_and_status_of_the_jobs_the_key_may_see() {
    let api = spawn_api().await;
    let zeros = json!({"queued": 0, "running": 0, "succeeded": 0, "failed": 0, "cancelled": 0});
    let empty = overview(&api, &api.client).await;
    assert_eq!(empty["counts"], json!({"analysis": zeros, "training": zeros}), "{empty}");

    let first = api.submit(&journal("a")).await;
    api.submit(&journal("b")).await;
    let cancel = api.post(&format!("/jobs/{}/cancel", first["id"].as_str().unwrap())).await;
    assert_eq!(cancel.status(), 200);
    let alice = api.client_for("alice", "submit,read").await;
    api.submit_as(&alice, &journal("c")).await;

    let all = overview(&api, &api.client).await;
    assert_eq!(all["counts"]["analysis"]["queued"], 2, "{all}");
    assert_eq!(all["counts"]["analysis"]["cancelled"], 1, "{all}");
    assert_eq!(all["counts"]["training"], zeros, "{all}");
    let hers = overview(&api, &alice).await;
    assert_eq!(hers["counts"]["analysis"]["queued"], 1, "only her owner's jobs: {hers}");
    assert_eq!(hers["counts"]["analysis"]["cancelled"], 0, "{hers}");

    let deps = &all["dependencies"];
    assert_eq!(deps["postgres"], json!({"status": "ok"}), "{deps}");
    assert_eq!(deps["redis"], json!({"status": "ok"}), "{deps}");
    assert_eq!(deps["ollama"], json!({"status": "not_configured"}), "no OLLAMA_URL: {deps}");
}

#[tokio::test]
async fn ollama_is_probed_at_its_version_endpoint() {
    let double = OllamaDouble::start().await;
    let url = double.url().parse().unwrap();
    let api = spawn_api_with(|c| c.ollama_url = Some(url)).await;
    let ollama = &overview(&api, &api.client).await["dependencies"]["ollama"];
    assert_eq!(ollama["status"], "ok", "{ollama}");
    assert!(ollama["detail"].as_str().unwrap().starts_with("version "), "{ollama}");
}

#[tokio::test]
async fn an_ollama_that_does_not_answer_is_unreachable_and_its_password_not_shown() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://admin:s3cret@{closed}").parse().unwrap();
    let api = spawn_api_with(|c| c.ollama_url = Some(url)).await;
    let body = overview(&api, &api.client).await;
    let ollama = &body["dependencies"]["ollama"];
    assert_eq!(ollama["status"], "unreachable", "{ollama}");
    let detail = ollama["detail"].as_str().unwrap();
    assert!(!detail.is_empty() && !detail.contains("s3cret"), "{detail}");
    assert!(!detail.contains(&closed.to_string()), "no URL in the detail: {detail}");
    assert_eq!(body["dependencies"]["postgres"]["status"], "ok");
}

#[tokio::test]
async fn with_postgres_unreachable_the_overview_still_answers_without_counts() {
    let api = spawn_api_with(|c| c.auth.mode = api::auth::AuthMode::Disabled).await;
    // Closed at once; not awaited, which would wait for the listener's connection forever.
    drop(api.state.pool.close());
    let body = overview(&api, &reqwest::Client::new()).await;
    assert_eq!(body["counts"], Value::Null, "{body}");
    assert_eq!(body["dependencies"]["postgres"]["status"], "unreachable", "{body}");
    assert!(body["dependencies"]["postgres"]["detail"].is_string(), "{body}");
    assert_eq!(body["dependencies"]["redis"]["status"], "ok", "{body}");
}
