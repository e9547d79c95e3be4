//! Row 5: SSE streams. Before: no limit, and each stream polled Postgres 4 times a second:
//! with 2 000 / 6 000 open, `GET /jobs/{id}` went from 2 ms to 124 ms / 1.28 s at the median,
//! and a stream whose job row was gone polled forever.

use std::{
    collections::HashSet,
    net::{IpAddr, Ipv4Addr},
    time::{Duration, Instant},
};

use futures::StreamExt;
use testkit::procs::{Env, Stack};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{api_pid, journal, stack};
use crate::{
    probe::{Latencies, mb, open_files, rss, sample_latency},
    report::Report,
};

const FROM_ONE: usize = 2000;
/// SSE_MAX_STREAMS and SSE_MAX_STREAMS_PER_CLIENT, their defaults.
const MAX_STREAMS: usize = 1000;
const PER_CLIENT: usize = 20;
/// How long the open streams are watched doing nothing.
const QUIET: Duration = Duration::from_secs(3);

#[derive(Debug)]
enum Seen {
    Refused(u16),
    Event { stream: usize, kind: String },
    Ended,
}

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut report = Report::new("streams", "2 000 SSE streams; one job deleted");
    let s = stack(env, "streams", &[]).await?;
    let id = s.submit(&journal("a job that never runs")).await?;
    let pid = api_pid(&s)?;

    // 2 000 from one address: the first 20 stay, the rest are refused at once.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let one = client_from(&s, [127, 0, 0, 1]);
    let started = Instant::now();
    let mut tasks: Vec<_> = (0..FROM_ONE).map(|i| open(&one, &s, id, i, tx.clone())).collect();
    let (mut refused_429, mut opened) = (0, HashSet::new());
    while refused_429 + opened.len() < FROM_ONE {
        match rx.recv().await {
            Some(Seen::Refused(429)) => refused_429 += 1,
            Some(Seen::Event { stream, .. }) => {
                opened.insert(stream);
            }
            other => anyhow::bail!("unexpected {other:?}"),
        }
    }
    report.figure(format!(
        "{FROM_ONE} from one address: {} open, {refused_429} refused 429 within {:.1} s",
        opened.len(),
        started.elapsed().as_secs_f64()
    ));
    report.check(
        opened.len() == PER_CLIENT,
        format!("{} streams open from one address", opened.len()),
    );
    tasks.drain(..).for_each(|t| t.abort());
    tokio::time::sleep(Duration::from_millis(500)).await;

    // 1 000 from 50 addresses: all open (the global limit), one more is a 503.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let clients: Vec<_> = (1..=50).map(|n| client_from(&s, [127, 0, 1, n])).collect();
    let mut tasks: Vec<_> =
        (0..MAX_STREAMS).map(|i| open(&clients[i % 50], &s, id, i, tx.clone())).collect();
    let mut first_events = HashSet::new();
    while first_events.len() < MAX_STREAMS {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await? {
            Some(Seen::Event { stream, .. }) => {
                first_events.insert(stream);
            }
            other => anyhow::bail!("opening {MAX_STREAMS} streams: {other:?}"),
        }
    }
    let extra = client_from(&s, [127, 0, 2, 1])
        .get(format!("{}/jobs/{id}/events", s.api_url))
        .send()
        .await?;
    // Streams that polled would commit 4 x 1 000 transactions a second; these only listen.
    let quiet_from = transactions(&s).await?;
    tokio::time::sleep(QUIET).await;
    let quiet = transactions(&s).await? - quiet_from;
    let http = s.http_builder().build()?;
    let job_url = format!("{}/jobs/{id}", s.api_url);
    let latency = sample_latency(&http, &job_url, 200, Duration::from_millis(10)).await;
    let (files, memory) = (open_files(pid), rss(pid));
    report.figure(format!(
        "{MAX_STREAMS} open from 50 addresses; one more: {}; Postgres transactions in {} s with them open: {quiet}; GET /jobs/{{id}} {}; api {files} open files, {:.0} MB",
        extra.status().as_u16(),
        QUIET.as_secs(),
        latency.summary(),
        mb(memory)
    ));
    report.check(quiet < 100, format!("{quiet} Postgres transactions while the streams were idle"));
    report
        .check(extra.status() == 503, format!("stream {} got {}", MAX_STREAMS + 1, extra.status()));
    report.check(
        latency.quantile(0.5) < 10.0,
        format!("GET /jobs/{{id}} p50 {:.1} ms", latency.quantile(0.5)),
    );

    // One change reaches every stream through the one listener.
    let changed = Instant::now();
    sqlx::query("UPDATE jobs SET progress = '{\"percent\": 50, \"stage\": \"abuse\", \"message\": \"m\"}', updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(&s.pool)
        .await?;
    let mut updated = Latencies::default();
    let mut seen = HashSet::new();
    while seen.len() < MAX_STREAMS {
        if let Some(Seen::Event { stream, kind }) =
            tokio::time::timeout(Duration::from_secs(10), rx.recv()).await?
            && kind == "update"
            && seen.insert(stream)
        {
            updated.record(changed.elapsed());
        }
    }
    report.figure(format!("a change reached all {MAX_STREAMS}: {}", updated.summary()));

    // The row is deleted: every stream says so and ends.
    let deleted = Instant::now();
    sqlx::query("DELETE FROM jobs WHERE id = $1").bind(id).execute(&s.pool).await?;
    let (mut gone, mut ended) = (0, 0);
    while ended < MAX_STREAMS {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await? {
            Some(Seen::Event { kind, .. }) if kind == "gone" => gone += 1,
            Some(Seen::Ended) => ended += 1,
            _ => {}
        }
    }
    let ended_in = deleted.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    report.figure(format!(
        "job deleted: {gone} 'gone' events, {ended} streams ended within {:.2} s; api {} open files after",
        ended_in.as_secs_f64(),
        open_files(pid)
    ));
    report
        .check(gone == MAX_STREAMS && ended == MAX_STREAMS, format!("{gone} gone, {ended} ended"));
    tasks.drain(..).for_each(|t| t.abort());
    s.stop().await;
    Ok(report)
}

fn client_from(s: &Stack<'_>, ip: [u8; 4]) -> reqwest::Client {
    s.http_builder().local_address(IpAddr::V4(Ipv4Addr::from(ip))).build().expect("a client")
}

/// Opens one stream and reports what it sees until it ends.
fn open(
    client: &reqwest::Client,
    s: &Stack<'_>,
    id: Uuid,
    stream: usize,
    tx: mpsc::UnboundedSender<Seen>,
) -> tokio::task::JoinHandle<()> {
    let request = client.get(format!("{}/jobs/{id}/events", s.api_url));
    tokio::spawn(async move {
        let Ok(response) = request.send().await else { return };
        if response.status() != 200 {
            let _ = tx.send(Seen::Refused(response.status().as_u16()));
            return;
        }
        let mut body = response.bytes_stream();
        let mut pending = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = pending.find("\n\n") {
                let frame: String = pending.drain(..end + 2).collect();
                if let Some(kind) = frame.lines().find_map(|l| l.strip_prefix("event:")) {
                    let _ = tx.send(Seen::Event { stream, kind: kind.trim().to_owned() });
                }
            }
        }
        let _ = tx.send(Seen::Ended);
    })
}

/// Committed transactions of the scenario's database so far.
async fn transactions(s: &Stack<'_>) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&s.pool)
    .await?)
}
