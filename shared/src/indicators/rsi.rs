//! Wilder's relative strength index.

/// RSI over `n` changes with Wilder's smoothing, first defined at index `n` (it needs `n`
/// price changes, so `n + 1` values).
///
/// The first average gain and loss are the plain means of the first `n` gains and losses
/// (losses as positive numbers); after that `avg = (avg * (n - 1) + current) / n`.
/// `RSI = 100 - 100 / (1 + avg_gain / avg_loss)`. This matches Wilder's worksheet and
/// TradingView's `ta.rsi`; pandas code using `ewm(alpha=1/n, adjust=False)` seeds with the
/// first change instead and differs early on.
///
/// Conventions where the ratio is undefined: no losses gives 100, no gains gives 0, and a
/// window with neither (a flat series) gives 50, "no momentum either way". TradingView
/// reports 100 for that last case.
///
/// # Panics
/// If `n` is 0.
pub fn rsi_wilder(values: &[f64], n: usize) -> Vec<Option<f64>> {
    assert!(n > 0, "rsi period must be at least 1");
    let mut out = vec![None; values.len()];
    if values.len() <= n {
        return out;
    }
    let change = |i: usize| values[i] - values[i - 1];
    let (mut gain, mut loss) = (1..=n).fold((0.0, 0.0), |(g, l), i| {
        let d = change(i);
        (g + d.max(0.0), l + (-d).max(0.0))
    });
    let n_f = n as f64;
    gain /= n_f;
    loss /= n_f;
    out[n] = Some(rsi_from(gain, loss));
    for (i, slot) in out.iter_mut().enumerate().skip(n + 1) {
        let d = change(i);
        gain = (gain * (n_f - 1.0) + d.max(0.0)) / n_f;
        loss = (loss * (n_f - 1.0) + (-d).max(0.0)) / n_f;
        *slot = Some(rsi_from(gain, loss));
    }
    out
}

fn rsi_from(avg_gain: f64, avg_loss: f64) -> f64 {
    match (avg_gain > 0.0, avg_loss > 0.0) {
        (false, false) => 50.0,
        (true, false) => 100.0,
        (false, true) => 0.0,
        (true, true) => 100.0 - 100.0 / (1.0 + avg_gain / avg_loss),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::assert_close;

    /// The worked example of Wilder's RSI that StockCharts publishes (cs-rsi.xls, QQQQ closes
    /// from December 2009 to February 2010) and its RSI column, rounded to 2 decimals. The
    /// sheet displays closes rounded to cents but computes with these; the rounded ones give
    /// 70.46 instead of 70.53 for the first value.
    const CLOSES: [f64; 33] = [
        44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826,
        45.8931, 46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439,
        46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672,
        43.4205, 42.6628, 43.1314,
    ];
    const RSI: [f64; 19] = [
        70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99,
        41.46, 41.87, 45.46, 37.30, 33.08, 37.77,
    ];

    #[test]
    fn rsi_reproduces_the_published_wilder_worksheet() {
        let out = rsi_wilder(&CLOSES, 14);
        assert!(out[..14].iter().all(Option::is_none));
        for (i, expected) in RSI.iter().enumerate() {
            assert_close(out[14 + i], *expected, 0.005);
        }
    }

    #[test]
    fn rsi_matches_a_hand_computed_two_period_example() {
        // n = 2 on 10 12 11 14 13: changes +2 -1 +3 -1.
        // i=2: gain (2+0)/2 = 1, loss (0+1)/2 = 0.5, RS 2, RSI 100 - 100/3 = 66.67
        // i=3: gain (1+3)/2 = 2, loss (0.5+0)/2 = 0.25, RS 8, RSI 100 - 100/9 = 88.89
        // i=4: gain (2+0)/2 = 1, loss (0.25+1)/2 = 0.625, RS 1.6, RSI 100 - 100/2.6 = 61.54
        let out = rsi_wilder(&[10.0, 12.0, 11.0, 14.0, 13.0], 2);
        assert_eq!(&out[..2], &[None, None]);
        assert_close(out[2], 200.0 / 3.0, 1e-9);
        assert_close(out[3], 800.0 / 9.0, 1e-9);
        assert_close(out[4], 100.0 - 100.0 / 2.6, 1e-9);
    }

    #[test]
    fn a_flat_series_has_an_rsi_of_50() {
        assert_eq!(rsi_wilder(&[5.0; 20], 14)[19], Some(50.0));
    }

    #[test]
    fn a_series_that_only_rises_has_an_rsi_of_100_and_one_that_only_falls_0() {
        let rising: Vec<f64> = (1..=20).map(f64::from).collect();
        let falling: Vec<f64> = rising.iter().rev().copied().collect();
        assert_eq!(rsi_wilder(&rising, 14)[19], Some(100.0));
        assert_eq!(rsi_wilder(&falling, 14)[19], Some(0.0));
    }

    #[test]
    fn rsi_needs_one_more_value_than_its_period() {
        assert!(rsi_wilder(&[1.0; 14], 14).iter().all(Option::is_none));
        assert!(rsi_wilder(&[1.0; 15], 14)[14].is_some());
    }
}
