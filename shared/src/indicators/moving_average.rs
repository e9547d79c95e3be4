//! Simple and exponential moving averages.

use super::mean;

/// Simple moving average over `n` values: the mean of `values[i+1-n..=i]`, first defined at
/// index `n - 1` (pandas `rolling(n).mean()`, TradingView `ta.sma`).
///
/// # Panics
/// If `n` is 0.
pub fn sma(values: &[f64], n: usize) -> Vec<Option<f64>> {
    assert!(n > 0, "sma period must be at least 1");
    (0..values.len()).map(|i| (i + 1 >= n).then(|| mean(&values[i + 1 - n..=i]))).collect()
}

/// Exponential moving average with `alpha = 2 / (n + 1)`, seeded with the SMA of the first `n`
/// values, so first defined at index `n - 1`; after that
/// `ema[i] = alpha * values[i] + (1 - alpha) * ema[i-1]`.
///
/// This is TradingView's `ta.ema` and the classic textbook EMA. pandas'
/// `ewm(span=n, adjust=False)` seeds with the first value instead and differs early on; the
/// difference fades to nothing after a few times `n` values.
///
/// # Panics
/// If `n` is 0.
pub fn ema(values: &[f64], n: usize) -> Vec<Option<f64>> {
    assert!(n > 0, "ema period must be at least 1");
    let mut out = vec![None; values.len()];
    if values.len() < n {
        return out;
    }
    let alpha = 2.0 / (n as f64 + 1.0);
    let mut current = mean(&values[..n]);
    out[n - 1] = Some(current);
    for i in n..values.len() {
        current = alpha * values[i] + (1.0 - alpha) * current;
        out[i] = Some(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::assert_close;

    #[test]
    fn sma_is_the_mean_of_the_last_n_values_once_n_exist() {
        let out = sma(&[1.0, 2.0, 3.0, 4.0, 5.0], 3);
        assert_eq!(out, vec![None, None, Some(2.0), Some(3.0), Some(4.0)]);
    }

    #[test]
    fn sma_of_one_value_is_the_value_itself() {
        assert_eq!(sma(&[7.0, 8.0], 1), vec![Some(7.0), Some(8.0)]);
    }

    #[test]
    fn sma_is_undefined_everywhere_when_the_series_is_shorter_than_the_period() {
        assert_eq!(sma(&[1.0, 2.0], 3), vec![None, None]);
    }

    #[test]
    fn ema_is_seeded_with_the_sma_then_smoothed_with_alpha_two_over_n_plus_one() {
        // n = 3, alpha = 0.5. Seed: mean(2, 4, 6) = 4.
        // i=3: 0.5*8 + 0.5*4 = 6;  i=4: 0.5*4 + 0.5*6 = 5;  i=5: 0.5*10 + 0.5*5 = 7.5
        let out = ema(&[2.0, 4.0, 6.0, 8.0, 4.0, 10.0], 3);
        assert_eq!(out, vec![None, None, Some(4.0), Some(6.0), Some(5.0), Some(7.5)]);
    }

    #[test]
    fn ema_matches_a_hand_computed_ten_period_average() {
        // alpha = 2/11. Seed = mean(1..=10) = 5.5; next: 11*2/11 + 5.5*9/11 = 2 + 4.5 = 6.5.
        let values: Vec<f64> = (1..=11).map(f64::from).collect();
        let out = ema(&values, 10);
        assert_eq!(out[8], None);
        assert_close(out[9], 5.5, 1e-12);
        assert_close(out[10], 6.5, 1e-12);
    }

    #[test]
    fn ema_of_a_flat_series_is_flat() {
        let out = ema(&[3.0; 30], 12);
        assert!(out[11..].iter().all(|v| *v == Some(3.0)));
    }

    #[test]
    #[should_panic(expected = "at least 1")]
    fn a_zero_period_is_a_programming_error() {
        let _ = sma(&[1.0], 0);
    }
}
