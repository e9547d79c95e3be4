//! The HTTP server: hyper, driven by our own accept loop so that every connection runs under
//! fixed limits whatever the client does.
//!
//! - At most `HTTP_MAX_CONNECTIONS` at once; past that a connection gets a canned 503 and is
//!   closed, before any of it is parsed.
//! - Request headers must arrive within `HTTP_HEADER_TIMEOUT_S` (hyper's timer, which also
//!   closes keep-alive connections that stay idle that long).
//! - A connection on which no byte moves for `HTTP_STALL_TIMEOUT_S` is closed ([`StallGuard`]).
//! - Bodies and handlers are bounded in the router (`limits`).
//!
//! `axum::serve` offers none of these: it sets no timer, so hyper's header timeout is off. Only
//! HTTP/1.1 is spoken: cleartext HTTP/2 (prior knowledge) has no header timeout of its own, and
//! no client of this API needs it (put a proxy in front for HTTP/2 or TLS).

pub mod limits;
mod stall;

use std::{
    net::SocketAddr,
    sync::{Arc, LazyLock},
    time::Duration,
};

use axum::{Router, extract::ConnectInfo, http::Request};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{io::AsyncWriteExt, net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

pub use limits::HttpLimits;
use stall::StallGuard;

/// How long connections may take to finish after shutdown starts (SSE streams end at once).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Answer to a connection over the cap: nothing of the request is read.
static OVERLOADED: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let body = r#"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"too many open connections (HTTP_MAX_CONNECTIONS); retry shortly"}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: CancellationToken,
) {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait for connections to close.
                    tracing::warn!(error.message = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics::counter!("tradeforge_http_connections_refused_total").increment(1);
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(StallGuard::new(stream, limits.stall_timeout));
        let service = app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let connection =
            graceful.watch(builder.serve_connection(io, TowerToHyperService::new(service)));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error.message = %e, "connection closed with an error");
            }
            drop(slot);
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open {SHUTDOWN_GRACE:?} after shutdown; closing them");
        }
    }
}

async fn refuse(mut stream: tokio::net::TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&OVERLOADED)).await;
}

/// Where a request came from, when the server recorded it (tests that drive the router
/// directly have none).
pub fn peer(req_extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    req_extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| *addr)
}
