//! Returns over a period and the volatility of one-bar returns.

use super::population_std;

/// Simple return over `n` bars, `values[i] / values[i - n] - 1`, first defined at index `n`
/// (pandas `pct_change(n)`). A fraction: 0.05 is +5%.
///
/// # Panics
/// If `n` is 0.
pub fn period_return(values: &[f64], n: usize) -> Vec<Option<f64>> {
    assert!(n > 0, "return period must be at least 1");
    (0..values.len()).map(|i| (i >= n).then(|| values[i] / values[i - n] - 1.0)).collect()
}

/// Volatility: the **population** standard deviation (divide by `n`) of the last `n` one-bar
/// simple returns `values[j] / values[j - 1] - 1`, first defined at index `n`. Per bar, not
/// annualised: multiply by √252 for daily bars (√(252·24) or similar for hourly) to compare
/// with annual figures. pandas' `pct_change().rolling(n).std()` is the sample σ, larger by
/// √(n / (n - 1)) (2.6% for `n = 20`).
///
/// # Panics
/// If `n` is 0.
pub fn volatility(values: &[f64], n: usize) -> Vec<Option<f64>> {
    assert!(n > 0, "volatility period must be at least 1");
    let one_bar: Vec<f64> = values.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    // one_bar[j - 1] is the return into values[j].
    (0..values.len()).map(|i| (i >= n).then(|| population_std(&one_bar[i - n..i]))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::assert_close;

    // 100 → 110 → 99 → 108.9: one-bar returns +10%, -10%, +10%.
    const PRICES: [f64; 4] = [100.0, 110.0, 99.0, 108.9];

    #[test]
    fn period_return_compares_with_the_close_n_bars_earlier() {
        // 99 / 100 - 1 = -1%;  108.9 / 110 - 1 = -1%.
        let r = period_return(&PRICES, 2);
        assert_eq!(&r[..2], &[None, None]);
        assert_close(r[2], -0.01, 1e-12);
        assert_close(r[3], -0.01, 1e-12);
    }

    #[test]
    fn volatility_is_the_population_deviation_of_one_bar_returns() {
        // n = 2: σ(+0.1, -0.1) = 0.1 at i = 2 and i = 3.
        let v2 = volatility(&PRICES, 2);
        assert_eq!(&v2[..2], &[None, None]);
        assert_close(v2[2], 0.1, 1e-12);
        assert_close(v2[3], 0.1, 1e-12);
        // n = 3: (a, -a, a) has mean a/3, deviations 2a/3, -4a/3, 2a/3, so
        // σ = sqrt(24a²/27) = a·2√2/3 ≈ 0.094281 for a = 0.1.
        let v3 = volatility(&PRICES, 3);
        assert_close(v3[3], 0.1 * 2.0 * 2f64.sqrt() / 3.0, 1e-12);
    }

    #[test]
    fn a_flat_series_has_no_return_and_no_volatility() {
        assert_eq!(period_return(&[3.0; 25], 20)[24], Some(0.0));
        assert_eq!(volatility(&[3.0; 25], 20)[24], Some(0.0));
    }

    #[test]
    fn volatility_needs_n_returns_so_n_plus_one_prices() {
        assert!(volatility(&[1.0; 20], 20).iter().all(Option::is_none));
        assert!(volatility(&[1.0; 21], 20)[20].is_some());
    }
}
