//! N-HiTS forecasting for Tradeforge: a faithful port of NeuralForecast 3.3.0's `NHITS` in
//! candle, the evaluation protocol of `FORECAST_PROTOCOL.md` with its naive and drift
//! baselines, and the honest training recipe that serves a model only when it beats them.
//!
//! Entry points: [`train`] (blocking; call it from a blocking thread), [`TrainedModel`]
//! (forecast, save, load), [`NHitsConfig`], and the [`protocol`] pieces.

mod artifact;
pub mod calendar;
mod config;
mod data;
mod device;
mod error;
mod hooks;
mod loss;
mod model;
mod network;
mod optim;
mod plan;
mod predict;
pub mod protocol;
mod scaler;
mod train;
mod windows;

pub use artifact::{CARD_FILE, ModelCard, WEIGHTS_FILE};
pub use calendar::{Calendar, Spacing};
pub use config::{
    MAX_HORIZON, MAX_INPUT_SIZE, MAX_SEASONS, MAX_STEPS, MAX_VAL_WINDOWS, NHitsConfig, Recipe,
    ScalerKind,
};
pub use data::{PriceSeries, read_close_csv};
pub use device::{Device, best_device, device_name};
pub use error::ForecastError;
pub use hooks::{NoHooks, StepProgress, TrainingHooks};
pub use model::TrainedModel;
pub use network::{Architecture, BlockShape};
pub use plan::{Plan, SeasonSource, Wishes, plan};
pub use protocol::{Band, Conformal, Coverage, Forecaster, Metrics};
pub use train::{
    EvaluationSummary, Forecast, ForecastPoint, MARGIN, PerForecaster, Selection, Series,
    SplitSummary, TestWindow, TrainingOutcome, TrainingReport, check_training_input, minimum_bars,
    train,
};
