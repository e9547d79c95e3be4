//! Row 8: the HTTP metrics' method label. Before: 20 000 made-up methods grew `/metrics` from
//! 203 KB to 42 MB, for good.

use futures::{StreamExt, stream};
use testkit::procs::Env;

use super::stack;
use crate::report::Report;

const REQUESTS: usize = 20_000;

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut report = Report::new("metrics", "20 000 made-up HTTP methods");
    let s = stack(env, "metrics", &[]).await?;
    let http = s.http_builder().build()?;
    let metrics_url = format!("{}/metrics", s.api_url);
    let before = http.get(&metrics_url).send().await?.bytes().await?.len();
    let answered: usize = stream::iter(0..REQUESTS)
        .map(|i| {
            let (http, url) = (http.clone(), format!("{}/health", s.api_url));
            async move {
                let method =
                    reqwest::Method::from_bytes(format!("MADEUP{i}").as_bytes()).expect("a token");
                http.request(method, url).send().await.map(|r| r.status().as_u16() == 405)
            }
        })
        .buffer_unordered(64)
        .filter(|r| futures::future::ready(matches!(r, Ok(true))))
        .count()
        .await;
    let text = http.get(&metrics_url).send().await?.text().await?;
    report.figure(format!(
        "{answered}/{REQUESTS} answered 405; /metrics {:.0} KB before, {:.0} KB after",
        before as f64 / 1024.0,
        text.len() as f64 / 1024.0
    ));
    report.check(answered == REQUESTS, format!("{answered} of {REQUESTS} got 405"));
    report.check(text.len() < 300 * 1024, format!("/metrics is {} bytes", text.len()));
    report.check(!text.contains("MADEUP"), "a made-up method became a label");
    s.stop().await;
    Ok(report)
}
