//! Hyper-parameters of N-HiTS and of the training recipe, with NeuralForecast's defaults.

use serde::{Deserialize, Serialize};

use crate::ForecastError;

/// Largest horizon accepted (a month of hourly bars).
pub const MAX_HORIZON: usize = 720;
/// Largest input window accepted; beyond this the first layer dominates memory and time.
pub const MAX_INPUT_SIZE: usize = 5_000;
/// Largest number of optimiser steps accepted.
pub const MAX_STEPS: usize = 10_000;
/// Most season lengths (seasonal naive baselines) per run.
pub const MAX_SEASONS: usize = 4;
/// Most validation folds.
pub const MAX_VAL_WINDOWS: usize = 50;

/// Per-window scaling of input and target (NeuralForecast's `scaler_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScalerKind {
    /// Median and median absolute deviation of the input window.
    #[default]
    Robust,
    /// Mean and population standard deviation of the input window.
    Standard,
}

/// How the model is trained and which forecaster is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Recipe {
    /// Choose the weights and the served forecaster on validation folds spread over the last
    /// fifth of the training region (N-HiTS against naive, drift and seasonal naive), refit
    /// on the whole training region, and calibrate prediction intervals.
    #[default]
    Honest,
    /// NeuralForecast exactly: no validation, no early stopping, N-HiTS always served.
    /// Used to prove the port against NeuralForecast's figures.
    Faithful,
}

/// N-HiTS hyper-parameters. Field names and defaults follow NeuralForecast 3.3.0's `NHITS`,
/// except `scaler` (NeuralForecast defaults to identity; the reference runs use robust) and
/// `recipe`. When `input_size` is left out of the JSON it is 5 × `horizon`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ConfigInput")]
pub struct NHitsConfig {
    /// Bars forecast at once, 1..=720.
    pub horizon: usize,
    /// Bars the model reads (NeuralForecast's `input_size`, L).
    pub input_size: usize,
    /// Optimiser steps, 1..=10000.
    pub max_steps: usize,
    /// Seeds the weight initialisation and the window sampling.
    pub seed: u64,
    /// Adam's initial learning rate.
    pub learning_rate: f64,
    /// The learning rate halves every `max_steps / num_lr_decays` steps (0: never).
    pub num_lr_decays: usize,
    /// Training windows sampled per step.
    pub windows_batch_size: usize,
    /// Hidden layers of every block's MLP, as `[in, out]` pairs.
    pub mlp_units: Vec<[usize; 2]>,
    /// MaxPool kernel of each stack's input.
    pub n_pool_kernel_size: Vec<usize>,
    /// Each stack forecasts `max(horizon / f, 1)` knots and interpolates them.
    pub n_freq_downsample: Vec<usize>,
    pub scaler: ScalerKind,
    pub recipe: Recipe,
    /// Steps between validation checks (honest recipe only).
    pub val_check_steps: usize,
    /// Stop after this many validation checks without improvement (`None`: never stop early,
    /// still keep the best weights).
    pub early_stop_patience_steps: Option<usize>,
    /// Season lengths in bars; each gets a seasonal naive baseline (honest recipe).
    pub seasons: Vec<usize>,
    /// Feed the forecast bars' calendar (time of day, day of week) as known-future inputs;
    /// needs the bars' times.
    pub exog: bool,
    /// After choosing the number of steps on the folds, train again on the whole training
    /// region for that many steps (honest recipe). `false` serves the weights fitted before
    /// the folds, as before refit existed.
    pub refit: bool,
    /// Validation folds (at most; at least `MIN_FOLDS` must fit).
    pub val_windows: usize,
}

impl Default for NHitsConfig {
    fn default() -> Self {
        Self::new(24, 120)
    }
}

impl NHitsConfig {
    /// NeuralForecast's defaults for the given horizon and input window.
    pub fn new(horizon: usize, input_size: usize) -> Self {
        Self {
            horizon,
            input_size,
            max_steps: 1000,
            seed: 1,
            learning_rate: 1e-3,
            num_lr_decays: 3,
            windows_batch_size: 1024,
            mlp_units: vec![[512, 512]; 3],
            n_pool_kernel_size: vec![2, 2, 1],
            n_freq_downsample: vec![4, 2, 1],
            scaler: ScalerKind::Robust,
            recipe: Recipe::Honest,
            val_check_steps: 100,
            early_stop_patience_steps: None,
            seasons: Vec::new(),
            exog: false,
            refit: true,
            val_windows: 10,
        }
    }

