//! Season lengths found in the data rather than implied by the calendar: peaks of the sample
//! autocorrelation of the first differences (differencing removes the trend, which would
//! otherwise make every lag look correlated).

/// Season lengths found in the data: lags `2..=max_lag` whose sample autocorrelation of the
/// first differences of `values` is a local maximum (greater than both neighbours), above
/// `2 / sqrt(n)` (the usual significance band, `n` the number of differences) and above 0.2;
/// strongest first, at most `k`. Three guards keep one season from being reported as several,
/// each for a failure seen on a smooth daily cycle plus noise:
///
/// - Only lags after the autocorrelation first falls to the band count (at lag 1: to minus the
///   band, as differencing noise alone pulls lag 1 down by up to 0.5). Before that the lags sit
///   on lag 0's own lobe, where lag 2 is a local maximum of any smooth noisy series.
/// - A lag within ±(j + 1) of j times a stronger season already chosen is skipped: a peak's
///   place is only known to ±1 lag (a flat peak, tilted by any longer season), so the j-th
///   multiple's is known to ±j, plus its own ±1.
/// - A lag near a multiple of a shorter peak (as above) must beat that peak by more than
///   `2 / sqrt(n)`, or it is that season's echo and not a season of its own (24 and 168 in
///   hourly data are both kept only when the week adds to the day).
///
/// Computed in O(n · max_lag); callers keep `max_lag <= n / 3`. Lags too long for the data to
/// have a right neighbour are not considered; non-finite or constant input finds nothing.
pub fn acf_seasons(values: &[f64], max_lag: usize, k: usize) -> Vec<usize> {
    if k == 0 {
        return Vec::new();
    }
    let Some(acf) = autocorrelations(values, max_lag) else { return Vec::new() };
    let top = acf.len() - 2;
    let noise = 2.0 / ((values.len() - 1) as f64).sqrt();
    let band = noise.max(0.2);
    let lobe_end = (1..=top).find(|&lag| if lag == 1 { acf[1] <= -band } else { acf[lag] <= band });
    let Some(lobe_end) = lobe_end else { return Vec::new() };
    let peaks: Vec<usize> = (lobe_end + 1..=top)
        .filter(|&lag| acf[lag] > band && acf[lag] > acf[lag - 1] && acf[lag] > acf[lag + 1])
        .collect();
    let echo = |lag: usize| {
        peaks.iter().any(|&p| p < lag && near_multiple(lag, p) && acf[lag] < acf[p] + noise)
    };
    let mut seasons: Vec<usize> = peaks.iter().copied().filter(|&lag| !echo(lag)).collect();
    seasons.sort_by(|&a, &b| acf[b].total_cmp(&acf[a]).then(a.cmp(&b)));

    let mut chosen: Vec<usize> = Vec::with_capacity(k);
    for lag in seasons {
        if chosen.len() == k {
            break;
        }
        if !chosen.iter().any(|&season| near_multiple(lag, season)) {
            chosen.push(lag);
        }
    }
    chosen
}

/// Sample autocorrelations of the first differences of `values` at lags `0..=top + 1`, where
/// `top` is `max_lag` cut so that lag `top + 1` still has a product; `None` when `top < 2` or
/// the input is non-finite or has constant differences.
fn autocorrelations(values: &[f64], max_lag: usize) -> Option<Vec<f64>> {
    if values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let diffs: Vec<f64> = values.windows(2).map(|w| w[1] - w[0]).collect();
    let n = diffs.len();
    let top = max_lag.min(n.saturating_sub(2));
    if top < 2 {
        return None;
    }
    let mean = diffs.iter().sum::<f64>() / n as f64;
    let centred: Vec<f64> = diffs.iter().map(|d| d - mean).collect();
    let variance: f64 = centred.iter().map(|c| c * c).sum();
    if variance <= 0.0 || !variance.is_finite() {
        return None;
    }
    let acf = (0..=top + 1)
        .map(|lag| centred[..n - lag].iter().zip(&centred[lag..]).map(|(a, b)| a * b).sum::<f64>())
        .map(|s| s / variance)
        .collect();
    Some(acf)
}

/// Whether `lag` is within ±(j + 1) of j · `season` for its nearest multiple j >= 1.
fn near_multiple(lag: usize, season: usize) -> bool {
    let j = ((lag as f64) / (season as f64)).round().max(1.0) as usize;
    lag.abs_diff(j * season) <= j + 1
}

#[cfg(test)]
mod tests {
    use std::f64::consts::TAU;

    use super::*;

