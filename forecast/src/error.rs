//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong while validating, training, evaluating or loading a model.
///
/// [`ForecastError::is_input_error`] separates problems with the caller's input (bad
/// configuration, bad or too little data), which retrying cannot fix, from everything else.
#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    /// A configuration field is out of bounds or inconsistent with another one.
    #[error("invalid `{field}`: {reason}")]
    InvalidConfig { field: &'static str, reason: String },

    /// The series holds a value that cannot be a price.
    #[error("bar {index} is not a finite number ({value})")]
    NonFiniteBar { index: usize, value: f64 },

    /// The series is too short for the protocol's split with this configuration.
    #[error("too few bars: {needed} needed ({why}), got {got}")]
    TooFewBars { needed: usize, got: usize, why: String },

    /// Every training bar has the same value: the MASE scale is zero and skill is undefined.
    #[error("the training region is flat (every bar equal), so MASE is undefined")]
    FlatSeries,

    /// A history handed to a forecaster is shorter than the model's input window.
    #[error("history too short: the model reads {needed} bars, got {got}")]
    HistoryTooShort { needed: usize, got: usize },

    /// The hooks asked to stop; the step count says how far training got.
    #[error("training cancelled after step {step}")]
    Cancelled { step: usize },

    /// The training loss became NaN or infinite.
    #[error("training diverged at step {step}: the loss is {loss}")]
    Diverged { step: usize, loss: f64 },

    /// A saved model is missing a tensor, has the wrong shape or an unreadable card.
    #[error("model artifact {path}: {reason}")]
    InvalidArtifact { path: PathBuf, reason: String },

    #[error("reading or writing {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("model card JSON: {0}")]
    Json(#[from] serde_json::Error),

    #[error("tensor computation: {0}")]
    Candle(#[from] candle_core::Error),
}

impl ForecastError {
    /// True when the caller's input is at fault (a 4xx at submission, a permanent job error).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Self::InvalidConfig { .. }
                | Self::NonFiniteBar { .. }
                | Self::TooFewBars { .. }
                | Self::FlatSeries
                | Self::HistoryTooShort { .. }
        )
    }

    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidConfig { field, reason: reason.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
}
