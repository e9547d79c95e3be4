//! What a training run reports, and the plain-words verdict.

use serde::{Deserialize, Serialize};

use crate::protocol::{Forecaster, Metrics, Split};
use crate::{NHitsConfig, Recipe};

/// Bar index ranges, each `[start, end)`, of a run's split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitSummary {
    pub bars: usize,
    /// Training region: everything before the test bars.
    pub train: [usize; 2],
    /// Bars the weights were fitted on (the training region minus the validation tail).
    pub fit: [usize; 2],
    /// Honest recipe's validation tail, `None` for the faithful recipe.
    pub validation: Option<[usize; 2]>,
    pub test: [usize; 2],
    /// Test bars inside a whole window; the tail past the last window is not scored.
    pub scored: [usize; 2],
    pub test_windows: usize,
    pub validation_origins: usize,
}

impl SplitSummary {
    pub(crate) fn new(split: &Split, recipe: Recipe) -> Self {
        let r = |r: std::ops::Range<usize>| [r.start, r.end];
        let honest = recipe == Recipe::Honest;
        let fit_end = if honest { split.validation_range().start } else { split.train_bars };
        Self {
            bars: split.bars,
            train: r(split.train_range()),
            fit: [0, fit_end],
            validation: honest.then(|| r(split.validation_range())),
            test: r(split.test_range()),
            scored: r(split.scored_range()),
            test_windows: split.origins.len(),
            validation_origins: if honest { split.validation_origins().len() } else { 0 },
        }
    }
}

/// One figure per forecaster.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PerForecaster<T> {
    pub nhits: T,
    pub naive: T,
    pub drift: T,
}

impl<T: Copy> PerForecaster<T> {
    pub fn get(&self, who: Forecaster) -> T {
        match who {
            Forecaster::Nhits => self.nhits,
            Forecaster::Naive => self.naive,
            Forecaster::Drift => self.drift,
        }
    }
}

/// The holdout verdict, small enough to travel with a saved model into analysis jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationSummary {
    pub recipe: Recipe,
    pub served_by: Forecaster,
    /// Test MASE of each forecaster on the same windows.
    pub test_mase: PerForecaster<f64>,
    /// `1 - MASE_nhits / MASE_naive` on the test windows.
    pub skill_vs_naive: f64,
    /// `1 - MASE_served / MASE_naive` on the test windows.
    pub served_skill_vs_naive: f64,
    /// Whether N-HiTS beat the naive forecast on the test windows.
    pub beats_naive: bool,
    pub test_windows: usize,
    pub verdict: String,
}

/// Everything a training run measured. Serialises to the job's `result` / `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    pub config: NHitsConfig,
    /// `cpu` or `cuda`.
    pub device: String,
    pub parameter_count: usize,
    pub split: SplitSummary,
    pub steps_run: usize,
    /// Step whose weights were kept (honest recipe: best validation; faithful: the last).
    pub kept_step: usize,
    pub stopped_early: bool,
    pub final_train_loss: f64,
    /// From the call to `train` to the end of the first optimiser step.
    pub first_step_seconds: f64,
    pub training_seconds: f64,
    pub seconds_per_step: f64,
    pub mase_scale: f64,
    /// Validation-tail MASE per forecaster (honest recipe only); the served one is the lowest.
    pub validation_mase: Option<PerForecaster<f64>>,
    /// Test metrics per forecaster, on the protocol's windows.
    pub test: PerForecaster<Metrics>,
    pub summary: EvaluationSummary,
    /// The served forecaster's forecast of the `horizon` bars after the data's end.
    pub forecast: Vec<f64>,
}

/// One paragraph a user can act on; says plainly when N-HiTS does not beat naive.
pub(crate) fn verdict(
    recipe: Recipe,
    served_by: Forecaster,
    test: &PerForecaster<Metrics>,
) -> String {
    let (m, n) = (test.nhits.mase, test.naive.mase);
    let skill = 100.0 * (1.0 - m / n);
    let head = if m < n {
        format!(
            "N-HiTS beat the naive (last value) forecast on the held-out test bars: MASE {m:.3} vs {n:.3} (skill {skill:+.1}%)."
        )
    } else {
        format!(
            "N-HiTS did NOT beat the naive (last value) forecast on the held-out test bars: MASE {m:.3} vs {n:.3} \
             (skill {skill:+.1}%). At this horizon the series behaves like a random walk; do not read its forecast as an edge."
        )
    };
    let served = match (recipe, served_by) {
        (Recipe::Faithful, _) => {
            "Faithful recipe: N-HiTS is served without a validation check.".to_string()
        }
        (Recipe::Honest, Forecaster::Nhits) => {
            "N-HiTS won on the validation tail and is served.".to_string()
        }
        (Recipe::Honest, who) => format!(
            "The {} baseline won on the validation tail, so it is served instead of N-HiTS (test MASE {:.3}).",
            who.name(),
            test.get(who).mase
        ),
    };
    format!("{head} {served}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(mase: f64) -> Metrics {
        Metrics { mae: mase, rmse: mase, mape: mase, mase }
    }

    #[test]
    fn the_verdict_says_plainly_when_the_model_loses_to_naive() {
        let test = PerForecaster { nhits: metrics(6.2), naive: metrics(4.1), drift: metrics(4.0) };
        let v = verdict(Recipe::Honest, Forecaster::Drift, &test);
        assert!(v.contains("did NOT beat the naive"), "{v}");
        assert!(v.contains("drift baseline won"), "{v}");
    }

    #[test]
    fn the_verdict_credits_a_model_that_wins() {
        let test = PerForecaster { nhits: metrics(1.0), naive: metrics(4.0), drift: metrics(4.0) };
        let v = verdict(Recipe::Honest, Forecaster::Nhits, &test);
        assert!(v.starts_with("N-HiTS beat the naive"), "{v}");
        assert!(v.contains("+75.0%"), "{v}");
    }
}
