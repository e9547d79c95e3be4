//! `train`: the protocol end to end — split, fit on the bars before the validation folds,
//! choose the served forecaster on the folds, calibrate intervals, refit on the whole
//! training region, score on the test windows, forecast past the data's end.

mod fit;
mod report;
mod select;

use std::time::Instant;

use candle_core::Device;
use chrono::NaiveDateTime;

pub use report::{
    EvaluationSummary, Forecast, ForecastPoint, PerForecaster, Selection, SplitSummary, TestWindow,
    TrainingReport,
};
pub use select::MARGIN;

use crate::calendar::{self, Calendar};
use crate::model::TrainedModel;
use crate::network::DeviceNet;
use crate::predict::predict_at;
use crate::protocol::{Conformal, Forecaster, Split, mase_scale, score};
use crate::windows::FutrInputs;
use crate::{ForecastError, NHitsConfig, Recipe, TrainingHooks, device_name};
use fit::{Run, Validation, fit};

/// Closes in time order, with their bar times when known (needed for calendar inputs and for
/// forecast times).
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub values: &'a [f64],
    pub times: Option<&'a [NaiveDateTime]>,
}

impl<'a> Series<'a> {
    pub fn new(values: &'a [f64]) -> Self {
        Self { values, times: None }
    }

    pub fn with_times(values: &'a [f64], times: &'a [NaiveDateTime]) -> Self {
        Self { values, times: Some(times) }
    }

    /// The spacing read off the times (`None` without times or when they do not increase).
    pub fn calendar(&self) -> Option<Calendar> {
        self.times.and_then(Calendar::infer)
    }

    /// Calendar inputs of every bar and of the `horizon` bars after the last, flattened
    /// `FEATURES` per bar.
    pub(crate) fn calendar_inputs(&self, horizon: usize) -> Option<Vec<f32>> {
        let (times, cal) = (self.times?, self.calendar()?);
        let future = cal.next_times(*times.last()?, horizon);
        Some(times.iter().chain(&future).flat_map(|&t| Calendar::features(t)).collect())
    }
}

/// A finished run: the report (serialisable) and the model to save or forecast with.
pub struct TrainingOutcome {
    pub report: TrainingReport,
    pub model: TrainedModel,
}

/// Checks the configuration and the series before any work: what can be known at submission.
/// Returns the split the run would use.
pub fn check_training_input(series: &Series, cfg: &NHitsConfig) -> Result<Split, ForecastError> {
    cfg.validate()?;
    let values = series.values;
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ForecastError::NonFiniteBar { index, value });
    }
    if series.times.is_some_and(|t| t.len() != values.len()) {
        return Err(ForecastError::config("times", "needs one time per bar"));
    }
    if cfg.exog && series.calendar().is_none() {
        return Err(ForecastError::config(
            "exog",
            "calendar inputs need the bars' times (at least two, strictly increasing)",
        ));
    }
    let split = shape_check(values.len(), cfg).map_err(|why| ForecastError::TooFewBars {
        needed: minimum_bars(cfg),
        got: values.len(),
        why,
    })?;
    if mase_scale(&values[split.train_range()]) == 0.0 {
        return Err(ForecastError::FlatSeries);
    }
    Ok(split)
}

/// Fewest training windows (start offsets) before the first fold: fewer cannot fit millions
/// of weights to anything but noise.
const MIN_TRAINING_WINDOWS: usize = 64;

/// Whether `bars` bars can be split for this configuration, and the split.
fn shape_check(bars: usize, cfg: &NHitsConfig) -> Result<Split, String> {
    let (l, h) = (cfg.input_size, cfg.horizon);
    match cfg.recipe {
        Recipe::Faithful => {
            let split = Split::new(bars, h)
                .map_err(|_| "one test window of `horizon` bars in the last tenth".to_string())?;
            if split.fit_end() <= l {
                return Err(
                    "training windows need more than `input_size` bars before the test bars".into(),
                );
            }
            Ok(split)
        }
        Recipe::Honest => {
            let split = Split::with_folds(bars, h, cfg.val_windows).map_err(|_| {
                format!(
                    "one test window of `horizon` bars in the last tenth, and {} validation windows in the last fifth of the rest",
                    crate::protocol::MIN_FOLDS
                )
            })?;
            let fit_end = split.fit_end();
            if fit_end < l + (2 * h).max(MIN_TRAINING_WINDOWS) {
                return Err(format!(
                    "the bars before the first validation fold must hold `input_size` + max(2 x `horizon`, {MIN_TRAINING_WINDOWS}) bars"
                ));
            }
            if let Some(&m) = cfg.seasons.iter().find(|&&m| m > fit_end) {
                return Err(format!(
                    "the bars before the first validation fold must hold a whole season of {m}"
                ));
            }
            Ok(split)
        }
    }
}

/// The fewest bars for which [`check_training_input`] accepts the configuration's shape.
pub fn minimum_bars(cfg: &NHitsConfig) -> usize {
    // Acceptance is monotone in practice but not provably so (integer divisions): scan.
    (1..=10_000_000).find(|&n| shape_check(n, cfg).is_ok()).unwrap_or(usize::MAX)
}

