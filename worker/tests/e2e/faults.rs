//! What happens on each fault: duplicates, Ollama failures, cancellation, crashed workers,
//! poison messages, timeouts. Each test states the expected outcome in its name.

use std::time::Duration;

use serde_json::Value;
use shared::{job::JobKind, queue::Producer};
use uuid::Uuid;

use crate::helpers::{journal, market, stack, stack_without_workers};

const LIMIT: Duration = Duration::from_secs(30);

fn id_of(job: &Value) -> Uuid {
    job["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn duplicate_deliveries_of_a_job_produce_one_execution_and_one_result() {
    let mut stack = stack_without_workers().await;
    let job = stack.submit(&journal("Revenge trade after a stop-out.")).await;
    // Three extra messages for the same job, as after a re-push or an orphan re-enqueue.
    let producer = &stack.api_state.producer;
    for _ in 0..3 {
        producer.push(JobKind::Analysis, &[(id_of(&job), Producer::new_task_id())]).await.unwrap();
    }
    stack.start_worker("w1").await;
    stack.start_worker("w2").await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded");
    tokio::time::sleep(Duration::from_millis(500)).await; // let the duplicates be delivered and skipped
    assert_eq!(stack.job(job["id"].as_str().unwrap()).await["attempts"], 1);
    assert_eq!(stack.ollama.chat_calls(), 1, "the pipeline ran once");
}

#[tokio::test]
async fn a_transient_ollama_failure_is_retried_and_succeeds() {
    let stack = stack().await;
    stack.ollama.busy_next_chats(1); // 503 "server busy"
    let job = stack.submit(&journal("Held a loser too long.")).await;
    let (done, seen) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 2);
    assert!(
        seen.iter().any(|(status, stage)| status == "queued" && stage == "retrying")
            || done["attempts"] == 2
    );
}

#[tokio::test]
async fn a_permanent_ollama_error_fails_the_job_at_once_with_ollamas_message() {
    let stack = stack().await;
    stack.ollama.fail_next_chats(1, 400, "invalid options: num_ctx must be positive");
    let job = stack.submit(&journal("Moved my stop.")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["attempts"], 1);
    assert!(
        done["error"].as_str().unwrap().contains("invalid options: num_ctx must be positive"),
        "{done}"
    );
}

#[tokio::test]
async fn an_unknown_model_fails_with_advice_to_pull_it() {
    let stack = stack().await;
    let body = serde_json::json!({"kind": "analysis", "input": {"task": "journal", "text": "x", "model": "nosuchmodel:1b"}});
    let job = stack.submit(&body).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "failed");
    let error = done["error"].as_str().unwrap();
    assert!(error.contains("nosuchmodel:1b") && error.contains("ollama pull"), "{error}");
}

#[tokio::test]
async fn an_unreachable_ollama_is_retried_up_to_max_attempts_then_fails_in_plain_words() {
    let mut stack = stack_without_workers().await;
    stack.start_worker_with("w1", |c| c.llm.url = "http://127.0.0.1:1".into()).await;
    let job = stack.submit(&journal("Sized up after three wins.")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["attempts"], 3);
    let error = done["error"].as_str().unwrap();
    assert!(
        error.starts_with("gave up after 3 attempts") && error.contains("is the server running"),
        "{error}"
    );
}

#[tokio::test]
async fn a_reply_that_breaks_the_schema_is_repaired_within_the_attempt() {
    let stack = stack().await;
    stack.ollama.break_schema_next_chats(1);
    let job = stack.submit(&journal("Chased a breakout.")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 1);
    assert_eq!(stack.ollama.chat_calls(), 2, "one bad reply, one repaired reply");
}

