//! Row 12: model output in `report.md` and `result`. Before: `<script>` and `javascript:`
//! links were written as is and served as text/markdown without nosniff, and 100 KB of fields
//! the schema does not define were kept in `result`.

use std::time::Duration;

use serde_json::json;
use testkit::procs::Env;

use super::{journal, stack, wait_job};
use crate::report::Report;

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut report = Report::new("model_output", "hostile model output in report.md and result");
    // Room for the 100 KB reply, which the journal step's token budget would otherwise cut off.
    let roomy = [("LLM_TOKEN_BUDGETS", "journal=40000"), ("OLLAMA_NUM_CTX", "65536")];
    let mut s = stack(env, "model_output", &roomy).await?;
    s.start_worker().await?;
    let hostile =
        "<script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror=alert(1)>";
    s.ollama().reply_next_chat(
        json!({"emotions": [hostile], "rules_broken": ["\u{0}nul"], "biases": [],
               "advice": format!("{hostile}\n# Injected heading"), "padding": "x".repeat(100_000)})
        .to_string(),
    );
    let id = s.submit(&journal("I moved my stop twice.")).await?;
    let job = wait_job(&s, id, Duration::from_secs(30)).await?;
    report.check(job["status"] == "succeeded", format!("job: {job}"));
    let result_bytes = job["result"].to_string().len();
    report.figure(format!("result {result_bytes} bytes (the reply carried 100 KB more)"));
    report.check(job["result"].get("padding").is_none(), "an undeclared field was stored");
    report.check(result_bytes < 2_000, format!("result is {result_bytes} bytes"));

    let response = reqwest::get(format!("{}/jobs/{id}/artifacts/report.md", s.api_url)).await?;
    let headers = response.headers().clone();
    let text = response.text().await?;
    let header =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let unescaped = |needle: &str| {
        text.match_indices(needle).any(|(i, _)| i == 0 || !text[..i].ends_with('\\'))
    };
    let active: Vec<&str> = ["<script", "<img", "](javascript:", "\n# Injected"]
        .into_iter()
        .filter(|n| unescaped(n))
        .collect();
    report.figure(format!(
        "report.md: active constructs {active:?}; {} / {} / {}",
        header("content-type"),
        header("x-content-type-options"),
        header("content-security-policy")
    ));
    report.check(active.is_empty(), format!("report.md carries {active:?}"));
    report.check(header("x-content-type-options") == "nosniff", "no nosniff");
    report.check(header("content-security-policy").contains("sandbox"), "no CSP sandbox");
    s.stop().await;
    Ok(report)
}
