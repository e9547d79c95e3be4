//! Prediction intervals by split conformal prediction.
//!
//! For each horizon step j, the absolute errors of a forecaster at every validation origin
//! (forecasts made without seeing the validation bars) calibrate the half-width: the
//! `ceil((n + 1) * level)`-th smallest of the n errors. Under exchangeability of the errors
//! the interval `forecast ± half-width` covers the truth with probability at least `level`;
//! the test region's empirical coverage is reported to show how far that holds.

use serde::{Deserialize, Serialize};

/// The nominal levels every served forecast carries.
pub const LEVELS: [f64; 2] = [0.80, 0.95];

/// Half-widths per horizon step at 80 % and 95 %.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conformal {
    /// Validation origins whose errors calibrated the widths.
    pub calibration_windows: usize,
    pub half_width_80: Vec<f64>,
    pub half_width_95: Vec<f64>,
}

/// One forecast value with its intervals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub lower_80: f64,
    pub upper_80: f64,
    pub lower_95: f64,
    pub upper_95: f64,
}

/// Share of scored test points inside each interval, in percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub nominal_80: f64,
    pub empirical_80: f64,
    pub nominal_95: f64,
    pub empirical_95: f64,
}

impl Conformal {
    /// Calibrates on `forecasts[k]` made at `origins[k]` against `series`. `None` without
    /// origins.
    pub fn calibrate(series: &[f64], origins: &[usize], forecasts: &[Vec<f64>]) -> Option<Self> {
        let h = forecasts.first()?.len();
        let mut per_step: Vec<Vec<f64>> = vec![Vec::with_capacity(origins.len()); h];
        for (&t0, f) in origins.iter().zip(forecasts) {
            for (j, &yhat) in f.iter().enumerate() {
                per_step[j].push((series[t0 + j] - yhat).abs());
            }
        }
        for errors in &mut per_step {
            errors.sort_by(f64::total_cmp);
        }
        let width = |level: f64| per_step.iter().map(|e| conformal_quantile(e, level)).collect();
        Some(Self {
            calibration_windows: origins.len(),
            half_width_80: width(LEVELS[0]),
            half_width_95: width(LEVELS[1]),
        })
    }

    /// The intervals around `value`, the forecast `step` bars ahead (0-based).
    pub fn band(&self, step: usize, value: f64) -> Band {
        let (w80, w95) = (self.half_width_80[step], self.half_width_95[step]);
        Band {
            lower_80: value - w80,
            upper_80: value + w80,
            lower_95: value - w95,
            upper_95: value + w95,
        }
    }

    /// Empirical coverage of the intervals around `forecasts` on the test windows.
    pub fn coverage(&self, series: &[f64], origins: &[usize], forecasts: &[Vec<f64>]) -> Coverage {
        let (mut in80, mut in95, mut n) = (0usize, 0usize, 0usize);
        for (&t0, f) in origins.iter().zip(forecasts) {
            for (j, &yhat) in f.iter().enumerate() {
                let (y, band) = (series[t0 + j], self.band(j, yhat));
                in80 += usize::from(band.lower_80 <= y && y <= band.upper_80);
                in95 += usize::from(band.lower_95 <= y && y <= band.upper_95);
                n += 1;
            }
        }
        let pct = |k: usize| 100.0 * k as f64 / n.max(1) as f64;
        Coverage {
            nominal_80: 100.0 * LEVELS[0],
            empirical_80: pct(in80),
            nominal_95: 100.0 * LEVELS[1],
            empirical_95: pct(in95),
        }
    }
}

/// The `ceil((n + 1) * level)`-th smallest of `sorted` (the largest when that rank is past n).
fn conformal_quantile(sorted: &[f64], level: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::INFINITY;
    }
    let rank = ((n + 1) as f64 * level).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_half_width_is_the_conformal_rank_of_the_errors_per_step() {
        // 19 origins, errors 1..=19 at step 0 and twice that at step 1.
        let series: Vec<f64> = vec![0.0; 40];
        let origins: Vec<usize> = (0..19).collect();
        let forecasts: Vec<Vec<f64>> = (1..=19).map(|e| vec![e as f64, 2.0 * e as f64]).collect();
        let c = Conformal::calibrate(&series, &origins, &forecasts).unwrap();
        // ceil(20 * 0.8) = 16th smallest; ceil(20 * 0.95) = 19th.
        assert_eq!(c.half_width_80, vec![16.0, 32.0]);
        assert_eq!(c.half_width_95, vec![19.0, 38.0]);
        assert_eq!(c.calibration_windows, 19);
        let b = c.band(1, 100.0);
        assert_eq!((b.lower_80, b.upper_95), (68.0, 138.0));
    }

    #[test]
    fn coverage_counts_points_inside_each_interval() {
        let c = Conformal {
            calibration_windows: 1,
            half_width_80: vec![1.0],
            half_width_95: vec![3.0],
        };
        let series = [0.0, 0.5, 2.0, 5.0];
        // Truth 0.5 (inside both), 2.0 (only 95), 5.0 (neither).
        let cov = c.coverage(&series, &[1, 2, 3], &[vec![0.0], vec![0.0], vec![0.0]]);
        assert!((cov.empirical_80 - 100.0 / 3.0).abs() < 1e-9);
        assert!((cov.empirical_95 - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!((cov.nominal_80, cov.nominal_95), (80.0, 95.0));
    }

    #[test]
    fn few_errors_give_the_largest_as_the_width() {
        assert_eq!(conformal_quantile(&[1.0, 2.0], 0.95), 2.0);
        assert_eq!(conformal_quantile(&[], 0.8), f64::INFINITY);
    }
}
