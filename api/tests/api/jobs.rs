//! Submitting, reading, listing, cancelling and retrying jobs (no worker running).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{market, spawn_api};

#[tokio::test]
async fn a_submitted_job_is_accepted_durable_and_queued() {
    let api = spawn_api().await;
    let r = api.post_job(&market("GOOG", "2010-06-01")).await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let job: Value = r.json().await.unwrap();
    assert_eq!(location, format!("/jobs/{}", job["id"].as_str().unwrap()));
    assert_eq!(job["status"], "queued");
    assert_eq!(job["kind"], "analysis");
    assert_eq!(job["attempts"], 0);
    assert_eq!(job["input"], json!({"task": "market", "symbol": "GOOG", "date": "2010-06-01"}));

    let read: Value = api.get(&location).await.json().await.unwrap();
    assert_eq!(read["id"], job["id"]);
    assert_eq!(read["input"], job["input"]);
    assert_eq!(read["progress"]["stage"], "queued");

    // Its message reaches Redis carrying only the job id.
    let id: Uuid = job["id"].as_str().unwrap().parse().unwrap();
    let mut pushed = false;
    for _ in 0..50 {
        let task: Option<String> = sqlx::query_scalar(
            "SELECT queue_task_id FROM jobs WHERE id = $1 AND enqueued_at IS NOT NULL",
        )
        .bind(id)
        .fetch_one(&api.state.pool)
        .await
        .unwrap();
        if let Some(task) = task {
            let pending =
                api.state.producer.pending(shared::job::JobKind::Analysis, &[task]).await.unwrap();
            pushed = pending[0];
            if pushed {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(pushed, "the job's message is in Redis");
}

#[tokio::test]
async fn the_short_form_is_stored_as_the_same_analysis_job() {
    let api = spawn_api().await;
    let long = api.submit(&market("GOOG", "2010-06-01")).await;
    let short = api.submit(&json!({"ticker": "GOOG", "date": "2010-06-01"})).await;
    let short_input = api
        .submit(&json!({"kind": "analysis", "input": {"ticker": "GOOG", "date": "2010-06-01"}}))
        .await;
    assert_eq!(short["input"], long["input"]);
    assert_eq!(short_input["input"], long["input"]);
    assert_eq!(short["kind"], "analysis");
}

#[tokio::test]
async fn an_idempotency_key_returns_the_same_job_for_the_same_body() {
    let api = spawn_api().await;
    let send = |body: Value| {
        api.client
            .post(format!("{}/jobs", api.base))
            .header("Idempotency-Key", "order-42")
            .json(&body)
            .send()
    };
    let first = send(market("GOOG", "2010-06-01")).await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again = send(market("GOOG", "2010-06-01")).await.unwrap();
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);

    let different = send(market("GOOG", "2010-06-02")).await.unwrap();
    crate::helpers::assert_problem(different, 422, "Idempotency-Key").await;
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM jobs").fetch_one(&api.state.pool).await.unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn concurrent_requests_with_one_idempotency_key_create_one_job() {
    let api = spawn_api().await;
    let requests = (0..8).map(|_| {
        api.client
            .post(format!("{}/jobs", api.base))
            .header("Idempotency-Key", "same")
            .json(&market("GOOG", "2010-06-01"))
            .send()
    });
    let responses = futures::future::join_all(requests).await;
    let mut ids = std::collections::HashSet::new();
    for r in responses {
        let r = r.unwrap();
        assert!(r.status() == 200 || r.status() == 202, "{}", r.status());
        ids.insert(r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn listing_is_newest_first_filtered_and_paginated() {
    let api = spawn_api().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(api.submit(&market("GOOG", &format!("2010-06-0{}", i + 1))).await["id"].clone());
    }
    api.submit(&json!({"kind": "analysis", "input": {"task": "journal", "text": "calm day"}}))
        .await;
    api.submit(&market("NVDA", "2024-05-10")).await;

    let page: Value = api
        .get("/jobs?symbol=GOOG&kind=analysis&status=queued&limit=2")
        .await
        .json()
        .await
        .unwrap();
    let got: Vec<_> = page["jobs"].as_array().unwrap().iter().map(|j| j["id"].clone()).collect();
    assert_eq!(got, vec![ids[4].clone(), ids[3].clone()]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let page: Value =
        api.get(&format!("/jobs?symbol=GOOG&limit=2&cursor={cursor}")).await.json().await.unwrap();
    let got: Vec<_> = page["jobs"].as_array().unwrap().iter().map(|j| j["id"].clone()).collect();
    assert_eq!(got, vec![ids[2].clone(), ids[1].clone()]);
    let last: Value = api
        .get(&format!("/jobs?symbol=GOOG&limit=2&cursor={}", page["next_cursor"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(last["jobs"].as_array().unwrap().len(), 1);
    assert!(last.get("next_cursor").is_none(), "no cursor on the last page");

    let all: Value = api.get("/jobs").await.json().await.unwrap();
    assert_eq!(all["jobs"].as_array().unwrap().len(), 7);
    let none: Value = api.get("/jobs?status=succeeded").await.json().await.unwrap();
    assert!(none["jobs"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_queued_job_is_cancelled_at_once_and_stays_cancelled() {
    let api = spawn_api().await;
    let job = api.submit(&market("GOOG", "2010-06-01")).await;
    let id = job["id"].as_str().unwrap();
    let r = api.post(&format!("/jobs/{id}/cancel")).await;
    assert_eq!(r.status(), 200);
    let cancelled: Value = r.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["finished_at"].is_string());
    // A worker's claim can no longer take it.
    let claimed = shared::db::claims::claim(
        &api.state.pool,
        id.parse().unwrap(),
        "w",
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert!(claimed.is_none());
    // Cancelling again is harmless; retrying puts it back in the queue.
    assert_eq!(api.post(&format!("/jobs/{id}/cancel")).await.status(), 200);
    let r = api.post(&format!("/jobs/{id}/retry")).await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "queued");
    assert_eq!(
        api.post(&format!("/jobs/{id}/retry")).await.status(),
        409,
        "a queued job is not retried"
    );
}

#[tokio::test]
async fn a_running_job_gets_a_cancel_request() {
    let api = spawn_api().await;
    let job = api.submit(&market("GOOG", "2010-06-01")).await;
    let id: Uuid = job["id"].as_str().unwrap().parse().unwrap();
    let (_, token) =
        shared::db::claims::claim(&api.state.pool, id, "w", std::time::Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
    let r = api.post(&format!("/jobs/{id}/cancel")).await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["cancel_requested"].as_bool()),
        (Some("running"), Some(true))
    );
    let lease = shared::db::claims::renew(
        &api.state.pool,
        &token,
        std::time::Duration::from_secs(30),
        None,
    )
    .await
    .unwrap();
    assert_eq!(lease, shared::db::claims::LeaseState::Held { cancel_requested: true });
}

#[tokio::test]
async fn a_finished_job_cannot_be_cancelled() {
    let api = spawn_api().await;
    let job = api.submit(&market("GOOG", "2010-06-01")).await;
    let id: Uuid = job["id"].as_str().unwrap().parse().unwrap();
    let (_, token) =
        shared::db::claims::claim(&api.state.pool, id, "w", std::time::Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
    let outcome = shared::db::claims::Outcome::Succeeded {
        result: json!({"decision": "HOLD"}),
        artifacts: vec![],
    };
    assert!(shared::db::claims::finish(&api.state.pool, &token, &outcome).await.unwrap());
    let r = api.post(&format!("/jobs/{id}/cancel")).await;
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn a_list_shows_input_summaries_and_a_job_its_whole_input() {
    let api = spawn_api().await;
    let bars: Vec<Value> = (0..2000)
        .map(|i| {
            let day = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(i);
            json!({"time": day.to_string(), "open": 10, "high": 11, "low": 9, "close": 10.5})
        })
        .collect();
    let training = json!({"kind": "training", "input": {"symbol": "SYN", "model": "nhits",
        "horizon": 5, "max_steps": 10, "data": {"source": "inline", "bars": bars}}});
    let big = api.submit(&training).await;
    let small = api
        .submit(&json!({"kind": "analysis", "input": {"task": "journal", "text": "short"}}))
        .await;

    let page: Value = api.get("/jobs").await.json().await.unwrap();
    let listed = page["jobs"].as_array().unwrap();
    let (newest, oldest) = (&listed[0], &listed[1]);
    assert_eq!(newest["id"], small["id"]);
    assert_eq!(newest["input_summarized"], false);
    assert_eq!(newest["input"], json!({"task": "journal", "text": "short"}));
    assert_eq!(oldest["input_summarized"], true);
    assert_eq!(
        oldest["input"]["data"],
        json!({"source": "inline", "bar_count": 2000, "from": "2000-01-01", "to": "2005-06-22"})
    );
    assert_eq!(oldest["url"], format!("/jobs/{}", big["id"].as_str().unwrap()));
    assert!(oldest.get("result").is_none(), "results are not listed");

    let whole: Value = api.get(oldest["url"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(whole["input"]["data"]["bars"].as_array().unwrap().len(), 2000);
}
