//! What a browser can and cannot make the API do: no cross-site form posts, no CORS unless
//! listed, safe headers everywhere, and /metrics only for admins or on its own address.

use serde_json::{Value, json};

use crate::helpers::{spawn_api, spawn_api_with};

#[tokio::test]
async fn a_cross_site_form_post_is_refused_even_with_a_key() {
    let api = spawn_api().await;
    for (content_type, body) in [
        ("application/x-www-form-urlencoded", "kind=analysis&input=x".to_owned()),
        (
            "multipart/form-data; boundary=x",
            "--x\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nanalysis\r\n--x--\r\n"
                .to_owned(),
        ),
        ("text/plain", r#"{"kind":"analysis","input":{"task":"journal","text":"x"}}"#.to_owned()),
    ] {
        for path in ["/jobs".to_owned(), format!("/jobs/{}/shared", uuid::Uuid::now_v7())] {
            let method = if path == "/jobs" { "POST" } else { "PUT" };
            let response = api
                .client
                .request(method.parse().unwrap(), format!("{}{path}", api.base))
                .header("content-type", content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 415, "{method} {path} as {content_type}");
        }
    }
    // And without the key (what a form on another site would send): 401 before anything else.
    let anonymous = reqwest::Client::new()
        .post(format!("{}/jobs", api.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("kind=analysis")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let jobs: Value = api.get("/jobs").await.json().await.unwrap();
    assert_eq!(jobs["jobs"], json!([]), "nothing was accepted");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let api = spawn_api().await;
    for response in [
        api.get("/jobs").await,
        api.get("/health").await,
        api.get("/no-such-route").await,
        reqwest::Client::new().get(format!("{}/jobs", api.base)).send().await.unwrap(),
    ] {
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["x-frame-options"], "DENY");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert!(headers.get("access-control-allow-origin").is_none(), "no CORS by default");
    }
}

#[tokio::test]
async fn cors_answers_only_the_listed_origins() {
    let api = spawn_api_with(|c| {
        c.cors_origins = vec!["https://app.example.com".parse().unwrap()];
    })
    .await;
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{}/jobs", api.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example.com");
    let methods = allowed.headers()["access-control-allow-methods"].to_str().unwrap().to_owned();
    assert!(methods.contains("POST"), "{methods}");
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let read = api
        .client
        .get(format!("{}/jobs", api.base))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(read.headers()["access-control-allow-origin"], "https://app.example.com");
    assert!(
        read.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("ratelimit-remaining")
    );
}

#[tokio::test]
async fn metrics_need_an_admin_key_or_the_separate_address() {
    let api = spawn_api_with(|c| c.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let reader = api.client_for("alice", "read").await;
    assert_eq!(reader.get(format!("{}/metrics", api.base)).send().await.unwrap().status(), 403);
    assert_eq!(api.get("/metrics").await.status(), 200);
    let addr = api.metrics_addr.expect("a metrics listener");
    let open = reqwest::Client::new().get(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(open.status(), 200);
    assert!(open.text().await.unwrap().contains("tradeforge_"), "the same metrics");
    let other = reqwest::Client::new().get(format!("http://{addr}/jobs")).send().await.unwrap();
    assert_eq!(other.status(), 404, "only /metrics is served there");
}
