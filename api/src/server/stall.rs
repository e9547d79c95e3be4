//! Closing connections on which nothing moves.
//!
//! hyper has a timeout for reading request headers but none for a peer that stops reading a
//! response (a download left unread pins its file and buffers) or that goes silent mid-body.
//! [`StallGuard`] wraps the socket: whenever a read, write or flush has to wait, a deadline is
//! armed; any byte moving in either direction disarms it; if it fires first, the pending call
//! fails with `TimedOut` and hyper drops the connection. A live SSE stream writes a heartbeat
//! well within the limit, so only dead or hostile peers are cut.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::{Instant, Sleep},
};

pub struct StallGuard<IO> {
    io: IO,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
    armed: bool,
}

impl<IO> StallGuard<IO> {
    pub fn new(io: IO, limit: Duration) -> Self {
        let deadline = Box::pin(tokio::time::sleep(limit));
        Self { io, limit, deadline, armed: false }
    }

    /// Called when a call had to wait: arms the deadline (once per stall) and fails the call
    /// if it has passed.
    fn waiting(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if !self.armed {
            self.deadline.as_mut().reset(Instant::now() + self.limit);
            self.armed = true;
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no data moved for {:?} (HTTP_STALL_TIMEOUT_S)", self.limit),
            )),
            Poll::Pending => Ok(()),
        }
    }

    fn check<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>>
    where
        T: Moved,
    {
        match poll {
            Poll::Pending => match self.waiting(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
            Poll::Ready(Ok(value)) => {
                if value.moved() {
                    self.armed = false;
                }
                Poll::Ready(Ok(value))
            }
            ready => ready,
        }
    }
}

/// Whether a completed call moved data (a zero-byte read is end of stream, not progress).
trait Moved {
    fn moved(&self) -> bool;
}

impl Moved for usize {
    fn moved(&self) -> bool {
        *self > 0
    }
}

impl Moved for () {
    fn moved(&self) -> bool {
        false
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for StallGuard<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.io).poll_read(cx, buf);
        let poll = poll.map_ok(|()| buf.filled().len() - before);
        this.check(cx, poll).map_ok(|_| ())
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for StallGuard<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write(cx, buf);
        this.check(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.check(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_flush(cx);
        this.check(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_shutdown(cx);
        this.check(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_read_that_waits_past_the_limit_fails() {
        let (client, server) = tokio::io::duplex(64);
        let mut guarded = StallGuard::new(server, Duration::from_secs(5));
        let mut buf = [0u8; 8];
        let err = guarded.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_moving_either_way_keep_the_connection() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut guarded = StallGuard::new(server, Duration::from_secs(5));
        let mut buf = [0u8; 1];
        for _ in 0..10 {
            let send = async {
                tokio::time::sleep(Duration::from_secs(4)).await;
                client.write_all(b"x").await.unwrap();
            };
            let (read, ()) = tokio::join!(guarded.read(&mut buf), send);
            assert_eq!(read.unwrap(), 1, "40 s in all, never 5 s without a byte");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_fails_the_writer() {
        let (client, server) = tokio::io::duplex(16);
        let mut guarded = StallGuard::new(server, Duration::from_secs(5));
        let started = Instant::now();
        let err = guarded.write_all(&[0u8; 1024]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_secs(5));
        drop(client);
    }
}
