//! Row 4: no connection timeouts. Before: 500 connections sending one header byte per second,
//! idle keep-alives and half-sent bodies were all still open after 100 s.

use std::time::Duration;

use futures::future::join_all;
use testkit::procs::Env;
use tokio::{io::AsyncWriteExt, net::TcpStream};

use super::{BODY_TIMEOUT, HEADER_TIMEOUT, api_addr, api_pid, stack, until_closed};
use crate::{
    probe::{Latencies, open_files},
    report::Report,
};

const SLOWLORIS: usize = 500;
const IDLE: usize = 200;
const HALF_BODIES: usize = 200;
/// Slack on top of a timeout before a connection counts as left open.
const MARGIN: Duration = Duration::from_millis(1500);

pub async fn run(env: &mut Env) -> anyhow::Result<Report> {
    let mut report = Report::new("slow_clients", "slowloris, idle keep-alive, half-sent bodies");
    let s = stack(env, "slow_clients", &[]).await?;
    let addr = api_addr(&s);
    let pid = api_pid(&s)?;
    let files_before = open_files(pid);

    // One header byte per second, forever.
    let slowloris = join_all((0..SLOWLORIS).map(|_| {
        let addr = addr.clone();
        async move {
            let mut stream = TcpStream::connect(&addr).await?;
            stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ").await?;
            let (mut read, mut write) = stream.into_split();
            let trickle = tokio::spawn(async move {
                while write.write_all(b"a").await.is_ok() {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
            let closed = until_closed_half(&mut read, HEADER_TIMEOUT + MARGIN).await;
            trickle.abort();
            Ok::<_, std::io::Error>(closed)
        }
    }));
    // A whole request, then silence on a keep-alive connection.
    let idle = join_all((0..IDLE).map(|_| {
        let addr = addr.clone();
        async move {
            let mut stream = TcpStream::connect(&addr).await?;
            stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await?;
            let (took, received, closed) = until_closed(&mut stream, HEADER_TIMEOUT + MARGIN).await;
            let answered = received.starts_with(b"HTTP/1.1 200");
            Ok::<_, std::io::Error>(closed.then_some(took).filter(|_| answered))
        }
    }));
    // Headers promising 100 bytes of body, then 10 of them.
    let head = format!(
        "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {}\r\nContent-Length: 100\r\n\r\n{{\"kind\":\"a",
        s.token
    );
    let half = join_all((0..HALF_BODIES).map(|_| {
        let (addr, head) = (addr.clone(), head.clone());
        async move {
            let mut stream = TcpStream::connect(&addr).await?;
            stream.write_all(head.as_bytes()).await?;
            let (took, received, closed) = until_closed(&mut stream, BODY_TIMEOUT + MARGIN).await;
            let timed_out = received.starts_with(b"HTTP/1.1 408");
            Ok::<_, std::io::Error>(closed.then_some(took).filter(|_| timed_out))
        }
    }));
    let (slowloris, idle, half) = tokio::join!(slowloris, idle, half);
    let files_after = open_files(pid);

    for (what, outcomes, limit) in [
        ("slowloris", slowloris, HEADER_TIMEOUT),
        ("idle keep-alive", idle, HEADER_TIMEOUT),
        ("half-sent body (408)", half, BODY_TIMEOUT),
    ] {
        let mut closed = Latencies::default();
        let total = outcomes.len();
        for outcome in outcomes {
            if let Ok(Some(took)) = outcome {
                closed.record(took);
            }
        }
        report.figure(format!(
            "{what}: {}/{total} closed by the server, {} (limit {} s)",
            closed.len(),
            closed.summary(),
            limit.as_secs()
        ));
        report.check(
            closed.len() == total,
            format!("{what}: {} of {total} left open past the limit", total - closed.len()),
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let files_end = open_files(pid);
    report.figure(format!("api open files {files_before} → {files_after} → {files_end}"));
    report.check(files_end <= files_before + 10, format!("api still holds {files_end} files"));
    s.stop().await;
    Ok(report)
}

/// [`until_closed`] for the read half of a split stream: when the server closed it, and after
/// how long.
async fn until_closed_half(
    read: &mut tokio::net::tcp::OwnedReadHalf,
    limit: Duration,
) -> Option<Duration> {
    use tokio::io::AsyncReadExt;
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(started + limit, read.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}
