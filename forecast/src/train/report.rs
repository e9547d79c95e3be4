//! What a training run reports, and the plain-words verdict.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::calendar::Spacing;
use crate::protocol::{Band, Conformal, Coverage, Forecaster, Metrics, Split};
use crate::{NHitsConfig, Recipe};

/// Bar index ranges, each `[start, end)`, of a run's split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitSummary {
    pub bars: usize,
    /// Training region: everything before the test bars.
    pub train: [usize; 2],
    /// Bars the weights were chosen on: before the first validation fold (honest), or the
    /// whole training region (faithful).
    pub fit: [usize; 2],
    /// From the first validation fold to the end of the training region (honest recipe).
    pub validation: Option<[usize; 2]>,
    /// Validation fold origins; fold k scores bars `folds[k] .. folds[k] + horizon`.
    pub folds: Vec<usize>,
    /// Bars the served N-HiTS weights were trained on (the whole training region after refit).
    pub refit: Option<[usize; 2]>,
    pub test: [usize; 2],
    /// Test bars inside a whole window; the tail past the last window is not scored.
    pub scored: [usize; 2],
    pub test_windows: usize,
    /// Validation origins (stride 1) whose errors calibrated the intervals.
    pub calibration_origins: usize,
}

impl SplitSummary {
    pub(crate) fn new(split: &Split, refit: bool) -> Self {
        let r = |r: std::ops::Range<usize>| [r.start, r.end];
        Self {
            bars: split.bars,
            train: r(split.train_range()),
            fit: [0, split.fit_end()],
            validation: split.validation_range().map(r),
            folds: split.folds.clone(),
            refit: refit.then_some([0, split.train_bars]),
            test: r(split.test_range()),
            scored: r(split.scored_range()),
            test_windows: split.origins.len(),
            calibration_origins: split.dense_validation_origins().len(),
        }
    }
}

/// One figure per forecaster, keyed by its name (`nhits`, `naive`, `seasonal_naive_48`...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PerForecaster<T>(pub BTreeMap<Forecaster, T>);

impl<T: Copy> PerForecaster<T> {
    /// The figure of `who`; every forecaster of the run has one.
    pub fn get(&self, who: Forecaster) -> T {
        self.0[&who]
    }

    pub fn try_get(&self, who: Forecaster) -> Option<T> {
        self.0.get(&who).copied()
    }
}

impl<T> FromIterator<(Forecaster, T)> for PerForecaster<T> {
    fn from_iter<I: IntoIterator<Item = (Forecaster, T)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// How the served forecaster was chosen on the validation folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub folds: usize,
    /// The baseline with the lowest validation MASE (ties: the simpler one).
    pub best_baseline: Forecaster,
    /// N-HiTS must beat the best baseline's validation MASE by this share to be served.
    pub margin: f64,
    /// Folds on which N-HiTS's MASE was below the best baseline's.
    pub nhits_folds_won: usize,
    /// Why the served forecaster was served, in plain words.
    pub reason: String,
}

/// The holdout verdict, small enough to travel with a saved model into analysis jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationSummary {
    pub recipe: Recipe,
    pub served_by: Forecaster,
    /// The baseline with the lowest test MASE: the bar any forecast must clear.
    pub best_baseline: Forecaster,
    /// Test MASE of each forecaster on the same windows.
    pub test_mase: PerForecaster<f64>,
    /// `1 - MASE_nhits / MASE_best_baseline` on the test windows.
    pub skill_vs_best_baseline: f64,
    /// `1 - MASE_served / MASE_best_baseline` on the test windows.
    pub served_skill_vs_best_baseline: f64,
    pub beats_best_baseline: bool,
    /// `1 - MASE_nhits / MASE_naive` on the test windows.
    pub skill_vs_naive: f64,
    pub served_skill_vs_naive: f64,
    pub beats_naive: bool,
    pub test_windows: usize,
    pub verdict: String,
}

/// One forecast bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastPoint {
    /// 1-based: bars after the last bar of the history.
    pub step: usize,
    /// The bar's time, continuing the series' own spacing (`YYYY-MM-DD` for daily and coarser
    /// bars); absent when the history had no times.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    pub value: f64,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub band: Option<Band>,
}

/// The served forecaster's forecast after a history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    pub forecaster: Forecaster,
    pub points: Vec<ForecastPoint>,
}

/// The served forecaster's forecast of the last scored test window, exactly as it was scored:
/// bars `origin .. origin + horizon`, forecast from the bars before `origin`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestWindow {
    pub forecaster: Forecaster,
    /// Index of the window's first bar in the series.
    pub origin: usize,
    pub forecast: Vec<f64>,
    pub actual: Vec<f64>,
}

