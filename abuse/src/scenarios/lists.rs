//! Row 3: `GET /jobs` over jobs with large inputs. Before: 100 jobs of ~1 MB inline bars made
//! one `limit=100` page 128 MB in 5.7 s; 4 at once took 22 s each and the api peaked at 3.25 GB.

use std::time::Instant;

use futures::{StreamExt, stream};
use testkit::procs::Env;

use super::{api_pid, inline_training, stack};
use crate::{
    probe::{Latencies, RssPeak, mb},
    report::Report,
};

const JOBS: u64 = 100;

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut report = Report::new("lists", "GET /jobs?limit=100 over 1 MB inputs, 4 at once");
    let s = stack(env, "lists", &[]).await?;
    let client = s.client();
    let submitted: Vec<_> = stream::iter(0..JOBS)
        .map(|i| {
            let client = client.clone();
            async move { client.post(&inline_training(7_500, i)).await }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let accepted = submitted.iter().filter(|r| matches!(r, Ok((202, _)))).count();
    report.check(accepted == JOBS as usize, format!("{accepted} of {JOBS} large jobs accepted"));

    let pid = api_pid(&s)?;
    let rss = RssPeak::start(pid);
    let http = s.http_builder().build()?;
    let url = format!("{}/jobs?limit=100", s.api_url);
    let mut latencies = Latencies::default();
    let mut largest = 0;
    for _ in 0..3 {
        let pages = futures::future::join_all((0..4).map(|_| async {
            let started = Instant::now();
            let bytes = http.get(&url).send().await?.bytes().await?;
            Ok::<_, reqwest::Error>((bytes.len(), started.elapsed()))
        }))
        .await;
        for page in pages {
            let (bytes, took) = page?;
            largest = largest.max(bytes);
            latencies.record(took);
        }
    }
    let peak = rss.peak();
    let page: serde_json::Value = http.get(&url).send().await?.json().await?;
    let listed = page["jobs"].as_array().map_or(0, Vec::len);
    report.figure(format!(
        "page of {listed} jobs: {:.0} KB, {}; api peak RSS {:.0} MB",
        largest as f64 / 1024.0,
        latencies.summary(),
        mb(peak)
    ));
    report.check(listed == JOBS as usize, format!("the page lists {listed} jobs"));
    report.check(largest < 512 * 1024, format!("a page is {largest} bytes"));
    report.check(mb(peak) < 150.0, format!("api peak RSS {:.0} MB", mb(peak)));
    report.check(
        page["jobs"][0]["input"]["data"]["bar_count"] == 7_500,
        format!("summaries: {}", page["jobs"][0]["input"]),
    );
    s.stop().await;
    Ok(report)
}
