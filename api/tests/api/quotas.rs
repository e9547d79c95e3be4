//! Per-key quotas: 429 with Retry-After and RateLimit-* past each, holding across replicas.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::spawn_api;

fn journal(text: &str) -> Value {
    json!({"kind": "analysis", "input": {"task": "journal", "text": text}})
}

fn training(max_steps: u32) -> Value {
    json!({"kind": "training", "input": {"symbol": "GOOG", "model": "nhits", "horizon": 5,
        "max_steps": max_steps}})
}

async fn post(client: &reqwest::Client, base: &str, body: &Value) -> reqwest::Response {
    client.post(format!("{base}/jobs")).json(body).send().await.unwrap()
}

#[tokio::test]
async fn submissions_per_minute_are_a_bucket_shared_by_every_replica() {
    let api = spawn_api().await;
    let (replica, _stop) = api.replica().await;
    let token = api
        .key("alice", "submit", json!({"submissions_per_minute": 4, "max_active_jobs": null}))
        .await;
    let alice = testkit::bearer_client(&token);
    let mut accepted = Vec::new();
    for (i, base) in [&api.base, &replica, &api.base, &replica].into_iter().enumerate() {
        let response = post(&alice, base, &journal(&format!("{i}"))).await;
        assert_eq!(response.status(), 202, "submission {i}");
        accepted.push(response.headers()["ratelimit-remaining"].to_str().unwrap().to_owned());
    }
    assert_eq!(accepted, ["3", "2", "1", "0"]);
    for base in [&api.base, &replica] {
        let refused = post(&alice, base, &journal("one too many")).await;
        assert_eq!(refused.status(), 429);
        let headers = refused.headers().clone();
        let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=15).contains(&retry), "a token every 15 s: {retry}");
        assert_eq!(headers["ratelimit-limit"], "4");
        assert_eq!(headers["ratelimit-remaining"], "0");
        assert_eq!(headers["ratelimit-policy"], "4;w=60");
        let problem: Value = refused.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains("4 jobs per minute"), "{problem}");
    }
    // Another key has its own bucket.
    let bob = api.client_for("bob", "submit").await;
    assert_eq!(post(&bob, &api.base, &journal("bob")).await.status(), 202);
}

#[tokio::test]
async fn active_jobs_are_capped_per_owner_across_replicas_even_when_submitted_at_once() {
    let api = spawn_api().await;
    let (replica, _stop) = api.replica().await;
    let quotas = json!({"submissions_per_minute": null, "max_active_jobs": 5});
    let alice = testkit::bearer_client(&api.key("alice", "submit,read", quotas.clone()).await);
    // A second key of the same owner draws from the same allowance.
    let alice2 = testkit::bearer_client(&api.key("alice", "submit", quotas).await);
    let sends = (0..24).map(|i| {
        let (client, base) = match i % 4 {
            0 => (&alice, &api.base),
            1 => (&alice, &replica),
            2 => (&alice2, &api.base),
            _ => (&alice2, &replica),
        };
        let body = journal(&format!("{i}"));
        async move { post(client, base, &body).await }
    });
    let responses = join_all(sends).await;
    let accepted = responses.iter().filter(|r| r.status() == 202).count();
    assert_eq!(accepted, 5, "{:?}", responses.iter().map(|r| r.status()).collect::<Vec<_>>());
    let refused = responses.into_iter().find(|r| r.status() == 429).unwrap();
    assert_eq!(refused.headers()["retry-after"], "10");
    assert_eq!(refused.headers()["ratelimit-limit"], "5");
    let problem: Value = refused.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("5 jobs queued or running"), "{problem}");

    // A finished job frees its place.
    let page: Value =
        alice.get(format!("{}/jobs", api.base)).send().await.unwrap().json().await.unwrap();
    let id = page["jobs"][0]["id"].as_str().unwrap();
    let cancelled = alice.post(format!("{}/jobs/{id}/cancel", api.base)).send().await.unwrap();
    assert_eq!(cancelled.status(), 200);
    assert_eq!(post(&alice, &api.base, &journal("next")).await.status(), 202);
    assert_eq!(post(&alice, &api.base, &journal("over")).await.status(), 429);
    // Other owners are not affected.
    let bob = api.client_for("bob", "submit").await;
    assert_eq!(post(&bob, &api.base, &journal("bob")).await.status(), 202);
}

