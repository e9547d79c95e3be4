//! End-to-end training on seeded synthetic series: learning, seasonal baselines, intervals,
//! refit, calendar inputs, determinism, cancellation and save/load.

use std::ops::ControlFlow;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use forecast::{
    Device, ForecastError, Forecaster, NHitsConfig, NoHooks, Recipe, Series, StepProgress,
    TrainedModel, train,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `100 + 0.002 t + amp sin(2 pi t / 24) + N(0, noise^2)`.
fn seasonal(n: usize, seed: u64, amp: f64, noise: f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|t| {
            // Box-Muller from two uniforms.
            let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            100.0
                + 0.002 * t as f64
                + amp * (std::f64::consts::TAU * t as f64 / 24.0).sin()
                + noise * z
        })
        .collect()
}

/// A strong daily season a naive forecast cannot follow.
fn seasonal_series(n: usize, seed: u64) -> Vec<f64> {
    seasonal(n, seed, 1.0, 0.1)
}

/// Hourly times from Monday 2024-01-01 00:00.
fn hourly(n: usize) -> Vec<NaiveDateTime> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    (0..n).map(|i| start + TimeDelta::hours(i as i64)).collect()
}

/// A small network so the test trains in seconds in a debug build.
fn small_config() -> NHitsConfig {
    NHitsConfig {
        max_steps: 150,
        windows_batch_size: 256,
        mlp_units: vec![[64, 64]; 2],
        val_check_steps: 25,
        ..NHitsConfig::new(24, 96)
    }
}

fn run(values: &[f64], cfg: &NHitsConfig) -> forecast::TrainingOutcome {
    train(&Series::new(values), cfg, &Device::Cpu, &mut NoHooks).unwrap()
}

#[test]
fn nhits_learns_a_daily_season_and_is_served_over_naive() {
    let series = seasonal_series(2000, 11);
    let r = run(&series, &small_config()).report;
    println!("{}", serde_json::to_string_pretty(&r.summary).unwrap());
    assert!(r.summary.skill_vs_naive >= 0.5, "skill {}", r.summary.skill_vs_naive);
    assert_eq!(r.summary.served_by, Forecaster::Nhits, "{}", r.summary.verdict);
    assert!(r.summary.beats_naive);
    assert_eq!(r.forecast.points.len(), 24);
    assert_eq!(r.device, "cpu");
    // Training 1800 bars; 10 folds 36 bars apart over the last fifth, the last ending at 1800.
    assert_eq!((r.split.train, r.split.fit, r.split.test_windows), ([0, 1800], [0, 1452], 8));
    assert_eq!(r.split.folds.len(), 10);
    assert_eq!(r.split.refit, Some([0, 1800]));
    assert_eq!(r.refit_steps, Some(r.kept_step));
}

#[test]
fn a_seasonal_naive_baseline_competes_and_the_verdict_names_the_best_baseline() {
    // A clean season: repeating the last day is nearly perfect, five steps of N-HiTS are not.
    let series = seasonal(2000, 3, 5.0, 0.05);
    let cfg = NHitsConfig { max_steps: 5, seasons: vec![24], ..small_config() };
    let r = run(&series, &cfg).report;
    let seasonal = Forecaster::SeasonalNaive(24);
    assert_eq!(r.summary.served_by, seasonal, "{}", r.summary.verdict);
    assert_eq!(r.summary.best_baseline, seasonal);
    assert!(
        r.summary.verdict.contains("best baseline, seasonal naive (24 bars)"),
        "{}",
        r.summary.verdict
    );
    assert!(r.test.get(seasonal).mase < r.test.get(Forecaster::Naive).mase / 5.0);
    let selection = r.selection.as_ref().unwrap();
    assert!(selection.reason.contains("did not beat the best baseline"), "{}", selection.reason);
    // The served forecast carries intervals, nested 80 inside 95.
    let p = &r.forecast.points[0];
    let band = p.band.unwrap();
    assert!(band.lower_95 <= band.lower_80 && band.lower_80 < p.value && p.value < band.upper_80);
    assert!(band.upper_80 <= band.upper_95);
    assert_eq!(r.forecast.forecaster, seasonal);
}