    /// A tiny LCG (Knuth's MMIX constants): uniform in [-0.5, 0.5), the same on every run.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        }
    }

    /// Twelve weeks of hourly bars: a daily and a weekly sine plus noise. In the differences
    /// the weekly sine is weaker than the daily, but it lifts lag 168 above lag 24.
    fn hourly_daily_weekly(seed: u64) -> Vec<f64> {
        let mut rng = Lcg(seed);
        (0..24 * 7 * 12)
            .map(|t| {
                let t = f64::from(t);
                (TAU * t / 24.0).sin() + 6.0 * (TAU * t / 168.0).sin() + 0.1 * rng.next()
            })
            .collect()
    }

    /// Sixty days of hourly bars: a daily sine plus noise strong enough to make lag 2 a peak.
    fn hourly_daily(seed: u64) -> Vec<f64> {
        let mut rng = Lcg(seed);
        (0..24 * 60).map(|t| (TAU * f64::from(t) / 24.0).sin() + 0.3 * rng.next()).collect()
    }

    fn random_walk(seed: u64, n: usize) -> Vec<f64> {
        let mut rng = Lcg(seed);
        let mut level = 100.0;
        (0..n)
            .map(|_| {
                level += rng.next();
                level
            })
            .collect()
    }

    #[test]
    fn finds_the_daily_and_weekly_seasons() {
        for seed in 0..10 {
            let values = hourly_daily_weekly(seed);
            // Weekly first (the stronger), then daily; no harmonic of either.
            assert_eq!(acf_seasons(&values, values.len() / 3, 4), [168, 24], "seed {seed}");
        }
    }

    #[test]
    fn one_daily_cycle_is_one_season() {
        for seed in 0..10 {
            let values = hourly_daily(seed);
            let acf = autocorrelations(&values, 480).unwrap();
            assert!(acf[2] > acf[1] && acf[2] > acf[3] && acf[2] > 0.2, "seed {seed}: lobe peak");
            let seasons = acf_seasons(&values, 480, 4);
            // Not lag 2 (the lobe), not 48 or 72 (echoes); the peak itself may sit a lag off.
            assert!(
                seasons.len() == 1 && (23..=25).contains(&seasons[0]),
                "seed {seed}: {seasons:?}"
            );
        }
        assert_eq!(acf_seasons(&hourly_daily(17), 480, 4), [24]);
    }

    #[test]
    fn finds_nothing_in_a_random_walk() {
        for seed in [3, 11, 2024] {
            let values = random_walk(seed, 2000);
            assert_eq!(acf_seasons(&values, 600, 5), Vec::<usize>::new(), "seed {seed}");
        }
    }

    #[test]
    fn respects_k() {
        let values = hourly_daily_weekly(5);
        assert!(acf_seasons(&values, 600, 0).is_empty());
        let one = acf_seasons(&values, 600, 1);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0], acf_seasons(&values, 600, 4)[0], "the strongest comes first");
    }

    #[test]
    fn never_returns_a_lag_below_two_or_above_max_lag() {
        // Alternating values: the differences alternate, the autocorrelation peaks at lag 2.
        let alternating: Vec<f64> = (0..300).map(|t| f64::from(t % 2)).collect();
        assert_eq!(acf_seasons(&alternating, 50, 3), [2]);
        assert!(acf_seasons(&alternating, 1, 3).is_empty());
        let values = hourly_daily_weekly(9);
        let short = acf_seasons(&values, 100, 4);
        assert!(short.iter().all(|&s| (2..=100).contains(&s)), "{short:?}");
        assert!(short.contains(&24), "{short:?}");
    }

    #[test]
    fn degenerate_input_finds_nothing() {
        assert!(acf_seasons(&[], 10, 3).is_empty());
        assert!(acf_seasons(&[1.0, 2.0, 3.0], 10, 3).is_empty());
        assert!(acf_seasons(&[5.0; 100], 30, 3).is_empty());
        let linear: Vec<f64> = (0..100).map(f64::from).collect();
        assert!(acf_seasons(&linear, 30, 3).is_empty(), "constant differences");
        let mut values = hourly_daily_weekly(1);
        values[10] = f64::NAN;
        assert!(acf_seasons(&values, 100, 3).is_empty());
    }

    #[test]
    fn near_multiple_widens_with_the_multiple() {
        assert!(near_multiple(22, 24) && near_multiple(26, 24) && near_multiple(24, 24));
        assert!(near_multiple(45, 24) && near_multiple(51, 24) && near_multiple(168, 24));
        // 23 may really be 24: its fifth multiple is 115 ± 6.
        assert!(near_multiple(121, 23) && !near_multiple(122, 23));
        assert!(!near_multiple(30, 24) && !near_multiple(12, 24) && !near_multiple(24, 168));
    }
}