#[tokio::test]
async fn an_idempotent_repeat_gets_its_job_even_over_the_quota() {
    let api = spawn_api().await;
    let alice = testkit::bearer_client(
        &api.key("alice", "submit", json!({"max_active_jobs": 1, "submissions_per_minute": null}))
            .await,
    );
    let send = |key: &'static str| {
        alice
            .post(format!("{}/jobs", api.base))
            .header("idempotency-key", key)
            .json(&journal("same"))
            .send()
    };
    assert_eq!(send("a").await.unwrap().status(), 202);
    assert_eq!(send("a").await.unwrap().status(), 200, "the repeat names the first job");
    assert_eq!(send("b").await.unwrap().status(), 429, "a new job is over the quota");
}

#[tokio::test]
async fn training_compute_per_day_is_counted_and_refused_past_the_budget() {
    let api = spawn_api().await;
    // Find one job's cost, then allow two and a half of them.
    let probe = api.submit(&training(100)).await;
    let flops: f64 = sqlx::query_scalar("SELECT training_flops FROM jobs WHERE id = $1::uuid")
        .bind(probe["id"].as_str().unwrap())
        .fetch_one(&api.state.pool)
        .await
        .unwrap();
    assert!(flops > 0.0);
    let quotas = json!({"training_flops_per_day": flops * 2.5, "max_active_jobs": null,
                        "submissions_per_minute": null});
    let alice = testkit::bearer_client(&api.key("alice", "submit", quotas).await);
    assert_eq!(post(&alice, &api.base, &training(100)).await.status(), 202);
    assert_eq!(post(&alice, &api.base, &training(100)).await.status(), 202);
    let refused = post(&alice, &api.base, &training(100)).await;
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(
        (86_000..=86_400).contains(&retry),
        "the oldest job leaves the window in a day: {retry}"
    );
    let problem: Value = refused.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("training_flops_per_day"), "{problem}");
    // Analyses are not training compute.
    assert_eq!(post(&alice, &api.base, &journal("fine")).await.status(), 202);
    // One job larger than the whole day's budget can never run: 422, not 429.
    let huge = post(&alice, &api.base, &training(300)).await;
    assert_eq!(huge.status(), 422);
}

#[tokio::test]
async fn a_retry_counts_against_the_active_jobs_quota() {
    let api = spawn_api().await;
    let quotas = json!({"max_active_jobs": 1, "submissions_per_minute": null});
    let alice = testkit::bearer_client(&api.key("alice", "submit,read", quotas).await);
    let first: Value = post(&alice, &api.base, &journal("1")).await.json().await.unwrap();
    let first = first["id"].as_str().unwrap();
    let cancel = |id: String| alice.post(format!("{}/jobs/{id}/cancel", api.base)).send();
    assert_eq!(cancel(first.to_owned()).await.unwrap().status(), 200);
    let second: Value = post(&alice, &api.base, &journal("2")).await.json().await.unwrap();
    let second = second["id"].as_str().unwrap();
    let retry = |id: &str| alice.post(format!("{}/jobs/{id}/retry", api.base)).send();
    let refused = retry(first).await.unwrap();
    assert_eq!(refused.status(), 429, "the retried job would be a second active one");
    assert_eq!(refused.headers()["retry-after"], "10");
    let still_queued = retry(second).await.unwrap();
    assert_eq!(still_queued.status(), 409, "not failed or cancelled: 409 whatever the quota");
    assert_eq!(cancel(second.to_owned()).await.unwrap().status(), 200);
    assert_eq!(retry(first).await.unwrap().status(), 202);
}