#[test]
fn conformal_intervals_cover_about_their_nominal_share_of_test_points() {
    // Noise sd 1 on a season: seasonal naive's errors are exchangeable, so split conformal
    // should cover close to 80 % and 95 % of 4 x 24 x 16 = 1536 test points... within a few.
    let series = seasonal(16_000, 9, 5.0, 1.0);
    let cfg = NHitsConfig { max_steps: 1, seasons: vec![24], ..small_config() };
    let r = run(&series, &cfg).report;
    let served = r.summary.served_by;
    let c = r.coverage.get(served);
    println!("{served}: {c:?}");
    assert!((c.empirical_80 - 80.0).abs() <= 4.0, "{c:?}");
    assert!((c.empirical_95 - 95.0).abs() <= 3.0, "{c:?}");
    let widths = r.intervals.as_ref().unwrap();
    assert_eq!(widths.half_width_80.len(), 24);
    assert!(widths.half_width_80.iter().zip(&widths.half_width_95).all(|(a, b)| a < b));
}

#[test]
fn same_seed_same_data_same_device_gives_bit_identical_results() {
    let series = seasonal_series(1200, 5);
    let cfg = NHitsConfig { max_steps: 20, ..small_config() };
    let a = run(&series, &cfg).report;
    let b = run(&series, &cfg).report;
    assert_eq!(a.test, b.test);
    assert_eq!(a.validation_mase, b.validation_mase);
    assert_eq!(a.forecast, b.forecast);
    assert_eq!(a.final_train_loss.to_bits(), b.final_train_loss.to_bits());
    let c = run(&series, &NHitsConfig { seed: 2, ..cfg }).report;
    let nhits = |r: &forecast::TrainingReport| r.test.get(Forecaster::Nhits);
    assert_ne!(nhits(&a), nhits(&c), "another seed trains another model");
}

