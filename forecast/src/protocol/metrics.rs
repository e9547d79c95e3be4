//! Pooled error metrics over every scored point.

use serde::{Deserialize, Serialize};

/// Errors pooled over all windows and horizon steps, every point weighted equally.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub mae: f64,
    /// Root of the pooled mean squared error.
    pub rmse: f64,
    /// Percent.
    pub mape: f64,
    /// MAE over the in-sample one-step naive MAE of the training region.
    pub mase: f64,
}

/// MASE scale: `mean(|y[t] - y[t-1]|)` over the training region.
pub fn mase_scale(train: &[f64]) -> f64 {
    let diffs = train.windows(2).map(|w| (w[1] - w[0]).abs());
    diffs.sum::<f64>() / train.len().saturating_sub(1).max(1) as f64
}

/// Scores `forecasts[k]` against `series[origins[k] ..]`.
pub fn score(series: &[f64], origins: &[usize], forecasts: &[Vec<f64>], scale: f64) -> Metrics {
    let (mut abs, mut sq, mut pct, mut n) = (0.0, 0.0, 0.0, 0usize);
    for (&t0, forecast) in origins.iter().zip(forecasts) {
        for (j, &yhat) in forecast.iter().enumerate() {
            let y = series[t0 + j];
            let e = yhat - y;
            abs += e.abs();
            sq += e * e;
            pct += e.abs() / y.abs();
            n += 1;
        }
    }
    let n = n.max(1) as f64;
    Metrics { mae: abs / n, rmse: (sq / n).sqrt(), mape: 100.0 * pct / n, mase: abs / n / scale }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mase_scale_is_the_mean_absolute_one_step_change() {
        assert_eq!(mase_scale(&[1.0, 3.0, 2.0, 2.0]), 1.0);
    }

    #[test]
    fn metrics_pool_every_point_equally() {
        let series = [0.0, 10.0, 10.0, 20.0, 20.0];
        // Windows at 1 and 3, h = 2: errors +1, -1 and +2, +2 (one window of each).
        let m = score(&series, &[1, 3], &[vec![11.0, 9.0], vec![22.0, 22.0]], 2.0);
        assert_eq!(m.mae, 1.5);
        assert_eq!(m.rmse, (10.0f64 / 4.0).sqrt());
        assert_eq!(m.mape, 100.0 * (0.1 + 0.1 + 0.1 + 0.1) / 4.0);
        assert_eq!(m.mase, 0.75);
    }
}
