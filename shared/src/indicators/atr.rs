//! True range and Wilder's average true range.

use crate::market::Bar;

/// True range of each bar: the largest of `high - low`, `|high - previous close|` and
/// `|low - previous close|`. The first bar has no previous close, so its range is
/// `high - low`.
pub fn true_range(bars: &[Bar]) -> Vec<f64> {
    bars.iter()
        .enumerate()
        .map(|(i, bar)| {
            let range = bar.high - bar.low;
            match i.checked_sub(1).map(|p| bars[p].close) {
                Some(prev) => range.max((bar.high - prev).abs()).max((bar.low - prev).abs()),
                None => range,
            }
        })
        .collect()
}

/// Average true range with Wilder's smoothing, first defined at index `n - 1`: the mean of
/// the first `n` true ranges (the first being `high - low`), then
/// `atr = (atr * (n - 1) + tr) / n`. Same as TradingView's `ta.atr`; not an SMA or EMA of
/// the true range, which some libraries offer instead.
///
/// # Panics
/// If `n` is 0.
pub fn atr_wilder(bars: &[Bar], n: usize) -> Vec<Option<f64>> {
    assert!(n > 0, "atr period must be at least 1");
    let tr = true_range(bars);
    let mut out = vec![None; tr.len()];
    if tr.len() < n {
        return out;
    }
    let n_f = n as f64;
    let mut atr = tr[..n].iter().sum::<f64>() / n_f;
    out[n - 1] = Some(atr);
    for i in n..tr.len() {
        atr = (atr * (n_f - 1.0) + tr[i]) / n_f;
        out[i] = Some(atr);
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::indicators::assert_close;
    use crate::market::BarTime;

    fn bars(ohlc: &[(f64, f64, f64, f64)]) -> Vec<Bar> {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        ohlc.iter()
            .zip(start.iter_days())
            .map(|(&(open, high, low, close), day)| Bar {
                time: BarTime::Date(day),
                open,
                high,
                low,
                close,
                volume: 0.0,
            })
            .collect()
    }

    /// (open, high, low, close): an ordinary bar, one that holds the previous close, a gap
    /// down and a bar with no range at all.
    fn sample() -> Vec<Bar> {
        bars(&[
            (9.0, 10.0, 8.0, 9.0),    // TR = 10 - 8 = 2 (first bar)
            (10.0, 11.0, 9.0, 10.5),  // max(2, |11 - 9|, |9 - 9|) = 2
            (11.5, 12.0, 11.0, 11.5), // max(1, |12 - 10.5|, |11 - 10.5|) = 1.5
            (8.8, 9.0, 8.5, 8.8),     // gap down: max(0.5, |9 - 11.5|, |8.5 - 11.5|) = 3
            (9.0, 9.0, 9.0, 9.0),     // no range: max(0, 0.2, 0.2) = 0.2
        ])
    }

    #[test]
    fn true_range_reaches_back_to_the_previous_close_across_gaps() {
        let tr = true_range(&sample());
        let expected = [2.0, 2.0, 1.5, 3.0, 0.2];
        for (got, want) in tr.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{tr:?}");
        }
    }

    #[test]
    fn atr_is_seeded_with_the_mean_true_range_then_wilder_smoothed() {
        // n = 3: seed (2 + 2 + 1.5) / 3 = 11/6; then (11/6 * 2 + 3) / 3 = 20/9;
        // then (20/9 * 2 + 0.2) / 3 = 209/135.
        let atr = atr_wilder(&sample(), 3);
        assert_eq!(&atr[..2], &[None, None]);
        assert_close(atr[2], 11.0 / 6.0, 1e-12);
        assert_close(atr[3], 20.0 / 9.0, 1e-12);
        assert_close(atr[4], 209.0 / 135.0, 1e-12);
    }

    #[test]
    fn bars_without_any_range_have_an_atr_of_zero() {
        let flat = bars(&[(5.0, 5.0, 5.0, 5.0); 20]);
        assert_eq!(atr_wilder(&flat, 14)[19], Some(0.0));
    }

    #[test]
    fn atr_is_undefined_with_fewer_bars_than_its_period() {
        assert!(atr_wilder(&sample(), 6).iter().all(Option::is_none));
    }
}
