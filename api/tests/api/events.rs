//! `GET /jobs/{id}/events` and `GET /events`: fed by one LISTEN, bounded per client and in
//! all, and finite.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{TestApi, spawn_api, spawn_api_with};

async fn queued_job(api: &TestApi) -> String {
    let job =
        api.submit(&json!({"kind": "analysis", "input": {"task": "journal", "text": "a"}})).await;
    job["id"].as_str().unwrap().to_owned()
}

/// An open stream: reads SSE frames as `(event, data)`.
struct Events {
    chunks: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl Events {
    async fn open(client: &reqwest::Client, api: &TestApi, id: &str) -> Self {
        Self::open_at(client, &format!("{}/jobs/{id}/events", api.base)).await
    }

    /// `GET /events`.
    async fn feed(client: &reqwest::Client, api: &TestApi) -> Self {
        Self::open_at(client, &format!("{}/events", api.base)).await
    }

    async fn open_at(client: &reqwest::Client, url: &str) -> Self {
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        Self { chunks: response.bytes_stream().boxed(), buffer: String::new() }
    }

    /// The next event (comments skipped), or `None` when the stream ends within `limit`.
    async fn next(&mut self, limit: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    frame
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(str::trim)
                        .map(str::to_owned)
                };
                if let (Some(event), Some(data)) = (field("event:"), field("data:")) {
                    return Some((event, serde_json::from_str(&data).unwrap()));
                }
                continue;
            }
            match tokio::time::timeout_at(deadline, self.chunks.next()).await {
                Err(_) => panic!("no event within {limit:?}"),
                Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
            }
        }
    }
}

const QUICK: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_stream_sees_changes_whoever_makes_them_and_ends_with_the_final_state() {
    let api = spawn_api().await;
    let id = queued_job(&api).await;
    let mut events = Events::open(&api.client, &api, &id).await;
    let (event, first) = events.next(QUICK).await.unwrap();
    assert_eq!((event.as_str(), first["status"].as_str()), ("update", Some("queued")));

    // A worker's write, made straight in Postgres: the trigger announces it.
    let pool = &api.state.pool;
    sqlx::query("UPDATE jobs SET status = 'running', updated_at = now(), progress = '{\"percent\": 40, \"stage\": \"review\", \"message\": \"m\"}' WHERE id = $1::uuid")
        .bind(&id).execute(pool).await.unwrap();
    let (_, running) = events.next(QUICK).await.unwrap();
    assert_eq!(
        (running["status"].as_str(), running["progress"]["percent"].as_f64()),
        (Some("running"), Some(40.0))
    );

    sqlx::query("UPDATE jobs SET status = 'succeeded', updated_at = now(), result = '{}' WHERE id = $1::uuid")
        .bind(&id).execute(pool).await.unwrap();
    let (_, done) = events.next(QUICK).await.unwrap();
    assert_eq!(done["status"], "succeeded");
    assert!(events.next(QUICK).await.is_none(), "the stream ends with the final state");
}

#[tokio::test]
async fn a_stream_ends_with_gone_when_its_job_is_deleted() {
    let api = spawn_api().await;
    let id = queued_job(&api).await;
    let mut events = Events::open(&api.client, &api, &id).await;
    events.next(QUICK).await.unwrap();
    sqlx::query("DELETE FROM jobs WHERE id = $1::uuid")
        .bind(&id)
        .execute(&api.state.pool)
        .await
        .unwrap();
    let (event, _) = events.next(QUICK).await.unwrap();
    assert_eq!(event, "gone");
    assert!(events.next(QUICK).await.is_none());
}

#[tokio::test]
async fn a_stream_ends_at_its_lifetime() {
    let api = spawn_api_with(|c| c.streams.max_lifetime = Duration::from_secs(1)).await;
    let id = queued_job(&api).await;
    let mut events = Events::open(&api.client, &api, &id).await;
    events.next(QUICK).await.unwrap();
    assert!(events.next(QUICK).await.is_none(), "closed after SSE_MAX_LIFETIME_S");
}