#[test]
fn hooks_see_every_step_of_the_fit_then_of_the_refit_and_can_cancel() {
    let series = seasonal_series(1200, 5);
    let cfg = NHitsConfig { max_steps: 10, val_check_steps: 4, ..small_config() };
    let mut seen: Vec<StepProgress> = Vec::new();
    let mut record = |p: &StepProgress| {
        seen.push(*p);
        ControlFlow::Continue(())
    };
    let r = train(&Series::new(&series), &cfg, &Device::Cpu, &mut record).unwrap().report;
    let (fit, refit): (Vec<&StepProgress>, Vec<_>) = seen.iter().partition(|p| !p.refit);
    assert_eq!(fit.iter().map(|p| p.step).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
    let checked: Vec<usize> = fit.iter().filter(|p| p.val_loss.is_some()).map(|p| p.step).collect();
    assert_eq!(checked, vec![4, 8, 10]);
    assert!(fit.iter().all(|p| p.max_steps == 10 && p.train_loss.is_finite()));
    assert_eq!(refit.len(), r.kept_step);
    assert!(refit.iter().all(|p| p.max_steps == r.kept_step && p.val_loss.is_none()));

    let mut cancel_at_3 = |p: &StepProgress| {
        if p.step == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    };
    let err = train(&Series::new(&series), &cfg, &Device::Cpu, &mut cancel_at_3).err().unwrap();
    assert!(matches!(err, ForecastError::Cancelled { step: 3 }), "{err}");
}

#[test]
fn without_refit_the_weights_chosen_before_the_folds_are_served() {
    let series = seasonal_series(1200, 5);
    let cfg = NHitsConfig { max_steps: 10, refit: false, ..small_config() };
    let r = run(&series, &cfg).report;
    assert_eq!((r.refit_steps, r.split.refit), (None, None));
}

#[test]
fn faithful_recipe_serves_nhits_without_validation() {
    let series = seasonal_series(1200, 5);
    let cfg = NHitsConfig { max_steps: 5, recipe: Recipe::Faithful, ..small_config() };
    let r = run(&series, &cfg).report;
    assert_eq!(r.summary.served_by, Forecaster::Nhits);
    assert!(r.validation_mase.is_none() && r.split.validation.is_none());
    assert_eq!((r.split.fit, r.kept_step, r.refit_steps), ([0, 1080], 5, None));
    assert!(r.forecast.points[0].band.is_none(), "no validation, no intervals");
}

#[test]
fn calendar_inputs_train_save_load_and_forecast_times_continue_the_series() {
    let series = seasonal_series(1200, 5);
    let times = hourly(1200);
    let cfg = NHitsConfig { max_steps: 5, exog: true, ..small_config() };
    let outcome =
        train(&Series::with_times(&series, &times), &cfg, &Device::Cpu, &mut NoHooks).unwrap();
    assert_eq!(outcome.model.architecture().futr_features, 4);
    let first = &outcome.report.forecast.points[0];
    assert_eq!(first.time.as_deref(), Some("2024-02-20T00:00:00"), "bar 1200 is 50 days on");

    let dir = tempfile::tempdir().unwrap();
    outcome.model.save(dir.path(), serde_json::Value::Null).unwrap();
    let (loaded, _) = TrainedModel::load(dir.path(), &Device::Cpu).unwrap();
    let history = Series::with_times(&series[..700], &times[..700]);
    assert_eq!(
        loaded.forecast_with(Forecaster::Nhits, &history).unwrap(),
        outcome.model.forecast_with(Forecaster::Nhits, &history).unwrap()
    );
    let err = loaded.forecast_with(Forecaster::Nhits, &Series::new(&series[..700])).unwrap_err();
    assert!(matches!(err, ForecastError::InvalidConfig { field: "times", .. }), "{err}");
}

#[test]
fn a_saved_model_loads_and_forecasts_identically_from_any_history() {
    let series = seasonal_series(1200, 5);
    let cfg = NHitsConfig { max_steps: 5, seasons: vec![24], ..small_config() };
    let model = run(&series, &cfg).model;
    let dir = tempfile::tempdir().unwrap();
    let meta = serde_json::json!({"symbol": "SYN", "data_range": ["0", "1199"]});
    model.save(dir.path(), meta.clone()).unwrap();
    assert!(dir.path().join("model.safetensors").is_file());

    let (loaded, card) = TrainedModel::load(dir.path(), &Device::Cpu).unwrap();
    assert_eq!(card.metadata, meta);
    assert_eq!((card.seed, card.served_by), (cfg.seed, model.served_by()));
    assert_eq!(card.hyper_parameters, cfg);
    assert_eq!(loaded.evaluation(), model.evaluation());
    assert_eq!(loaded.intervals(), model.intervals());
    // An analysis at bar 700 reads bars up to 700 only.
    let history = Series::new(&series[..700]);
    for who in
        [Forecaster::Nhits, Forecaster::Naive, Forecaster::Drift, Forecaster::SeasonalNaive(24)]
    {
        assert_eq!(
            loaded.forecast_with(who, &history).unwrap(),
            model.forecast_with(who, &history).unwrap()
        );
    }
    assert_eq!(loaded.predict(&history).unwrap(), model.predict(&history).unwrap());
    let err = loaded.forecast_with(Forecaster::Nhits, &Series::new(&series[..50])).unwrap_err();
    assert!(matches!(err, ForecastError::HistoryTooShort { needed: 96, got: 50 }), "{err}");
}

#[test]
fn a_corrupt_artifact_is_refused_with_a_reason() {
    let series = seasonal_series(1200, 5);
    let cfg = NHitsConfig { max_steps: 1, ..small_config() };
    let model = run(&series, &cfg).model;
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path(), serde_json::Value::Null).unwrap();
    let card_path = dir.path().join("model.json");
    let card = std::fs::read_to_string(&card_path)
        .unwrap()
        .replace("\"input_size\": 96", "\"input_size\": 48");
    std::fs::write(&card_path, card).unwrap();
    let err = TrainedModel::load(dir.path(), &Device::Cpu).err().unwrap();
    assert!(matches!(err, ForecastError::InvalidArtifact { .. }), "{err}");
}
