//! A trained model: forecasts from any history with the served forecaster.

use crate::network::{Architecture, DeviceNet};
use crate::predict::predict_at;
use crate::protocol::{Forecaster, drift, naive};
use crate::train::EvaluationSummary;
use crate::{ForecastError, NHitsConfig};

/// N-HiTS weights plus the decision of which forecaster to serve. Produced by
/// [`crate::train`] or [`TrainedModel::load`]; saved with [`TrainedModel::save`].
pub struct TrainedModel {
    pub(crate) net: DeviceNet,
    pub(crate) config: NHitsConfig,
    pub(crate) served_by: Forecaster,
    pub(crate) evaluation: Option<EvaluationSummary>,
}

impl TrainedModel {
    pub(crate) fn new(
        net: DeviceNet,
        config: NHitsConfig,
        served_by: Forecaster,
        evaluation: Option<EvaluationSummary>,
    ) -> Self {
        Self { net, config, served_by, evaluation }
    }

    /// Forecast of the `horizon` bars after the end of `history` by the served forecaster.
    ///
    /// `history` holds closes in time order ending at the last bar the caller may see (an
    /// analysis date, never later). N-HiTS reads its last `input_size` bars; drift reads the
    /// whole slice (its slope runs from `history[0]`), so pass the series from its start.
    pub fn forecast(&self, history: &[f64]) -> Result<Vec<f64>, ForecastError> {
        self.forecast_with(self.served_by, history)
    }

    /// Forecast by a chosen forecaster, whatever was served.
    pub fn forecast_with(
        &self,
        who: Forecaster,
        history: &[f64],
    ) -> Result<Vec<f64>, ForecastError> {
        let h = self.config.horizon;
        let needed = if who == Forecaster::Nhits { self.config.input_size } else { 1 };
        if history.len() < needed {
            return Err(ForecastError::HistoryTooShort { needed, got: history.len() });
        }
        let start = history.len() - needed;
        // Drift also reads the first bar.
        let first = (who == Forecaster::Drift).then_some((0, &history[0]));
        let read = history[start..].iter().enumerate().map(|(i, v)| (start + i, v));
        if let Some((index, &value)) = first.into_iter().chain(read).find(|(_, v)| !v.is_finite()) {
            return Err(ForecastError::NonFiniteBar { index, value });
        }
        match who {
            Forecaster::Naive => Ok(naive(history, h)),
            Forecaster::Drift => Ok(drift(history, h)),
            Forecaster::Nhits => {
                let tail: Vec<f32> = history[start..].iter().map(|&v| v as f32).collect();
                let mut rows = predict_at(&self.net, &tail, &[needed], self.config.scaler)?;
                Ok(rows.remove(0))
            }
        }
    }

    pub fn served_by(&self) -> Forecaster {
        self.served_by
    }

    pub fn config(&self) -> &NHitsConfig {
        &self.config
    }

    pub fn architecture(&self) -> &Architecture {
        &self.net.arch
    }

    pub fn parameter_count(&self) -> usize {
        self.net.arch.parameter_count()
    }

    /// The holdout evaluation made when the model was trained.
    pub fn evaluation(&self) -> Option<&EvaluationSummary> {
        self.evaluation.as_ref()
    }
}
