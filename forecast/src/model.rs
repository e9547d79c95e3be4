//! A trained model: forecasts from any history with the served forecaster.

use crate::calendar::{self, Spacing};
use crate::network::{Architecture, DeviceNet};
use crate::predict::predict_at;
use crate::protocol::{Conformal, Forecaster};
use crate::train::{EvaluationSummary, Forecast, ForecastPoint, Series};
use crate::windows::FutrInputs;
use crate::{ForecastError, NHitsConfig};

/// N-HiTS weights plus the decision of which forecaster to serve and its intervals. Produced
/// by [`crate::train`] or [`TrainedModel::load`]; saved with [`TrainedModel::save`].
pub struct TrainedModel {
    pub(crate) net: DeviceNet,
    pub(crate) config: NHitsConfig,
    pub(crate) served_by: Forecaster,
    pub(crate) evaluation: Option<EvaluationSummary>,
    pub(crate) intervals: Option<Conformal>,
}

impl TrainedModel {
    pub(crate) fn new(
        net: DeviceNet,
        config: NHitsConfig,
        served_by: Forecaster,
        evaluation: Option<EvaluationSummary>,
        intervals: Option<Conformal>,
    ) -> Self {
        Self { net, config, served_by, evaluation, intervals }
    }

    /// The served forecaster's forecast of the `horizon` bars after the end of `history`, with
    /// its 80 % and 95 % intervals (when calibrated) and, when `history` has times, the bars'
    /// times continuing its spacing (trading days for a daily stock series).
    ///
    /// `history` ends at the last bar the caller may see (an analysis date, never later).
    /// N-HiTS reads its last `input_size` bars; drift reads the whole slice (its slope runs
    /// from the first bar), so pass the series from its start.
    pub fn predict(&self, history: &Series) -> Result<Forecast, ForecastError> {
        let values = self.forecast_with(self.served_by, history)?;
        let times = match (history.times, history.calendar()) {
            (Some(times), Some(cal)) => {
                let daily = !matches!(cal.kind(), Spacing::Intraday { .. } | Spacing::Other { .. });
                let format = if daily { "%Y-%m-%d" } else { "%Y-%m-%dT%H:%M:%S" };
                let last = *times.last().expect("a calendar needs bars");
                cal.next_times(last, values.len())
                    .into_iter()
                    .map(|t| Some(t.format(format).to_string()))
                    .collect()
            }
            _ => vec![None; values.len()],
        };
        let points = values
            .into_iter()
            .zip(times)
            .enumerate()
            .map(|(j, (value, time))| ForecastPoint {
                step: j + 1,
                time,
                value,
                band: self.intervals.as_ref().map(|c| c.band(j, value)),
            })
            .collect();
        Ok(Forecast { forecaster: self.served_by, points })
    }

    /// Forecast values by a chosen forecaster, whatever was served.
    pub fn forecast_with(
        &self,
        who: Forecaster,
        history: &Series,
    ) -> Result<Vec<f64>, ForecastError> {
        let (h, values) = (self.config.horizon, history.values);
        let needed = if who == Forecaster::Nhits { self.config.input_size } else { who.needs() };
        if values.len() < needed {
            return Err(ForecastError::HistoryTooShort { needed, got: values.len() });
        }
        let start = values.len() - needed;
        // Drift also reads the first bar.
        let first = (who == Forecaster::Drift).then_some((0, &values[0]));
        let read = values[start..].iter().enumerate().map(|(i, v)| (start + i, v));
        if let Some((index, &value)) = first.into_iter().chain(read).find(|(_, v)| !v.is_finite()) {
            return Err(ForecastError::NonFiniteBar { index, value });
        }
        if let Some(fc) = who.baseline(values, h) {
            return Ok(fc);
        }
        let tail: Vec<f32> = values[start..].iter().map(|&v| v as f32).collect();
        // A model with calendar inputs needs the forecast bars' times: only the features of
        // bars `needed..needed + h` are read, the history's own are placeholders.
        let futr_values = if self.net.arch.futr_features > 0 {
            let cal = history.calendar().ok_or_else(|| {
                ForecastError::config(
                    "times",
                    "this model reads calendar inputs: pass the bars' times",
                )
            })?;
            let last = *history.times.and_then(|t| t.last()).expect("a calendar needs bars");
            let mut v = vec![0.0; needed * calendar::FEATURES];
            v.extend(cal.next_times(last, h).into_iter().flat_map(calendar::Calendar::features));
            Some(v)
        } else {
            None
        };
        let futr = futr_values
            .as_deref()
            .map(|values| FutrInputs { values, features: calendar::FEATURES });
        let mut rows = predict_at(&self.net, &tail, &[needed], self.config.scaler, futr)?;
        Ok(rows.remove(0))
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

    /// The served forecaster's calibrated interval half-widths.
    pub fn intervals(&self) -> Option<&Conformal> {
        self.intervals.as_ref()
    }
}
