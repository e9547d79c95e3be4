//! Moving average convergence/divergence.

use super::ema;

/// The three MACD series, aligned with the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Macd {
    /// `ema(fast) - ema(slow)`, first defined at index `slow - 1`.
    pub line: Vec<Option<f64>>,
    /// [`ema`] of `signal` periods over the defined part of `line` (seeded with the SMA of
    /// its first `signal` values), first defined at index `slow + signal - 2`.
    pub signal: Vec<Option<f64>>,
    /// `line - signal`.
    pub histogram: Vec<Option<f64>>,
}

/// MACD with the given periods, the usual ones being `(12, 26, 9)`. Every average is the
/// SMA-seeded [`ema`], as TradingView's `ta.macd` computes it.
///
/// # Panics
/// If a period is 0.
pub fn macd(values: &[f64], fast: usize, slow: usize, signal: usize) -> Macd {
    let fast_ema = ema(values, fast);
    let slow_ema = ema(values, slow);
    let line: Vec<Option<f64>> =
        fast_ema.iter().zip(&slow_ema).map(|(f, s)| Some((*f)? - (*s)?)).collect();
    // The signal averages only the defined part of the line, then is put back in place.
    let start = line.iter().position(Option::is_some).unwrap_or(line.len());
    let defined: Vec<f64> = line[start..].iter().flatten().copied().collect();
    let mut signal_series = vec![None; start];
    signal_series.extend(ema(&defined, signal));
    let histogram = line.iter().zip(&signal_series).map(|(l, s)| Some((*l)? - (*s)?)).collect();
    Macd { line, signal: signal_series, histogram }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::assert_close;

    #[test]
    fn macd_matches_a_hand_computed_small_example() {
        // fast 2 (alpha 2/3), slow 3 (alpha 1/2), signal 2 (alpha 2/3) on 10 11 12 11 13 14:
        //   ema2: -, 10.5, 11.5, 67/6, 223/18, 727/54      ema3: -, -, 11, 11, 12, 13
        //   line: -, -, 1/2, 1/6, 7/18, 25/54
        //   signal: seed mean(1/2, 1/6) = 1/3 at i=3; 2/3*7/18 + 1/3*1/3 = 10/27;
        //           2/3*25/54 + 1/3*10/27 = 35/81
        //   histogram: -1/6, 1/54, 5/162
        let m = macd(&[10.0, 11.0, 12.0, 11.0, 13.0, 14.0], 2, 3, 2);
        assert_eq!(&m.line[..2], &[None, None]);
        assert_close(m.line[2], 0.5, 1e-12);
        assert_close(m.line[3], 1.0 / 6.0, 1e-12);
        assert_close(m.line[4], 7.0 / 18.0, 1e-12);
        assert_close(m.line[5], 25.0 / 54.0, 1e-12);
        assert_eq!(&m.signal[..3], &[None, None, None]);
        assert_close(m.signal[3], 1.0 / 3.0, 1e-12);
        assert_close(m.signal[4], 10.0 / 27.0, 1e-12);
        assert_close(m.signal[5], 35.0 / 81.0, 1e-12);
        assert_eq!(m.histogram[2], None);
        assert_close(m.histogram[3], -1.0 / 6.0, 1e-12);
        assert_close(m.histogram[4], 1.0 / 54.0, 1e-12);
        assert_close(m.histogram[5], 5.0 / 162.0, 1e-12);
    }

    #[test]
    fn standard_macd_starts_at_bar_26_and_its_signal_at_bar_34() {
        let values: Vec<f64> = (0..40).map(|i| 100.0 + f64::from(i % 7)).collect();
        let m = macd(&values, 12, 26, 9);
        assert_eq!(m.line.iter().position(Option::is_some), Some(25));
        assert_eq!(m.signal.iter().position(Option::is_some), Some(33));
        assert_eq!(m.histogram.iter().position(Option::is_some), Some(33));
    }

    #[test]
    fn macd_of_a_flat_series_is_zero() {
        let m = macd(&[50.0; 40], 12, 26, 9);
        assert_eq!(m.line[39], Some(0.0));
        assert_eq!(m.signal[39], Some(0.0));
        assert_eq!(m.histogram[39], Some(0.0));
    }

    #[test]
    fn macd_is_undefined_when_the_series_is_too_short() {
        let m = macd(&[1.0; 10], 12, 26, 9);
        assert!(m.line.iter().chain(&m.signal).chain(&m.histogram).all(Option::is_none));
        assert_eq!(m.line.len(), 10);
    }
}
