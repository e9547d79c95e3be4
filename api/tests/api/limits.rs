//! What no request can do: break another's, or hold the server past its time limits.

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};
use shared::{db::jobs::NewJob, job::JobKind};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{assert_problem, spawn_api, spawn_api_with};

fn journal(text: &str) -> Value {
    json!({"kind": "analysis", "input": {"task": "journal", "text": text}})
}

#[tokio::test]
async fn a_nul_character_is_a_422_naming_its_field_and_spares_everyone_else() {
    let api = &spawn_api().await;
    let requests = (0..200).map(|i| {
        let body = if i % 2 == 0 { journal(&format!("entry {i}")) } else { journal("bad\u{0}") };
        async move { (i, api.post_job(&body).await) }
    });
    for (i, response) in join_all(requests).await {
        if i % 2 == 0 {
            assert_eq!(response.status(), 202, "valid request {i}");
        } else {
            let problem = assert_problem(response, 422, "input.text").await;
            assert!(problem["detail"].as_str().unwrap().contains("NUL"), "{problem}");
        }
    }
    let context =
        json!({"kind": "analysis", "input": {"task": "journal", "text": "ok", "context": "\u{0}"}});
    assert_problem(api.post_job(&context).await, 422, "input.context").await;
}

#[tokio::test]
async fn a_row_postgres_refuses_fails_only_its_own_request() {
    // Past validation (a stored rule could change): the batch must still isolate it.
    let api = spawn_api().await;
    let new_job = |input: Value| NewJob {
        id: uuid::Uuid::now_v7(),
        kind: JobKind::Analysis,
        input,
        input_summary: None,
        symbol: None,
        max_attempts: 3,
        queue_task_id: None,
        owner: None,
        submitted_by: None,
        training_flops: None,
        quota: None,
    };
    let jobs = (0..64).map(|i| {
        let text = if i == 17 { "poison\u{0}".to_owned() } else { format!("entry {i}") };
        new_job(json!({"task": "journal", "text": text}))
    });
    let outcomes = join_all(jobs.map(|job| api.state.submitter.submit(job))).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        assert_eq!(outcome.is_ok(), i != 17, "job {i}: {:?}", outcome.as_ref().err());
    }
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM jobs").fetch_one(&api.state.pool).await.unwrap();
    assert_eq!(stored, 63);
}

#[tokio::test]
async fn a_training_request_over_the_compute_budget_is_told_what_to_lower() {
    let api = spawn_api().await;
    let body = json!({"kind": "training", "input": {"symbol": "EURUSD", "model": "nhits",
        "horizon": 720, "input_size": 5000, "mlp_width": 2048, "windows_batch_size": 4096,
        "max_steps": 10000}});
    let problem = assert_problem(api.post_job(&body).await, 422, "input").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("MAX_TRAINING_FLOPS") && detail.contains("max_steps"), "{detail}");
}

/// Reads until the server closes the connection; how long that took and what it sent.
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let read = tokio::time::timeout_at(
            tokio::time::Instant::from_std(started + limit),
            stream.read(&mut buf),
        )
        .await
        .expect("the server kept the connection open past the limit");
        match read {
            Ok(0) | Err(_) => return (started.elapsed(), received),
            Ok(n) => received.extend_from_slice(&buf[..n]),
        }
    }
}

fn addr(api: &crate::helpers::TestApi) -> String {
    api.base.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn headers_trickling_in_are_cut_off_at_the_header_timeout() {
    let api = spawn_api_with(|c| c.http.header_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(addr(&api)).await.unwrap();
    let trickle = async {
        for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " {
            if stream.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(1500), trickle).await;
    let (waited, _) = until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(waited < Duration::from_secs(3));
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let api = spawn_api_with(|c| c.http.header_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(addr(&api)).await.unwrap();
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let (waited, received) = until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"));
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(3), "{waited:?}");
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_a_408() {
    let api = spawn_api_with(|c| c.http.body_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(addr(&api)).await.unwrap();
    let head = format!(
        "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {}\r\nContent-Length: 100\r\n\r\n{{\"kind\":",
        api.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (_, received) = until_closed(&mut stream, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json") && text.contains("HTTP_BODY_TIMEOUT_S"));
}

#[tokio::test]
async fn a_download_nobody_reads_is_cut_off_when_nothing_moves() {
    let api = spawn_api_with(|c| c.http.stall_timeout = Duration::from_secs(2)).await;
    let job = api.submit(&journal("a")).await;
    let id = job["id"].as_str().unwrap();
    let dir = api.results.path().join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let size = 64 << 20;
    std::fs::File::create(dir.join("model.safetensors")).unwrap().set_len(size).unwrap();

    let mut stream = TcpStream::connect(addr(&api)).await.unwrap();
    let request = format!(
        "GET /jobs/{id}/artifacts/model.safetensors HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\n\r\n",
        api.token
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await; // never read: the server's writes stall
    let (_, received) = until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(
        (received.len() as u64) < size / 2,
        "the server gave up on the stalled download ({} of {size} bytes sent)",
        received.len()
    );
}

#[tokio::test]
async fn connections_past_the_cap_get_a_503_at_once() {
    let api = spawn_api_with(|c| c.http.max_connections = 2).await;
    let held = [
        TcpStream::connect(addr(&api)).await.unwrap(),
        TcpStream::connect(addr(&api)).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(addr(&api)).await.unwrap();
    let (_, received) = until_closed(&mut third, Duration::from_secs(2)).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["status"], 503);
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(api.get("/health").await.status(), 200, "slots are given back");
}

#[tokio::test]
async fn made_up_methods_share_one_metrics_label() {
    let api = spawn_api().await;
    for i in 0..50 {
        let method = reqwest::Method::from_bytes(format!("BOGUS{i}").as_bytes()).unwrap();
        let _ = api.client.request(method, format!("{}/health", api.base)).send().await.unwrap();
    }
    let metrics = api.get("/metrics").await.text().await.unwrap();
    assert!(!metrics.contains("BOGUS"), "made-up methods became labels");
    assert!(metrics.contains("method=\"OTHER\""));
}
