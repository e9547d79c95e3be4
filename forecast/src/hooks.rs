//! How a caller watches training and stops it.

use std::ops::ControlFlow;

/// Progress after one optimiser step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepProgress {
    /// 1-based: `step` of `max_steps` are done.
    pub step: usize,
    pub max_steps: usize,
    /// This step belongs to the refit on the whole training region, which follows the run
    /// that chose the number of steps (honest recipe with `refit`).
    pub refit: bool,
    /// Masked MAE of this step's batch, in scaled space (NeuralForecast's training loss).
    pub train_loss: f64,
    /// Validation MASE (price-space MAE on the validation folds over the MASE scale), on the
    /// steps where it is computed (honest recipe, every `val_check_steps` and the last step).
    pub val_loss: Option<f64>,
    pub learning_rate: f64,
}

/// Called by [`crate::train`] between steps, on the training thread.
pub trait TrainingHooks {
    /// Return `ControlFlow::Break(())` to cancel: training stops before the next step and
    /// [`crate::train`] returns [`crate::ForecastError::Cancelled`].
    fn on_step(&mut self, progress: &StepProgress) -> ControlFlow<()>;
}

/// Hooks that watch nothing and never cancel.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHooks;

impl TrainingHooks for NoHooks {
    fn on_step(&mut self, _: &StepProgress) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

impl<F: FnMut(&StepProgress) -> ControlFlow<()>> TrainingHooks for F {
    fn on_step(&mut self, progress: &StepProgress) -> ControlFlow<()> {
        self(progress)
    }
}