#[tokio::test]
async fn a_looping_model_is_cut_at_the_steps_token_budget_and_fails_saying_so() {
    let mut stack = stack_without_workers().await;
    stack
        .start_worker_with("budget", |c| c.llm.token_budgets = "journal=300".parse().unwrap())
        .await;
    // Each of the three attempts: a looping reply, then a looping brief one.
    stack.ollama.loop_next_chats(6);
    let job = stack.submit(&journal("Chased a breakout.")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!((done["status"].as_str(), done["attempts"].as_i64()), (Some("failed"), Some(3)));
    let error = done["error"].as_str().unwrap();
    assert!(error.contains("kept generating past 300 tokens"), "{error}");
    let calls = stack.ollama.chat_requests();
    assert_eq!(calls.len(), 6, "one brief-answer request after each cut-off reply");
    assert!(calls.iter().all(|c| c["options"]["num_predict"] == 300), "{calls:?}");
    let brief = calls[1]["messages"].as_array().unwrap();
    assert!(
        brief.last().unwrap()["content"].as_str().unwrap().contains("cut off after 300 tokens")
    );
    assert!(brief.iter().all(|m| m["role"] != "assistant"), "the loop is not shown back");
}

#[tokio::test]
async fn every_call_sets_num_predict_from_its_steps_reply_schema() {
    let stack = stack().await;
    let job = stack.submit(&market("GOOG", "2010-06-01")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let budgets: Vec<u64> = stack
        .ollama
        .chat_requests()
        .iter()
        .map(|c| c["options"]["num_predict"].as_u64().expect("num_predict on every call"))
        .collect();
    assert_eq!(budgets.len(), 4, "analyst, bull, bear, decision");
    assert_eq!(budgets[1], budgets[2], "bull and bear share a schema");
    assert!(budgets.iter().all(|b| (400..=900).contains(b)), "{budgets:?}");
}

#[tokio::test]
async fn a_running_job_is_cancelled_at_its_next_step() {
    let stack = stack().await;
    stack.ollama.set_chat_delay(Duration::from_millis(700));
    let job = stack.submit(&market("GOOG", "2010-06-01")).await;
    let id = job["id"].as_str().unwrap();
    stack.wait_status(id, "running", LIMIT).await;
    let r = stack.client.post(format!("{}/jobs/{id}/cancel", stack.base)).send().await.unwrap();
    assert_eq!(r.status(), 202);
    let (done, _) = stack.wait_final(id, LIMIT).await;
    assert_eq!(done["status"], "cancelled", "{done}");
    assert!(stack.ollama.chat_calls() < 4, "the pipeline stopped before its last step");
    assert!(done.get("result").is_none());
}

#[tokio::test]
async fn a_job_whose_worker_died_is_rerun_by_another_after_its_lease_expires() {
    let mut stack = stack_without_workers().await;
    let job = stack.submit(&journal("Doubled down.")).await;
    let id = id_of(&job);
    // A worker claims it and dies without a trace: no renewals, no result.
    let claimed =
        shared::db::claims::claim(&stack.api_state.pool, id, "dead-worker", Duration::from_secs(2))
            .await
            .unwrap();
    assert!(claimed.is_some());
    stack.start_worker("survivor").await;
    let (done, _) = stack.wait_final(&id.to_string(), LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 2, "the dead worker's attempt counts");
}

#[tokio::test]
async fn poison_messages_are_dropped_and_the_worker_keeps_working() {
    let stack = stack().await;
    let producer = &stack.api_state.producer;
    let config = producer.config(JobKind::Analysis).clone();
    let mut conn = producer.connection();
    let garbage =
        apalis_core::task::builder::TaskBuilder::new(b"\x00not json at all".to_vec()).build();
    apalis_redis::queries::push_tasks(&mut conn, &config, &[garbage]).await.unwrap();
    // A well-formed message for a job that does not exist.
    producer.push(JobKind::Analysis, &[(Uuid::now_v7(), Producer::new_task_id())]).await.unwrap();
    let job = stack.submit(&journal("Traded the news.")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "succeeded");
}

#[tokio::test]
async fn analysis_never_exceeds_its_concurrency_in_llm_calls() {
    let stack = stack().await; // ANALYSIS_CONCURRENCY = 2
    stack.ollama.set_chat_delay(Duration::from_millis(100));
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(
            stack.submit(&journal(&format!("entry {i}"))).await["id"].as_str().unwrap().to_owned(),
        );
    }
    for id in &ids {
        assert_eq!(stack.wait_final(id, LIMIT).await.0["status"], "succeeded");
    }
    assert_eq!(stack.ollama.max_concurrent_chats(), 2);
}

#[tokio::test]
async fn an_attempt_over_its_timeout_is_stopped_retried_then_failed() {
    let mut stack = stack_without_workers().await;
    stack.start_worker_with("w1", |c| c.analysis_timeout = Duration::from_millis(300)).await;
    stack.ollama.set_chat_delay(Duration::from_secs(2));
    let job = stack.submit(&journal("Slow model.")).await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), LIMIT).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["attempts"], 3);
    assert!(done["error"].as_str().unwrap().contains("timed out after"), "{done}");
}

