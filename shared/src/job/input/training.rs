//! The `training` job input and its bounds.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::walk::Fields;
use crate::field_error::FieldError;
use crate::job::Symbol;
use crate::market::{DataSource, Interval};

pub const MAX_HORIZON: u64 = 720;
pub const MAX_INPUT_SIZE: u64 = 5_000;
pub const MAX_STEPS: u64 = 10_000;
pub const MAX_WINDOWS_BATCH_SIZE: u64 = 4096;
pub const MLP_WIDTH_RANGE: (u64, u64) = (4, 2048);
pub const LEARNING_RATE_RANGE: (f64, f64) = (1e-6, 1.0);
pub const SCALERS: &[&str] = &["robust", "standard"];
pub const RECIPES: &[&str] = &["honest", "faithful"];
/// Season lengths a request may name (each a seasonal naive baseline).
pub const MAX_SEASONS: usize = 4;
pub const SEASON_RANGE: (u64, u64) = (2, MAX_INPUT_SIZE);

/// A forecasting model to train. Optional hyper-parameters override N-HiTS defaults
/// (NeuralForecast's); `None` means "use the default".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInput {
    pub symbol: Symbol,
    pub model: String,
    pub horizon: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows_batch_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlp_width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaler: Option<String>,
    /// `honest` (default: validation tail, early stopping, baselines compete) or `faithful`
    /// (NeuralForecast's defaults exactly, for comparing the port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataSource>,
    /// The bars fetched from a provider when there is no `data`: `1d` (default) or `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
    /// Season lengths in bars for the seasonal naive baselines; default: from the bar spacing
    /// and the autocorrelation of the training bars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seasons: Option<Vec<u32>>,
    /// Calendar inputs (hour of day, day of week) as known-future features; default: on for
    /// intraday and daily bars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exog: Option<bool>,
    /// Retrain on the whole training region for the chosen number of steps (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refit: Option<bool>,
}

impl TrainingInput {
    pub(crate) fn parse(map: &Map<String, Value>, path: &str) -> Result<Self, FieldError> {
        let mut f = Fields::new(map, path);
        let symbol = f.parsed("symbol", Symbol::parse)?;
        let model = f.required_str("model")?;
        if model != "nhits" {
            return Err(f.error("model", format!("unknown model {model:?}: expected \"nhits\"")));
        }
        let horizon = f.optional_int("horizon", 1, MAX_HORIZON)?;
        let horizon = horizon.ok_or_else(|| f.error("horizon", "is required (1..=720)"))? as u32;
        let input = TrainingInput {
            symbol,
            model: model.to_owned(),
            horizon,
            input_size: f.optional_int("input_size", 1, MAX_INPUT_SIZE)?.map(|n| n as u32),
            max_steps: f.optional_int("max_steps", 1, MAX_STEPS)?.map(|n| n as u32),
            seed: f.optional_int("seed", 0, u32::MAX as u64)?,
            learning_rate: f.optional_float(
                "learning_rate",
                LEARNING_RATE_RANGE.0,
                LEARNING_RATE_RANGE.1,
            )?,
            windows_batch_size: f
                .optional_int("windows_batch_size", 1, MAX_WINDOWS_BATCH_SIZE)?
                .map(|n| n as u32),
            mlp_width: f
                .optional_int("mlp_width", MLP_WIDTH_RANGE.0, MLP_WIDTH_RANGE.1)?
                .map(|n| n as u32),
            scaler: f.optional_parsed("scaler", |s| one_of(s, SCALERS))?,
            recipe: f.optional_parsed("recipe", |s| one_of(s, RECIPES))?,
            data: f.optional_data_source("data")?,
            interval: f.optional_parsed("interval", super::parse_interval)?,
            seasons: f
                .optional_ints("seasons", MAX_SEASONS, SEASON_RANGE)?
                .map(|v| v.into_iter().map(|m| m as u32).collect()),
            exog: f.optional_bool("exog")?,
            refit: f.optional_bool("refit")?,
        };
        f.deny_unknown()?;
        if let Some(DataSource::Inline { bars }) = &input.data {
            input.check_bar_count(bars.len()).map_err(|e| f.error("data.bars", e))?;
        }
        Ok(input)
    }

    /// The input window known at submission: given, or five horizons (NeuralForecast's usual
    /// choice) and at least two of the longest season named. The worker may widen it to two
    /// of the longest season it finds in the data, within the compute budget, and corrects the
    /// job's recorded cost then.
    pub fn effective_input_size(&self) -> u32 {
        self.input_size.unwrap_or_else(|| {
            let longest = self.seasons.iter().flatten().copied().max().unwrap_or(0);
            (self.horizon * 5).max(2 * longest).min(MAX_INPUT_SIZE as u32)
        })
    }

    /// Whether the honest recipe refits after choosing its steps (the default).
    pub fn refits(&self) -> bool {
        self.recipe.as_deref() != Some("faithful") && self.refit != Some(false)
    }

    /// The evaluation needs a test region (last 10 %) holding at least one horizon; the honest
    /// recipe also needs 3 validation folds of one horizon in the last fifth of the training
    /// region and, before the first fold, `input_size` + max(2 horizons, 64) bars; the
    /// faithful one a fitting region longer than one input window. The worker's forecast crate
    /// applies the same rule (a worker test checks they agree); this copy lets the API reject
    /// inline data at submission.
    pub fn check_bar_count(&self, bars: usize) -> Result<(), String> {
        let honest = self.recipe.as_deref() != Some("faithful");
        let need = min_bars(self.effective_input_size() as usize, self.horizon as usize, honest);
        if bars < need {
            return Err(format!(
                "{bars} bars are too few for input_size {} and horizon {}: at least {need} needed",
                self.effective_input_size(),
                self.horizon
            ));
        }
        Ok(())
    }
}

/// Validation folds the honest recipe spreads over the last fifth of the training region
/// (at most `DEFAULT_FOLDS`, at least `MIN_FOLDS`), and the fewest training windows before them.
const DEFAULT_FOLDS: usize = 10;
const MIN_FOLDS: usize = 3;
const MIN_TRAINING_WINDOWS: usize = 64;

/// Smallest series length that the evaluation split accepts (see `check_bar_count`).
pub fn min_bars(input_size: usize, horizon: usize, honest: bool) -> usize {
    let fits = |n: usize| {
        let test = n / 10;
        let train = n - test;
        if test < horizon {
            return false;
        }
        if !honest {
            return train > input_size;
        }
        let span = train / 5;
        let folds = DEFAULT_FOLDS.min(span / horizon);
        if folds < MIN_FOLDS {
            return false;
        }
        let fit_end = train - horizon - (folds - 1) * (span / folds);
        fit_end >= input_size + (2 * horizon).max(MIN_TRAINING_WINDOWS)
    };
    (1..).find(|&n| fits(n)).expect("some length always fits")
}

fn one_of(s: &str, allowed: &[&str]) -> Result<String, String> {
    if allowed.contains(&s) {
        Ok(s.to_owned())
    } else {
        Err(format!("{s:?} is not allowed: expected one of {}", allowed.join(", ")))
    }
}