    /// Checks every bound; the error names the first offending field.
    pub fn validate(&self) -> Result<(), ForecastError> {
        let err = ForecastError::config;
        in_range("horizon", self.horizon, 1, MAX_HORIZON)?;
        in_range("input_size", self.input_size, 1, MAX_INPUT_SIZE)?;
        in_range("max_steps", self.max_steps, 1, MAX_STEPS)?;
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= 1.0)
        {
            return Err(err(
                "learning_rate",
                format!("must be in (0, 1], got {}", self.learning_rate),
            ));
        }
        in_range("num_lr_decays", self.num_lr_decays, 0, 100)?;
        in_range("windows_batch_size", self.windows_batch_size, 1, 8192)?;
        in_range("mlp_units", self.mlp_units.len(), 1, 8)?;
        for (i, [fan_in, fan_out]) in self.mlp_units.iter().enumerate() {
            in_range("mlp_units", *fan_in, 1, 4096)?;
            in_range("mlp_units", *fan_out, 1, 4096)?;
            if i > 0 && self.mlp_units[i - 1][1] != *fan_in {
                return Err(err(
                    "mlp_units",
                    format!(
                        "layer {i} takes {fan_in} inputs but layer {} gives {}",
                        i - 1,
                        self.mlp_units[i - 1][1]
                    ),
                ));
            }
        }
        in_range("n_pool_kernel_size", self.n_pool_kernel_size.len(), 1, 8)?;
        if self.n_freq_downsample.len() != self.n_pool_kernel_size.len() {
            return Err(err(
                "n_freq_downsample",
                "needs one entry per stack, as n_pool_kernel_size".into(),
            ));
        }
        for &k in &self.n_pool_kernel_size {
            in_range("n_pool_kernel_size", k, 1, self.input_size)?;
        }
        for &f in &self.n_freq_downsample {
            in_range("n_freq_downsample", f, 1, 1024)?;
        }
        in_range("val_check_steps", self.val_check_steps, 1, MAX_STEPS)?;
        if let Some(p) = self.early_stop_patience_steps {
            in_range("early_stop_patience_steps", p, 1, MAX_STEPS)?;
        }
        in_range("seasons", self.seasons.len(), 0, MAX_SEASONS)?;
        for &m in &self.seasons {
            in_range("seasons", m, 2, MAX_INPUT_SIZE)?;
        }
        in_range("val_windows", self.val_windows, crate::protocol::MIN_FOLDS, MAX_VAL_WINDOWS)?;
        Ok(())
    }

    /// StepLR's `step_size`: NeuralForecast's `max(max_steps // num_lr_decays, 1)`.
    pub fn lr_decay_steps(&self) -> Option<usize> {
        (self.num_lr_decays > 0).then(|| (self.max_steps / self.num_lr_decays).max(1))
    }

    /// Learning rate in force for the optimiser step `step` (0-based).
    pub fn learning_rate_at(&self, step: usize) -> f64 {
        match self.lr_decay_steps() {
            Some(every) => self.learning_rate * 0.5f64.powi((step / every) as i32),
            None => self.learning_rate,
        }
    }
}

fn in_range(field: &'static str, value: usize, lo: usize, hi: usize) -> Result<(), ForecastError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(ForecastError::config(field, format!("must be in {lo}..={hi}, got {value}")))
    }
}

/// What callers may send: every field optional, unknown fields rejected.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigInput {
    horizon: Option<usize>,
    input_size: Option<usize>,
    max_steps: Option<usize>,
    seed: Option<u64>,
    learning_rate: Option<f64>,
    num_lr_decays: Option<usize>,
    windows_batch_size: Option<usize>,
    mlp_units: Option<Vec<[usize; 2]>>,
    n_pool_kernel_size: Option<Vec<usize>>,
    n_freq_downsample: Option<Vec<usize>>,
    scaler: Option<ScalerKind>,
    recipe: Option<Recipe>,
    val_check_steps: Option<usize>,
    #[serde(default, deserialize_with = "explicit_option")]
    early_stop_patience_steps: Option<Option<usize>>,
    seasons: Option<Vec<usize>>,
    exog: Option<bool>,
    refit: Option<bool>,
    val_windows: Option<usize>,
}

/// Tells a missing field (keep the default) from an explicit `null` (turn it off).
fn explicit_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<usize>>, D::Error> {
    Option::<usize>::deserialize(d).map(Some)
}

