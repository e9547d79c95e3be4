//! Train / validation / test split and forecast origins.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::ForecastError;

/// Most dense validation origins scored (one forward pass of this many windows).
pub const MAX_VALIDATION_ORIGINS: usize = 2048;
/// Fewest validation folds on which a forecaster may be chosen.
pub const MIN_FOLDS: usize = 3;
/// Share of the training region the validation folds are spread over.
const VALIDATION_SHARE: usize = 5;

/// The protocol's split of a series of `bars` bars for a horizon `h`:
/// test = the last `floor(N/10)` bars, scored at non-overlapping origins every `h` bars from
/// the first test bar (windows past the end dropped); training = everything before.
///
/// With folds (honest recipe): `k` validation origins spread evenly over the last fifth of
/// the training region, the last window ending at the training region's end, windows never
/// overlapping (NeuralForecast's `cross_validation` with `n_windows = k`, `step_size >= h`).
/// The weights are fitted on the bars before the first fold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub bars: usize,
    pub horizon: usize,
    pub train_bars: usize,
    pub test_bars: usize,
    /// Test forecast origins: window k forecasts bars `origin .. origin + h` from bars `< origin`.
    pub origins: Vec<usize>,
    /// Validation fold origins, ascending (empty without validation).
    pub folds: Vec<usize>,
}

impl Split {
    /// The test split only (the faithful recipe).
    pub fn new(bars: usize, horizon: usize) -> Result<Self, ForecastError> {
        if horizon == 0 {
            return Err(ForecastError::config("horizon", "must be at least 1"));
        }
        let test_bars = bars / 10;
        let train_bars = bars - test_bars;
        let windows = test_bars / horizon;
        if windows == 0 {
            return Err(ForecastError::TooFewBars {
                needed: 10 * horizon,
                got: bars,
                why: format!("the last tenth of the bars must hold one test window of {horizon}"),
            });
        }
        let origins = (0..windows).map(|k| train_bars + k * horizon).collect();
        Ok(Self { bars, horizon, train_bars, test_bars, origins, folds: Vec::new() })
    }

    /// The test split plus up to `max_folds` validation folds (at least [`MIN_FOLDS`]).
    pub fn with_folds(
        bars: usize,
        horizon: usize,
        max_folds: usize,
    ) -> Result<Self, ForecastError> {
        let mut split = Self::new(bars, horizon)?;
        let span = split.train_bars / VALIDATION_SHARE;
        let k = max_folds.min(span / horizon);
        if k < MIN_FOLDS {
            return Err(ForecastError::TooFewBars {
                needed: 0, // filled in by the caller, who knows the whole rule
                got: bars,
                why: format!(
                    "the last fifth of the training region must hold {MIN_FOLDS} validation windows of {horizon} bars"
                ),
            });
        }
        let spacing = span / k;
        split.folds = (0..k).rev().map(|i| split.train_bars - horizon - i * spacing).collect();
        Ok(split)
    }

    pub fn train_range(&self) -> Range<usize> {
        0..self.train_bars
    }

    /// Bars the weights are fitted on before validation: everything before the first fold.
    pub fn fit_end(&self) -> usize {
        self.folds.first().copied().unwrap_or(self.train_bars)
    }

    /// The validation region: from the first fold to the end of the training region.
    pub fn validation_range(&self) -> Option<Range<usize>> {
        self.folds.first().map(|&start| start..self.train_bars)
    }

    pub fn test_range(&self) -> Range<usize> {
        self.train_bars..self.bars
    }

    /// Bars that are scored; the test tail past the last whole window is not.
    pub fn scored_range(&self) -> Range<usize> {
        self.train_bars..self.train_bars + self.origins.len() * self.horizon
    }

    /// Every origin of the validation region at stride 1 (thinned beyond
    /// [`MAX_VALIDATION_ORIGINS`]): the residuals the prediction intervals are calibrated on.
    /// Overlapping windows are fine there; choosing a forecaster uses the folds.
    pub fn dense_validation_origins(&self) -> Vec<usize> {
        let Some(range) = self.validation_range() else { return Vec::new() };
        let count = range.len() - self.horizon + 1;
        let stride = count.div_ceil(MAX_VALIDATION_ORIGINS);
        (range.start..=self.train_bars - self.horizon).step_by(stride).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eurusd_split_has_twenty_windows_from_bar_4500() {
        let s = Split::new(5000, 24).unwrap();
        assert_eq!((s.train_bars, s.test_bars), (4500, 500));
        assert_eq!(s.origins.len(), 20);
        assert_eq!((s.origins[0], s.origins[1], s.origins[19]), (4500, 4524, 4956));
        assert_eq!(s.scored_range(), 4500..4980);
        assert!(s.folds.is_empty() && s.validation_range().is_none());
        assert_eq!(s.fit_end(), 4500);
    }

    #[test]
    fn goog_split_has_forty_two_windows_from_bar_1934() {
        let s = Split::new(2148, 5).unwrap();
        assert_eq!((s.train_bars, s.test_bars), (1934, 214));
        assert_eq!(s.origins.len(), 42);
        assert_eq!((s.origins[0], s.origins[41]), (1934, 2139));
        assert_eq!(s.scored_range(), 1934..2144);
    }

    #[test]
    fn folds_spread_over_the_last_fifth_without_overlap_and_end_at_the_training_end() {
        // Half-hourly demand: 4032 bars, h = 48. Training 3629 bars, a fifth is 725 bars
        // (15 days), 10 folds 72 bars apart.
        let s = Split::with_folds(4032, 48, 10).unwrap();
        assert_eq!(s.train_bars, 3629);
        assert_eq!(s.folds.len(), 10);
        assert_eq!(*s.folds.last().unwrap() + 48, 3629);
        assert!(s.folds.windows(2).all(|w| w[1] - w[0] == 72));
        assert_eq!(s.fit_end(), 3629 - 48 - 9 * 72);
        assert!(s.fit_end() >= 3629 - 725);
        let dense = s.dense_validation_origins();
        assert_eq!((dense[0], *dense.last().unwrap()), (s.fit_end(), 3629 - 48));
    }

    #[test]
    fn a_short_validation_region_holds_fewer_folds_and_too_few_is_an_error() {
        // Training 900 bars, a fifth is 180: four windows of 45.
        let s = Split::with_folds(1000, 45, 10).unwrap();
        assert_eq!(s.folds.len(), 4);
        assert!(s.folds.windows(2).all(|w| w[1] - w[0] >= 45));
        assert!(matches!(Split::with_folds(1000, 61, 10), Err(ForecastError::TooFewBars { .. })));
    }

    #[test]
    fn long_validation_regions_are_thinned_to_a_bounded_number_of_dense_origins() {
        let s = Split::with_folds(1_000_000, 1, 10).unwrap();
        let v = s.dense_validation_origins();
        assert!(
            v.len() <= MAX_VALIDATION_ORIGINS && v.len() > MAX_VALIDATION_ORIGINS / 2,
            "{}",
            v.len()
        );
        assert_eq!(v[0], s.fit_end());
        assert!(*v.last().unwrap() < s.train_bars);
    }

    #[test]
    fn a_series_without_one_test_window_is_too_short() {
        assert!(matches!(Split::new(239, 24), Err(ForecastError::TooFewBars { needed: 240, .. })));
        assert_eq!(Split::new(240, 24).unwrap().origins, vec![216]);
    }
}
