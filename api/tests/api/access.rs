//! Keys, scopes and ownership: who may call what, and whose jobs each caller sees.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApi, market, spawn_api, spawn_api_with};

fn journal(text: &str) -> Value {
    json!({"kind": "analysis", "input": {"task": "journal", "text": text}})
}

async fn problem(response: reqwest::Response, status: u16) -> (reqwest::header::HeaderMap, Value) {
    assert_eq!(response.status().as_u16(), status);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/problem+json");
    (headers, response.json().await.unwrap())
}

#[tokio::test]
async fn every_route_but_health_needs_a_key() {
    let api = spawn_api().await;
    let anonymous = reqwest::Client::new();
    let id = api.submit(&journal("mine")).await["id"].as_str().unwrap().to_owned();
    let routes = [
        ("POST", "/jobs".to_owned()),
        ("GET", "/jobs".to_owned()),
        ("GET", format!("/jobs/{id}")),
        ("POST", format!("/jobs/{id}/cancel")),
        ("POST", format!("/jobs/{id}/retry")),
        ("PUT", format!("/jobs/{id}/shared")),
        ("GET", format!("/jobs/{id}/events")),
        ("GET", format!("/jobs/{id}/artifacts")),
        ("GET", format!("/jobs/{id}/artifacts/model.safetensors")),
        ("GET", "/models".to_owned()),
        ("GET", "/forecast/NVDA".to_owned()),
        ("GET", "/ready".to_owned()),
        ("GET", "/overview".to_owned()),
        ("GET", "/events".to_owned()),
        ("GET", "/metrics".to_owned()),
        ("GET", "/openapi.json".to_owned()),
        ("GET", "/docs/".to_owned()),
        ("GET", "/no-such-route".to_owned()),
    ];
    for (method, path) in &routes {
        let request = anonymous.request(method.parse().unwrap(), format!("{}{path}", api.base));
        let (headers, body) = problem(request.send().await.unwrap(), 401).await;
        assert_eq!(headers["www-authenticate"], r#"Bearer realm="tradeforge""#, "{method} {path}");
        assert!(body["detail"].as_str().unwrap().contains("Authorization: Bearer"), "{body}");
    }
    let health = anonymous.get(format!("{}/health", api.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_wrong_or_malformed_key_is_refused_without_echoing_it() {
    let api = spawn_api().await;
    let real = api.key("alice", "read", json!({})).await;
    let mut wrong_secret = real.clone();
    let last = wrong_secret.pop().unwrap();
    wrong_secret.push(if last == '0' { '1' } else { '0' });
    let unknown_id = format!("tf_000000000000_{}", &real[16..]);
    for presented in [
        format!("Bearer {wrong_secret}"),
        format!("Bearer {unknown_id}"),
        "Bearer tf_nonsense".to_owned(),
        format!("bearer {wrong_secret}"),
    ] {
        let response = reqwest::Client::new()
            .get(format!("{}/jobs", api.base))
            .header("authorization", &presented)
            .send()
            .await
            .unwrap();
        let (headers, body) = problem(response, 401).await;
        assert_eq!(
            headers["www-authenticate"],
            r#"Bearer realm="tradeforge", error="invalid_token""#
        );
        assert_eq!(body["detail"], "the API key is not valid");
        assert!(!body.to_string().contains(&presented[7..]), "the key is not echoed: {body}");
    }
    let basic = reqwest::Client::new()
        .get(format!("{}/jobs", api.base))
        .header("authorization", "Basic YWxpY2U6c2VjcmV0")
        .send()
        .await
        .unwrap();
    let (headers, _) = problem(basic, 401).await;
    assert!(headers["www-authenticate"].to_str().unwrap().contains("invalid_request"));
    let ok = testkit::bearer_client(&real).get(format!("{}/jobs", api.base)).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_revoked_key_stops_working_within_five_seconds_and_an_expired_one_says_so() {
    let api = spawn_api().await;
    let token = api.key("alice", "read", json!({})).await;
    let alice = testkit::bearer_client(&token);
    assert_eq!(alice.get(format!("{}/jobs", api.base)).send().await.unwrap().status(), 200);
    let id = &token[3..15];
    let revoked = api::auth::store::revoke(&api.state.pool, id).await.unwrap();
    assert_eq!(revoked, [id]);
    let start = Instant::now();
    let response = loop {
        let response = alice.get(format!("{}/jobs", api.base)).send().await.unwrap();
        if response.status() == 401 || start.elapsed() > Duration::from_secs(6) {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    let (_, body) = problem(response, 401).await;
    assert!(body["detail"].as_str().unwrap().contains(&format!("{id} was revoked at")), "{body}");

    let expiring = api::auth::store::create(
        &api.state.pool,
        &api::auth::store::CreateKey {
            owner: "bob",
            scopes: api::auth::Scopes::parse_list(["read"]).unwrap(),
            quotas: json!({}),
            // Long enough for the first request on a loaded machine, short for the test.
            expires_at: Some(chrono::Utc::now() + chrono::Duration::seconds(2)),
        },
    )
    .await
    .unwrap()
    .1;
    let bob = testkit::bearer_client(&expiring);
    assert_eq!(bob.get(format!("{}/jobs", api.base)).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (_, body) = problem(bob.get(format!("{}/jobs", api.base)).send().await.unwrap(), 401).await;
    assert!(body["detail"].as_str().unwrap().contains("expired at"), "{body}");
}

/// When a key's cache entry expires under load, one request looks it up again; the others go
/// on with the record they had (so a busy key costs one query per `AUTH_CACHE_S`, not one per
/// request in flight at that moment).
#[tokio::test]
async fn an_expired_cache_entry_is_refreshed_by_one_request() {
    let api = spawn_api_with(|c| c.auth.cache_ttl = Duration::from_secs(2)).await;
    let alice = api.client_for("alice", "read").await;
    let get = || alice.get(format!("{}/jobs?limit=1", api.base)).send();
    assert_eq!(get().await.unwrap().status(), 200);
    for round in 1..=2 {
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let before = api.state.keys.lookups();
        let answers = futures::future::join_all((0..64).map(|_| get())).await;
        assert!(answers.iter().all(|r| r.as_ref().unwrap().status() == 200));
        let lookups = api.state.keys.lookups() - before;
        // One, or two if the first refresh outlived the lookup timeout on a loaded machine;
        // before, every request in flight made its own.
        assert!((1..=2).contains(&lookups), "64 requests after expiry {round}: {lookups} lookups");
    }
}

#[tokio::test]
async fn each_route_needs_its_scope() {
    let api = spawn_api().await;
    let reader = api.client_for("alice", "read").await;
    let submitter = api.client_for("alice", "submit").await;
    let post = reader.post(format!("{}/jobs", api.base)).json(&journal("x")).send().await.unwrap();
    let (headers, body) = problem(post, 403).await;
    assert!(headers["www-authenticate"].to_str().unwrap().contains(r#"scope="submit""#));
    assert!(body["detail"].as_str().unwrap().contains("Submit"), "{body}");

    let job = api.submit_as(&submitter, &journal("x")).await;
    let id = job["id"].as_str().unwrap();
    let read = submitter.get(format!("{}/jobs/{id}", api.base)).send().await.unwrap();
    problem(read, 403).await;
    assert_eq!(reader.get(format!("{}/jobs/{id}", api.base)).send().await.unwrap().status(), 200);
    for path in ["/overview", "/events"] {
        problem(submitter.get(format!("{}{path}", api.base)).send().await.unwrap(), 403).await;
    }
    for client in [&reader, &submitter] {
        let metrics = client.get(format!("{}/metrics", api.base)).send().await.unwrap();
        problem(metrics, 403).await;
        let share = client
            .put(format!("{}/jobs/{id}/shared", api.base))
            .json(&json!({"shared": true}))
            .send()
            .await
            .unwrap();
        problem(share, 403).await;
    }
    let metrics = api.get("/metrics").await;
    assert_eq!(metrics.status(), 200, "an admin key reads /metrics");
}

/// Only a training job has a model to share: an analysis answers 409, an unknown id 404.
#[tokio::test]
async fn sharing_needs_a_training_job() {
    let api = spawn_api().await;
    let analysis = api.submit(&journal("x")).await;
    let id = analysis["id"].as_str().unwrap();
    let share = |path: String| {
        api.client.put(format!("{}{path}", api.base)).json(&json!({"shared": true})).send()
    };
    let (_, body) = problem(share(format!("/jobs/{id}/shared")).await.unwrap(), 409).await;
    assert!(body["detail"].as_str().unwrap().contains("analysis"), "{body}");
    let unknown = uuid::Uuid::now_v7();
    problem(share(format!("/jobs/{unknown}/shared")).await.unwrap(), 404).await;
}

/// Alice's job, seen from Bob: every route answers 404, as if it did not exist.
#[tokio::test]
async fn another_owners_jobs_are_invisible_on_every_route() {
    let api = spawn_api().await;
    let alice = api.client_for("alice", "submit,read").await;
    let bob = api.client_for("bob", "submit,read").await;
    let job = api.submit_as(&alice, &journal("alice's")).await;
    let id = job["id"].as_str().unwrap();
    assert_eq!(job["owner"], "alice");
    std::fs::create_dir_all(api.results.path().join(id)).unwrap();
    std::fs::write(api.results.path().join(id).join("report.md"), "secret").unwrap();
    for (method, path) in [
        ("GET", format!("/jobs/{id}")),
        ("GET", format!("/jobs/{id}/events")),
        ("GET", format!("/jobs/{id}/artifacts")),
        ("GET", format!("/jobs/{id}/artifacts/report.md")),
        ("POST", format!("/jobs/{id}/cancel")),
        ("POST", format!("/jobs/{id}/retry")),
    ] {
        let response = bob
            .request(method.parse().unwrap(), format!("{}{path}", api.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    let bobs_list: Value =
        bob.get(format!("{}/jobs", api.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(bobs_list["jobs"], json!([]));
    let other = bob.get(format!("{}/jobs?owner=alice", api.base)).send().await.unwrap();
    assert_eq!(other.status(), 403);
    // Bob's cancel did nothing: the job is still queued, and Alice can cancel it.
    let own = alice.post(format!("{}/jobs/{id}/cancel", api.base)).send().await.unwrap();
    assert_eq!(own.status(), 200);
    let alices: Value =
        alice.get(format!("{}/jobs", api.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(alices["jobs"][0]["id"], id);
    assert_eq!(alices["jobs"][0]["owner"], "alice");
}

#[tokio::test]
async fn an_admin_sees_every_owner_and_can_filter_by_one() {
    let api = spawn_api().await;
    for owner in ["alice", "bob"] {
        let client = api.client_for(owner, "submit").await;
        let response =
            client.post(format!("{}/jobs", api.base)).json(&journal(owner)).send().await.unwrap();
        assert_eq!(response.status(), 202);
    }
    let all: Value = api.get("/jobs").await.json().await.unwrap();
    assert_eq!(all["jobs"].as_array().unwrap().len(), 2);
    let bobs: Value = api.get("/jobs?owner=bob").await.json().await.unwrap();
    assert_eq!(bobs["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(bobs["jobs"][0]["owner"], "bob");
}

#[tokio::test]
async fn the_job_records_who_submitted_cancelled_and_retried_it() {
    let api = spawn_api().await;
    let (submit_key, other_key) = (
        api.key("alice", "submit,read", json!({})).await,
        api.key("alice", "submit,read", json!({})).await,
    );
    let (first, second) = (testkit::bearer_client(&submit_key), testkit::bearer_client(&other_key));
    let job = api.submit_as(&first, &journal("x")).await;
    let id = job["id"].as_str().unwrap();
    assert_eq!(job["submitted_by"], submit_key[3..15]);
    let cancelled: Value = second
        .post(format!("{}/jobs/{id}/cancel", api.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["cancelled_by"], other_key[3..15], "a second key of the same owner");
    let retried = api.post(&format!("/jobs/{id}/retry")).await;
    assert_eq!(retried.status(), 202);
    let retried: Value = retried.json().await.unwrap();
    assert_eq!(retried["retried_by"], api.token[3..15], "the admin's key");
    assert_eq!(retried["submitted_by"], submit_key[3..15]);
}

#[tokio::test]
async fn idempotency_keys_are_per_owner_and_expire_after_a_day() {
    let api = spawn_api().await;
    let alice = api.client_for("alice", "submit").await;
    let bob = api.client_for("bob", "submit").await;
    let send = |client: &reqwest::Client| {
        client
            .post(format!("{}/jobs", api.base))
            .header("idempotency-key", "order-1")
            .json(&journal("same"))
            .send()
    };
    let a: Value = send(&alice).await.unwrap().json().await.unwrap();
    let b = send(&bob).await.unwrap();
    assert_eq!(b.status(), 202, "Bob's key of the same name is his own");
    let b: Value = b.json().await.unwrap();
    assert_ne!(a["id"], b["id"]);
    let again = send(&alice).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], a["id"]);

    sqlx::query("UPDATE jobs SET created_at = now() - interval '25 hours' WHERE id = $1::uuid")
        .bind(a["id"].as_str().unwrap())
        .execute(&api.state.pool)
        .await
        .unwrap();
    let later = send(&alice).await.unwrap();
    assert_eq!(later.status(), 202, "a day later the key names a new job");
    assert_ne!(later.json::<Value>().await.unwrap()["id"], a["id"]);
}

#[tokio::test]
async fn with_auth_disabled_anyone_may_do_everything() {
    let api = spawn_api_with(|c| c.auth.mode = api::auth::AuthMode::Disabled).await;
    let anonymous = reqwest::Client::new();
    let response = anonymous
        .post(format!("{}/jobs", api.base))
        .json(&market("GOOG", "2024-05-10"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let job: Value = response.json().await.unwrap();
    assert!(job.get("owner").is_none(), "{job}");
    let metrics = anonymous.get(format!("{}/metrics", api.base)).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
}

#[tokio::test]
async fn the_documents_are_public_only_when_docs_public_is_set() {
    let api = spawn_api_with(|c| c.auth.docs_public = true).await;
    let anonymous = reqwest::Client::new();
    let doc: Value = anonymous
        .get(format!("{}/openapi.json", api.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["components"]["securitySchemes"]["apiKey"]["scheme"], "bearer");
    assert_eq!(doc["security"], json!([{"apiKey": []}]));
    assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([]));
    assert!(doc["paths"]["/jobs"]["post"]["responses"]["401"].is_object());
    let page = anonymous.get(format!("{}/docs/", api.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(!html.contains("https://"), "no script from elsewhere: {html}");
    let still_closed = anonymous.get(format!("{}/jobs", api.base)).send().await.unwrap();
    assert_eq!(still_closed.status(), 401);
}

#[tokio::test]
async fn keys_are_stored_hashed() {
    let api: TestApi = spawn_api().await;
    let token = api.key("alice", "submit,read", json!({})).await;
    let rows: Vec<String> = sqlx::query_scalar("SELECT row_to_json(k)::text FROM api_keys k")
        .fetch_all(&api.state.pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|row| !row.contains(&token[16..])), "stored hashed: {rows:?}");
    assert!(rows.iter().any(|row| row.contains(&token[3..15])), "found by id: {rows:?}");
}
