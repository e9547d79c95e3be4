//! The evaluation protocol of `FORECAST_PROTOCOL.md`: split, scoring and baselines.

mod baselines;
mod metrics;
mod split;

pub use baselines::{Forecaster, drift, naive};
pub use metrics::{Metrics, mase_scale, score};
pub use split::{MAX_VALIDATION_ORIGINS, Split};
