//! End-to-end training on seeded synthetic series: learning, serving, determinism,
//! cancellation and save/load.

use std::ops::ControlFlow;

use forecast::{
    Device, ForecastError, Forecaster, NHitsConfig, NoHooks, Recipe, StepProgress, TrainedModel,
    train,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 100 + 0.002 t + sin(2 pi t / 24) + N(0, 0.1^2): a strong daily season a naive forecast
/// cannot follow.
fn seasonal_series(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|t| {
            // Box-Muller from two uniforms.
            let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
            let noise = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            100.0
                + 0.002 * t as f64
                + (2.0 * std::f64::consts::PI * t as f64 / 24.0).sin()
                + 0.1 * noise
        })
        .collect()
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

#[test]
fn nhits_learns_a_daily_season_and_is_served_over_naive() {
    let series = seasonal_series(2000, 11);
    let outcome = train(&series, &small_config(), &Device::Cpu, &mut NoHooks).unwrap();
    let r = &outcome.report;
    println!("{}", serde_json::to_string_pretty(&r.summary).unwrap());
    assert!(r.summary.skill_vs_naive >= 0.5, "skill {}", r.summary.skill_vs_naive);
    assert_eq!(r.summary.served_by, Forecaster::Nhits);
    assert!(r.summary.beats_naive);
    assert_eq!(r.forecast.len(), 24);
    assert_eq!(r.device, "cpu");
    assert_eq!((r.split.train, r.split.fit, r.split.test_windows), ([0, 1800], [0, 1620], 8));
}

#[test]
fn same_seed_same_data_same_device_gives_bit_identical_results() {
    let series = seasonal_series(1200, 5);
    let cfg = NHitsConfig { max_steps: 20, ..small_config() };
    let a = train(&series, &cfg, &Device::Cpu, &mut NoHooks).unwrap().report;
    let b = train(&series, &cfg, &Device::Cpu, &mut NoHooks).unwrap().report;
    assert_eq!(a.test, b.test);
    assert_eq!(a.validation_mase, b.validation_mase);
    assert_eq!(a.forecast, b.forecast);
    assert_eq!(a.final_train_loss.to_bits(), b.final_train_loss.to_bits());
    let c =
        train(&series, &NHitsConfig { seed: 2, ..cfg }, &Device::Cpu, &mut NoHooks).unwrap().report;
    assert_ne!(a.test.nhits, c.test.nhits, "another seed trains another model");
}

#[test]
fn hooks_see_every_step_and_validation_losses_and_can_cancel() {
    let series = seasonal_series(1200, 5);
    let cfg = NHitsConfig { max_steps: 10, val_check_steps: 4, ..small_config() };
    let mut seen: Vec<StepProgress> = Vec::new();
    let mut record = |p: &StepProgress| {
        seen.push(*p);
        ControlFlow::Continue(())
    };
    train(&series, &cfg, &Device::Cpu, &mut record).unwrap();
    assert_eq!(seen.iter().map(|p| p.step).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
    let checked: Vec<usize> =
        seen.iter().filter(|p| p.val_loss.is_some()).map(|p| p.step).collect();
    assert_eq!(checked, vec![4, 8, 10]);
    assert!(seen.iter().all(|p| p.max_steps == 10 && p.train_loss.is_finite()));

    let mut cancel_at_3 = |p: &StepProgress| {
        if p.step == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    };
    let err = train(&series, &cfg, &Device::Cpu, &mut cancel_at_3).err().unwrap();
    assert!(matches!(err, ForecastError::Cancelled { step: 3 }), "{err}");
}

#[test]
fn faithful_recipe_serves_nhits_without_validation() {
    let series = seasonal_series(1200, 5);
    let cfg = NHitsConfig { max_steps: 5, recipe: Recipe::Faithful, ..small_config() };
    let r = train(&series, &cfg, &Device::Cpu, &mut NoHooks).unwrap().report;
    assert_eq!(r.summary.served_by, Forecaster::Nhits);
    assert!(r.validation_mase.is_none() && r.split.validation.is_none());
    assert_eq!((r.split.fit, r.kept_step), ([0, 1080], 5));
}

#[test]
fn a_saved_model_loads_and_forecasts_identically_from_any_history() {
    let series = seasonal_series(1200, 5);
    let cfg = NHitsConfig { max_steps: 5, ..small_config() };
    let model = train(&series, &cfg, &Device::Cpu, &mut NoHooks).unwrap().model;
    let dir = tempfile::tempdir().unwrap();
    let meta = serde_json::json!({"symbol": "SYN", "data_range": ["0", "1199"]});
    model.save(dir.path(), meta.clone()).unwrap();
    assert!(dir.path().join("model.safetensors").is_file());

    let (loaded, card) = TrainedModel::load(dir.path(), &Device::Cpu).unwrap();
    assert_eq!(card.metadata, meta);
    assert_eq!((card.seed, card.served_by), (cfg.seed, model.served_by()));
    assert_eq!(card.hyper_parameters, cfg);
    assert_eq!(loaded.evaluation(), model.evaluation());
    // An analysis at bar 700 reads bars up to 700 only.
    let history = &series[..700];
    for who in [Forecaster::Nhits, Forecaster::Naive, Forecaster::Drift] {
        assert_eq!(
            loaded.forecast_with(who, history).unwrap(),
            model.forecast_with(who, history).unwrap()
        );
    }
    let err = loaded.forecast_with(Forecaster::Nhits, &series[..50]).unwrap_err();
    assert!(matches!(err, ForecastError::HistoryTooShort { needed: 96, got: 50 }), "{err}");
}

#[test]
fn a_corrupt_artifact_is_refused_with_a_reason() {
    let series = seasonal_series(1200, 5);
    let cfg = NHitsConfig { max_steps: 1, ..small_config() };
    let model = train(&series, &cfg, &Device::Cpu, &mut NoHooks).unwrap().model;
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
