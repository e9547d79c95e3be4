//! Bollinger bands.

use super::{mean, population_std};

/// The three bands, aligned with the input; each first defined at index `n - 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bollinger {
    pub upper: Vec<Option<f64>>,
    pub middle: Vec<Option<f64>>,
    pub lower: Vec<Option<f64>>,
}

/// Bollinger bands: `middle` is the `n`-value SMA, `upper`/`lower` are `middle ± k·σ` where σ
/// is the **population** standard deviation of the same `n` values (divide by `n`), as
/// Bollinger defines it and TradingView's `ta.bb` computes it. pandas' `rolling(n).std()`
/// is the sample σ (divide by `n - 1`) and gives bands about 2.6% wider for `n = 20`.
///
/// # Panics
/// If `n` is 0.
pub fn bollinger(values: &[f64], n: usize, k: f64) -> Bollinger {
    assert!(n > 0, "bollinger period must be at least 1");
    let mut bands = Bollinger { upper: Vec::new(), middle: Vec::new(), lower: Vec::new() };
    for i in 0..values.len() {
        let (upper, middle, lower) = if i + 1 >= n {
            let window = &values[i + 1 - n..=i];
            let (m, sd) = (mean(window), population_std(window));
            (Some(m + k * sd), Some(m), Some(m - k * sd))
        } else {
            (None, None, None)
        };
        bands.upper.push(upper);
        bands.middle.push(middle);
        bands.lower.push(lower);
    }
    bands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_the_mean_plus_and_minus_k_population_deviations() {
        // n = 2, k = 2. [1, 3]: mean 2, σ 1 → 4 / 2 / 0.  [3, 3]: σ 0, the bands meet.
        // [3, 7]: mean 5, σ 2 → 9 / 5 / 1.
        let b = bollinger(&[1.0, 3.0, 3.0, 7.0], 2, 2.0);
        assert_eq!(b.upper, vec![None, Some(4.0), Some(3.0), Some(9.0)]);
        assert_eq!(b.middle, vec![None, Some(2.0), Some(3.0), Some(5.0)]);
        assert_eq!(b.lower, vec![None, Some(0.0), Some(3.0), Some(1.0)]);
    }

    #[test]
    fn the_deviation_is_the_population_one_not_the_sample_one() {
        // The textbook set 2 4 4 4 5 5 7 9: mean 5, population σ exactly 2 (sample σ 2.138).
        let b = bollinger(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 8, 2.0);
        assert_eq!(b.upper[7], Some(9.0));
        assert_eq!(b.lower[7], Some(1.0));
    }

    #[test]
    fn a_flat_series_has_bands_of_zero_width() {
        let b = bollinger(&[4.2; 25], 20, 2.0);
        assert_eq!(b.upper[24], b.lower[24]);
        assert_eq!(b.middle[24], Some(4.2));
    }
}
