//! Choosing the served forecaster on the validation folds, with evidence.

use crate::protocol::{Forecaster, Metrics, window_mase};

use super::report::{PerForecaster, Selection};

/// N-HiTS must beat the best baseline's pooled validation MASE by this share...
pub const MARGIN: f64 = 0.02;

/// ...and be better on at least half of the folds, so one lucky fold cannot carry it.
pub(crate) fn select(
    series: &[f64],
    folds: &[usize],
    forecasts: &[(Forecaster, Vec<Vec<f64>>)],
    scale: f64,
) -> (Forecaster, Selection, PerForecaster<f64>) {
    let pooled: PerForecaster<f64> = forecasts
        .iter()
        .map(|(who, fc)| (*who, crate::protocol::score(series, folds, fc, scale).mase))
        .collect();
    let best_baseline = best_of(forecasts.iter().map(|(who, _)| *who), |who| pooled.get(who));
    let per_fold = |who: Forecaster| {
        let fc = &forecasts.iter().find(|(w, _)| *w == who).expect("every forecaster scored").1;
        window_mase(series, folds, fc, scale)
    };
    let (nhits_folds, best_folds) = (per_fold(Forecaster::Nhits), per_fold(best_baseline));
    let won = nhits_folds.iter().zip(&best_folds).filter(|(n, b)| n < b).count();
    let (n, b) = (pooled.get(Forecaster::Nhits), pooled.get(best_baseline));
    let k = folds.len();
    let enough_gain = n <= (1.0 - MARGIN) * b;
    let enough_folds = 2 * won >= k;
    let figures =
        format!("validation MASE {n:.3} vs {b:.3} over {k} folds, better on {won} of {k}");
    let best_name = best_baseline.name();
    let (served, reason) = match (enough_gain, enough_folds) {
        (true, true) => (
            Forecaster::Nhits,
            format!("N-HiTS beat the best baseline on validation, {best_name} ({figures})."),
        ),
        (false, _) => (
            best_baseline,
            format!(
                "N-HiTS did not beat the best baseline on validation, {best_name}, by the {:.0}% margin ({figures}), so the baseline is served.",
                100.0 * MARGIN
            ),
        ),
        (true, false) => (
            best_baseline,
            format!(
                "N-HiTS beat the best baseline on validation, {best_name}, overall but on fewer than half of the folds ({figures}), so the baseline is served."
            ),
        ),
    };
    let selection =
        Selection { folds: k, best_baseline, margin: MARGIN, nhits_folds_won: won, reason };
    (served, selection, pooled)
}

/// The baseline with the lowest figure; ties go to the earlier (simpler) one.
pub(crate) fn best_of(
    candidates: impl Iterator<Item = Forecaster>,
    figure: impl Fn(Forecaster) -> f64,
) -> Forecaster {
    candidates
        .filter(|who| who.is_baseline())
        .fold(None, |best: Option<Forecaster>, who| match best {
            Some(b) if figure(b) <= figure(who) || figure(who).is_nan() => Some(b),
            _ => Some(who),
        })
        .unwrap_or(Forecaster::Naive)
}

/// The best baseline by test MASE.
pub(crate) fn best_on_test(test: &PerForecaster<Metrics>, order: &[Forecaster]) -> Forecaster {
    best_of(order.iter().copied(), |who| test.get(who).mase)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Series of zeros; each forecaster's fold forecasts are constant errors per fold.
    fn run(nhits: &[f64], seasonal: &[f64]) -> (Forecaster, Selection) {
        let folds: Vec<usize> = (0..nhits.len()).map(|k| 2 * k).collect();
        let series = vec![0.0; 2 * nhits.len() + 2];
        let fc = |errors: &[f64]| errors.iter().map(|&e| vec![e, e]).collect::<Vec<_>>();
        let forecasts = vec![
            (Forecaster::Nhits, fc(nhits)),
            (Forecaster::Naive, fc(&vec![9.0; nhits.len()])),
            (Forecaster::SeasonalNaive(2), fc(seasonal)),
        ];
        let (served, selection, _) = select(&series, &folds, &forecasts, 1.0);
        (served, selection)
    }

    #[test]
    fn nhits_is_served_when_it_wins_by_the_margin_on_most_folds() {
        let (served, s) = run(&[0.9, 0.9, 0.9, 0.9], &[1.0, 1.0, 1.0, 1.0]);
        assert_eq!(served, Forecaster::Nhits, "{}", s.reason);
        assert_eq!(
            (s.best_baseline, s.nhits_folds_won, s.folds),
            (Forecaster::SeasonalNaive(2), 4, 4)
        );
    }

    #[test]
    fn a_win_inside_the_margin_serves_the_baseline() {
        let (served, s) = run(&[0.99, 0.99, 0.99, 0.99], &[1.0, 1.0, 1.0, 1.0]);
        assert_eq!(served, Forecaster::SeasonalNaive(2));
        assert!(s.reason.contains("2% margin"), "{}", s.reason);
    }

    #[test]
    fn one_lucky_fold_does_not_carry_nhits() {
        // Pooled 0.85 vs 1.0, but better on only one fold of four.
        let (served, s) = run(&[0.1, 1.1, 1.1, 1.1], &[1.0, 1.0, 1.0, 1.0]);
        assert_eq!(served, Forecaster::SeasonalNaive(2));
        assert_eq!(s.nhits_folds_won, 1);
        assert!(s.reason.contains("fewer than half"), "{}", s.reason);
    }

    #[test]
    fn ties_between_baselines_go_to_the_simpler_one() {
        let order = [Forecaster::Naive, Forecaster::Drift, Forecaster::SeasonalNaive(5)];
        assert_eq!(best_of(order.into_iter(), |_| 1.0), Forecaster::Naive);
        let fig = |w: Forecaster| if w == Forecaster::Naive { 2.0 } else { 1.0 };
        assert_eq!(best_of(order.into_iter(), fig), Forecaster::Drift);
        assert_eq!(best_of([Forecaster::Nhits].into_iter(), |_| 0.0), Forecaster::Naive);
    }
}
