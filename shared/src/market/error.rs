//! Why market data could not be loaded.

use std::io;

/// A failure to produce bars for a job. Everything is permanent (retrying cannot fix a missing
/// file or a bad row) except I/O errors that are transient by nature, see
/// [`MarketDataError::is_permanent`].
#[derive(Debug, thiserror::Error)]
pub enum MarketDataError {
    #[error(
        "no market data for {symbol} (there is no {symbol}.csv in the data directory; \
         send input.data with a CSV path or inline bars)"
    )]
    NoData { symbol: String },

    /// `origin` names what was being read: the path as the job gave it, or the file's path.
    #[error("cannot read {origin}: {source}")]
    Io {
        origin: String,
        #[source]
        source: io::Error,
    },

    /// A row or the header of a CSV is malformed; `line` is 1-based, the header is line 1.
    #[error("{origin} line {line}: {message}")]
    Parse { origin: String, line: u64, message: String },

    /// The data as a whole is unusable: no bars, a path outside the data directory, inline
    /// bars that break a rule.
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },

    /// The job was stopped (cancelled, timed out) while its data was being read.
    #[error("stopped while reading {origin}")]
    Stopped { origin: String },
}

impl MarketDataError {
    /// Whether retrying the job cannot help. Only I/O errors that a later attempt may not meet
    /// (interrupted, timed out, busy, out of file descriptors) are transient.
    pub fn is_permanent(&self) -> bool {
        match self {
            MarketDataError::Io { source, .. } => !is_transient(source),
            MarketDataError::Stopped { .. } => false,
            _ => true,
        }
    }

    pub(crate) fn io(origin: impl Into<String>, source: io::Error) -> Self {
        MarketDataError::Io { origin: origin.into(), source }
    }

    pub(crate) fn invalid(origin: impl Into<String>, message: impl Into<String>) -> Self {
        MarketDataError::Invalid { origin: origin.into(), message: message.into() }
    }
}

fn is_transient(error: &io::Error) -> bool {
    // EMFILE (24) and ENFILE (23) have the same numbers on Linux and macOS and carry no
    // ErrorKind of their own; they pass once other jobs close their files.
    matches!(
        error.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::TimedOut
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::ResourceBusy
    ) || (cfg!(unix) && matches!(error.raw_os_error(), Some(23 | 24)))
}
