//! Reading a streamed reply under three bounds instead of one wall-clock timeout: the first
//! token must come within `first_token` (longer, `load`, on a model's first call since start-up,
//! when the server may be loading it), then no silence longer than `stall`, and the whole call
//! within `total`. A slow but steady model is not cut; a stuck one is cut in seconds.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::time::Instant;

use super::error::ServerError;

/// The bounds on one streamed call (`OLLAMA_FIRST_TOKEN_TIMEOUT_S`, `OLLAMA_LOAD_TIMEOUT_S`,
/// `OLLAMA_STALL_TIMEOUT_S`, `OLLAMA_TIMEOUT_S`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    pub first_token: Duration,
    pub load: Duration,
    pub stall: Duration,
    pub total: Duration,
}

/// The clock of one call: which bound applies now, and the error when it fires.
pub(crate) struct CallClock<'a> {
    server: &'a str,
    model: &'a str,
    started: Instant,
    first_token: Duration,
    first_token_setting: &'static str,
    stall: Duration,
    total: Duration,
    first_token_at: Option<Instant>,
    last_token: Option<Instant>,
    tokens: u64,
}

impl<'a> CallClock<'a> {
    /// `cold`: the model has not answered since start-up, so loading it counts as thinking.
    pub(crate) fn start(server: &'a str, model: &'a str, limits: StreamLimits, cold: bool) -> Self {
        let (first_token, first_token_setting) = if cold && limits.load > limits.first_token {
            (limits.load, "OLLAMA_LOAD_TIMEOUT_S: the model's first call since start-up")
        } else {
            (limits.first_token, "OLLAMA_FIRST_TOKEN_TIMEOUT_S")
        };
        Self {
            server,
            model,
            started: Instant::now(),
            first_token,
            first_token_setting,
            stall: limits.stall,
            total: limits.total,
            first_token_at: None,
            last_token: None,
            tokens: 0,
        }
    }

    /// Counts `n` tokens that just arrived; returns the running total.
    pub(crate) fn tokens_arrived(&mut self, n: u64) -> u64 {
        if n > 0 {
            let now = Instant::now();
            self.tokens += n;
            self.first_token_at.get_or_insert(now);
            self.last_token = Some(now);
        }
        self.tokens
    }

    /// How long the first token took, once it came.
    pub(crate) fn first_token_after(&self) -> Option<Duration> {
        self.first_token_at.map(|at| at - self.started)
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Awaits `step` (sending, reading headers, the next chunk) under whichever bound is
    /// nearest: first token or stall, and the overall cap.
    pub(crate) async fn within<T>(&self, step: impl Future<Output = T>) -> Result<T, ServerError> {
        let cap = self.started + self.total;
        let (phase_end, phase) = match self.last_token {
            None => (self.started + self.first_token, Phase::FirstToken),
            Some(at) => (at + self.stall, Phase::Stall),
        };
        let (deadline, fired) =
            if cap <= phase_end { (cap, Phase::Cap) } else { (phase_end, phase) };
        tokio::time::timeout_at(deadline, step).await.map_err(|_elapsed| self.error(fired))
    }

    fn error(&self, fired: Phase) -> ServerError {
        let (server, model) = (self.server.to_owned(), self.model.to_owned());
        match fired {
            Phase::FirstToken => ServerError::FirstTokenTimeout {
                server,
                model,
                waited: self.first_token,
                setting: self.first_token_setting,
            },
            Phase::Stall => {
                ServerError::Stalled { server, model, silence: self.stall, tokens: self.tokens }
            }
            Phase::Cap => {
                ServerError::TooSlow { server, model, cap: self.total, tokens: self.tokens }
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Phase {
    FirstToken,
    Stall,
    Cap,
}

/// Splits a byte stream into lines (NDJSON, or SSE's `data:` lines); a last line without its
/// newline is still returned. A line longer than `MAX_LINE` is an error: no protocol we speak
/// sends one, and buffering it would let a broken server grow our memory without bound.
pub(crate) struct Lines<S> {
    chunks: S,
    pending: Vec<u8>,
    ended: bool,
}

pub(crate) const MAX_LINE: usize = 1 << 20;

impl<S: Stream<Item = reqwest::Result<Bytes>> + Unpin> Lines<S> {
    pub(crate) fn new(chunks: S) -> Self {
        Self { chunks, pending: Vec::new(), ended: false }
    }

    /// The next line without its `\n` (and `\r`); `None` at the end of the body.
    pub(crate) async fn next(&mut self) -> Option<Result<Vec<u8>, LineError>> {
        loop {
            if let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Some(Ok(line));
            }
            if self.ended {
                return (!self.pending.is_empty()).then(|| Ok(std::mem::take(&mut self.pending)));
            }
            match self.chunks.next().await {
                Some(Ok(chunk)) => {
                    self.pending.extend_from_slice(&chunk);
                    if self.pending.len() > MAX_LINE {
                        return Some(Err(LineError::TooLong));
                    }
                }
                Some(Err(e)) => return Some(Err(LineError::Transport(e))),
                None => self.ended = true,
            }
        }
    }
}

#[derive(Debug)]
pub(crate) enum LineError {
    Transport(reqwest::Error),
    TooLong,
}
