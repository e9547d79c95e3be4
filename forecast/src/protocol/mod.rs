//! The evaluation protocol of `FORECAST_PROTOCOL.md` (split, scoring, baselines), extended
//! with validation folds, seasonal baselines and conformal prediction intervals.

mod baselines;
mod intervals;
mod metrics;
mod split;

pub use baselines::{Forecaster, drift, naive, seasonal_naive};
pub use intervals::{Band, Conformal, Coverage, LEVELS};
pub use metrics::{Metrics, mase_scale, score, sd, window_mase};
pub use split::{MAX_VALIDATION_ORIGINS, MIN_FOLDS, Split};
