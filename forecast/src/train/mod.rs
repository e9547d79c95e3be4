//! `train`: the protocol end to end — split, fit, pick the served forecaster, score on the
//! test windows, forecast past the data's end.

mod fit;
mod report;

use std::time::Instant;

use candle_core::Device;

pub use report::{EvaluationSummary, PerForecaster, SplitSummary, TrainingReport};

use crate::model::TrainedModel;
use crate::predict::predict_at;
use crate::protocol::{Forecaster, Metrics, Split, drift, mase_scale, naive, score};
use crate::{ForecastError, NHitsConfig, Recipe, TrainingHooks, device_name};
use fit::{Validation, fit};

/// A finished run: the report (serialisable) and the model to save or forecast with.
pub struct TrainingOutcome {
    pub report: TrainingReport,
    pub model: TrainedModel,
}

/// Checks the configuration and the series before any work: what can be known at submission.
/// Returns the protocol split the run would use.
pub fn check_training_input(series: &[f64], cfg: &NHitsConfig) -> Result<Split, ForecastError> {
    cfg.validate()?;
    if let Some((index, &value)) = series.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ForecastError::NonFiniteBar { index, value });
    }
    let too_few = |why: &str| ForecastError::TooFewBars {
        needed: minimum_bars(cfg),
        got: series.len(),
        why: why.into(),
    };
    let split = Split::new(series.len(), cfg.horizon)
        .map_err(|_| too_few("one test window of `horizon` bars in the last tenth"))?;
    let fit_end = fit_end(&split, cfg.recipe);
    if fit_end <= cfg.input_size {
        return Err(too_few(
            "training windows need more than `input_size` bars before the held-out bars",
        ));
    }
    if cfg.recipe == Recipe::Honest && split.validation_origins().is_empty() {
        return Err(too_few("the validation tail must hold one window of `horizon` bars"));
    }
    if mase_scale(&series[split.train_range()]) == 0.0 {
        return Err(ForecastError::FlatSeries);
    }
    Ok(split)
}

/// The fewest bars for which [`check_training_input`] accepts the configuration's shape.
pub fn minimum_bars(cfg: &NHitsConfig) -> usize {
    let ok = |n: usize| {
        Split::new(n, cfg.horizon).is_ok_and(|s| {
            fit_end(&s, cfg.recipe) > cfg.input_size
                && (cfg.recipe == Recipe::Faithful || !s.validation_origins().is_empty())
        })
    };
    (1..).find(|&n| ok(n)).unwrap_or(usize::MAX)
}

fn fit_end(split: &Split, recipe: Recipe) -> usize {
    match recipe {
        Recipe::Honest => split.validation_range().start,
        Recipe::Faithful => split.train_bars,
    }
}

/// Trains N-HiTS on `series` (closes in time order) under the protocol and reports.
///
/// Blocking and CPU- or GPU-heavy (seconds to minutes): call it from a blocking thread
/// (`tokio::task::spawn_blocking`), never on an async runtime's worker. `hooks` run on this
/// thread after every step and may cancel.
pub fn train(
    series: &[f64],
    cfg: &NHitsConfig,
    device: &Device,
    hooks: &mut dyn TrainingHooks,
) -> Result<TrainingOutcome, ForecastError> {
    let started = Instant::now();
    let split = check_training_input(series, cfg)?;
    // NeuralForecast trains and predicts in float32.
    let series32: Vec<f32> = series.iter().map(|&v| v as f32).collect();
    let scale = mase_scale(&series[split.train_range()]);
    let honest = cfg.recipe == Recipe::Honest;
    let validation = honest.then(|| Validation {
        series,
        origins: split.validation_origins(),
        mase_scale: scale,
    });
    let val_origins = validation.as_ref().map(|v| v.origins.clone());

    let fitted =
        fit(&series32, fit_end(&split, cfg.recipe), cfg, device, validation, hooks, started)?;

    let baselines_at = |origins: &[usize]| {
        let naive_fc: Vec<_> =
            origins.iter().map(|&t0| naive(&series[..t0], cfg.horizon)).collect();
        let drift_fc: Vec<_> =
            origins.iter().map(|&t0| drift(&series[..t0], cfg.horizon)).collect();
        (naive_fc, drift_fc)
    };
    let validation_mase = val_origins.as_ref().map(|origins| {
        let (n, d) = baselines_at(origins);
        PerForecaster {
            // No finite validation score at all: N-HiTS cannot win.
            nhits: fitted.kept_val.unwrap_or(f64::INFINITY),
            naive: score(series, origins, &n, scale).mase,
            drift: score(series, origins, &d, scale).mase,
        }
    });
    let served_by = match &validation_mase {
        Some(v) => pick_served(v),
        None => Forecaster::Nhits,
    };

    let nhits_fc = predict_at(&fitted.net, &series32, &split.origins, cfg.scaler)?;
    let (naive_fc, drift_fc) = baselines_at(&split.origins);
    let test = PerForecaster {
        nhits: score(series, &split.origins, &nhits_fc, scale),
        naive: score(series, &split.origins, &naive_fc, scale),
        drift: score(series, &split.origins, &drift_fc, scale),
    };
    let summary = summarise(cfg.recipe, served_by, &test, split.origins.len());
    let model = TrainedModel::new(fitted.net, cfg.clone(), served_by, Some(summary.clone()));
    let forecast = model.forecast(series)?;

    let report = TrainingReport {
        config: cfg.clone(),
        device: device_name(device).to_string(),
        parameter_count: model.parameter_count(),
        split: SplitSummary::new(&split, cfg.recipe),
        steps_run: fitted.steps_run,
        kept_step: fitted.kept_step,
        stopped_early: fitted.stopped_early,
        final_train_loss: fitted.final_train_loss,
        first_step_seconds: fitted.first_step_seconds,
        training_seconds: fitted.training_seconds,
        seconds_per_step: fitted.training_seconds / fitted.steps_run.max(1) as f64,
        mase_scale: scale,
        validation_mase,
        test,
        summary,
        forecast,
    };
    Ok(TrainingOutcome { report, model })
}