/// Everything a training run measured. Serialises to the job's `result` / `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    pub config: NHitsConfig,
    /// `cpu` or `cuda`.
    pub device: String,
    pub parameter_count: usize,
    pub split: SplitSummary,
    /// The series' spacing, when its bar times were given.
    pub spacing: Option<Spacing>,
    pub steps_run: usize,
    /// Step whose weights were kept (honest recipe: best validation; faithful: the last).
    pub kept_step: usize,
    /// Steps of the refit on the whole training region (the kept step), when refit.
    pub refit_steps: Option<usize>,
    pub stopped_early: bool,
    pub final_train_loss: f64,
    /// From the call to `train` to the end of the first optimiser step.
    pub first_step_seconds: f64,
    /// Fit and refit together.
    pub training_seconds: f64,
    pub seconds_per_step: f64,
    pub mase_scale: f64,
    /// Validation MASE per forecaster, pooled over the folds (honest recipe).
    pub validation_mase: Option<PerForecaster<f64>>,
    pub selection: Option<Selection>,
    /// Test metrics per forecaster, on the protocol's windows.
    pub test: PerForecaster<Metrics>,
    /// Empirical coverage of each forecaster's intervals on the test windows.
    pub coverage: PerForecaster<Coverage>,
    /// The served forecaster's interval half-widths per horizon step.
    pub intervals: Option<Conformal>,
    pub summary: EvaluationSummary,
    /// The served forecaster's forecast of the `horizon` bars after the data's end.
    pub forecast: Forecast,
    /// The served forecaster on the last test window (absent from reports written before it).
    #[serde(default)]
    pub last_test_window: Option<TestWindow>,
}

/// One paragraph a user can act on: against the best baseline, and why what is served is.
pub(crate) fn verdict(
    served_by: Forecaster,
    best: Forecaster,
    test: &PerForecaster<Metrics>,
    selection: Option<&Selection>,
) -> String {
    let (m, b) = (test.get(Forecaster::Nhits).mase, test.get(best).mase);
    let skill = 100.0 * (1.0 - m / b);
    let best_name = best.name();
    let head = if m < b {
        format!(
            "N-HiTS beat the best baseline, {best_name}, on the held-out test bars: MASE {m:.3} vs {b:.3} (skill {skill:+.1}%)."
        )
    } else {
        format!(
            "N-HiTS did NOT beat the best baseline, {best_name}, on the held-out test bars: MASE {m:.3} vs {b:.3} \
             (skill {skill:+.1}%). Do not read its forecast as an edge over {best_name}."
        )
    };
    let served = match selection {
        None => "Faithful recipe: N-HiTS is served without a validation check.".to_string(),
        Some(s) => format!(
            "{} Served: {} (test MASE {:.3}).",
            s.reason,
            served_by.name(),
            test.get(served_by).mase
        ),
    };
    format!("{head} {served}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(mase: f64) -> Metrics {
        Metrics { mae: mase, rmse: mase, mape: mase, mase, mase_sd: 0.0 }
    }

    fn test_figures(nhits: f64, naive: f64, seasonal: f64) -> PerForecaster<Metrics> {
        [
            (Forecaster::Nhits, metrics(nhits)),
            (Forecaster::Naive, metrics(naive)),
            (Forecaster::SeasonalNaive(48), metrics(seasonal)),
        ]
        .into_iter()
        .collect()
    }

    fn selection(reason: &str) -> Selection {
        Selection {
            folds: 10,
            best_baseline: Forecaster::SeasonalNaive(48),
            margin: 0.02,
            nhits_folds_won: 3,
            reason: reason.into(),
        }
    }

    #[test]
    fn the_verdict_names_the_best_baseline_and_says_plainly_when_the_model_loses() {
        let test = test_figures(0.79, 7.1, 0.50);
        let s = selection("N-HiTS did not beat the best baseline on validation.");
        let v =
            verdict(Forecaster::SeasonalNaive(48), Forecaster::SeasonalNaive(48), &test, Some(&s));
        assert!(v.contains("did NOT beat the best baseline, seasonal naive (48 bars)"), "{v}");
        assert!(v.contains("Served: seasonal naive (48 bars) (test MASE 0.500)"), "{v}");
    }

    #[test]
    fn the_verdict_credits_a_model_that_wins() {
        let test = test_figures(0.40, 7.1, 0.50);
        let v = verdict(Forecaster::Nhits, Forecaster::SeasonalNaive(48), &test, None);
        assert!(v.starts_with("N-HiTS beat the best baseline, seasonal naive (48 bars)"), "{v}");
        assert!(v.contains("+20.0%"), "{v}");
    }

    #[test]
    fn figures_per_forecaster_serialise_as_an_object_keyed_by_name() {
        let json = serde_json::to_value(test_figures(1.0, 2.0, 3.0)).unwrap();
        assert_eq!(json["seasonal_naive_48"]["mase"], 3.0);
        assert_eq!(json["nhits"]["mase"], 1.0);
        let back: PerForecaster<Metrics> = serde_json::from_value(json).unwrap();
        assert_eq!(back.get(Forecaster::Naive).mase, 2.0);
    }
}
