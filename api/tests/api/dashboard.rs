//! The dashboard over HTTP: sessions (cookie, CSRF, logout, revocation), what pages show and
//! hide, escaping, headers, and the jobs page's weight. Its behaviour in a real browser is the
//! `browser` suite's (scripts/browser-test.sh).

use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::{Value, json};

use crate::helpers::{TestApi, spawn_api, spawn_api_with};

/// A browser-like client: keeps no cookies of its own (tests pass them), follows no redirects.
fn browser() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

fn journal(text: &str) -> Value {
    json!({"kind": "analysis", "input": {"task": "journal", "text": text}})
}

/// Logs in with `key`; the session cookie (`name=value`) and the answer's `Set-Cookie`.
async fn login(api: &TestApi, key: &str) -> (String, String) {
    let response = browser()
        .post(format!("{}/ui/login", api.base))
        .form(&[("key", key), ("next", "/ui/overview")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/ui/overview");
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    (cookie, set_cookie)
}

async fn page(api: &TestApi, cookie: &str, path: &str) -> (StatusCode, String) {
    let response =
        browser().get(format!("{}{path}", api.base)).header("cookie", cookie).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The page's CSRF token, from its `<meta name="csrf-token">`.
fn csrf(html: &str) -> String {
    let at = html.find(r#"name="csrf-token" content=""#).expect("a csrf meta tag") + 27;
    html[at..at + 64].to_owned()
}

#[tokio::test]
async fn without_a_session_pages_send_the_browser_to_login_and_the_api_still_wants_a_key() {
    let api = spawn_api().await;
    let response = browser().get(format!("{}/?status=failed", api.base)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/ui/login?next=%2F%3Fstatus%3Dfailed");
    let login = browser().get(format!("{}/ui/login", api.base)).send().await.unwrap();
    assert_eq!(login.status(), 200);
    assert!(login.text().await.unwrap().contains(r#"<form id="login""#));
    let json = browser().get(format!("{}/jobs", api.base)).send().await.unwrap();
    assert_eq!(json.status(), 401);
    // A cookie that is no session is no credential either.
    let forged = browser()
        .get(format!("{}/jobs", api.base))
        .header("cookie", format!("tf_session={}", "a".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}

#[tokio::test]
async fn a_session_speaks_for_its_key_until_logout_and_changes_need_its_csrf_token() {
    let api = spawn_api().await;
    let key = api.key("alice", "submit,read", json!({})).await;
    let last = if key.ends_with('0') { '1' } else { '0' };
    let wrong = browser()
        .post(format!("{}/ui/login", api.base))
        .form(&[("key", format!("{}{last}", &key[..key.len() - 1]).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("the API key is not valid"));

    let (cookie, set_cookie) = login(&api, &key).await;
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let (status, html) = page(&api, &cookie, "/").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<span id="whoami" title="signed in as">alice</span>"#));
    let token = csrf(&html);

    // The JSON API takes the cookie: reads as they are, changes only with the token.
    let submit = |csrf: Option<String>| {
        let mut request = browser()
            .post(format!("{}/jobs", api.base))
            .header("cookie", &cookie)
            .json(&journal("from the dashboard"));
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send()
    };
    assert_eq!(submit(None).await.unwrap().status(), 403);
    assert_eq!(submit(Some("0".repeat(64))).await.unwrap().status(), 403);
    let accepted = submit(Some(token.clone())).await.unwrap();
    assert_eq!(accepted.status(), 202);
    let job: Value = accepted.json().await.unwrap();
    assert_eq!(job["owner"], "alice");
    let (status, _) = page(&api, &cookie, &format!("/jobs/{}", job["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);

    // Logging out needs the token too, then the cookie is worth nothing.
    let logout = |csrf: &str| {
        browser()
            .post(format!("{}/ui/logout", api.base))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf)])
            .send()
    };
    assert_eq!(logout("nope").await.unwrap().status(), 403);
    let out = logout(&token).await.unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(page(&api, &cookie, "/").await.0, StatusCode::SEE_OTHER);
    assert_eq!(page(&api, &cookie, "/jobs").await.0, 401);
}

#[tokio::test]
async fn revoking_the_key_ends_its_sessions_and_a_login_from_another_site_is_refused() {
    let api = spawn_api_with(|c| c.auth.cache_ttl = std::time::Duration::ZERO).await;
    let key = api.key("bob", "read", json!({})).await;
    let (cookie, _) = login(&api, &key).await;
    assert_eq!(page(&api, &cookie, "/").await.0, 200);
    api::auth::store::revoke(&api.state.pool, "bob").await.unwrap();
    assert_eq!(page(&api, &cookie, "/").await.0, StatusCode::SEE_OTHER);

    let cross = browser()
        .post(format!("{}/ui/login", api.base))
        .header("sec-fetch-site", "cross-site")
        .form(&[("key", key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    assert!(cross.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn pages_show_only_what_the_key_may_see_and_escape_what_jobs_contain() {
    let api = spawn_api().await;
    let evil = r#"<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">"#;
    let alice = api.client_for("alice", "submit,read").await;
    let job = api.submit_as(&alice, &journal(evil)).await;
    let id = job["id"].as_str().unwrap();
    let other = api.submit_as(&api.client_for("carol", "submit").await, &journal("mine")).await;

    let (alices_cookie, _) = login(&api, &api.key("alice", "read", json!({})).await).await;
    let (status, html) = page(&api, &alices_cookie, &format!("/ui/jobs/{id}")).await;
    assert_eq!(status, 200);
    // Shown as text (askama writes `<` as `&#60;`), never as markup.
    assert!(html.contains("&#60;script&#62;window.__pwned=1&#60;/script&#62;"), "{html}");
    assert!(!html.contains("<script>window") && !html.contains("<img src=x"));
    let other_page = format!("/ui/jobs/{}", other["id"].as_str().unwrap());
    let (status, html) = page(&api, &alices_cookie, &other_page).await;
    assert_eq!(status, 404);
    assert!(html.contains(r#"id="problem""#));
    let (_, list) = page(&api, &alices_cookie, "/").await;
    assert!(list.contains(id) && !list.contains(other["id"].as_str().unwrap()));
}

#[tokio::test]
async fn pages_forbid_inline_scripts_and_static_files_revalidate() {
    let api = spawn_api().await;
    let response = api.get("/").await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    let html = response.text().await.unwrap();
    let handlers = [" onclick=", " onload=", " onerror=", " onsubmit="];
    assert!(!html.contains("<script>") && !handlers.iter().any(|h| html.contains(h)));

    // Static files need no key (they hold nothing private) and are cached by ETag.
    let css = browser().get(format!("{}/ui/static/app.css", api.base)).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let etag = css.headers()["etag"].clone();
    let again = browser()
        .get(format!("{}/ui/static/app.css", api.base))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let missing = browser().get(format!("{}/ui/static/../Cargo.toml", api.base)).send().await;
    assert_ne!(missing.unwrap().status(), 200);
}

/// The issue's budget: the jobs page, with its styles and scripts, under 200 KB uncompressed.
#[tokio::test]
async fn the_jobs_page_with_a_full_page_of_jobs_weighs_under_200_kb() {
    let api = spawn_api().await;
    for i in 0..20 {
        api.submit(&journal(&format!("entry {i}: {}", "long text ".repeat(200)))).await;
    }
    let html = api.get("/").await.text().await.unwrap();
    assert_eq!(html.matches(r#"class="job-row""#).count(), 20);
    let mut total = html.len();
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/ui/static/") && (s.ends_with(".js") || s.ends_with(".css")))
        .collect();
    assert!(assets.len() >= 4, "{assets:?}");
    for asset in &assets {
        total += api.get(asset).await.bytes().await.unwrap().len();
    }
    println!("jobs page: {} bytes of HTML, {total} bytes with {assets:?}", html.len());
    assert!(total <= 200 * 1024, "{total} bytes");
}

#[tokio::test]
async fn with_auth_disabled_the_dashboard_opens_directly() {
    let api = spawn_api_with(|c| c.auth.mode = api::auth::AuthMode::Disabled).await;
    let response = browser().get(format!("{}/", api.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"data-page="jobs""#) && !html.contains("whoami"));
    let login = browser().get(format!("{}/ui/login", api.base)).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
}
