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
    /// MAE over the in-sample one-step naive MAE of the training region. Every window has
    /// `h` points, so this is also the mean of the windows' MASE.
    pub mase: f64,
    /// Standard deviation of the windows' MASE (how much the figure moves from origin to
    /// origin; 0 for a single window).
    #[serde(default)]
    pub mase_sd: f64,
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
    let windows = window_mase(series, origins, forecasts, scale);
    let n = n.max(1) as f64;
    Metrics {
        mae: abs / n,
        rmse: (sq / n).sqrt(),
        mape: 100.0 * pct / n,
        mase: abs / n / scale,
        mase_sd: sd(&windows),
    }
}

/// MASE of each window on its own.
pub fn window_mase(
    series: &[f64],
    origins: &[usize],
    forecasts: &[Vec<f64>],
    scale: f64,
) -> Vec<f64> {
    origins
        .iter()
        .zip(forecasts)
        .map(|(&t0, f)| {
            let mae =
                f.iter().enumerate().map(|(j, yhat)| (yhat - series[t0 + j]).abs()).sum::<f64>()
                    / f.len().max(1) as f64;
            mae / scale
        })
        .collect()
}

/// Sample standard deviation (n - 1); 0 for fewer than two values.
pub fn sd(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let ss = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
    (ss / (values.len() - 1) as f64).sqrt()
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
        // Window MASE 0.5 and 1.0.
        assert_eq!(m.mase_sd, (0.125f64).sqrt());
    }
}
