//! Flow control between Postgres and Redis, and Redis hygiene.

use std::time::Duration;

use shared::{
    job::JobKind,
    queue::{QueueMessage, janitor},
};

use crate::helpers::{journal, stack_without_workers_with};

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_burst_beyond_the_redis_backlog_waits_in_postgres_and_every_job_completes() {
    let mut stack = stack_without_workers_with(|c| c.queue_max_backlog = 50).await;
    let bodies: Vec<_> = (0..400).map(|i| journal(&format!("burst entry {i}"))).collect();
    // 25 at once: a burst for the queue, and no contest for the api's 8 connections with the
    // other tests sharing these 2 cores.
    for chunk in bodies.chunks(25) {
        futures::future::join_all(chunk.iter().map(|b| stack.submit(b))).await;
    }
    let pool = stack.api_state.pool.clone();
    tokio::time::sleep(Duration::from_millis(300)).await; // let the background pushes land
    let backlog = stack.api_state.producer.backlog(JobKind::Analysis).await.unwrap();
    assert!(backlog <= 50, "Redis holds {backlog} messages; the bound is 50");
    assert!(count(&pool, "SELECT count(*) FROM jobs WHERE enqueued_at IS NULL").await >= 350);

    stack.start_worker_with("w1", |c| c.queue_max_backlog = 50).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count(&pool, "SELECT count(*) FROM jobs WHERE status = 'succeeded'").await < 400 {
        assert!(tokio::time::Instant::now() < deadline, "not every job completed");
        assert!(stack.api_state.producer.backlog(JobKind::Analysis).await.unwrap() <= 50);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(&pool, "SELECT count(*) FROM jobs WHERE attempts <> 1").await, 0);
    assert_eq!(stack.ollama.chat_calls(), 400);

    // Acknowledged messages leave nothing behind once the janitor has run.
    tokio::time::sleep(Duration::from_millis(500)).await; // acks are flushed asynchronously
    let config = stack.api_state.producer.config(JobKind::Analysis).clone();
    let mut conn = stack.api_state.producer.connection();
    janitor::clean(&mut conn, &config, usize::MAX).await.unwrap();
    let data: usize =
        redis::cmd("HLEN").arg(config.job_data_hash()).query_async(&mut conn).await.unwrap();
    let done: usize =
        redis::cmd("SCARD").arg(config.done_jobs_set()).query_async(&mut conn).await.unwrap();
    assert_eq!((data, done), (0, 0), "acknowledged task data is deleted");
    let metas = stack.redis.keys().await.into_iter().filter(|k| k.contains(":meta:")).count();
    assert_eq!(metas, 0);
}

#[tokio::test]
async fn jobs_whose_messages_redis_lost_are_pushed_again() {
    let mut stack = stack_without_workers_with(|_| {}).await;
    let job = stack.submit(&journal("lost in a Redis restart")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Redis loses everything (restart without persistence).
    let mut conn = stack.api_state.producer.connection();
    for key in stack.redis.keys().await {
        redis::cmd("DEL").arg(&key).query_async::<()>(&mut conn).await.unwrap();
    }
    // Make the push look old enough to be checked.
    sqlx::query("UPDATE jobs SET enqueued_at = now() - interval '1 hour'")
        .execute(&stack.api_state.pool)
        .await
        .unwrap();
    let lost = shared::queue::dispatcher::recover_lost_pushes(
        &stack.api_state.pool,
        &stack.api_state.producer,
        JobKind::Analysis,
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert_eq!(lost, 1);
    stack.start_worker("w1").await;
    let (done, _) = stack.wait_final(job["id"].as_str().unwrap(), Duration::from_secs(30)).await;
    assert_eq!(done["status"], "succeeded");
    let _ = QueueMessage::VERSION;
}
