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
        };
        f.deny_unknown()?;
        if let Some(DataSource::Inline { bars }) = &input.data {
            input.check_bar_count(bars.len()).map_err(|e| f.error("data.bars", e))?;
        }
        Ok(input)
    }

    /// The input window: given, or five horizons (NeuralForecast's usual choice).
    pub fn effective_input_size(&self) -> u32 {
        self.input_size.unwrap_or_else(|| (self.horizon * 5).min(MAX_INPUT_SIZE as u32))
    }

    /// The evaluation needs a test region (last 10 %) holding at least one horizon and a
    /// fitting region longer than one input window; the honest recipe also needs a validation
    /// tail (last 10 % of the training region) holding one horizon. The worker's forecast crate
    /// applies the same rule; this copy lets the API reject inline data at submission.
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

/// Smallest series length that the evaluation split accepts (see `check_bar_count`).
pub fn min_bars(input_size: usize, horizon: usize, honest: bool) -> usize {
    let fits = |n: usize| {
        let test = n / 10;
        let train = n - test;
        let validation = if honest { train / 10 } else { 0 };
        test >= horizon && (!honest || validation >= horizon) && train - validation > input_size
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
