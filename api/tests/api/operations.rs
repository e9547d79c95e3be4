//! Health, readiness, metrics and the OpenAPI document.

use serde_json::Value;

use crate::helpers::{market, spawn_api, spawn_api_with};

#[tokio::test]
async fn health_and_readiness_answer_when_dependencies_are_up() {
    let api = spawn_api().await;
    assert_eq!(api.get("/health").await.status(), 200);
    let ready = api.get("/ready").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["redis"], "ok");
}

#[tokio::test]
async fn a_postgres_outage_is_a_quick_503_and_the_api_recovers_by_itself() {
    let db = testkit::TestDb::new().await;
    let proxy = testkit::ChaosProxy::start("127.0.0.1:5432").await;
    let url = proxy.url_through(&db.url);
    let api = spawn_api_with(|c| c.common.database_url = url).await;
    assert_eq!(api.get("/ready").await.status(), 200);

    proxy.r#break();
    let started = std::time::Instant::now();
    let r = api.post_job(&market("GOOG", "2010-06-01")).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert!(r.headers().contains_key("retry-after"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "an outage must not hang requests"
    );
    let r = api.get("/ready").await;
    assert_eq!(r.status(), 503);
    assert!(r.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("postgres"));

    proxy.restore();
    let mut accepted = false;
    for _ in 0..50 {
        if api.post_job(&market("GOOG", "2010-06-01")).await.status() == 202 {
            accepted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(accepted, "the API recovers without a restart");
}

#[tokio::test]
async fn readiness_is_503_when_redis_is_unreachable_and_jobs_are_still_accepted() {
    let proxy = testkit::ChaosProxy::start("127.0.0.1:6379").await;
    let url = proxy.url_through(&testkit::redis_ns::redis_url());
    let api_down = spawn_api_with(|c| c.common.redis_url = url).await;
    assert_eq!(api_down.get("/ready").await.status(), 200);
    proxy.r#break();
    let r = api_down.get("/ready").await;
    assert_eq!(r.status(), 503);
    let problem: Value = r.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("redis"), "{problem}");
    // Postgres is the source of truth: the job is accepted and waits there for a dispatcher.
    let job = api_down.submit(&market("GOOG", "2010-06-01")).await;
    let id: uuid::Uuid = job["id"].as_str().unwrap().parse().unwrap();
    // Its push fails (or is not tried once the API has seen Redis down): it is left for the
    // dispatcher, which pushes it when Redis is back.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let pushed: Option<chrono::DateTime<chrono::Utc>> =
            sqlx::query_scalar("SELECT enqueued_at FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_one(&api_down.state.pool)
                .await
                .unwrap();
        if pushed.is_none() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a job whose push failed is left for the dispatcher"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let api = spawn_api().await;
    api.submit(&market("GOOG", "2010-06-01")).await;
    let text = api.get("/metrics").await.text().await.unwrap();
    assert!(text.contains("tradeforge_jobs_submitted_total"), "{text}");
    assert!(text.contains("tradeforge_http_requests_total"), "{text}");
    assert!(text.contains(r#"tradeforge_jobs{kind="analysis",status="queued"}"#), "{text}");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let api = spawn_api().await;
    let doc: Value = api.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/jobs",
        "/jobs/{id}",
        "/jobs/{id}/cancel",
        "/jobs/{id}/retry",
        "/jobs/{id}/events",
        "/events",
        "/overview",
        "/jobs/{id}/artifacts",
        "/models",
        "/forecast/{symbol}",
        "/health",
        "/ready",
    ] {
        assert!(doc["paths"].get(path).is_some(), "missing {path}");
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let types: Vec<_> = response["content"].as_object().unwrap().keys().collect();
                    assert_eq!(types, ["application/problem+json"], "{method} {path} {status}");
                }
            }
            if path.contains("{id}") {
                let id =
                    operation["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "id");
                assert_eq!(id.unwrap()["schema"]["format"], "uuid", "{method} {path}");
                assert!(operation["responses"].get("400").is_some(), "{method} {path}: 400");
            }
        }
    }
    let submit = &doc["components"]["schemas"]["SubmitJob"];
    assert_eq!(submit["oneOf"].as_array().unwrap().len(), 3, "{submit}");
    let docs = api.get("/docs").await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger-initializer.js"));
    let init = api.get("/docs/swagger-initializer.js").await;
    assert_eq!(init.status(), 200);
    assert!(init.text().await.unwrap().contains("/openapi.json"), "Swagger UI reads our document");
}