impl From<ConfigInput> for NHitsConfig {
    fn from(i: ConfigInput) -> Self {
        let horizon = i.horizon.unwrap_or(24);
        let d = NHitsConfig::new(horizon, i.input_size.unwrap_or(5 * horizon));
        NHitsConfig {
            max_steps: i.max_steps.unwrap_or(d.max_steps),
            seed: i.seed.unwrap_or(d.seed),
            learning_rate: i.learning_rate.unwrap_or(d.learning_rate),
            num_lr_decays: i.num_lr_decays.unwrap_or(d.num_lr_decays),
            windows_batch_size: i.windows_batch_size.unwrap_or(d.windows_batch_size),
            mlp_units: i.mlp_units.unwrap_or(d.mlp_units.clone()),
            n_pool_kernel_size: i.n_pool_kernel_size.unwrap_or(d.n_pool_kernel_size.clone()),
            n_freq_downsample: i.n_freq_downsample.unwrap_or(d.n_freq_downsample.clone()),
            scaler: i.scaler.unwrap_or(d.scaler),
            recipe: i.recipe.unwrap_or(d.recipe),
            val_check_steps: i.val_check_steps.unwrap_or(d.val_check_steps),
            early_stop_patience_steps: i
                .early_stop_patience_steps
                .unwrap_or(d.early_stop_patience_steps),
            seasons: i.seasons.unwrap_or_default(),
            exog: i.exog.unwrap_or(d.exog),
            refit: i.refit.unwrap_or(d.refit),
            val_windows: i.val_windows.unwrap_or(d.val_windows),
            ..d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(cfg: &NHitsConfig) -> &'static str {
        match cfg.validate() {
            Err(ForecastError::InvalidConfig { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_neuralforecasts_and_valid() {
        let cfg = NHitsConfig::default();
        assert_eq!((cfg.max_steps, cfg.windows_batch_size, cfg.seed), (1000, 1024, 1));
        assert_eq!(cfg.mlp_units, vec![[512, 512]; 3]);
        assert_eq!(
            (cfg.n_pool_kernel_size.clone(), cfg.n_freq_downsample.clone()),
            (vec![2, 2, 1], vec![4, 2, 1])
        );
        assert_eq!((cfg.val_check_steps, cfg.early_stop_patience_steps), (100, None));
        cfg.validate().unwrap();
    }

    #[test]
    fn out_of_bounds_fields_are_named_in_the_error() {
        let base = NHitsConfig::new(24, 120);
        assert_eq!(field_of(&NHitsConfig { horizon: 0, ..base.clone() }), "horizon");
        assert_eq!(field_of(&NHitsConfig { horizon: 721, ..base.clone() }), "horizon");
        assert_eq!(field_of(&NHitsConfig { max_steps: 0, ..base.clone() }), "max_steps");
        assert_eq!(field_of(&NHitsConfig { max_steps: 10_001, ..base.clone() }), "max_steps");
        assert_eq!(field_of(&NHitsConfig { input_size: 0, ..base.clone() }), "input_size");
        assert_eq!(
            field_of(&NHitsConfig { learning_rate: f64::NAN, ..base.clone() }),
            "learning_rate"
        );
        assert_eq!(
            field_of(&NHitsConfig { windows_batch_size: 0, ..base.clone() }),
            "windows_batch_size"
        );
        assert_eq!(
            field_of(&NHitsConfig { mlp_units: vec![[512, 256], [512, 512]], ..base.clone() }),
            "mlp_units"
        );
        assert_eq!(
            field_of(&NHitsConfig { n_freq_downsample: vec![4, 2], ..base.clone() }),
            "n_freq_downsample"
        );
        assert_eq!(
            field_of(&NHitsConfig { n_pool_kernel_size: vec![2, 200, 1], ..base }),
            "n_pool_kernel_size"
        );
    }

    #[test]
    fn json_input_fills_defaults_and_input_size_follows_the_horizon() {
        let cfg: NHitsConfig = serde_json::from_str(r#"{"horizon":5,"max_steps":500}"#).unwrap();
        assert_eq!((cfg.horizon, cfg.input_size, cfg.max_steps), (5, 25, 500));
        assert_eq!(cfg.learning_rate, 1e-3);
        let back: NHitsConfig =
            serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
    }

    #[test]
    fn json_input_rejects_unknown_fields() {
        let err = serde_json::from_str::<NHitsConfig>(r#"{"horizn":5}"#).unwrap_err();
        assert!(err.to_string().contains("horizn"), "{err}");
    }

    #[test]
    fn learning_rate_halves_every_third_of_the_steps() {
        let cfg = NHitsConfig { max_steps: 500, ..NHitsConfig::default() };
        assert_eq!(cfg.lr_decay_steps(), Some(166));
        assert_eq!(cfg.learning_rate_at(165), 1e-3);
        assert_eq!(cfg.learning_rate_at(166), 5e-4);
        assert_eq!(cfg.learning_rate_at(499), 1.25e-4);
        let cfg = NHitsConfig { max_steps: 2, ..cfg };
        assert_eq!(cfg.lr_decay_steps(), Some(1));
    }
}