/// Lowest validation MASE wins; on a tie the simpler forecaster (naive, then drift).
fn pick_served(v: &PerForecaster<f64>) -> Forecaster {
    [Forecaster::Naive, Forecaster::Drift, Forecaster::Nhits]
        .into_iter()
        .fold(Forecaster::Naive, |best, who| if v.get(who) < v.get(best) { who } else { best })
}

fn summarise(
    recipe: Recipe,
    served_by: Forecaster,
    test: &PerForecaster<Metrics>,
    windows: usize,
) -> EvaluationSummary {
    let skill = |m: f64| 1.0 - m / test.naive.mase;
    EvaluationSummary {
        recipe,
        served_by,
        test_mase: PerForecaster {
            nhits: test.nhits.mase,
            naive: test.naive.mase,
            drift: test.drift.mase,
        },
        skill_vs_naive: skill(test.nhits.mase),
        served_skill_vs_naive: skill(test.get(served_by).mase),
        beats_naive: test.nhits.mase < test.naive.mase,
        test_windows: windows,
        verdict: report::verdict(recipe, served_by, test),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_validation_mase_is_served_and_ties_go_to_the_simpler_forecaster() {
        assert_eq!(
            pick_served(&PerForecaster { nhits: 1.0, naive: 2.0, drift: 3.0 }),
            Forecaster::Nhits
        );
        assert_eq!(
            pick_served(&PerForecaster { nhits: 4.0, naive: 2.0, drift: 1.9 }),
            Forecaster::Drift
        );
        assert_eq!(
            pick_served(&PerForecaster { nhits: 2.0, naive: 2.0, drift: 2.0 }),
            Forecaster::Naive
        );
    }

    #[test]
    fn non_finite_bars_and_short_series_are_input_errors() {
        let cfg = NHitsConfig::new(5, 10);
        let mut series = vec![1.0; 400];
        series[7] = f64::NAN;
        let err = check_training_input(&series, &cfg).unwrap_err();
        assert!(matches!(err, ForecastError::NonFiniteBar { index: 7, .. }), "{err}");
        let err = check_training_input(&[1.0; 20], &cfg).unwrap_err();
        assert!(err.is_input_error() && matches!(err, ForecastError::TooFewBars { .. }), "{err}");
        let err = check_training_input(&[1.0; 400], &cfg).unwrap_err();
        assert!(err.is_input_error() && matches!(err, ForecastError::FlatSeries), "{err}");
    }

    #[test]
    fn minimum_bars_is_the_first_accepted_length() {
        for cfg in [
            NHitsConfig::new(5, 10),
            NHitsConfig { recipe: Recipe::Faithful, ..NHitsConfig::new(24, 120) },
        ] {
            let n = minimum_bars(&cfg);
            let ramp = |n: usize| (0..n).map(|i| i as f64).collect::<Vec<_>>();
            assert!(check_training_input(&ramp(n), &cfg).is_ok(), "{n}");
            assert!(check_training_input(&ramp(n - 1), &cfg).is_err(), "{n}");
        }
    }
}
