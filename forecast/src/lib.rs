//! N-HiTS forecasting for Tradeforge: a faithful port of NeuralForecast 3.3.0's `NHITS` in
//! candle, the evaluation protocol of `FORECAST_PROTOCOL.md` with its naive and drift
//! baselines, and the honest training recipe that serves a model only when it beats them.
//!
//! Entry points: [`train`] (blocking; call it from a blocking thread), [`TrainedModel`]
//! (forecast, save, load), [`NHitsConfig`], and the [`protocol`] pieces.

mod artifact;
mod config;
mod data;
mod device;
mod error;
mod hooks;
mod loss;
mod model;
mod network;
mod optim;
mod predict;
pub mod protocol;
mod scaler;
mod train;
mod windows;

pub use artifact::{CARD_FILE, ModelCard, WEIGHTS_FILE};
pub use config::{MAX_HORIZON, MAX_INPUT_SIZE, MAX_STEPS, NHitsConfig, Recipe, ScalerKind};
pub use data::{PriceSeries, read_close_csv};
pub use device::{Device, best_device, device_name};
pub use error::ForecastError;
pub use hooks::{NoHooks, StepProgress, TrainingHooks};
pub use model::TrainedModel;
pub use network::{Architecture, BlockShape};
pub use protocol::{Forecaster, Metrics};
pub use train::{
    EvaluationSummary, PerForecaster, SplitSummary, TrainingOutcome, TrainingReport,
    check_training_input, minimum_bars, train,
};
