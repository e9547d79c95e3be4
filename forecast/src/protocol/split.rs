//! Train / validation / test split and forecast origins.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::ForecastError;

/// Most validation origins scored per check (one forward pass of this many windows).
pub const MAX_VALIDATION_ORIGINS: usize = 2048;

/// The protocol's split of a series of `bars` bars for a horizon `h`:
/// test = the last `floor(N/10)` bars, scored at non-overlapping origins every `h` bars from
/// the first test bar (windows past the end dropped); training = everything before;
/// validation (honest recipe only) = the last `floor(n_train/10)` training bars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub bars: usize,
    pub horizon: usize,
    pub train_bars: usize,
    pub test_bars: usize,
    pub validation_bars: usize,
    /// Test forecast origins: window k forecasts bars `origin .. origin + h` from bars `< origin`.
    pub origins: Vec<usize>,
}

impl Split {
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
        Ok(Self { bars, horizon, train_bars, test_bars, validation_bars: train_bars / 10, origins })
    }

    pub fn train_range(&self) -> Range<usize> {
        0..self.train_bars
    }

    /// The honest recipe's validation tail: the last tenth of the training region.
    pub fn validation_range(&self) -> Range<usize> {
        self.train_bars - self.validation_bars..self.train_bars
    }

    pub fn test_range(&self) -> Range<usize> {
        self.train_bars..self.bars
    }

    /// Bars that are scored; the test tail past the last whole window is not.
    pub fn scored_range(&self) -> Range<usize> {
        self.train_bars..self.train_bars + self.origins.len() * self.horizon
    }

    /// Validation origins at stride 1, every origin whose window ends inside the training
    /// region: many more (overlapping) windows than stride h, so the choice of the served
    /// forecaster rests on hundreds of forecasts rather than a couple of dozen. Beyond
    /// [`MAX_VALIDATION_ORIGINS`] the stride grows so that checks stay cheap.
    pub fn validation_origins(&self) -> Vec<usize> {
        let range = self.validation_range();
        if range.len() < self.horizon {
            return Vec::new();
        }
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
        assert_eq!((s.train_bars, s.test_bars, s.validation_bars), (4500, 500, 450));
        assert_eq!(s.origins.len(), 20);
        assert_eq!((s.origins[0], s.origins[1], s.origins[19]), (4500, 4524, 4956));
        assert_eq!(s.scored_range(), 4500..4980);
        assert_eq!(s.validation_range(), 4050..4500);
        let v = s.validation_origins();
        assert_eq!((v[0], *v.last().unwrap(), v.len()), (4050, 4476, 427));
    }

    #[test]
    fn goog_split_has_forty_two_windows_from_bar_1934() {
        let s = Split::new(2148, 5).unwrap();
        assert_eq!((s.train_bars, s.test_bars, s.validation_bars), (1934, 214, 193));
        assert_eq!(s.origins.len(), 42);
        assert_eq!((s.origins[0], s.origins[41]), (1934, 2139));
        assert_eq!(s.scored_range(), 1934..2144);
        assert_eq!(s.validation_range(), 1741..1934);
    }

    #[test]
    fn long_validation_tails_are_thinned_to_a_bounded_number_of_origins() {
        let s = Split::new(1_000_000, 1).unwrap();
        let v = s.validation_origins();
        assert!(
            v.len() <= MAX_VALIDATION_ORIGINS && v.len() > MAX_VALIDATION_ORIGINS / 2,
            "{}",
            v.len()
        );
        assert_eq!(v[0], s.validation_range().start);
        assert!(*v.last().unwrap() < s.train_bars);
    }

    #[test]
    fn a_series_without_one_test_window_is_too_short() {
        assert!(matches!(Split::new(239, 24), Err(ForecastError::TooFewBars { needed: 240, .. })));
        assert_eq!(Split::new(240, 24).unwrap().origins, vec![216]);
    }
}