#[tokio::test]
async fn a_postgres_outage_mid_job_delays_the_result_but_loses_nothing() {
    let mut stack = stack_without_workers().await;
    let proxy = testkit::ChaosProxy::start("127.0.0.1:5432").await;
    let url = proxy.url_through(&stack.db.url);
    stack.start_worker_with("w1", |c| c.common.database_url = url).await;
    stack.ollama.set_chat_delay(Duration::from_millis(1500));
    let job = stack.submit(&journal("Postgres blinked while I traded.")).await;
    let id = job["id"].as_str().unwrap();
    stack.wait_status(id, "running", LIMIT).await;
    proxy.r#break(); // the worker loses Postgres while the LLM call is in flight
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.restore();
    let (done, _) = stack.wait_final(id, LIMIT).await;
    assert_eq!(done["status"], "succeeded", "{done}");
}

#[tokio::test]
async fn a_redis_outage_restarts_the_consumers_and_every_job_still_completes() {
    let mut stack = stack_without_workers().await;
    let proxy = testkit::ChaosProxy::start("127.0.0.1:6379").await;
    let url = proxy.url_through(&stack.redis.url);
    stack.start_worker_with("w1", |c| c.common.redis_url = url).await;
    stack.ollama.set_chat_delay(Duration::from_millis(300));
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            stack.submit(&journal(&format!("before the outage {i}"))).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.r#break();
    for i in 0..4 {
        ids.push(
            stack.submit(&journal(&format!("during the outage {i}"))).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.restore();
    for id in &ids {
        let (done, _) = stack.wait_final(id, Duration::from_secs(60)).await;
        assert_eq!(done["status"], "succeeded", "{done}");
    }
    let attempts: i32 = sqlx::query_scalar("SELECT max(attempts) FROM jobs")
        .fetch_one(&stack.api_state.pool)
        .await
        .unwrap();
    assert!(attempts <= 2, "a Redis blip costs at most one extra attempt");
}

#[tokio::test]
async fn sigterm_lets_running_jobs_finish_within_the_grace_period() {
    let mut stack = stack_without_workers().await;
    let rt = stack.start_worker("w1").await;
    stack.ollama.set_chat_delay(Duration::from_millis(800));
    let job = stack.submit(&journal("Closed the day flat.")).await;
    let id = job["id"].as_str().unwrap();
    stack.wait_status(id, "running", LIMIT).await;
    let (_, stop, handle) = stack.workers.pop().unwrap();
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("the worker exits within its grace period")
        .unwrap()
        .unwrap();
    assert!(rt.inflight.is_empty());
    assert_eq!(stack.job(id).await["status"], "succeeded");
}

#[tokio::test]
async fn a_job_still_running_when_the_grace_period_ends_is_handed_back_at_once() {
    let mut stack = stack_without_workers().await;
    stack.start_worker_with("w1", |c| c.shutdown_timeout = Duration::from_millis(500)).await;
    stack.ollama.set_chat_delay(Duration::from_secs(5));
    let job = stack.submit(&journal("Long think.")).await;
    let id = job["id"].as_str().unwrap();
    stack.wait_status(id, "running", LIMIT).await;
    let (_, stop, handle) = stack.workers.pop().unwrap();
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), handle).await.unwrap().unwrap().unwrap();
    let requeued = stack.job(id).await;
    assert_eq!(
        requeued["status"], "queued",
        "handed back without waiting for the lease: {requeued}"
    );
    assert_eq!(requeued["attempts"], 0, "an interrupted attempt is not counted");
    stack.ollama.set_chat_delay(Duration::from_millis(0));
    stack.start_worker("w2").await;
    let (done, _) = stack.wait_final(id, LIMIT).await;
    assert_eq!(done["status"], "succeeded");
}
