//! Row 2 and row 11: artifact downloads. Before: files were read whole into memory and slow
//! readers never timed out (16 stalled downloads of a 366 MB model: api RSS 5.6 GB; 8 ordinary
//! ones: 2.9 GB), and symlinks and FIFOs inside a job's directory were followed.

use std::time::{Duration, Instant};

use futures::{StreamExt, future::join_all};
use testkit::procs::Env;
use tokio::{io::AsyncWriteExt, net::TcpStream};

use super::{STALL_TIMEOUT, api_addr, api_pid, journal, stack, until_closed};
use crate::{
    probe::{RssPeak, mb, open_files},
    report::Report,
};

const SIZE: u64 = 300 << 20;
const STALLED: usize = 16;
const READERS: usize = 8;

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut report = Report::new("downloads", "a 300 MB artifact: stalled, parallel, symlinked");
    let s = stack(env, "downloads", &[]).await?;
    let id = s.submit(&journal("a job to hang files on")).await?;
    let dir = s.dir.join(format!("results/{id}"));
    std::fs::create_dir_all(&dir)?;
    std::fs::File::create(dir.join("model.safetensors"))?.set_len(SIZE)?; // sparse: no disk used
    let pid = api_pid(&s)?;
    // Each download first reads its job (who owns it) through the pool: let the pool open the
    // connections that many requests at once take, so that the baseline counts them.
    let warm = s.http_builder().build()?;
    join_all((0..STALLED).map(|_| warm.get(format!("{}/jobs/{id}", s.api_url)).send())).await;
    drop(warm);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let baseline_files = open_files(pid);

    // Stalled: request the file, never read.
    let rss = RssPeak::start(pid);
    let request = format!(
        "GET /jobs/{id}/artifacts/model.safetensors HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\n\r\n",
        s.token
    );
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        let mut stream = TcpStream::connect(api_addr(&s)).await?;
        stream.write_all(request.as_bytes()).await?;
        stalled.push(stream);
    }
    let started = Instant::now();
    let mut cut_after = None;
    while started.elapsed() < STALL_TIMEOUT + Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if started.elapsed() > Duration::from_secs(1) && open_files(pid) <= baseline_files {
            cut_after = Some(started.elapsed());
            break;
        }
    }
    let stalled_peak = rss.peak();
    drop(rss);
    let mut delivered = 0;
    for stream in &mut stalled {
        let (_, received, _) = until_closed(stream, Duration::from_secs(2)).await;
        delivered += received.len();
    }
    report.figure(format!(
        "{STALLED} stalled: api peak RSS {:.0} MB, all cut after {}, {:.0} MB of {:.0} MB sent",
        mb(stalled_peak),
        cut_after.map_or("never".to_owned(), |t| format!("{:.1} s", t.as_secs_f64())),
        mb(delivered as u64),
        mb(SIZE * STALLED as u64)
    ));
    report.check(
        mb(stalled_peak) < 150.0,
        format!("stalled downloads: api RSS {:.0} MB", mb(stalled_peak)),
    );
    report.check(cut_after.is_some(), "stalled downloads were not cut off");

    // Ordinary: 8 clients read it whole at once.
    let rss = RssPeak::start(pid);
    let http = s.http_builder().build()?;
    let url = format!("{}/jobs/{id}/artifacts/model.safetensors", s.api_url);
    let started = Instant::now();
    let sizes = join_all((0..READERS).map(|_| async {
        let response = http.get(&url).send().await?;
        let length = response.content_length();
        let mut body = response.bytes_stream();
        let mut total = 0u64;
        while let Some(chunk) = body.next().await {
            total += chunk?.len() as u64;
        }
        Ok::<_, reqwest::Error>((total, length))
    }))
    .await;
    let took = started.elapsed();
    let whole = sizes
        .iter()
        .filter(|r| matches!(r, Ok((n, Some(len))) if *n == SIZE && *len == SIZE))
        .count();
    report.figure(format!(
        "{READERS} parallel readers: {whole} got all {:.0} MB, {:.0} MB/s in all, api peak RSS {:.0} MB",
        mb(SIZE),
        mb(SIZE * READERS as u64) / took.as_secs_f64(),
        mb(rss.peak())
    ));
    report.check(whole == READERS, format!("{whole} of {READERS} downloads complete"));
    report.check(
        mb(rss.peak()) < 150.0,
        format!("parallel downloads: api RSS {:.0} MB", mb(rss.peak())),
    );

    // Row 11: a symlink to /etc/passwd and a FIFO in the job's directory.
    std::os::unix::fs::symlink("/etc/passwd", dir.join("passwd.md"))?;
    let made = std::process::Command::new("mkfifo").arg(dir.join("pipe.csv")).status()?;
    anyhow::ensure!(made.success(), "mkfifo failed");
    let started = Instant::now();
    let mut statuses = Vec::new();
    for name in ["passwd.md", "pipe.csv"] {
        statuses.push(
            http.get(format!("{}/jobs/{id}/artifacts/{name}", s.api_url))
                .send()
                .await?
                .status()
                .as_u16(),
        );
    }
    let listed: serde_json::Value =
        http.get(format!("{}/jobs/{id}/artifacts", s.api_url)).send().await?.json().await?;
    report.figure(format!(
        "symlink, FIFO: {statuses:?} in {:.0} ms; listed {}",
        started.elapsed().as_secs_f64() * 1000.0,
        listed.as_array().map_or(0, Vec::len)
    ));
    report.check(statuses == [404, 404], format!("symlink/FIFO answered {statuses:?}"));
    report.check(listed.as_array().map_or(0, Vec::len) == 1, format!("listing: {listed}"));
    s.stop().await;
    Ok(report)
}