#[tokio::test]
async fn streams_are_capped_per_client_address_and_in_all() {
    let api = spawn_api_with(|c| {
        c.streams.max_per_client = 2;
        c.streams.max_streams = 3;
    })
    .await;
    let id = queued_job(&api).await;
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .default_headers(testkit::bearer(&api.token))
            .build()
            .unwrap()
    };
    let (one, two) = (from([127, 0, 0, 1]), from([127, 0, 0, 2]));
    let _a = Events::open(&one, &api, &id).await;
    let _b = Events::open(&one, &api, &id).await;
    let third = one.get(format!("{}/jobs/{id}/events", api.base)).send().await.unwrap();
    assert_eq!(third.status(), 429);
    assert!(third.headers().contains_key("retry-after"));
    let _c = Events::open(&two, &api, &id).await;
    let fourth = two.get(format!("{}/jobs/{id}/events", api.base)).send().await.unwrap();
    assert_eq!(fourth.status(), 503);
    drop(_a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _d = Events::open(&two, &api, &id).await; // a slot freed when a client left
}

#[tokio::test]
async fn streams_recover_after_the_listener_connection_is_killed() {
    let api = spawn_api().await;
    let id = queued_job(&api).await;
    let mut events = Events::open(&api.client, &api, &id).await;
    events.next(QUICK).await.unwrap();
    let pool = &api.state.pool;
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(killed, 1, "one listener for the whole API");
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("UPDATE jobs SET status = 'cancelled', updated_at = now() WHERE id = $1::uuid")
        .bind(&id)
        .execute(pool)
        .await
        .unwrap();
    let (_, done) = events.next(Duration::from_secs(10)).await.unwrap();
    assert_eq!(done["status"], "cancelled");
}

#[tokio::test]
async fn the_feed_announces_new_and_changed_jobs_as_listed() {
    let api = spawn_api().await;
    let mut feed = Events::feed(&api.client, &api).await;
    let id = queued_job(&api).await;
    let (event, created) = feed.next(QUICK).await.unwrap();
    assert_eq!(event, "job");
    assert_eq!((created["id"].as_str(), created["status"].as_str()), (Some(&*id), Some("queued")));
    let listed: Value = api.get("/jobs").await.json().await.unwrap();
    assert_eq!(created, listed["jobs"][0], "the same object as GET /jobs lists");

    // A write that changes nothing shown (a push to Redis) sends nothing.
    sqlx::query("UPDATE jobs SET enqueued_at = now() WHERE id = $1::uuid")
        .bind(&id)
        .execute(&api.state.pool)
        .await
        .unwrap();
    assert_eq!(api.post(&format!("/jobs/{id}/cancel")).await.status(), 200);
    let (event, cancelled) = feed.next(QUICK).await.unwrap();
    assert_eq!(event, "job");
    assert_eq!(
        (cancelled["id"].as_str(), cancelled["status"].as_str()),
        (Some(&*id), Some("cancelled"))
    );
}

#[tokio::test]
async fn the_feed_of_a_non_admin_key_holds_only_its_owners_jobs() {
    let api = spawn_api().await;
    let alice = api.client_for("alice", "submit,read").await;
    let mut hers = Events::feed(&alice, &api).await;
    let mut all = Events::feed(&api.client, &api).await;
    let others = queued_job(&api).await; // the admin key's owner, "tester"
    let (_, seen) = all.next(QUICK).await.unwrap();
    assert_eq!(seen["id"], others.as_str());
    let mine = api
        .submit_as(&alice, &json!({"kind": "analysis", "input": {"task": "journal", "text": "b"}}))
        .await;
    let (_, first) = hers.next(QUICK).await.unwrap();
    assert_eq!(first["id"], mine["id"], "the other owner's job was not sent first");
    assert_eq!(first["owner"], "alice");
}

#[tokio::test]
async fn feed_streams_share_the_stream_limits_and_end_at_their_lifetime() {
    let api = spawn_api_with(|c| {
        c.streams.max_per_client = 1;
        c.streams.max_lifetime = Duration::from_secs(1);
    })
    .await;
    let mut feed = Events::feed(&api.client, &api).await;
    let id = queued_job(&api).await;
    let second = api.get(&format!("/jobs/{id}/events")).await;
    assert_eq!(second.status(), 429, "one stream per client, of either kind");
    // The job's event, unless the second passed first; then the end.
    let ended = feed.next(QUICK).await.is_none() || feed.next(QUICK).await.is_none();
    assert!(ended, "closed after SSE_MAX_LIFETIME_S");
}