/// Trains N-HiTS on `series` under the protocol and reports.
///
/// Blocking and CPU- or GPU-heavy (seconds to minutes): call it from a blocking thread
/// (`tokio::task::spawn_blocking`), never on an async runtime's worker. `hooks` run on this
/// thread after every step and may cancel.
pub fn train(
    series: &Series,
    cfg: &NHitsConfig,
    device: &Device,
    hooks: &mut dyn TrainingHooks,
) -> Result<TrainingOutcome, ForecastError> {
    let started = Instant::now();
    let split = check_training_input(series, cfg)?;
    let values = series.values;
    // NeuralForecast trains and predicts in float32.
    let series32: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    let scale = mase_scale(&values[split.train_range()]);
    let honest = cfg.recipe == Recipe::Honest;
    let futr_values = if cfg.exog { series.calendar_inputs(cfg.horizon) } else { None };
    let futr =
        futr_values.as_deref().map(|values| FutrInputs { values, features: calendar::FEATURES });
    let baselines = Forecaster::baselines(if honest { &cfg.seasons } else { &[] });
    let everyone: Vec<Forecaster> =
        std::iter::once(Forecaster::Nhits).chain(baselines.iter().copied()).collect();
    let forecasts_at = |net: &DeviceNet, origins: &[usize]| {
        everyone
            .iter()
            .map(|&who| {
                let fc = match who {
                    Forecaster::Nhits => predict_at(net, &series32, origins, cfg.scaler, futr)?,
                    baseline => origins
                        .iter()
                        .map(|&t0| {
                            baseline.baseline(&values[..t0], cfg.horizon).expect("a baseline")
                        })
                        .collect(),
                };
                Ok((who, fc))
            })
            .collect::<Result<Vec<_>, ForecastError>>()
    };

    let first = Run { fit_end: split.fit_end(), steps: cfg.max_steps, futr, refit: false };
    let validation = honest.then(|| Validation {
        series: values,
        origins: split.folds.clone(),
        mase_scale: scale,
    });
    let mut fitted = fit(&series32, &first, cfg, device, validation, hooks, started)?;

    // Choice and calibration use the weights that never saw the validation bars.
    let (served_by, selection, validation_mase, conformal) = if honest {
        let (served, selection, pooled) =
            select::select(values, &split.folds, &forecasts_at(&fitted.net, &split.folds)?, scale);
        let dense = split.dense_validation_origins();
        let conformal: Vec<(Forecaster, Conformal)> = forecasts_at(&fitted.net, &dense)?
            .into_iter()
            .filter_map(|(who, fc)| Conformal::calibrate(values, &dense, &fc).map(|c| (who, c)))
            .collect();
        (served, Some(selection), Some(pooled), conformal)
    } else {
        (Forecaster::Nhits, None, None, Vec::new())
    };

    let (mut training_seconds, mut refit_steps) = (fitted.training_seconds, None);
    if honest && cfg.refit {
        let again = Run { fit_end: split.train_bars, steps: fitted.kept_step, futr, refit: true };
        let refitted = fit(&series32, &again, cfg, device, None, hooks, started)?;
        training_seconds += refitted.training_seconds;
        refit_steps = Some(refitted.steps_run);
        fitted.final_train_loss = refitted.final_train_loss;
        fitted.net = refitted.net;
    }

    let test_fc = forecasts_at(&fitted.net, &split.origins)?;
    let test: PerForecaster<_> =
        test_fc.iter().map(|(who, fc)| (*who, score(values, &split.origins, fc, scale))).collect();
    let coverage = conformal
        .iter()
        .map(|(who, c)| {
            let fc = &test_fc.iter().find(|(w, _)| w == who).expect("scored on test").1;
            (*who, c.coverage(values, &split.origins, fc))
        })
        .collect();
    let intervals = conformal.iter().find(|(who, _)| *who == served_by).map(|(_, c)| c.clone());
    let last_test_window = last_window(values, &split.origins, cfg.horizon, served_by, &test_fc);
    let best_baseline = select::best_on_test(&test, &baselines);
    let summary = summarise(
        cfg.recipe,
        served_by,
        best_baseline,
        &test,
        selection.as_ref(),
        split.origins.len(),
    );
    let model = TrainedModel::new(
        fitted.net,
        cfg.clone(),
        served_by,
        Some(summary.clone()),
        intervals.clone(),
    );
    let forecast = model.predict(series)?;
    let steps_total = fitted.steps_run + refit_steps.unwrap_or(0);

    let report = TrainingReport {
        config: cfg.clone(),
        device: device_name(device).to_string(),
        parameter_count: model.parameter_count(),
        split: SplitSummary::new(&split, refit_steps.is_some()),
        spacing: series.calendar().map(|c| c.kind()),
        steps_run: fitted.steps_run,
        kept_step: fitted.kept_step,
        refit_steps,
        stopped_early: fitted.stopped_early,
        final_train_loss: fitted.final_train_loss,
        first_step_seconds: fitted.first_step_seconds,
        training_seconds,
        seconds_per_step: training_seconds / steps_total.max(1) as f64,
        mase_scale: scale,
        validation_mase,
        selection,
        test,
        coverage,
        intervals,
        summary,
        forecast,
        last_test_window,
    };
    Ok(TrainingOutcome { report, model })
}

