//! Row 9: credentials in `OLLAMA_URL`. Before: the password was in the job's error (readable
//! over the API) and twice in the worker log. Also: API keys, good and bad, in the api's log.

use std::time::Duration;

use serde_json::json;
use testkit::procs::Env;

use super::{stack, wait_job};
use crate::report::Report;

const PASSWORD: &str = "s3cret-pa55";

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut report = Report::new("secrets", "credentials in OLLAMA_URL");
    let mut s = stack(env, "secrets", &[]).await?;
    let with_credentials = s.double.url().replace("http://", &format!("http://admin:{PASSWORD}@"));
    s.worker_env.insert("OLLAMA_URL".into(), with_credentials);
    s.start_worker().await?;
    let body = json!({"kind": "analysis", "input": {"task": "journal", "text": "Moved my stop.",
        "model": "no-such-model:1b"}});
    let id = s.submit(&body).await?;
    let job = wait_job(&s, id, Duration::from_secs(30)).await?;
    let error = job["error"].as_str().unwrap_or("").to_owned();
    let name = s.workers[0].name.clone();
    let log = std::fs::read_to_string(s.dir.join(format!("logs/{name}.log")))?;
    let in_log = log.matches(PASSWORD).count();
    report.figure(format!("job {}: {error:.90}", job["status"].as_str().unwrap_or("?")));
    report.figure(format!(
        "password in job error: {}, in worker log: {in_log} times",
        error.contains(PASSWORD)
    ));
    report.check(job["status"] == "failed", format!("job: {job}"));
    report.check(!error.contains(PASSWORD), "the password is in the job's error");
    report.check(error.contains("admin:***@"), "the error does not show the redacted URL");
    report.check(in_log == 0, format!("the password is in the worker log {in_log} times"));

    // API keys: the scenario's own (every request above carried it) and a wrong one.
    let secret = s.token.rsplit('_').next().unwrap_or_default().to_owned();
    let wrong = format!("tf_{}_{}", &s.token[3..15], "0".repeat(64));
    let refused = reqwest::Client::new()
        .get(format!("{}/jobs", s.api_url))
        .bearer_auth(&wrong)
        .send()
        .await?
        .status()
        .as_u16();
    let api_log = std::fs::read_to_string(s.dir.join("logs/api.log"))?;
    let keys_in_log = api_log.matches(&secret).count() + api_log.matches(&wrong[16..]).count();
    report.figure(format!("wrong key: {refused}; keys in the api log: {keys_in_log} times"));
    report.check(refused == 401, format!("a wrong key got {refused}"));
    report.check(keys_in_log == 0, format!("an API key is in the api log {keys_in_log} times"));
    s.stop().await;
    Ok(report)
}
