//! What the API logs about keys: their ids, never the keys. A test binary of its own, so that
//! it can install the process-wide log subscriber and read everything the server logs.

use std::sync::{Arc, Mutex};

use api::Application;
use serde_json::json;
use testkit::{RedisNamespace, TestDb};
use tokio_util::sync::CancellationToken;

#[path = "api/helpers.rs"]
#[allow(dead_code)] // the other helpers serve the api test binary
mod helpers;

#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> LogCapture {
        self.clone()
    }
}

#[tokio::test]
async fn keys_never_reach_a_log_line_but_their_ids_do() {
    let logs = LogCapture::default();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_writer(logs.clone())
        .with_ansi(false)
        .init();
    let (db, redis) = (TestDb::new().await, RedisNamespace::new());
    let results = tempfile::tempdir().unwrap();
    let config = helpers::config(&db, &redis, results.path().to_owned());
    let shutdown = CancellationToken::new();
    let app = Application::build(config, shutdown.clone()).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let pool = app.state().pool.clone();
    tokio::spawn(app.run_until_stopped());

    let token = api::auth::store::issue(&pool, "alice", "submit,read", json!({})).await.unwrap();
    let body = json!({"kind": "analysis", "input": {"task": "journal", "text": "x"}});
    let posted = testkit::bearer_client(&token)
        .post(format!("{base}/jobs"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 202);
    let mut wrong = token.clone();
    wrong.replace_range(20..21, if &token[20..21] == "a" { "b" } else { "a" });
    let refused = testkit::bearer_client(&wrong).get(format!("{base}/jobs")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    // A request that fails inside (the database gone) must not log the key either.
    shutdown.cancel();

    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(logged.contains(&format!("key_id={}", &token[3..15])), "spans name the key: {logged}");
    assert!(logged.contains("request authenticated"), "{logged}");
    for secret in [&token[16..], &wrong[16..]] {
        assert!(!logged.contains(secret), "a secret reached the log: {logged}");
    }
}