/// The scored forecast of `who` at the last test origin, with the bars it was scored against.
fn last_window(
    values: &[f64],
    origins: &[usize],
    horizon: usize,
    who: Forecaster,
    test_fc: &[(Forecaster, Vec<Vec<f64>>)],
) -> Option<TestWindow> {
    let (&origin, (_, fc)) = origins.last().zip(test_fc.iter().find(|(w, _)| *w == who))?;
    Some(TestWindow {
        forecaster: who,
        origin,
        forecast: fc.last()?.clone(),
        actual: values[origin..origin + horizon].to_vec(),
    })
}

fn summarise(
    recipe: Recipe,
    served_by: Forecaster,
    best: Forecaster,
    test: &PerForecaster<crate::Metrics>,
    selection: Option<&Selection>,
    windows: usize,
) -> EvaluationSummary {
    let mase = |who: Forecaster| test.get(who).mase;
    let (nhits, served) = (mase(Forecaster::Nhits), mase(served_by));
    let (best_mase, naive) = (mase(best), mase(Forecaster::Naive));
    EvaluationSummary {
        recipe,
        served_by,
        best_baseline: best,
        test_mase: test.0.iter().map(|(who, m)| (*who, m.mase)).collect(),
        skill_vs_best_baseline: 1.0 - nhits / best_mase,
        served_skill_vs_best_baseline: 1.0 - served / best_mase,
        beats_best_baseline: nhits < best_mase,
        skill_vs_naive: 1.0 - nhits / naive,
        served_skill_vs_naive: 1.0 - served / naive,
        beats_naive: nhits < naive,
        test_windows: windows,
        verdict: report::verdict(served_by, best, test, selection),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_bars_and_short_series_are_input_errors() {
        let cfg = NHitsConfig::new(5, 10);
        let mut values = vec![1.0; 400];
        values[7] = f64::NAN;
        let err = check_training_input(&Series::new(&values), &cfg).unwrap_err();
        assert!(matches!(err, ForecastError::NonFiniteBar { index: 7, .. }), "{err}");
        let err = check_training_input(&Series::new(&[1.0; 20]), &cfg).unwrap_err();
        assert!(err.is_input_error() && matches!(err, ForecastError::TooFewBars { .. }), "{err}");
        let err = check_training_input(&Series::new(&[1.0; 400]), &cfg).unwrap_err();
        assert!(err.is_input_error() && matches!(err, ForecastError::FlatSeries), "{err}");
    }

    #[test]
    fn minimum_bars_is_the_first_accepted_length() {
        for cfg in [
            NHitsConfig::new(5, 10),
            NHitsConfig::new(48, 672),
            NHitsConfig { seasons: vec![7, 400], ..NHitsConfig::new(5, 10) },
            NHitsConfig { recipe: Recipe::Faithful, ..NHitsConfig::new(24, 120) },
        ] {
            let n = minimum_bars(&cfg);
            let ramp = (0..n).map(|i| i as f64).collect::<Vec<_>>();
            assert!(check_training_input(&Series::new(&ramp), &cfg).is_ok(), "{n}");
            assert!(check_training_input(&Series::new(&ramp[..n - 1]), &cfg).is_err(), "{n}");
        }
    }

    #[test]
    fn thirty_bars_are_too_few_for_any_honest_evaluation() {
        let cfg = NHitsConfig::new(1, 5);
        let ramp: Vec<f64> = (0..30).map(f64::from).collect();
        let err = check_training_input(&Series::new(&ramp), &cfg).unwrap_err();
        assert!(matches!(err, ForecastError::TooFewBars { needed, .. } if needed > 30), "{err}");
    }

    #[test]
    fn the_last_test_window_is_the_served_forecasters_last_scored_window() {
        let values: Vec<f64> = (0..20).map(f64::from).collect();
        let fc = |base: f64| vec![vec![base; 3], vec![base + 1.0; 3]];
        let test_fc = [(Forecaster::Nhits, fc(0.0)), (Forecaster::Naive, fc(10.0))];
        let w = last_window(&values, &[14, 17], 3, Forecaster::Naive, &test_fc).unwrap();
        assert_eq!((w.forecaster, w.origin), (Forecaster::Naive, 17));
        assert_eq!((w.forecast, w.actual), (vec![11.0; 3], vec![17.0, 18.0, 19.0]));
    }

    #[test]
    fn calendar_inputs_need_times() {
        let cfg = NHitsConfig { exog: true, ..NHitsConfig::new(5, 10) };
        let ramp: Vec<f64> = (0..400).map(f64::from).collect();
        let err = check_training_input(&Series::new(&ramp), &cfg).unwrap_err();
        assert!(matches!(err, ForecastError::InvalidConfig { field: "exog", .. }), "{err}");
    }
}
